package vpn

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/gvtun"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
)

// lateUpTUN is a TUN whose "up" event the test sends.
type lateUpTUN struct {
	*gvtun.Device
	events chan tun.Event
}

func (t *lateUpTUN) Events() <-chan tun.Event { return t.events }

// upOnFirstClose is a bind that, the first time wireguard-go closes it
// (the first step of every rebind, done holding the device's network
// lock), sends the TUN's "up" event and gives wireguard-go's event
// goroutine the time to start bringing the device up: the interleaving a
// busy machine makes now and then.
type upOnFirstClose struct {
	conn.Bind
	events chan<- tun.Event
	once   sync.Once
	record func(string)
	opens  int
}

// Open records the bind; a rebind is slow, as on a busy machine.
func (b *upOnFirstClose) Open(port uint16) ([]conn.ReceiveFunc, uint16, error) {
	if b.opens++; b.opens > 1 {
		time.Sleep(50 * time.Millisecond)
	}
	fns, p, err := b.Bind.Open(port)
	b.record("bind")
	return fns, p, err
}

func (b *upOnFirstClose) Close() error {
	b.once.Do(func() {
		b.events <- tun.EventUp
		time.Sleep(100 * time.Millisecond)
	})
	return b.Bind.Close()
}

// TestConfigureFirstInitiationFromFinalPort wants no rebind of the UDP
// socket once the first handshake initiation is under way, and that
// initiation sent from the port the device keeps listening on (where the
// router's answer comes), even when the TUN's own "up" event brings the
// device up while configure runs. That event used to rebind the socket
// after the first initiation: on a busy machine it had gone out from the
// first socket, the answer came to a closed port and the handshake waited
// for wireguard-go's retry 5s later (finding 67).
func TestConfigureFirstInitiationFromFinalPort(t *testing.T) {
	l, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(randLoopback(), 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	gt, err := gvtun.New("wgboot", DefaultMTU)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	record := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	events := make(chan tun.Event, 1)
	us := &userspace{events: make(chan struct{}, 1)}
	log := newUserspaceLogger(t.Logf, us.events, &us.attempts)
	verbose := log.Verbosef
	log.Verbosef = func(format string, args ...any) {
		if strings.Contains(format, "Sending handshake initiation") {
			record("initiation")
		}
		verbose(format, args...)
	}
	us.dev = device.NewDevice(&lateUpTUN{Device: gt, events: events},
		&upOnFirstClose{Bind: conn.NewDefaultBind(), events: events, record: record}, log)
	defer us.dev.Close()
	// wgboot's peer has a persistent keepalive: configuring it sends the
	// first initiation at once, from inside the configuration.
	cfg := Config{PrivateKey: mustKey(t), Address: netip.MustParsePrefix("10.77.0.2/24"),
		Peer: Peer{PublicKey: mustKey(t).PublicKey(), Endpoint: l.LocalAddr().(*net.UDPAddr).AddrPort(),
			AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.1/32")}, Keepalive: 25 * time.Second}}
	if err := us.configure(cfg); err != nil {
		t.Fatal(err)
	}
	l.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	_, from, err := l.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("no initiation: %v", err)
	}
	port, err := us.listenPort()
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if i := slices.Index(order, "initiation"); i < 0 || slices.Contains(order[i:], "bind") {
		t.Errorf("binds and initiations: %v; want no bind after the first initiation", order)
	}
	if int(from.Port()) != port {
		t.Errorf("first initiation sent from port %d, the device listens on %d: the router's answer is lost", from.Port(), port)
	}
}

// TestNetstackListenPortInUse wants a fixed local port that another socket
// holds named as the likely cause, as before finding 67's fix (the port is
// now bound by the configuration, on a device already up).
func TestNetstackListenPortInUse(t *testing.T) {
	l, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.LocalAddr().(*net.UDPAddr).Port
	ns := NewNetstack(t.Logf)
	defer ns.Close()
	cfg := Config{PrivateKey: mustKey(t), ListenPort: port, Address: netip.MustParsePrefix("10.77.0.2/24"),
		Peer: Peer{PublicKey: mustKey(t).PublicKey(), AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.1/32")}}}
	err = ns.Up(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("(is listen port %d free?)", port)) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Up on a port in use: %v, want the port and the cause named", err)
	}
}
