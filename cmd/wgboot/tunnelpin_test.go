package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
)

// undoLine is the undo command apply prints.
var undoLine = regexp.MustCompile(`(?m)^undo:\s+(wgboot rollback .*)$`)

// After `apply --tofu --yes` from the WAN side the WAN no longer answers.
// status, audit, a rerun of apply and the undo line apply printed then
// work as typed, without --fingerprint or --tofu: the known_hosts line
// pins the API through the tunnel.
func TestCLITunnelUsesKnownHost(t *testing.T) {
	ex := simtest.Named(t, "open-cpe")
	r, addr := startSim(t, ex) // open-cpe has no LAN: addr is the WAN side
	before := r.Export()
	state := t.TempDir()
	// Each command waits this long on the closed WAN before the tunnel.
	hook := func(o *onboard.Options) { o.Timeout = 3 * time.Second }
	run := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		a := &app{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, engineHook: hook,
			LookupEnv: func(k string) (string, bool) {
				return map[string]string{"WGBOOT_PASSWORD": "pw-golden"}[k], k == "WGBOOT_PASSWORD"
			}}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		code := a.main(ctx, append(args, "--state-dir", state, "--local", "netstack"))
		return code, out.String(), errb.String()
	}

	code, out, errOut := run("", "apply", "--router", addr, "--tofu", "--yes")
	if code != 0 {
		t.Fatalf("apply --tofu --yes: exit %d\n%s\n%s", code, out, errOut)
	}
	m := undoLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("apply printed no undo line:\n%s", out)
	}
	undo := strings.Fields(m[1])[1:] // without "wgboot"

	code, out, errOut = run("", "status", "--router", addr)
	if code != 0 || !strings.Contains(out, "API on the WAN (from the ruleset): closed") {
		t.Errorf("status: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run("", "audit", "--router", addr)
	if code != 0 || !strings.Contains(out, "WAN→API ether1 tcp/8729: drop") {
		t.Errorf("audit: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run("", "apply", "--router", addr, "--yes")
	if code != 0 || !strings.Contains(out, "already onboarded") {
		t.Errorf("second apply: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run("y\n", undo...)
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s\n%s", m[1], code, out, errOut)
	}
	if !strings.Contains(out, "through the tunnel") {
		t.Errorf("%s did not say it went through the tunnel:\n%s", m[1], out)
	}
	if diff := cmp.Diff(before, r.Export()); diff != "" {
		t.Errorf("export after %s (-before +after):\n%s", m[1], diff)
	}
}
