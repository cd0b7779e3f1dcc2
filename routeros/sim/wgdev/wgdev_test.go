package wgdev

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgboot/wgboot/internal/gvtun"
)

// waitLimit bounds every wait for something that should happen promptly;
// it is a safety net against hangs, not a timing assertion.
const waitLimit = 10 * time.Second

var (
	routerTunnel = netip.MustParsePrefix("10.77.0.1/24")
	clientTunnel = netip.MustParseAddr("10.77.0.2")
)

// loopback returns a random 127.x.y.z address, so that parallel test
// packages do not collide on ports.
func loopback() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(rand.IntN(200) + 20), byte(rand.IntN(256)), byte(rand.IntN(253) + 1)})
}

func newKey(t testing.TB) wgtypes.Key {
	t.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// router starts a Device on a random loopback address with an echo server
// on port 8729 that first writes the connection's remote address.
type router struct {
	dev    *Device
	key    wgtypes.Key
	listen netip.AddrPort
}

func newRouter(t testing.TB, o Options) *router {
	t.Helper()
	key := newKey(t)
	o.PrivateKey = key
	if o.Listen == nil {
		o.Listen = []netip.AddrPort{netip.AddrPortFrom(loopback(), 0)}
	}
	if o.Addresses == nil {
		o.Addresses = []netip.Prefix{routerTunnel}
	}
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	d, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Cleanups run last-in first-out: Close (which ends the listener and
	// every accepted conn, even one whose FIN was lost in a cut tunnel),
	// then wait for the echo goroutines.
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { d.Close() })
	l, err := d.ListenTCP(8729)
	if err != nil {
		t.Fatalf("ListenTCP: %v", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				fmt.Fprintf(c, "%s\n", c.RemoteAddr())
				io.Copy(c, c)
			}()
		}
	}()
	return &router{dev: d, key: key, listen: d.ListenAddrs()[0]}
}

func (r *router) peer(k wgtypes.Key) Peer {
	return Peer{PublicKey: k.PublicKey(), AllowedIPs: []netip.Prefix{netip.PrefixFrom(clientTunnel, 32)}}
}

// client is the technician's side, built with wireguard-go directly.
type client struct {
	dev  *device.Device
	net  *gvtun.Device
	key  wgtypes.Key
	bind *udpBind
}

// newClientTUN is the technician's side of the tunnel: the same gVisor
// device vpn.Netstack uses, with addrs as host addresses.
func newClientTUN(t testing.TB, addrs ...netip.Addr) *gvtun.Device {
	t.Helper()
	tnet, err := gvtun.New("client", DefaultMTU)
	if err != nil {
		t.Fatal(err)
	}
	var ps []netip.Prefix
	for _, a := range addrs {
		ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
	}
	if err := tnet.SetAddresses(ps); err != nil {
		tnet.Close()
		t.Fatal(err)
	}
	return tnet
}

func newClient(t testing.TB, r *router) *client {
	t.Helper()
	key := newKey(t)
	tnet := newClientTUN(t, clientTunnel)
	// Our own bind on a loopback address: the default one listens on
	// every address of the machine.
	b := newBind(Options{Listen: []netip.AddrPort{netip.AddrPortFrom(loopback(), 0)}}, t.Logf)
	dev := device.NewDevice(tnet, b, device.NewLogger(device.LogLevelSilent, ""))
	pub := r.key.PublicKey()
	conf := fmt.Sprintf("private_key=%s\npublic_key=%s\nendpoint=%s\nallowed_ip=10.77.0.0/24\n",
		hex.EncodeToString(key[:]), hex.EncodeToString(pub[:]), r.listen)
	if err := dev.IpcSet(conf); err != nil {
		t.Fatal(err)
	}
	if err := dev.Up(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dev.Close)
	return &client{dev: dev, net: tnet, key: key, bind: b}
}

func (c *client) addr() netip.AddrPort {
	c.bind.mu.Lock()
	defer c.bind.mu.Unlock()
	return c.bind.listen[0]
}

// hello dials the router inside the tunnel, reads the remote address the
// router saw and checks an echo.
func (c *client) hello(ctx context.Context, dst netip.Addr) (string, error) {
	conn, err := c.net.DialContext(ctx, "tcp", netip.AddrPortFrom(dst, 8729).String())
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	br := bufio.NewReader(conn)
	seen, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	if _, err := io.WriteString(conn, "ping\n"); err != nil {
		return "", err
	}
	echo, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	if echo != "ping\n" {
		return "", fmt.Errorf("echo %q", echo)
	}
	return strings.TrimSpace(seen), nil
}

func (c *client) handshaken() bool {
	s, _ := c.dev.IpcGet()
	st, _ := parseIpcGet(s)
	return len(st) == 1 && !st[0].LastHandshake.IsZero()
}

