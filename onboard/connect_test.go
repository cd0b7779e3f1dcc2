package onboard

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/sim"
)

// answers is a Prompter with fixed answers by question id; it records what
// was asked.
type answers struct {
	yes   map[string]bool
	asked []string
}

func (a *answers) Confirm(ctx context.Context, q Question) (bool, error) {
	a.asked = append(a.asked, string(q.ID))
	return a.yes[string(q.ID)], nil
}

func TestConnectTrust(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	s := startExample(t, ex, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := simOptions(t, s, s.LAN, nil)
	o.Fingerprint = ""
	connect := func(o Options) error {
		e, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		return e.Connect(ctx)
	}

	// Unknown certificate, technician says no: refused with the fingerprint to check.
	p := &answers{yes: map[string]bool{}}
	o.Prompter = p
	err := connect(o)
	if err == nil || !strings.Contains(err.Error(), s.Info.Fingerprint) {
		t.Errorf("untrusted: err = %v, want a refusal naming %s", err, s.Info.Fingerprint)
	}
	if len(p.asked) != 1 || p.asked[0] != "trust-fingerprint" {
		t.Errorf("asked %v, want [trust-fingerprint]", p.asked)
	}
	// --tofu: trusted and recorded without a question.
	o.TOFU, o.Prompter = true, &answers{}
	if err := connect(o); err != nil {
		t.Fatalf("tofu: %v", err)
	}
	// Recorded: a later run without --tofu needs no question.
	o.TOFU, p = false, &answers{yes: map[string]bool{}}
	o.Prompter = p
	if err := connect(o); err != nil || len(p.asked) != 0 {
		t.Fatalf("known host: err %v, asked %v", err, p.asked)
	}
	// A different router at the same address (new certificate): refused.
	s.Sim.Close()
	s2 := startExample(t, ex, func(so *sim.Options) { so.Listen[1].Addr = s.LAN })
	if s2.Info.Fingerprint == s.Info.Fingerprint {
		t.Skip("rossim gave the same certificate twice")
	}
	o.TOFU = true
	err = connect(o)
	var fe *routeros.FingerprintError
	if !errors.As(err, &fe) || !fe.Changed {
		t.Errorf("changed certificate: err = %v, want a FingerprintError (Changed)", err)
	}
}

func TestConnectNoCertificate(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	s := startExample(t, ex, func(o *sim.Options) { o.Cert = "none" })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := simOptions(t, s, s.LAN, nil)
	o.Fingerprint, o.TOFU = "", true

	o.Prompter = &answers{yes: map[string]bool{}}
	e, _ := New(o)
	err := e.Connect(ctx)
	e.Close()
	if err == nil || !errors.Is(err, routeros.ErrNoCertificate) {
		t.Fatalf("declined: err = %v, want ErrNoCertificate", err)
	}

	p := &answers{yes: map[string]bool{"create-certificate": true}}
	o.Prompter = p
	e, _ = New(o)
	defer e.Close()
	if err := e.Connect(ctx); err != nil {
		t.Fatalf("with consent: %v (asked %v)", err, p.asked)
	}
	if _, err := e.Inspect(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Sim.Export(), "certificate=wgboot-api") {
		t.Error("api-ssl does not use the created certificate")
	}
}

func TestRefuseRouterOS6(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	s := startExample(t, ex, func(o *sim.Options) { o.Version = "6.49.10" })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := New(simOptions(t, s, s.LAN, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Connect(ctx); err != nil {
		// rossim may refuse the modern login itself, which is what a v6 router before 6.43 does.
		t.Logf("connect: %v", err)
		return
	}
	_, err = e.Inspect(ctx)
	if err == nil || !strings.Contains(err.Error(), "needs RouterOS 7") {
		t.Fatalf("err = %v, want a refusal naming RouterOS 7", err)
	}
}
