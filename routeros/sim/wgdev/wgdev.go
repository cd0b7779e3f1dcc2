package wgdev

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/device"

	"github.com/wgboot/wgboot/internal/gvtun"
	"github.com/wgboot/wgboot/internal/uapi"
)

// DefaultMTU is RouterOS's default WireGuard MTU.
const DefaultMTU = 1420

// Options configures one simulated WireGuard interface.
type Options struct {
	PrivateKey [32]byte
	// Listen are the UDP sockets, one per --listen address. Port 0 picks
	// a free port (see Device.ListenAddrs).
	Listen []netip.AddrPort
	// Addresses are the /ip address entries on this interface; the
	// router's end of the tunnel lives inside a gVisor stack.
	Addresses []netip.Prefix
	// MTU of the tunnel; 0 means DefaultMTU.
	MTU int
	// Admit is called for the first packet of each new WireGuard flow (per
	// remote addr:port and local socket); it returns false to drop (never
	// answered). remote is the packet's real source; the caller maps it to
	// the source the router "sees". nil admits everything. Admit runs on
	// the device's receive goroutine: it must not wait for a lock held by
	// a caller of Close, which waits for that goroutine to end.
	Admit func(local, remote netip.AddrPort) bool
	// Latency is added to each received packet.
	Latency time.Duration
	// Logf receives the device's log lines (never keys); nil discards.
	Logf func(format string, args ...any)
}

// Peer is one /interface wireguard peers entry.
type Peer struct {
	PublicKey    [32]byte
	PresharedKey *[32]byte
	AllowedIPs   []netip.Prefix
	Endpoint     netip.AddrPort // zero: learnt from the peer's packets
	Keepalive    time.Duration  // persistent keepalive, whole seconds
	Disabled     bool           // a disabled peer is removed from the device
}

// PeerStats are the read-only figures of one peer.
type PeerStats struct {
	PublicKey     [32]byte
	LastHandshake time.Time // zero: never
	Endpoint      netip.AddrPort
	Rx, Tx        uint64
}

// Device is one simulated router WireGuard interface: a wireguard-go
// device whose tunnel end is a gVisor stack and whose UDP side is a
// socket per listen address.
type Device struct {
	tun  *gvtun.Device
	bind *udpBind
	dev  *device.Device
	logf func(string, ...any)

	mu        sync.Mutex // guards following
	peers     map[[32]byte]bool
	listeners map[*listener]struct{}
	closed    bool
}

// New creates and starts the interface. It fails if a listen address
// cannot be bound (typically: the port is in use on that address).
func New(o Options) (*Device, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	mtu := o.MTU
	if mtu == 0 {
		mtu = DefaultMTU
	}
	if mtu < 576 || mtu > 65535 {
		return nil, fmt.Errorf("wgdev: mtu %d out of range 576..65535", mtu)
	}
	t, err := gvtun.New("wgdev", mtu)
	if err != nil {
		return nil, err
	}
	if err := t.SetAddresses(o.Addresses); err != nil {
		t.Close()
		return nil, err
	}
	b := newBind(o, logf)
	d := &Device{tun: t, bind: b, logf: logf, peers: map[[32]byte]bool{}, listeners: map[*listener]struct{}{}}
	d.dev = device.NewDevice(t, b, &device.Logger{
		Verbosef: func(string, ...any) {},
		Errorf:   func(f string, a ...any) { logf("wgdev: "+f, a...) },
	})
	if err := d.dev.IpcSet("private_key=" + hex.EncodeToString(o.PrivateKey[:]) + "\n"); err != nil {
		d.dev.Close()
		return nil, fmt.Errorf("wgdev: set private key: %w", err)
	}
	// Up right away: otherwise the device comes up a moment later and the
	// first packet through the tunnel is lost.
	if err := d.dev.Up(); err != nil {
		d.dev.Close()
		return nil, fmt.Errorf("wgdev: up: %w", err)
	}
	return d, nil
}

// ListenAddrs returns the bound UDP addresses (ports resolved).
func (d *Device) ListenAddrs() []netip.AddrPort {
	d.bind.mu.Lock()
	defer d.bind.mu.Unlock()
	return slices.Clone(d.bind.listen)
}

