package tui

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/wgboot/wgboot/internal/demo"
	"github.com/wgboot/wgboot/onboard"
)

// TestAccessible answers every prompt of the accessible front end with
// enter (the defaults) through a pipe, as a screen-reader user would type.
func TestAccessible(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		wantErr  error
		harden   bool
		answered bool
	}{
		// router, port, user, API mode, password, trust, edit?, apply?, harden
		{"defaults", strings.Repeat("\n", 9), nil, true, true},
		{"decline apply", "\n\n\n\n\n\n\nn\n", ErrAborted, false, false},
		{"decline harden", strings.Repeat("\n", 8) + "n\n", onboard.ErrDeclined, false, true},
		{"input ends", "\n\n", ErrInputEnded, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			fe := &fakeEngine{}
			factory, _ := fakeFactory(fe)
			var out bytes.Buffer
			o := demoOptions(factory, clock)
			o.Accessible = true
			sum, err := RunAccessible(t.Context(), o, strings.NewReader(tt.input), &out)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v\noutput:\n%s", err, tt.wantErr, out.String())
			}
			if (sum != nil) != (tt.wantErr == nil) {
				t.Errorf("summary %v with err %v", sum, err)
			}
			a, ok := fe.Answer("harden")
			if a != tt.harden || ok != tt.answered {
				t.Errorf("harden answer %v (asked %v), want %v (%v)", a, ok, tt.harden, tt.answered)
			}
			if tt.wantErr == onboard.ErrDeclined && !strings.Contains(out.String(), declinedNote) {
				t.Errorf("a declined Gate does not say %q:\n%s", declinedNote, out.String())
			}
			if tt.name == "defaults" {
				golden.RequireEqual(t, out.Bytes())
			}
		})
	}
}

// TestAccessibleSim runs the accessible front end against rossim with
// enter at every prompt, and checks the API is closed on the WAN.
func TestAccessibleSim(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	r, err := demo.Start(ctx, demo.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	base := r.Engine(t.Logf)
	o := Options{Router: r.LAN.Addr().String(), Port: int(r.LAN.Port()), User: "admin", StateDir: t.TempDir(),
		Settings: base.Settings, NewEngine: OnboardFactory(base), Accessible: true}
	var out bytes.Buffer
	sum, err := RunAccessible(ctx, o, strings.NewReader(strings.Repeat("\n", 9)), &out)
	if err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "its API is closed on the WAN") || sum.ProvenVia != "wan" {
		t.Errorf("summary %+v; output:\n%s", sum, out.String())
	}
	w := &simWizard{r: r}
	if err := w.wanAnswers(ctx); err == nil {
		t.Errorf("the API answers on the WAN after the accessible run")
	}
}
