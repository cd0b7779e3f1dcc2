package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/forgedtls"
	"github.com/wgboot/wgboot/routeros"
)

// A forged TLS alert on api-ssl never gets the password sent in clear from
// the command line: not with --yes, not with --tofu --yes, and for a
// pinned router (known_hosts or --fingerprint) not even when the
// technician types yes to everything; only a typed yes to the question
// that says the password crosses unencrypted does (the last row, which
// also proves the fake sees a password when one is sent).
func TestCLIForgedAlert(t *testing.T) {
	const fp = "3f5a000000000000000000000000000000000000000000000000000000000001"
	tests := []struct {
		name      string
		args      []string
		known     bool
		stdin     string
		wantClear bool
		want      []string // in the output
		notWant   []string
	}{
		{name: "apply --yes", args: []string{"apply", "--yes"},
			want: []string{"unencrypted", "forge"}},
		{name: "apply --tofu --yes", args: []string{"apply", "--tofu", "--yes"},
			want: []string{"unencrypted", "forge"}},
		{name: "apply --tofu --yes --json", args: []string{"apply", "--tofu", "--yes", "--json"}},
		{name: "known_hosts pin, apply --yes, yes typed", args: []string{"apply", "--yes"}, known: true, stdin: "y\ny\ny\ny\n",
			want: []string{"did not complete TLS; it was pinned to " + fp, "nothing was sent", "forged"}, notWant: []string{"unencrypted to create"}},
		{name: "known_hosts pin, apply --tofu --yes", args: []string{"apply", "--tofu", "--yes"}, known: true, stdin: "y\ny\ny\ny\n",
			want: []string{"it was pinned to " + fp, "nothing was sent"}},
		{name: "known_hosts pin, status", args: []string{"status"}, known: true, stdin: "y\ny\n",
			want: []string{"it was pinned to " + fp}},
		{name: "--fingerprint, apply --yes, yes typed", args: []string{"apply", "--yes", "--fingerprint", fp}, stdin: "y\ny\ny\ny\n",
			want: []string{"it was pinned to " + fp + " (--fingerprint)", "nothing was sent"}},
		{name: "apply --tofu, technician types yes", args: []string{"apply", "--tofu"}, stdin: "y\n", wantClear: true,
			want: []string{"Send the password unencrypted to create a certificate?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := forgedtls.Start(t)
			state := t.TempDir()
			if tt.known {
				if err := os.WriteFile(filepath.Join(state, routeros.KnownHostsFile), []byte(r.SSL+" "+fp+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var out, errb bytes.Buffer
			env := map[string]string{"WGBOOT_PASSWORD": "pw-forged"}
			a := &app{Stdin: strings.NewReader(tt.stdin), Stdout: &out, Stderr: &errb,
				LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code := a.main(ctx, append(tt.args, "--router", r.SSL, "--state-dir", state, "--local", "netstack"))
			if code == exitOK {
				t.Errorf("exit 0 against a forged alert")
			}
			if got := r.Passwords(); len(got) > 0 != tt.wantClear {
				t.Errorf("passwords on the plain API: %q (want some: %v)\n%s", got, tt.wantClear, errb.String())
			}
			all := out.String() + errb.String()
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("output does not say %q:\n%s", w, all)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(all, w) {
					t.Errorf("output says %q:\n%s", w, all)
				}
			}
		})
	}
}

// --plain prints the wizard's warning (tui's Connect screen: "plain API
// sends the password unencrypted") before anything is dialled.
func TestPlainWarning(t *testing.T) {
	const warning = "plain API sends the password unencrypted"
	for _, plain := range []bool{true, false} {
		args := []string{"plan", "--router", "127.0.0.1:1"}
		if plain {
			args = append(args, "--plain")
		}
		_, out, errOut := runCLI(t, map[string]string{"WGBOOT_PASSWORD": "x"}, nil, args...)
		if got := strings.Contains(errOut, warning); got != plain {
			t.Errorf("%v: warning printed %v, want %v\nstderr: %s", args, got, plain, errOut)
		}
		if strings.Contains(out, warning) {
			t.Errorf("%v: the warning went to stdout", args)
		}
	}
}
