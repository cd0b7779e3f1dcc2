package vpn_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// rossimRouter starts a simulated router with a WireGuard interface that
// knows the technician's public key, plus extra export text (firewall rules).
func rossimRouter(t *testing.T, tech wgtypes.Key, extra string) (*sim.Router, wgtypes.Key) {
	t.Helper()
	rk, err := vpn.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`/interface wireguard
add listen-port=13231 mtu=1420 name=wgboot private-key="%s"
/interface wireguard peers
add allowed-address=10.77.0.2/32 comment="wgboot: technician" interface=wgboot public-key="%s"
/ip address
add address=10.77.0.1/24 interface=wgboot
%s`, rk, tech.PublicKey(), extra)
	r, err := sim.Start(t.Context(), sim.Options{Config: config})
	if err != nil {
		t.Fatalf("start rossim: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, rk
}

func techConfig(t *testing.T, r *sim.Router, tk, rk wgtypes.Key) vpn.Config {
	t.Helper()
	info := r.Info()
	if len(info.Listen) == 0 {
		t.Fatal("rossim listens nowhere")
	}
	return vpn.Config{
		PrivateKey: tk,
		Address:    netip.MustParsePrefix("10.77.0.2/24"),
		Peer: vpn.Peer{
			PublicKey:  rk.PublicKey(),
			Endpoint:   netip.AddrPortFrom(info.Listen[0].Addr, 13231),
			AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.0/24")},
			Keepalive:  25 * time.Second,
		},
	}
}

// TestNetstackAgainstRossim brings the technician peer up against a
// simulated router and runs an API command through the tunnel, the way the
// engine verifies it before dropping the API on the WAN.
func TestNetstackAgainstRossim(t *testing.T) {
	tk, err := vpn.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	r, rk := rossimRouter(t, tk, "")
	b := vpn.NewNetstack(t.Logf)
	defer b.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := b.Up(ctx, techConfig(t, r, tk, rk)); err != nil {
		t.Fatal(err)
	}
	st, err := b.WaitHandshake(ctx)
	if err != nil {
		t.Fatalf("WaitHandshake: %v", err)
	}
	if st.Rx == 0 || st.Tx == 0 || st.Endpoint != netip.AddrPortFrom(r.Info().Listen[0].Addr, 13231) {
		t.Errorf("stats at handshake = %+v, want traffic both ways from the router's address", st)
	}

	c, err := routeros.Dial(ctx, routeros.Config{Addr: "10.77.0.1:8728", User: "admin", Dial: b.DialContext})
	if err != nil {
		t.Fatalf("API through the tunnel: %v", err)
	}
	defer c.Close()
	reply, err := c.Run(ctx, "/system/resource/print")
	if err != nil {
		t.Fatalf("/system/resource/print through the tunnel: %v", err)
	}
	if len(reply.Re) != 1 || reply.Re[0]["version"] == "" {
		t.Errorf("resource print = %+v, want one row with a version", reply.Re)
	}
}

// TestRossimDropsWireGuard filters the WireGuard port on the router: the
// local side must report the initiations it sent and that nothing came back.
func TestRossimDropsWireGuard(t *testing.T) {
	tk, err := vpn.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	r, rk := rossimRouter(t, tk, `/ip firewall filter
add action=drop chain=input dst-port=13231 protocol=udp
`)
	b := vpn.NewNetstack(t.Logf)
	defer b.Close()
	if err := b.Up(t.Context(), techConfig(t, r, tk, rk)); err != nil {
		t.Fatal(err)
	}
	// The timeout bounds the wait; nothing is asserted about time.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	st, err := b.WaitHandshake(ctx)
	if !errors.Is(err, vpn.ErrNoHandshake) {
		t.Fatalf("WaitHandshake = %v, want ErrNoHandshake", err)
	}
	if st.Tx == 0 || st.Rx != 0 || st.HandshakeAttempts < 1 {
		t.Errorf("stats = %+v, want initiations sent and nothing received", st)
	}
	if r.Stats().Dropped == 0 {
		t.Errorf("rossim counted no dropped flow: %+v", r.Stats())
	}
}
