package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
)

// Exit codes are 0 for success, 1 for a failure, 2 for a usage error at
// every level of the command tree, through the built binary; a typo gets a
// did-you-mean like the top level.
func TestCLIUsageExitCodes(t *testing.T) {
	dir := t.TempDir()
	withPassword := filepath.Join(dir, "pw.yaml")
	os.WriteFile(withPassword, []byte("routers:\n  - address: 192.0.2.1\n    tofu: true\n    password: hunter2\n"), 0o600)
	badType := filepath.Join(dir, "type.yaml")
	os.WriteFile(badType, []byte("routers:\n  - address: 192.0.2.1\n    tofu: true\n    listen_port: high\n"), 0o600)
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("defaults:\n  tofu: true\nrouters:\n  - address: 192.0.2.1\n    fingerprnt: x\n"), 0o600)
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stdout+stderr
	}{
		{name: "typo of fleet apply", args: []string{"fleet", "aplly"}, code: 2, want: []string{`unknown command "aplly"`, "did you mean apply?"}},
		{name: "fleet apply without a file", args: []string{"fleet", "apply"}, code: 2, want: []string{"inventory", "wgboot fleet apply INVENTORY.yaml"}},
		{name: "fleet apply with two files", args: []string{"fleet", "apply", "a.yaml", "b.yaml"}, code: 2, want: []string{"one inventory file"}},
		{name: "fleet alone", args: []string{"fleet"}, code: 2, want: []string{"fleet apply"}},
		{name: "fleet apply unknown flag", args: []string{"fleet", "apply", "--nope", "x.yaml"}, code: 2, want: []string{"--nope"}},
		{name: "fleet apply missing file", args: []string{"fleet", "apply", filepath.Join(dir, "missing.yaml")}, code: 2, want: []string{"missing.yaml"}},
		{name: "password in the inventory", args: []string{"fleet", "apply", withPassword}, code: 2, want: []string{"line 4", "password", "password_env"}},
		{name: "wrong type in the inventory", args: []string{"fleet", "apply", badType}, code: 2, want: []string{"line 4", "listen_port", "whole number"}},
		{name: "unknown key in the inventory", args: []string{"fleet", "apply", unknown}, code: 2, want: []string{"line 5", `"fingerprnt"`, "did you mean fingerprint?"}},
		{name: "argument to plan", args: []string{"plan", "extra"}, code: 2, want: []string{`"extra"`, "wgboot plan --help"}},
		{name: "argument to rollback", args: []string{"rollback", "now"}, code: 2, want: []string{`"now"`}},
		{name: "top-level typo", args: []string{"aply"}, code: 2, want: []string{"did you mean apply?"}},
		{name: "fleet apply help", args: []string{"fleet", "apply", "--help"}, code: 0, want: []string{"routers:", "- address: 192.0.2.1", "password_env", "docs/fleet.md"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runBin(t, map[string]string{"WGBOOT_PASSWORD": "x"}, tt.args...)
			if res.code != tt.code {
				t.Errorf("exit %d, want %d\n%s", res.code, tt.code, res)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stdout+res.stderr, w) {
					t.Errorf("output does not say %q:\n%s", w, res)
				}
			}
			if strings.Contains(res.stdout+res.stderr, "hunter2") {
				t.Errorf("the password in the file is repeated:\n%s", res)
			}
			if tt.code == 2 && strings.Count(res.stderr, "wgboot:") > 1 {
				t.Errorf("the error is printed more than once:\n%s", res.stderr)
			}
		})
	}
}

// plan --json writes JSON lines like apply --json (the plan is in the plan
// step's event), durations as Go duration strings; --listen-port 8291
// (WinBox's TCP port) is no conflict for WireGuard's UDP.
func TestCLIPlanJSON(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	r, addr := startSim(t, ex)
	env := map[string]string{"WGBOOT_PASSWORD": "pw-golden"}
	common := []string{"--router", addr, "--fingerprint", r.Info.Fingerprint, "--state-dir", t.TempDir()}
	for _, port := range []string{"8291", "8729"} {
		res := runBin(t, env, append([]string{"plan", "--json", "--listen-port", port}, common...)...)
		if res.code != 0 {
			t.Fatalf("plan --json --listen-port %s: %s", port, res)
		}
		var plan *onboard.Plan
		lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
		for _, l := range lines {
			var ev onboard.Event
			if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Step == "" {
				t.Fatalf("not a JSON event line: %q (%v)", l, err)
			}
			if ev.Step == onboard.StepPlan && ev.Kind == onboard.KindDone {
				plan = ev.Plan
				if !strings.Contains(l, `"confirm_timeout":"5m0s"`) {
					t.Errorf("the plan's confirm_timeout is not a duration string: %s", l)
				}
			}
			if strings.Contains(l, `"elapsed":`) && !regexp.MustCompile(`"elapsed":"[0-9.]+[a-zµ]+`).MatchString(l) {
				t.Errorf("elapsed is not a duration string: %s", l)
			}
		}
		if plan == nil || len(plan.Changes) == 0 {
			t.Fatalf("no plan event with changes in:\n%s", res.stdout)
		}
		if got := strconv.Itoa(plan.Settings.ListenPort); got != port {
			t.Errorf("listen port %s, want %s", got, port)
		}
		if strings.TrimSpace(res.stderr) != "" {
			t.Errorf("stderr holds more than nothing:\n%s", res.stderr)
		}
	}
}

// wgboot audit is a check cron and CI can use: exit 1 when the API is
// reachable from the WAN, 0 when it is closed, with and without --json.
func TestCLIAuditExit(t *testing.T) {
	for _, tt := range []struct {
		example string
		code    int
	}{{"open-cpe", 1}, {"soho-defconf", 0}} {
		ex := simtest.LoadExample(t, "../../examples/"+tt.example+".rsc")
		r, addr := startSim(t, ex)
		for _, jsonOut := range []bool{false, true} {
			args := []string{"audit", "--router", addr, "--fingerprint", r.Info.Fingerprint, "--state-dir", t.TempDir()}
			if jsonOut {
				args = append(args, "--json")
			}
			res := runBin(t, map[string]string{"WGBOOT_PASSWORD": "pw-golden"}, args...)
			if res.code != tt.code {
				t.Errorf("%s: audit (json %v): exit %d, want %d\n%s", tt.example, jsonOut, res.code, tt.code, res)
			}
			said := strings.Contains(res.stderr, "the API is reachable from the WAN (")
			if said != (tt.code == 1) || strings.Count(res.stderr, "wgboot:") > 1 {
				t.Errorf("%s: stderr gives the verdict %v times, want it once when open:\n%s", tt.example, strings.Count(res.stderr, "wgboot:"), res.stderr)
			}
		}
	}
	res := runBin(t, nil, "audit", "--help")
	if res.code != 0 || !strings.Contains(res.stdout, "Exit code: 0 when the API is closed on the WAN, 1 when it is reachable") {
		t.Errorf("audit --help does not document the exit code:\n%s", res)
	}
}
