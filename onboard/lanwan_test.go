package onboard

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/simtest"
)

// A technician on the LAN who types the router's WAN (public) address
// reaches it through the LAN interface: so does a "WAN probe" sent from
// here, and the LAN keeps its API. The run must not call that the API
// answering on the WAN (it failed and rolled back a good onboarding); the
// router saw the handshake arrive on the LAN, so the WAN drop rests on the
// evaluator, as for any LAN run.
func TestLANTechnicianDialsWANAddress(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	if len(ex.Dynamic) == 0 {
		t.Fatal("soho-defconf has no dynamic WAN address")
	}
	wanAddr := ex.Dynamic[0].Prefix.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := startExample(t, ex, nil)
	var events []Event
	o := simOptions(t, s, s.LAN, &events)
	lanPort := s.Port(s.LAN, false)
	o.Router = netip.AddrPortFrom(wanAddr, 8729).String()
	// Every TCP connection to the WAN address goes out through the LAN,
	// as it does for a laptop plugged into the bridge.
	o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == o.Router {
			addr = netip.AddrPortFrom(s.LAN, lanPort).String()
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	o.Settings.VerifyEndpoint = s.LAN.String()
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(ctx, o.Settings)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.Apply(ctx, p)
	if err != nil {
		t.Fatalf("apply from the LAN by the WAN address: %v", err)
	}
	if sum.ProvenVia != "lan" {
		t.Errorf("proven via %q, want lan", sum.ProvenVia)
	}
	var said bool
	for _, ev := range events {
		said = said || strings.Contains(ev.Message, "from the LAN") && strings.Contains(ev.Message, "rests on the firewall evaluator")
	}
	if !said {
		t.Error("the run did not say that the WAN drop rests on the evaluator")
	}
}
