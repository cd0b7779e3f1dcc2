package sim

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-routeros/routeros/v3"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// hangBound only bounds a hang (finding 11: a command without a reply for
// 5 s); it asserts nothing about speed.
const hangBound = 20 * time.Second

// tunnelRouter starts a router with wg-tech up, a LAN session and a
// technician peer whose tunnel carries a logged-in API session.
func tunnelRouter(t *testing.T) (r *Router, lan *routeros.Client, tun *routeros.Client, tunConn net.Conn, cl *wgClient) {
	t.Helper()
	cfg := `/interface wireguard
add listen-port=13231 name=wg-tech
/ip address
add address=10.77.0.1/24 interface=wg-tech
`
	wan := testAddr()
	r = startRouter(t, Options{Config: cfg, Listen: []Listen{{Iface: "ether1", Addr: wan}, {Iface: "bridge", Addr: testAddr()}}})
	cl = newWGClient(t, netip.MustParseAddr("10.77.0.2"))
	lan = dial(t, apiAddr(r, 1), "admin", "")
	rep, err := lan.Run("/interface/wireguard/print", "?name=wg-tech")
	if err != nil {
		t.Fatal(err)
	}
	pub := rep.Re[0].Map["public-key"]
	if _, err := lan.Run("/interface/wireguard/peers/add", "=interface=wg-tech", "=public-key="+cl.key.PublicKey().String(), "=allowed-address=10.77.0.2/32"); err != nil {
		t.Fatal(err)
	}
	cl.peer(t, pub, netip.AddrPortFrom(wan, r.Info().WireGuard["wg-tech"]), "10.77.0.0/24")
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	nc, err := cl.net.DialContext(ctx, "tcp", "10.77.0.1:8728")
	if err != nil {
		t.Fatalf("dial through the tunnel: %v", err)
	}
	_ = nc.SetDeadline(time.Now().Add(hangBound))
	tun, _ = routeros.NewClient(nc)
	t.Cleanup(func() { tun.Close() })
	if err := tun.Login("admin", ""); err != nil {
		t.Fatalf("login through the tunnel: %v", err)
	}
	return r, lan, tun, nc, cl
}

// TestTunnelSessionRemovesItsInterface is finding 11's lock-up: a command
// arriving through a tunnel that closes that tunnel's own device made the
// reconcile wait for the very session carrying the command, holding the
// reconcile lock, so every later change on any session went unanswered.
func TestTunnelSessionRemovesItsInterface(t *testing.T) {
	tests := []struct {
		name string
		cmd  []string
	}{
		{"disable", []string{"/interface/wireguard/disable", "=numbers=wg-tech"}},
		{"new port", []string{"/interface/wireguard/set", "=numbers=wg-tech", "=listen-port=13232"}},
		{"remove", []string{"/interface/wireguard/remove", "=numbers=wg-tech"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, lan, tun, nc, _ := tunnelRouter(t)
			// The reply may or may not come back: the session dies with the device.
			_ = nc.SetDeadline(time.Now().Add(300 * time.Millisecond))
			_, _ = tun.Run(tt.cmd...)
			done := make(chan error, 1)
			go func() {
				_, err := lan.Run("/ip/address/add", "=address=10.99.0.1/24", "=interface=ether2")
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("LAN /ip/address/add after the tunnel change: %v", err)
				}
			case <-time.After(hangBound):
				t.Fatalf("LAN /ip/address/add got no reply within %v after %v through the tunnel: the router locked up", hangBound, tt.cmd)
			}
		})
	}
}

