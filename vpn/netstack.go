package vpn

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"

	"github.com/wgboot/wgboot/internal/gvtun"
)

// Netstack is the backend that runs wireguard-go on gVisor's userspace
// network stack inside this process. It needs no privileges and creates no
// OS interface; only its UDP socket is visible to the system. Connections
// made with DialContext exist only inside this process.
type Netstack struct {
	logf func(string, ...any)

	mu     sync.Mutex // guards following
	up     bool
	closed bool
	us     *userspace
	tnet   *gvtun.Device
}

var _ Backend = (*Netstack)(nil)

// NewNetstack returns an unconfigured netstack backend. logf receives errors;
// nil discards them.
func NewNetstack(logf func(string, ...any)) *Netstack {
	return &Netstack{logf: orDiscard(logf)}
}

// Kind reports "netstack".
func (n *Netstack) Kind() string { return KindNetstack }

// Up creates the userspace tunnel and starts the first handshake. ctx is not
// used: nothing in it blocks on the network.
func (n *Netstack) Up(ctx context.Context, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return ErrClosed
	case n.up:
		return fmt.Errorf("vpn: netstack tunnel is already up")
	}
	// gvtun, not wireguard-go's netstack.CreateNetTUN: that one's Close
	// races gVisor's goroutines still sending packets and can panic the
	// process (finding 29).
	tnet, err := gvtun.New("wgboot", DefaultMTU)
	if err != nil {
		return fmt.Errorf("vpn: create netstack interface: %w", err)
	}
	// The address alone (a /32 or /128), as before: the peer's allowed-ips
	// decide what goes into the tunnel.
	a := cfg.Address.Addr()
	if err := tnet.SetAddresses([]netip.Prefix{netip.PrefixFrom(a, a.BitLen())}); err != nil {
		tnet.Close()
		return fmt.Errorf("vpn: create netstack interface: %w", err)
	}
	us := &userspace{events: make(chan struct{}, 1)}
	us.dev = device.NewDevice(tnet, conn.NewDefaultBind(), newUserspaceLogger(n.logf, us.events, &us.attempts))
	if err := us.configure(cfg); err != nil {
		us.dev.Close() // closes tnet too
		return err
	}
	n.us, n.tnet, n.up = us, tnet, true
	return nil
}

func (n *Netstack) state() (*userspace, *gvtun.Device, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return nil, nil, ErrClosed
	case !n.up:
		return nil, nil, ErrNotUp
	}
	return n.us, n.tnet, nil
}

// WaitHandshake returns at the first handshake; see Backend.
func (n *Netstack) WaitHandshake(ctx context.Context) (Stats, error) {
	us, _, err := n.state()
	if err != nil {
		return Stats{}, err
	}
	return waitHandshake(ctx, n.Stats, us.events)
}

// Stats reports the router peer's state.
func (n *Netstack) Stats() (Stats, error) {
	us, _, err := n.state()
	if err != nil {
		return Stats{}, err
	}
	return us.stats()
}

// DialContext connects through the tunnel from inside this process.
func (n *Netstack) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	_, tnet, err := n.state()
	if err != nil {
		return nil, err
	}
	c, err := tnet.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("vpn: dial %s through the tunnel: %w", addr, err)
	}
	return c, nil
}

// ListenPort reports the UDP port the device listens on (the one chosen
// when Config.ListenPort was 0).
func (n *Netstack) ListenPort() (int, error) {
	us, _, err := n.state()
	if err != nil {
		return 0, err
	}
	return us.listenPort()
}

// ListenTCP listens on port of the tunnel address (the userspace stack's
// only address). Tests use it to stand in for a service behind the
// tunnel; the listener is closed with the backend.
func (n *Netstack) ListenTCP(port uint16) (net.Listener, error) {
	_, tnet, err := n.state()
	if err != nil {
		return nil, err
	}
	l, err := tnet.ListenTCP(port)
	if err != nil {
		return nil, fmt.Errorf("vpn: listen on port %d in the tunnel: %w", port, err)
	}
	return l, nil
}

// Close stops the device, its UDP socket and every goroutine it started.
func (n *Netstack) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	if n.us != nil {
		n.us.dev.Close()
	}
	return nil
}
