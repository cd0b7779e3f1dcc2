package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testKey is a fixed technician key so golden files are stable.
func testKey() (wgtypes.Key, error) {
	var k wgtypes.Key
	for i := range k {
		k[i] = byte(i + 1)
	}
	k[0] &= 248
	k[31] = (k[31] & 127) | 64
	return k, nil
}

// startSim starts rossim for ex (see simtest.Start) and returns it and the
// api-ssl address the CLI reaches (the LAN side when there is one).
func startSim(t *testing.T, ex simtest.Example) (*simtest.Router, string) {
	t.Helper()
	r := simtest.Start(t, ex, simtest.Options{Password: "pw-golden"})
	return r, r.APIAddr(r.Reach(), false)
}

// runCLI runs wgboot with args and returns exit code, stdout and stderr.
func runCLI(t *testing.T, env map[string]string, hook func(*onboard.Options), args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] }, engineHook: hook,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := a.main(ctx, args)
	return code, out.String(), errb.String()
}

func TestPlanGolden(t *testing.T) {
	for _, ex := range simtest.Examples(t, "../../examples/*.rsc") {
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()
			r, addr := startSim(t, ex)
			env := map[string]string{"WGBOOT_PASSWORD": "pw-golden"}
			hook := func(o *onboard.Options) { o.RunID = "golden"; o.NewKey = testKey }
			code, out, errOut := runCLI(t, env, hook, "plan", "--router", addr, "--fingerprint", r.Info.Fingerprint, "--state-dir", t.TempDir())
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			out = strings.ReplaceAll(out, addr, "ROUTER")
			if strings.Contains(out+errOut, "pw-golden") {
				t.Error("the password appears in the output")
			}
			golden := filepath.Join("testdata", "plan", ex.Name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if diff := cmp.Diff(string(want), out); diff != "" {
				t.Errorf("plan output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{name: "no router", args: []string{"plan"}, env: map[string]string{"WGBOOT_PASSWORD": "x"}, want: exitBadInput},
		{name: "bad flag", args: []string{"plan", "--no-such-flag"}, want: exitBadInput},
		{name: "bad local", args: []string{"apply", "--router", "127.0.0.1", "--local", "tun"}, want: exitBadInput},
		{name: "short confirm", args: []string{"apply", "--router", "127.0.0.1", "--confirm-timeout", "1s"}, want: exitBadInput},
		{name: "unknown command", args: []string{"aply"}, want: exitBadInput},
		{name: "version", args: []string{"--version"}, want: exitOK},
		{name: "refused", args: []string{"plan", "--router", "127.0.0.1:1", "--plain"}, env: map[string]string{"WGBOOT_PASSWORD": "x"}, want: exitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.env, nil, tt.args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.want, errOut)
			}
		})
	}
}

// TestBadArgs checks that input that cannot be right is refused before any
// dial or prompt (exit 2), naming the flag and the fix.
func TestBadArgs(t *testing.T) {
	long := strings.Repeat("a", 300) + ".example"
	r := []string{"apply", "--router", "127.0.0.1"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "typo of apply", args: []string{"aply"}, want: []string{`unknown command "aply": did you mean apply?`, "commands: apply, audit,"}},
		{name: "typo of rollback", args: []string{"rolback"}, want: []string{"did you mean rollback?"}},
		{name: "no close command", args: []string{"xyzzy"}, want: []string{`unknown command "xyzzy"`, "commands: apply"}},
		{name: "over-long router", args: []string{"apply", "--router", long}, want: []string{"--router", "253"}},
		{name: "non-ASCII router", args: []string{"plan", "--router", "routér.invalid"}, want: []string{"--router", "punycode"}},
		{name: "router with a space", args: []string{"status", "--router", "my router"}, want: []string{"--router", "no spaces"}},
		{name: "endpoint with a space", args: append(r, "--endpoint", "wg example"), want: []string{"--endpoint", "no spaces"}},
		{name: "over-long endpoint", args: append(r, "--endpoint", long), want: []string{"--endpoint", "253"}},
		{name: "non-ASCII endpoint", args: append(r, "--endpoint", "wg.exämple.com"), want: []string{"--endpoint", "punycode"}},
		{name: "public subnet", args: append(r, "--subnet", "8.8.8.0/24"), want: []string{"--subnet", "private"}},
		{name: "subnet /31", args: append(r, "--subnet", "10.77.0.0/31"), want: []string{"--subnet", "/16 to /30"}},
		{name: "listen port", args: append(r, "--listen-port", "70000"), want: []string{"--listen-port", "1..65535"}},
		{name: "verify endpoint", args: append(r, "--verify-endpoint", "::bad::"), want: []string{"--verify-endpoint"}},
		{name: "confirm too short", args: append(r, "--confirm-timeout", "30s"), want: []string{"--confirm-timeout", "1m to 1h"}},
		{name: "confirm too long", args: append(r, "--confirm-timeout", "2h"), want: []string{"--confirm-timeout", "1m to 1h"}},
		{name: "local", args: append(r, "--local", "tun"), want: []string{"--local", "netstack"}},
		{name: "wizard endpoint", args: []string{"--endpoint", "wg example"}, want: []string{"--endpoint", "no spaces"}},
		{name: "wizard router", args: []string{"--router", "routér"}, want: []string{"--router", "punycode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, map[string]string{"WGBOOT_PASSWORD": "x"}, nil, tt.args...)
			if code != exitBadInput {
				t.Errorf("exit %d, want %d", code, exitBadInput)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output does not say %q:\n%s", w, out+errOut)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, nil, nil, "--version")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"wgboot version " + version, "commit ", runtime.Version()} {
		if !strings.Contains(out, w) {
			t.Errorf("--version says %q, want %q in it", out, w)
		}
	}
}

// TestEmptyPassword checks that WGBOOT_PASSWORD set to "" is a password
// (RouterOS admin often has none), not a reason to prompt.
func TestEmptyPassword(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		stdin  string
		want   string
		prompt bool
	}{
		{name: "empty", env: map[string]string{"WGBOOT_PASSWORD": ""}, stdin: "typed\n", want: ""},
		{name: "set", env: map[string]string{"WGBOOT_PASSWORD": "pw"}, stdin: "typed\n", want: "pw"},
		{name: "unset", env: map[string]string{}, stdin: "typed\n", want: "typed", prompt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errb bytes.Buffer
			a := &app{Stdin: strings.NewReader(tt.stdin), Stdout: io.Discard, Stderr: &errb,
				LookupEnv: func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }}
			got, err := a.password()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("password (-want +got):\n%s", diff)
			}
			if prompted := strings.Contains(errb.String(), "password for"); prompted != tt.prompt {
				t.Errorf("prompted = %v, want %v", prompted, tt.prompt)
			}
		})
	}
}

// TestNoTerminal: `wgboot` alone with stdout not a terminal (a pipe, a
// script) does not start the wizard; it exits 2 and points to `wgboot apply`.
func TestNoTerminal(t *testing.T) {
	code, out, errOut := runCLI(t, map[string]string{"TERM": "xterm"}, nil)
	if code != exitBadInput {
		t.Errorf("exit %d, want %d", code, exitBadInput)
	}
	for _, w := range []string{"not a terminal", "wgboot apply --router HOST", "--accessible"} {
		if !strings.Contains(out+errOut, w) {
			t.Errorf("output does not say %q:\n%s", w, out+errOut)
		}
	}
}