// SetPeers replaces the peer set: peers not in peers (or disabled) are
// removed, the others are created or updated in place, so that an
// unchanged peer keeps its session.
func (d *Device) SetPeers(peers []Peer) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("wgdev: set peers: %w", net.ErrClosed)
	}
	var b strings.Builder
	want := map[[32]byte]bool{}
	for _, p := range peers {
		if p.Disabled {
			continue
		}
		if want[p.PublicKey] {
			return fmt.Errorf("wgdev: set peers: public key %s appears twice", shortKey(p.PublicKey))
		}
		want[p.PublicKey] = true
		fmt.Fprintf(&b, "public_key=%s\n", hex.EncodeToString(p.PublicKey[:]))
		var psk [32]byte // all zeros clears a preshared key
		if p.PresharedKey != nil {
			psk = *p.PresharedKey
		}
		fmt.Fprintf(&b, "preshared_key=%s\n", hex.EncodeToString(psk[:]))
		if p.Endpoint.IsValid() {
			fmt.Fprintf(&b, "endpoint=%s\n", p.Endpoint)
		}
		fmt.Fprintf(&b, "persistent_keepalive_interval=%d\n", int(p.Keepalive/time.Second))
		b.WriteString("replace_allowed_ips=true\n")
		for _, a := range p.AllowedIPs {
			fmt.Fprintf(&b, "allowed_ip=%s\n", a.Masked())
		}
	}
	for k := range d.peers {
		if !want[k] {
			fmt.Fprintf(&b, "public_key=%s\nremove=true\n", hex.EncodeToString(k[:]))
		}
	}
	if err := d.dev.IpcSet(b.String()); err != nil {
		// The text holds preshared keys: never put it in the error.
		return fmt.Errorf("wgdev: set peers: %w", err)
	}
	d.peers = want
	return nil
}

func shortKey(k [32]byte) string { return hex.EncodeToString(k[:4]) + "…" }

// SetAddresses makes the interface's addresses exactly p (/ip address
// entries on this interface). Listeners keep working on the new addresses.
func (d *Device) SetAddresses(p []netip.Prefix) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("wgdev: set addresses: %w", net.ErrClosed)
	}
	return d.tun.SetAddresses(p)
}

// ResetFlows forgets the admitted WireGuard flows, so that the next packet
// of every flow goes through Admit again (after a firewall change).
func (d *Device) ResetFlows() { d.bind.resetFlows() }

// Counters returns the UDP side's packet counters.
func (d *Device) Counters() Counters { return d.bind.counters() }

// ListenTCP listens on port on every address of the interface, present
// and future. Accepted conns' RemoteAddr is the tunnel source (the peer's
// tunnel address), LocalAddr the router's tunnel address. Close of the
// Device closes the listener.
func (d *Device) ListenTCP(port uint16) (net.Listener, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("wgdev: listen tcp: %w", net.ErrClosed)
	}
	gl, err := d.tun.ListenTCP(port)
	if err != nil {
		return nil, fmt.Errorf("wgdev: %w", err)
	}
	l := &listener{Listener: gl, d: d}
	d.listeners[l] = struct{}{}
	return l, nil
}

// listener leaves the device's set when closed.
type listener struct {
	net.Listener
	d    *Device
	once sync.Once
}

func (l *listener) Close() error {
	var err error
	l.once.Do(func() {
		l.d.mu.Lock()
		delete(l.d.listeners, l)
		l.d.mu.Unlock()
		err = l.Listener.Close()
	})
	return err
}

// Stats returns every peer's figures, ordered by public key.
func (d *Device) Stats() []PeerStats {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return nil
	}
	s, err := d.dev.IpcGet()
	if err != nil {
		d.logf("wgdev: read stats: %v", err)
		return nil
	}
	st, err := parseIpcGet(s)
	if err != nil {
		d.logf("wgdev: read stats: %v", err)
	}
	return st
}

// parseIpcGet reads the peers out of wireguard-go's UAPI get text, ordered
// by public key, endpoints unmapped. On a bad line it still returns the
// peers it could read, with an error to log (it quotes no value).
func parseIpcGet(s string) ([]PeerStats, error) {
	st, err := uapi.Parse(s)
	var out []PeerStats
	for _, p := range st.Peers {
		ep := p.Endpoint
		if ep.IsValid() {
			ep = netip.AddrPortFrom(ep.Addr().Unmap(), ep.Port())
		}
		out = append(out, PeerStats{PublicKey: p.PublicKey, LastHandshake: p.LastHandshake, Endpoint: ep, Rx: p.Rx, Tx: p.Tx})
	}
	slices.SortFunc(out, func(a, b PeerStats) int { return strings.Compare(string(a.PublicKey[:]), string(b.PublicKey[:])) })
	if err != nil {
		return out, fmt.Errorf("wgdev: parse uapi: %w", err)
	}
	return out, nil
}

// Close stops the device, closes its listeners and UDP sockets and waits
// for its goroutines. Calls after the first do nothing.
func (d *Device) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	ls := make([]*listener, 0, len(d.listeners))
	for l := range d.listeners {
		ls = append(ls, l)
	}
	d.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	d.dev.Close()
	<-d.dev.Wait()
	return nil
}
