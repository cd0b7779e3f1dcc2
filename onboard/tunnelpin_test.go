package onboard

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros"
)

// After an onboarding over the WAN with --tofu the WAN no longer answers;
// the known_hosts line recorded then pins the API dial through the tunnel
// (the certificate is the same router's), so what apply prints as the undo
// line works as printed: no --fingerprint, no --tofu, no question. The pin
// is really checked there: a wrong line is refused as a changed
// certificate.
func TestTunnelPathUsesKnownHost(t *testing.T) {
	ex := simtest.Named(t, "open-cpe")
	s := startExample(t, ex, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	before := s.Export()
	o := simOptions(t, s, s.WAN, nil)
	if o.Plain {
		t.Fatal("open-cpe: no api-ssl on the WAN")
	}
	o.Fingerprint, o.TOFU = "", true
	o.WANProbe = o.Router
	o.Settings.VerifyEndpoint = s.WAN.String()
	e, p := simtest.Plan(t, ctx, New, o, o.Settings)
	defer e.Close()
	sum, err := e.Apply(ctx, p)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	e.Close()
	if sum.ProvenVia != "wan" || !strings.Contains(sum.Undo, "wgboot rollback --router "+o.Router) {
		t.Fatalf("summary: proven via %q, undo %q", sum.ProvenVia, sum.Undo)
	}

	// As printed: without --tofu (and a Prompter that says no to all).
	o.TOFU = false
	o.Timeout = 3 * time.Second // how long the closed WAN is waited on
	var events []Event
	o.Sink = func(ev Event) { events = append(events, ev) }
	connect := func() (*Engine, *recorder, error) {
		t.Helper()
		q := &recorder{}
		o.Prompter = q
		e, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		return e, q, e.Connect(ctx)
	}

	// A wrong line in known_hosts: the dial through the tunnel refuses it.
	kh := filepath.Join(o.StateDir, routeros.KnownHostsFile)
	good, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	wrong := o.Router + " " + strings.Repeat("ab", 32) + "\n"
	if err := os.WriteFile(kh, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	e2, _, err := connect()
	e2.Close()
	var fe *routeros.FingerprintError
	if !errors.As(err, &fe) || !fe.Changed {
		t.Errorf("wrong known_hosts line: err = %v, want a changed-certificate FingerprintError", err)
	}
	if err := os.WriteFile(kh, good, 0o600); err != nil {
		t.Fatal(err)
	}

	// status, audit and a rerun of apply connect the same way.
	e3, q, err := connect()
	if err != nil {
		e3.Close()
		t.Fatalf("connect after a WAN onboarding with --tofu: %v", err)
	}
	if len(q.asked) > 0 {
		t.Errorf("asked %q", q.asked[0].ID)
	}
	if !slices.ContainsFunc(events, func(ev Event) bool { return strings.Contains(ev.Message, "connected through the tunnel") }) {
		t.Error("no event says the API was reached through the tunnel")
	}
	p3, err := e3.Plan(ctx, o.Settings)
	if err != nil || !p3.Noop {
		t.Errorf("rerun plan: noop %v, err %v", p3 != nil && p3.Noop, err)
	}
	e3.Close()

	// rollback --router X, as printed.
	e4, _, err := connect()
	if err != nil {
		t.Fatalf("rollback's connect: %v", err)
	}
	defer e4.Close()
	if err := e4.Rollback(ctx); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if diff := cmp.Diff(before, s.Export()); diff != "" {
		t.Errorf("export after rollback (-before +after):\n%s", diff)
	}
}