// TestReconcileStress changes WireGuard interfaces, addresses and firewall
// rules from the LAN while tagged commands of a tunnel session reconcile
// concurrently and the tunnel's own interface goes down and up: no
// command may go unanswered.
func TestReconcileStress(t *testing.T) {
	_, lan, tun, _, cl := tunnelRouter(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var sessions atomic.Int64
	// Tunnel sessions: changes that reconcile, tagged and concurrent, on
	// sessions dialled again whenever wg-tech comes back (the client keeps
	// handshaking with keepalives). Errors are expected while the tunnel is
	// down; only a hang fails.
	tunnelSession := func(c *routeros.Client, w int) {
		// AsyncContext: the library's Async leaks a goroutine waiting for a context that never ends.
		c.AsyncContext(ctx)
		var cw sync.WaitGroup
		for k := 0; k < 2; k++ {
			cw.Add(1)
			go func() {
				defer cw.Done()
				for i := 0; ctx.Err() == nil; i++ {
					if _, err := c.RunContext(ctx, "/ip/address/add", fmt.Sprintf("=address=10.%d.%d.1/24", 100+w, (k*125+i)%250), "=interface=ether3"); err != nil {
						return
					}
				}
			}()
		}
		cw.Wait()
		c.Close()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tunnelSession(tun, 0)
		for w := 1; ctx.Err() == nil; w++ {
			dctx, dcancel := context.WithTimeout(ctx, time.Second)
			nc, err := cl.net.DialContext(dctx, "tcp", "10.77.0.1:8728")
			dcancel()
			if err != nil {
				continue
			}
			_ = nc.SetDeadline(time.Now().Add(hangBound))
			c, _ := routeros.NewClient(nc)
			if err := c.Login("admin", ""); err != nil {
				c.Close()
				continue
			}
			sessions.Add(1)
			tunnelSession(c, w%100)
		}
	}()
	lanCmd := func(words ...string) *routeros.Reply {
		type res struct {
			rep *routeros.Reply
			err error
		}
		done := make(chan res, 1)
		go func() { rep, err := lan.Run(words...); done <- res{rep, err} }()
		select {
		case x := <-done:
			if x.err != nil {
				t.Errorf("%v: %v", words, x.err)
			}
			return x.rep
		case <-time.After(hangBound):
			t.Fatalf("%v got no reply within %v: the router locked up", words, hangBound)
		}
		return nil
	}
	for i := 0; i < 30; i++ {
		name := fmt.Sprintf("wgs%d", i)
		lanCmd("/interface/wireguard/add", "=name="+name, fmt.Sprintf("=listen-port=%d", 14000+i))
		lanCmd("/ip/address/add", fmt.Sprintf("=address=10.200.%d.1/24", i), "=interface="+name)
		lanCmd("/ip/firewall/filter/add", "=chain=input", "=action=accept", "=protocol=udp", "=comment="+name)
		// An expiring entry makes the scheduler reconcile too.
		lanCmd("/ip/firewall/address-list/add", "=list=x", fmt.Sprintf("=address=10.201.%d.1", i), "=timeout=1s")
		// The tunnel's own device is re-addressed and given peers while
		// its sessions run; once, late, it goes down and up.
		lanCmd("/ip/address/add", fmt.Sprintf("=address=10.78.%d.1/24", i), "=interface=wg-tech")
		k, _ := wgtypes.GeneratePrivateKey()
		lanCmd("/interface/wireguard/peers/add", "=interface=wg-tech", "=public-key="+k.PublicKey().String(), fmt.Sprintf("=allowed-address=10.78.%d.2/32", i))
		if i == 25 {
			lanCmd("/interface/wireguard/disable", "=numbers=wg-tech")
			lanCmd("/interface/wireguard/enable", "=numbers=wg-tech")
		}
		if rep := lanCmd("/interface/wireguard/peers/print", "?public-key="+k.PublicKey().String(), "=.proplist=.id"); rep != nil && len(rep.Re) == 1 {
			lanCmd("/interface/wireguard/peers/remove", "=numbers="+rep.Re[0].Map[".id"])
		}
		if rep := lanCmd("/ip/firewall/filter/print", "?comment="+name, "=.proplist=.id"); rep != nil && len(rep.Re) == 1 {
			lanCmd("/ip/firewall/filter/remove", "=numbers="+rep.Re[0].Map[".id"])
		}
		lanCmd("/interface/wireguard/remove", "=numbers="+name)
	}
	cancel()
	wg.Wait()
	t.Logf("%d tunnel sessions", sessions.Load())
}
