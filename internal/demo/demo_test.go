package demo

import (
	"context"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/wgboot/wgboot/routeros"
)

// TestConfigIsTheExample keeps the embedded copy equal to the example the
// docs and the engine's tests use.
func TestConfigIsTheExample(t *testing.T) {
	b, err := os.ReadFile("../../examples/soho-defconf.rsc")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != Config {
		t.Errorf("internal/demo/soho-defconf.rsc differs from examples/soho-defconf.rsc: copy it again")
	}
}

// TestStart: the LAN side answers the API (defconf allows the LAN), the
// WAN side does not (defconf drops it), both on loopback.
func TestStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	r, err := Start(ctx, Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, ap := range []netip.AddrPort{r.LAN, r.WAN} {
		if !ap.Addr().IsLoopback() {
			t.Errorf("%v is not a loopback address", ap)
		}
	}
	dial := func(ap netip.AddrPort) error {
		cl, err := routeros.Dial(ctx, routeros.Config{Addr: ap.String(), TLS: true, Fingerprint: r.Fingerprint, User: "admin", Timeout: 2 * time.Second})
		if err != nil {
			return err
		}
		return cl.Close()
	}
	if err := dial(r.LAN); err != nil {
		t.Errorf("API on the LAN side: %v", err)
	}
	if err := dial(r.WAN); err == nil {
		t.Errorf("API on the WAN side answered; defconf drops it")
	}
	o := r.Engine(t.Logf)
	if o.WANProbe != r.WAN.String() || o.Settings.VerifyEndpoint != r.WAN.Addr().String() {
		t.Errorf("engine options probe %q verify %q, want the WAN side %v", o.WANProbe, o.Settings.VerifyEndpoint, r.WAN)
	}
}
