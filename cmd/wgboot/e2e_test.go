package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
)

// firesAt finds the firing time in a window-restart message.
var firesAt = regexp.MustCompile(`rollback now fires at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)`)

// The whole headless cycle against rossim: apply --yes --json, status,
// apply again (no changes), audit, rollback --yes (export as before).
func TestCLICycle(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	r, addr := startSim(t, ex)
	before := r.Export()
	env := map[string]string{"WGBOOT_PASSWORD": "pw-golden"}
	hook := func(o *onboard.Options) { o.RunID = "cli" }
	common := []string{"--router", addr, "--fingerprint", r.Info.Fingerprint, "--state-dir", t.TempDir(), "--local", "netstack"}
	run := func(args ...string) (int, string, string) {
		code, out, errOut := runCLI(t, env, hook, append(args, common...)...)
		if strings.Contains(out+errOut, "pw-golden") {
			t.Errorf("%v: the password appears in the output", args)
		}
		return code, out, errOut
	}

	code, out, errOut := run("apply", "--yes", "--json")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	var last onboard.Event
	var announced []string // the restarted windows' firing times, as told
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev onboard.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not a JSON event line: %q: %v", line, err)
		}
		if m := firesAt.FindStringSubmatch(ev.Message); m != nil && ev.Step == onboard.StepHarden {
			announced = append(announced, m[1])
		}
		last = ev
	}
	// The window restarts at verify (announced) and again at the harden
	// answer: --yes answers at once, so the time did not move and is not
	// announced again.
	if len(announced) == 0 {
		t.Errorf("apply --yes never announced the restarted window\n%s", out)
	}
	for i := 1; i < len(announced); i++ {
		if announced[i] == announced[i-1] {
			t.Errorf("apply --yes announced the rollback at %s twice in a row: %q", announced[i], announced)
		}
	}
	if last.Step != onboard.StepCommit || last.Kind != onboard.KindDone || last.Summary == nil {
		t.Fatalf("last event = %+v, want commit done with a summary", last)
	}
	if strings.Contains(out, "PrivateKey") {
		t.Error("the private key appears in the output")
	}

	code, out, errOut = run("status")
	if code != 0 || !strings.Contains(out, "API on the WAN (from the ruleset): closed") || !strings.Contains(out, "run cli") {
		t.Errorf("status: exit %d\n%s\n%s", code, out, errOut)
	}

	after := r.Export()
	code, out, errOut = run("apply", "--yes")
	if code != 0 || !strings.Contains(out, "already onboarded") {
		t.Errorf("second apply: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := r.Export(); got != after {
		t.Errorf("second apply changed the router:\n%s", cmp.Diff(after, got))
	}

	code, out, errOut = run("audit")
	if code != 0 || !strings.Contains(out, "WAN→API ether1 tcp/8729: drop") {
		t.Errorf("audit: exit %d\n%s\n%s", code, out, errOut)
	}

	code, out, errOut = run("rollback", "--yes")
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, errOut)
	}
	if diff := cmp.Diff(before, r.Export()); diff != "" {
		t.Errorf("export after rollback (-before +after):\n%s", diff)
	}
}

// Without --yes the plan is shown and a "no" changes nothing; an interrupt
// exits 130.
func TestCLIDeclineAndInterrupt(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	r, addr := startSim(t, ex)
	before := r.Export()
	args := []string{"apply", "--router", addr, "--fingerprint", r.Info.Fingerprint, "--state-dir", t.TempDir()}

	var out, errb bytes.Buffer
	a := &app{Stdin: strings.NewReader("n\n"), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return map[string]string{"WGBOOT_PASSWORD": "pw-golden"}[k] }}
	if code := a.main(context.Background(), args); code != exitFailure {
		t.Errorf("declined apply: exit %d, want %d\n%s", code, exitFailure, errb.String())
	}
	if !strings.Contains(errb.String(), "/interface wireguard add") || !strings.Contains(errb.String(), "Apply this plan?") {
		t.Errorf("the plan was not shown before the question:\n%s", errb.String())
	}
	if got := r.Export(); got != before {
		t.Errorf("declined apply changed the router:\n%s", cmp.Diff(before, got))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a = &app{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return map[string]string{"WGBOOT_PASSWORD": "pw-golden"}[k] }}
	if code := a.main(ctx, args); code != exitInterrupt {
		t.Errorf("interrupted: exit %d, want %d", code, exitInterrupt)
	}
}

// Headless apply without --yes: yes to the plan, no to closing the API on
// the WAN. The spec's "no leaves the router as it was": every change is
// rolled back (export as before), the exit is non-zero and says so.
func TestCLIDeclineHarden(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	r, addr := startSim(t, ex)
	before := r.Export()
	args := []string{"apply", "--router", addr, "--fingerprint", r.Info.Fingerprint, "--state-dir", t.TempDir(), "--local", "netstack"}
	var out, errb bytes.Buffer
	a := &app{Stdin: strings.NewReader("y\nn\n"), Stdout: &out, Stderr: &errb,
		LookupEnv: func(k string) (string, bool) {
			v, ok := map[string]string{"WGBOOT_PASSWORD": "pw-golden"}[k]
			return v, ok
		}}
	if code := a.main(context.Background(), args); code != exitFailure {
		t.Errorf("declined harden: exit %d, want %d\n%s\n%s", code, exitFailure, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "Close the API on the WAN?") {
		t.Errorf("the harden question was not asked:\n%s", errb.String())
	}
	if want := "every change was rolled back and the router is as it was"; !strings.Contains(errb.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, errb.String())
	}
	if diff := cmp.Diff(before, r.Export()); diff != "" {
		t.Errorf("export after a declined harden (-before +after):\n%s", diff)
	}
}