func ctxLimit(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestTunnel(t *testing.T) {
	var admits atomic.Int32
	var admitted []netip.AddrPort
	var mu sync.Mutex
	r := newRouter(t, Options{Admit: func(local, remote netip.AddrPort) bool {
		admits.Add(1)
		mu.Lock()
		admitted = append(admitted, local, remote)
		mu.Unlock()
		return true
	}})
	c := newClient(t, r)
	if err := r.dev.SetPeers([]Peer{r.peer(c.key)}); err != nil {
		t.Fatal(err)
	}
	seen, err := c.hello(ctxLimit(t, waitLimit), routerTunnel.Addr())
	if err != nil {
		t.Fatalf("through the tunnel: %v", err)
	}
	if !strings.HasPrefix(seen, clientTunnel.String()+":") {
		t.Errorf("router saw remote %q, want the tunnel source %v:port", seen, clientTunnel)
	}
	// A second connection is the same WireGuard flow: no new Admit.
	if _, err := c.hello(ctxLimit(t, waitLimit), routerTunnel.Addr()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if diff := cmp.Diff([]netip.AddrPort{r.listen, c.addr()}, admitted, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("Admit(local, remote) calls (-want +got):\n%s", diff)
	}
	mu.Unlock()

	st := r.dev.Stats()
	if len(st) != 1 {
		t.Fatalf("Stats = %+v, want one peer", st)
	}
	if st[0].PublicKey != c.key.PublicKey() || st[0].LastHandshake.IsZero() || st[0].Rx == 0 || st[0].Tx == 0 || st[0].Endpoint != c.addr() {
		t.Errorf("Stats = %+v, want handshake, rx, tx and endpoint %v", st[0], c.addr())
	}
	if cn := r.dev.Counters(); cn.RxPackets == 0 || cn.TxPackets == 0 || cn.RxBytes == 0 || cn.TxBytes == 0 || cn.Dropped != 0 {
		t.Errorf("Counters = %+v", cn)
	}
}

func TestAdmitRefused(t *testing.T) {
	var allow atomic.Bool
	r := newRouter(t, Options{Admit: func(_, _ netip.AddrPort) bool { return allow.Load() }})
	c := newClient(t, r)
	if err := r.dev.SetPeers([]Peer{r.peer(c.key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.hello(ctxLimit(t, 300*time.Millisecond), routerTunnel.Addr()); err == nil {
		t.Fatal("reached the router although Admit refused the flow")
	}
	if c.handshaken() {
		t.Error("client completed a handshake although Admit refused the flow")
	}
	if st := r.dev.Stats(); len(st) != 1 || !st[0].LastHandshake.IsZero() {
		t.Errorf("router Stats = %+v, want no handshake", st)
	}
	if cn := r.dev.Counters(); cn.Dropped == 0 || cn.RxPackets != 0 || cn.TxPackets != 0 {
		t.Errorf("Counters = %+v, want drops only", cn)
	}

	// A refused flow is asked again: after the firewall change a new
	// handshake (a fresh client, so no 5 s retry wait) gets through.
	allow.Store(true)
	c2 := newClient(t, r)
	if err := r.dev.SetPeers([]Peer{r.peer(c2.key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.hello(ctxLimit(t, waitLimit), routerTunnel.Addr()); err != nil {
		t.Fatalf("after Admit allows: %v", err)
	}

	// An admitted flow stays admitted until ResetFlows.
	allow.Store(false)
	if _, err := c2.hello(ctxLimit(t, waitLimit), routerTunnel.Addr()); err != nil {
		t.Fatalf("admitted flow cut before ResetFlows: %v", err)
	}
	before := r.dev.Counters().Dropped
	r.dev.ResetFlows()
	if _, err := c2.hello(ctxLimit(t, 300*time.Millisecond), routerTunnel.Addr()); err == nil {
		t.Fatal("flow still admitted after ResetFlows with Admit refusing")
	}
	if after := r.dev.Counters().Dropped; after <= before {
		t.Errorf("Dropped %d -> %d, want an increase", before, after)
	}
}

func TestSharedPort(t *testing.T) {
	a := newRouter(t, Options{})
	b := newRouter(t, Options{
		Listen:    []netip.AddrPort{netip.AddrPortFrom(loopback(), a.listen.Port())},
		Addresses: []netip.Prefix{netip.MustParsePrefix("10.77.0.9/24")},
	})
	if a.listen.Port() != b.listen.Port() || a.listen.Addr() == b.listen.Addr() {
		t.Fatalf("listen %v and %v: want one port on two addresses", a.listen, b.listen)
	}
	ca, cb := newClient(t, a), newClient(t, b)
	if err := a.dev.SetPeers([]Peer{a.peer(ca.key)}); err != nil {
		t.Fatal(err)
	}
	if err := b.dev.SetPeers([]Peer{b.peer(cb.key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.hello(ctxLimit(t, waitLimit), netip.MustParseAddr("10.77.0.1")); err != nil {
		t.Errorf("router a: %v", err)
	}
	if _, err := cb.hello(ctxLimit(t, waitLimit), netip.MustParseAddr("10.77.0.9")); err != nil {
		t.Errorf("router b: %v", err)
	}
	if st := a.dev.Stats(); len(st) != 1 || st[0].PublicKey != ca.key.PublicKey() || st[0].LastHandshake.IsZero() {
		t.Errorf("router a stats %+v", st)
	}
	if st := b.dev.Stats(); len(st) != 1 || st[0].PublicKey != cb.key.PublicKey() || st[0].LastHandshake.IsZero() {
		t.Errorf("router b stats %+v", st)
	}
}

func TestSetPeersRemoves(t *testing.T) {
	r := newRouter(t, Options{})
	c := newClient(t, r)
	other := newKey(t)
	psk := [32]byte(newKey(t))
	if err := r.dev.SetPeers([]Peer{r.peer(c.key), {PublicKey: other.PublicKey(), PresharedKey: &psk, Keepalive: 25 * time.Second,
		AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.3/32")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.hello(ctxLimit(t, waitLimit), routerTunnel.Addr()); err != nil {
		t.Fatal(err)
	}
	// Disabled counts as absent.
	disabled := r.peer(c.key)
	disabled.Disabled = true
	if err := r.dev.SetPeers([]Peer{disabled, {PublicKey: other.PublicKey(), AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.3/32")}}}); err != nil {
		t.Fatal(err)
	}
	if st := r.dev.Stats(); len(st) != 1 || st[0].PublicKey != other.PublicKey() {
		t.Fatalf("Stats after removal = %+v, want only the other peer", st)
	}
	if _, err := c.hello(ctxLimit(t, 300*time.Millisecond), routerTunnel.Addr()); err == nil {
		t.Fatal("removed peer still reaches the router")
	}
	if err := r.dev.SetPeers([]Peer{r.peer(c.key), r.peer(c.key)}); err == nil {
		t.Error("SetPeers accepted the same key twice")
	}
}

func TestSetAddresses(t *testing.T) {
	r := newRouter(t, Options{})
	c := newClient(t, r)
	if err := r.dev.SetPeers([]Peer{r.peer(c.key)}); err != nil {
		t.Fatal(err)
	}
	moved := netip.MustParseAddr("10.77.0.5")
	if err := r.dev.SetAddresses([]netip.Prefix{netip.PrefixFrom(moved, 24)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.hello(ctxLimit(t, waitLimit), moved); err != nil {
		t.Fatalf("listener on the new address: %v", err)
	}
	if _, err := c.hello(ctxLimit(t, 300*time.Millisecond), routerTunnel.Addr()); err == nil {
		t.Error("old address still answers")
	}
}

func TestLatency(t *testing.T) {
	// Timing is measured in BenchmarkLatency; here only that packets
	// still flow when they are held back.
	r := newRouter(t, Options{Latency: 20 * time.Millisecond})
	c := newClient(t, r)
	if err := r.dev.SetPeers([]Peer{r.peer(c.key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.hello(ctxLimit(t, waitLimit), routerTunnel.Addr()); err != nil {
		t.Fatal(err)
	}
}

func TestCloseLeavesNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		// A sub-test scope so the cleanups (client, echo server) run first.
		t.Run("traffic", func(t *testing.T) {
			r := newRouter(t, Options{Latency: time.Millisecond})
			c := newClient(t, r)
			if err := r.dev.SetPeers([]Peer{r.peer(c.key)}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.hello(ctxLimit(t, waitLimit), routerTunnel.Addr()); err != nil {
				t.Fatal(err)
			}
			l, err := r.dev.ListenTCP(22)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.dev.Close(); err != nil {
				t.Fatal(err)
			}
			if err := r.dev.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if _, err := l.Accept(); err == nil {
				t.Error("Accept after Close succeeded")
			}
			if err := r.dev.SetPeers(nil); !errors.Is(err, net.ErrClosed) {
				t.Errorf("SetPeers after Close = %v, want net.ErrClosed", err)
			}
			// The UDP port is free again.
			u, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(r.listen))
			if err != nil {
				t.Fatalf("port not freed: %v", err)
			}
			u.Close()
		})
	}()
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestNewFailsOnBusyPort(t *testing.T) {
	a := newRouter(t, Options{})
	_, err := New(Options{Listen: []netip.AddrPort{a.listen}})
	if err == nil || !strings.Contains(err.Error(), a.listen.String()) {
		t.Errorf("New on a busy address = %v, want an error naming %v", err, a.listen)
	}
}
