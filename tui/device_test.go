package tui

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// peerEngine is the scripted engine that can also add team peers.
type peerEngine struct {
	*fakeEngine
	mu    sync.Mutex
	added []string
}

func (p *peerEngine) AddPeer(ctx context.Context, name string, psk bool) (*onboard.NewPeer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if name == "taken" {
		return nil, fmt.Errorf("onboard: wgboot already has a peer named %s", name)
	}
	p.added = append(p.added, name)
	k, _ := wgtypes.GeneratePrivateKey()
	addr := netip.AddrFrom4([4]byte{10, 77, 0, byte(2 + len(p.added))})
	q := vpn.QuickConfig{Interface: vpn.QuickInterface{PrivateKey: k, Address: []netip.Prefix{netip.PrefixFrom(addr, 24)}},
		Peer: vpn.QuickPeer{PublicKey: k.PublicKey(), Endpoint: "203.0.113.7:13231", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.1/32")}}}
	return &onboard.NewPeer{PeerInfo: onboard.PeerInfo{Name: name, Address: netip.PrefixFrom(addr, 32).String(), Added: true}, Config: q,
		ConfigPath: "/state/peer-" + name + ".conf"}, nil
}

// TestDoneAddDevice: the Done screen offers "add a device": a name (q is
// text there, a bad name is refused), then the device's QR code; a name
// the engine refuses says why.
func TestDoneAddDevice(t *testing.T) {
	pe := &peerEngine{fakeEngine: &fakeEngine{summary: fakeSummary}}
	factory := func(c Connection) (Engine, error) {
		pe.c = c
		if pe.now == nil {
			pe.now = c.Now
		}
		return pe, nil
	}
	h := start(t, demoOptions(factory, newFakeClock()))
	h.waitFor("Router", "Password", "api-ssl")
	h.submitConnect()
	h.waitFor("Trust and continue")
	h.key("enter")
	h.waitFor("Press enter")
	h.key("enter")
	h.waitFor("Commands (7)")
	h.key("enter")
	h.waitFor("Yes, close it")
	h.key("enter")
	h.waitFor("Reconnect next time")
	for _, k := range []string{"down", "down", "down", "down", "down", "down", "down", "down"} {
		h.key(k) // the offer is at the end of the summary
	}
	h.waitFor("Press a to add a device")
	h.key("a")
	h.waitFor("Name of the device")
	h.key("a b")
	h.key("enter")
	h.waitFor("peer name")
	for range 3 {
		h.key("backspace")
	}
	h.key("quinn") // q is text in the field, not quit
	h.key("enter")
	v := h.waitFor("Device quinn", "Scan with the WireGuard app")
	if strings.Contains(v, "Quit?") || strings.Contains(v, "quit") && !strings.Contains(v, "quinn") {
		t.Errorf("q in the name asked to quit:\n%s", v)
	}
	if !strings.Contains(v, "█") && !strings.Contains(v, "▀") && !strings.Contains(v, "▄") {
		t.Errorf("no QR code for quinn:\n%s", v)
	}
	h.key("tab") // back to the summary
	for range 8 {
		h.key("down")
	}
	h.waitFor("quinn 10.77.0.3/32")
	h.key("a")
	h.key("taken")
	h.key("enter")
	h.waitFor("already has a peer named taken")
	pe.mu.Lock()
	defer pe.mu.Unlock()
	if fmt.Sprint(pe.added) != "[quinn]" {
		t.Errorf("peers added: %v, want [quinn]", pe.added)
	}
}

// TestManageOnboarded: the wizard run against a router that is already
// onboarded offers device management instead of onboarding again.
func TestManageOnboarded(t *testing.T) {
	pe := &peerEngine{fakeEngine: &fakeEngine{}}
	pe.plan = func(ctx context.Context, s onboard.Settings) (*onboard.Plan, error) {
		p := &onboard.Plan{Settings: s, Noop: true}
		pe.emit(onboard.StepPlan, onboard.KindDone, "already onboarded: nothing to change", func(e *onboard.Event) { e.Plan = p })
		return p, nil
	}
	factory := func(c Connection) (Engine, error) {
		pe.c = c
		if pe.now == nil {
			pe.now = c.Now
		}
		return pe, nil
	}
	h := start(t, demoOptions(factory, newFakeClock()))
	h.waitFor("Router", "Password", "api-ssl")
	h.submitConnect()
	h.waitFor("Trust and continue")
	h.key("enter")
	h.waitFor("Press enter")
	h.key("enter")
	h.waitFor("already onboarded")
	h.key("enter")
	h.waitFor("already onboarded by wgboot", "Press a to add a device")
	h.key("a")
	h.key("laptop")
	h.key("enter")
	h.waitFor("Device laptop")
	for _, c := range pe.Calls() {
		if c == "apply" {
			t.Errorf("the wizard applied on an onboarded router: %v", pe.Calls())
		}
	}
}

// TestProveRemoteQR: with ProveRemote, the Apply screen shows the phone's
// QR code while the engine waits for its handshake from outside, and the
// Done screen says the tunnel was proven from outside by the phone.
func TestProveRemoteQR(t *testing.T) {
	fe := &fakeEngine{}
	release := make(chan struct{})
	fe.apply = func(ctx context.Context, p *onboard.Plan) (*onboard.Summary, error) {
		fe.emit(onboard.StepVerify, onboard.KindDone, "the API answered through the tunnel", nil)
		if fe.c.ProveRemote == nil || fe.c.ProveRemote.Show == nil {
			return nil, fmt.Errorf("no ProveRemote in the connection")
		}
		pe := &peerEngine{fakeEngine: fe}
		np, _ := pe.AddPeer(ctx, "phone", false)
		fe.c.ProveRemote.Show(np)
		fe.emit(onboard.StepVerify, onboard.KindStarted, "waiting for phone's handshake from outside", nil)
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		fe.emit(onboard.StepVerify, onboard.KindDone, "proven from outside: phone's handshake came from 198.51.100.23", nil)
		s := *fakeSummary
		s.ProvenVia, s.ProvenFrom = "outside", "198.51.100.23"
		return &s, nil
	}
	factory, _ := fakeFactory(fe)
	o := demoOptions(factory, newFakeClock())
	o.ProveRemote = true
	h := start(t, o)
	h.waitFor("Router", "Password", "api-ssl")
	h.submitConnect()
	h.waitFor("Trust and continue")
	h.key("enter")
	h.waitFor("Press enter")
	h.key("enter")
	h.waitFor("Commands (7)")
	h.key("enter")
	v := h.waitFor("Prove it from outside", "waiting for phone's handshake", "activate")
	if !strings.ContainsAny(v, "█▀▄") {
		t.Errorf("no QR code on the Apply screen:\n%s", v)
	}
	close(release)
	h.waitFor("Proven via  outside, by a phone at 198.51.100.23")
}
