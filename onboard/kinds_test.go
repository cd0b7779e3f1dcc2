package onboard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros"
)

// Every error the engine returns has a kind a front end can act on
// without matching text, wrapped however deep; errors.Is keeps working.
func TestKindOf(t *testing.T) {
	changed := &routeros.FingerprintError{Addr: "192.0.2.1:8729", Want: "aa", Got: "bb", Changed: true, File: "/k/known_hosts"}
	tests := []struct {
		name string
		err  error
		want ErrorKind
	}{
		{"nil", nil, ""},
		{"plain", errors.New("something else"), ErrorOther},
		{"auth", fmt.Errorf("onboard: connect to x: %w", routeros.ErrAuth), ErrorWrongCredentials},
		{"changed certificate", fmt.Errorf("onboard: %w", changed), ErrorCertificateChanged},
		{"pin mismatch", &routeros.FingerprintError{Addr: "x", Want: "aa", Got: "bb"}, ErrorCertificateMismatch},
		{"subnet overlap", fmt.Errorf("plan: %w", overlapError("10.0.0.0/24 overlaps")), ErrorSubnetOverlap},
		{"refused", fmt.Errorf("onboard: connect: %w", routeros.ErrRefused), ErrorRefused},
		{"no answer", fmt.Errorf("onboard: connect: %w", routeros.ErrFiltered), ErrorUnreachable},
		{"pinned TLS", &pinnedTLSError{addr: "x", fp: "aa", from: "y", err: routeros.ErrHandshake}, ErrorTLS},
		{"no certificate", fmt.Errorf("x: %w", routeros.ErrNoCertificate), ErrorNoCertificate},
		{"name", fmt.Errorf("onboard: connect: %w", &net.DNSError{Name: "r.invalid", Err: "no such host"}), ErrorBadAddress},
		{"reply timeout", fmt.Errorf("x: %w", routeros.ErrTimeout), ErrorTimeout},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), ErrorTimeout},
		{"interrupted", fmt.Errorf("x: %w", context.Canceled), ErrorInterrupted},
		{"declined", &stepError{step: StepHarden, err: ErrDeclined}, ErrorDeclined},
		{"window ran out", &stepError{step: StepCommit, err: fmt.Errorf("x: %w", errFired)}, ErrorWindowRanOut},
		{"no handshake", &stepError{step: StepTunnel, err: withKind(ErrorNoHandshake, errors.New("no WireGuard handshake"))}, ErrorNoHandshake},
		{"declined beats a timeout beside it", errors.Join(context.DeadlineExceeded, ErrDeclined), ErrorDeclined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
	if err := withKind(ErrorSubnetOverlap, overlapError("x")); !errors.Is(err, ErrSubnetOverlap) || err.Error() != "x" {
		t.Errorf("a kind changes the error: %v", err)
	}
}

// Each kind has a message and a hint for a technician; neither names a
// command-line flag: a setting is named by its Setting, which every front
// end says its own way.
func TestKindWords(t *testing.T) {
	for _, k := range errorKinds {
		if k.Message() == "" || k.Hint() == nil {
			t.Errorf("%q: no message or hint", k)
		}
		for _, s := range []string{k.Message(), k.Hint().Text(Setting.String)} {
			if strings.Contains(s, "--") || strings.Contains(s, "WGBOOT_") {
				t.Errorf("%q names a flag: %q", k, s)
			}
		}
	}
	h := hint("try ", SettingVerifyEndpoint, " with an address on the router's LAN")
	flag := func(s Setting) string { return "--" + string(s) }
	if got, want := h.Text(flag), "try --verify-endpoint with an address on the router's LAN"; got != want {
		t.Errorf("hint with flags %q, want %q", got, want)
	}
	if got := h.Text(Setting.String); strings.Contains(got, "--") {
		t.Errorf("hint in the engine's words names a flag: %q", got)
	}
}

// The failures the engine reports carry their kind, and their hints name
// no flag: a wrong password against the simulator.
func TestFailureKind(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	s := startExample(t, ex, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var events []Event
	o := simOptions(t, s, s.LAN, &events)
	o.Password = "wrong"
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	err = e.Connect(ctx)
	if KindOf(err) != ErrorWrongCredentials {
		t.Fatalf("connect with a wrong password: %v (kind %q)", err, KindOf(err))
	}
	last := events[len(events)-1]
	if last.Err == nil || last.Err.Kind != ErrorWrongCredentials || last.Err.Hint == nil {
		t.Fatalf("failed event %+v, want kind %q and a hint", last.Err, ErrorWrongCredentials)
	}
	if !slicesContains(last.Err.Hint.Settings, SettingPassword) || strings.Contains(last.Err.Try, "WGBOOT_") {
		t.Errorf("hint %+v, try %q: want it to name SettingPassword, not a variable", last.Err.Hint, last.Err.Try)
	}
}

func slicesContains(ss []Setting, s Setting) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
