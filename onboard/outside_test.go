package onboard

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
)

func TestOutsideOf(t *testing.T) {
	r := &Router{Addresses: []Row{{"address": "192.168.88.1/24", "interface": "bridge"}, {"address": "203.0.113.7/24", "interface": "ether1"},
		{"address": "10.77.0.1/24", "interface": "wgboot"}}}
	public := []wanIface{{Name: "ether1", Addrs: []netip.Prefix{netip.MustParsePrefix("203.0.113.7/24")}}}
	behindModem := []wanIface{{Name: "ether1", Addrs: []netip.Prefix{netip.MustParsePrefix("192.168.1.2/24")}}}
	for _, c := range []struct {
		addr string
		wans []wanIface
		want bool
	}{
		{"198.51.100.23", public, true},
		{"::ffff:198.51.100.23", public, true},
		{"192.168.88.100", public, false}, // the LAN
		{"203.0.113.99", public, false},   // the WAN's own subnet
		{"10.77.0.2", public, false},      // the tunnel
		{"10.1.2.3", public, false},       // private, public WAN
		{"100.64.1.2", public, false},     // CGNAT, public WAN
		{"127.0.0.1", public, false},
		{"10.1.2.3", behindModem, true},        // a modem in front forwards from private space
		{"127.0.0.1", behindModem, false},      // never loopback
		{"192.168.88.100", behindModem, false}, // still the LAN
	} {
		got, why := r.outsideOf(netip.MustParseAddr(c.addr), c.wans)
		if got != c.want || got == (why != "") {
			t.Errorf("outsideOf(%s) = %v %q, want %v", c.addr, got, why, c.want)
		}
	}
}

// phone is a simulated phone: the WireGuard app with np's config, on
// mobile data, sending to ep.
type phone struct {
	mu sync.Mutex
	n  *vpn.Netstack
}

func (p *phone) up(t *testing.T, np *NewPeer, ep netip.AddrPort) {
	q := np.Config
	n := vpn.NewNetstack(t.Logf)
	if err := n.Up(context.Background(), vpn.Config{PrivateKey: q.Interface.PrivateKey, Address: q.Interface.Address[0],
		Peer: vpn.Peer{PublicKey: q.Peer.PublicKey, Endpoint: ep, AllowedIPs: q.Peer.AllowedIPs, Keepalive: time.Second}}); err != nil {
		t.Error(err)
	}
	p.mu.Lock()
	p.n = n
	p.mu.Unlock()
}

func (p *phone) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n != nil {
		p.n.Close()
	}
}

var phoneSrc = netip.MustParseAddr("198.51.100.23")

// The outside proof with a phone on a WAN source address outside the
// router's networks, and its refusal of a LAN handshake.
func TestSimProveOutside(t *testing.T) {
	for _, fromLAN := range []bool{false, true} {
		t.Run(map[bool]string{false: "outside", true: "lan"}[fromLAN], func(t *testing.T) {
			ex := simtest.Named(t, "soho-defconf")
			phoneAt := simtest.Loopback()
			s := startExample(t, ex, func(o *sim.Options) {
				o.Listen = append(o.Listen, sim.Listen{Iface: ex.WAN[0], Addr: phoneAt, Src: phoneSrc})
			})
			if fromLAN {
				phoneAt = s.LAN
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			before := s.Export()
			var events []Event
			o := simOptions(t, s, s.LAN, &events)
			o.Settings.VerifyEndpoint = s.LAN.String()
			ph := &phone{}
			defer ph.close()
			wait := 20 * time.Second
			if fromLAN {
				wait = 4 * time.Second
			}
			o.ProveRemote = &ProveRemote{Wait: wait, Keep: true, Show: func(np *NewPeer) {
				if ex := s.Sim.Export(); strings.Count(ex, `remove [find where comment=\"wgboot:e2e peer:phone\"]`) < 2 {
					t.Errorf("the armed rollback (timer and script) does not remove the phone's peer:\n%s", ex)
				}
				_, port, _ := strings.Cut(np.Config.Peer.Endpoint, ":")
				ph.up(t, np, netip.MustParseAddrPort(phoneAt.String()+":"+port))
			}}
			e := connectedEngine(t, ctx, o)
			p, err := e.Plan(ctx, o.Settings)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := e.Apply(ctx, p)
			if fromLAN {
				if err == nil || !strings.Contains(err.Error(), "not proven from outside") || !strings.Contains(err.Error(), "192.168.88.100 is on the router's own network") {
					t.Fatalf("a LAN handshake: %v, want a refusal naming the LAN", err)
				}
				if diff := cmp.Diff(before, s.Export()); diff != "" {
					t.Errorf("the refused proof left the router changed (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if sum.ProvenVia != "outside" || sum.ProvenFrom != phoneSrc.String() || sum.OutsideUnproven {
				t.Errorf("summary: proven %q from %q, outside unproven %v", sum.ProvenVia, sum.ProvenFrom, sum.OutsideUnproven)
			}
			ph.close()
			// The wizard's Done screen adds devices on the engine that
			// just applied (through the tunnel: the WAN is closed).
			if _, err := e.AddPeer(ctx, "tablet", false); err != nil {
				t.Errorf("add a device right after Apply: %v", err)
			}
			e.Close()
			checkNoSecrets(t, o, events, e.key)
			e = connectedEngine(t, ctx, o)
			peers, err := e.Peers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(peers) != 3 || peers[1].Name != "phone" || !peers[1].Added || peers[2].Name != "tablet" {
				t.Errorf("the kept phone peer: %+v", peers)
			}
			if err := e.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, s.Export()); diff != "" {
				t.Errorf("export after rollback (-before +after):\n%s", diff)
			}
		})
	}
}
