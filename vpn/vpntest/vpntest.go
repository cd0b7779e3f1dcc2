package vpntest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Fake is a scripted vpn.Backend. The zero value is a netstack-kind backend
// whose Up succeeds and whose handshake never comes. Its methods are safe
// for concurrent use; set the fields before use.
type Fake struct {
	// KindName is what Kind reports; empty means "netstack".
	KindName string
	// UpErr is returned by Up (the config is recorded anyway).
	UpErr error
	// Handshake, when set, is returned by WaitHandshake at once. When nil,
	// WaitHandshake waits for its context and returns NoAnswer with an error
	// wrapping vpn.ErrNoHandshake and the context's error.
	Handshake *vpn.Stats
	// NoAnswer is what Stats and a failed WaitHandshake report.
	NoAnswer vpn.Stats
	// Dial serves DialContext; nil fails every dial.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu     sync.Mutex // guards following
	cfg    *vpn.Config
	closed bool
}

var _ vpn.Backend = (*Fake)(nil)

// Kind reports KindName, "netstack" by default.
func (f *Fake) Kind() string {
	if f.KindName == "" {
		return vpn.KindNetstack
	}
	return f.KindName
}

// Up records cfg and returns UpErr.
func (f *Fake) Up(ctx context.Context, cfg vpn.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return vpn.ErrClosed
	}
	f.cfg = &cfg
	return f.UpErr
}

func (f *Fake) state() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closed:
		return vpn.ErrClosed
	case f.cfg == nil || f.UpErr != nil:
		return vpn.ErrNotUp
	}
	return nil
}

// WaitHandshake returns Handshake, or waits for ctx and fails as a real
// backend does when nothing answers.
func (f *Fake) WaitHandshake(ctx context.Context) (vpn.Stats, error) {
	if err := f.state(); err != nil {
		return vpn.Stats{}, err
	}
	if f.Handshake != nil {
		return *f.Handshake, nil
	}
	<-ctx.Done()
	return f.NoAnswer, fmt.Errorf("%w (fake): %w", vpn.ErrNoHandshake, ctx.Err())
}

// Stats returns Handshake when set, else NoAnswer.
func (f *Fake) Stats() (vpn.Stats, error) {
	if err := f.state(); err != nil {
		return vpn.Stats{}, err
	}
	if f.Handshake != nil {
		return *f.Handshake, nil
	}
	return f.NoAnswer, nil
}

// DialContext calls Dial.
func (f *Fake) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := f.state(); err != nil {
		return nil, err
	}
	if f.Dial == nil {
		return nil, errors.New("vpntest: fake backend has no Dial")
	}
	return f.Dial(ctx, network, addr)
}

// Close marks the fake closed; it is idempotent.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// Config returns the config Up received, and whether Up was called.
func (f *Fake) Config() (vpn.Config, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cfg == nil {
		return vpn.Config{}, false
	}
	return *f.cfg, true
}

// Closed reports whether Close was called.
func (f *Fake) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// RouterPeer is a netstack WireGuard peer standing in for the router.
type RouterPeer struct {
	// PublicKey is the stand-in's public key, for the technician's config.
	PublicKey wgtypes.Key
	// Endpoint is where it listens (a random 127.x address, a free port).
	Endpoint netip.AddrPort
	// Address is its tunnel address.
	Address netip.Addr

	n *vpn.Netstack
}

// NewRouterPeer starts a stand-in with tunnel address addr (e.g.
// 10.77.0.1/24) that accepts the technician public key techPub from allowed. It is
// closed with the test.
func NewRouterPeer(t testing.TB, addr netip.Prefix, techPub wgtypes.Key, allowed netip.Prefix) *RouterPeer {
	t.Helper()
	k, err := vpn.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	n := vpn.NewNetstack(t.Logf)
	t.Cleanup(func() { n.Close() })
	err = n.Up(t.Context(), vpn.Config{
		PrivateKey: k,
		Address:    addr,
		Peer:       vpn.Peer{PublicKey: techPub, AllowedIPs: []netip.Prefix{allowed}},
	})
	if err != nil {
		t.Fatalf("vpntest: router stand-in: %v", err)
	}
	port, err := n.ListenPort()
	if err != nil {
		t.Fatal(err)
	}
	// The device listens on every address; a random 127.x one keeps
	// parallel test packages apart.
	host := netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(254)), byte(1 + rand.IntN(254)), byte(1 + rand.IntN(254))})
	return &RouterPeer{PublicKey: k.PublicKey(), Endpoint: netip.AddrPortFrom(host, uint16(port)), Address: addr.Addr(), n: n}
}

// ListenTCP listens on port of the stand-in's tunnel address.
func (r *RouterPeer) ListenTCP(port uint16) (net.Listener, error) { return r.n.ListenTCP(port) }

// Stats reports the stand-in's view of the technician peer.
func (r *RouterPeer) Stats() (vpn.Stats, error) { return r.n.Stats() }
