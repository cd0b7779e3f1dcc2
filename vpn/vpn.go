package vpn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Backend kinds accepted by New.
const (
	KindAuto     = "auto"
	KindKernel   = "kernel"
	KindNetstack = "netstack"
)

// DefaultMTU is the tunnel MTU used by every backend; it matches wg-quick's
// default for an IPv4 underlay and RouterOS' default WireGuard MTU.
const DefaultMTU = 1420

// handshakePoll is how often WaitHandshake re-reads the peer state when no
// handshake event woke it first. It is the upper bound on detection latency
// for backends that cannot report events (the kernel module).
const handshakePoll = 5 * time.Millisecond

// handshakeFollow is the poll interval right after a handshake event, while
// wireguard-go finishes deriving the session.
const handshakeFollow = 100 * time.Microsecond

// Errors returned by backends, checked with errors.Is.
var (
	// ErrNoHandshake is returned by WaitHandshake when the context ends before
	// the first handshake. The Stats returned with it say what the local side
	// saw; WireGuard never answers a wrong key, so they cannot tell a filtered
	// port from a bad key on their own.
	ErrNoHandshake = errors.New("vpn: no handshake")
	// ErrNotUp is returned by methods that need a configured tunnel before
	// Up succeeded.
	ErrNotUp = errors.New("vpn: tunnel is not up")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("vpn: backend is closed")
	// ErrKernelUnavailable is returned by New("kernel") when this process
	// cannot create a WireGuard interface: no root or CAP_NET_ADMIN, neither
	// the WireGuard module nor /dev/net/tun, or an OS other than Linux. The
	// error text names what is missing. "auto" falls back to netstack on it.
	ErrKernelUnavailable = errors.New("vpn: kernel backend unavailable")
)

// Config is the local peer's configuration.
//
// Config formats itself with the private key redacted, so it is safe to log.
type Config struct {
	PrivateKey wgtypes.Key
	Address    netip.Prefix // technician's tunnel address, e.g. 10.77.0.2/24
	ListenPort int          // 0: random
	Peer       Peer
}

// Peer is the router as seen by the local peer.
type Peer struct {
	PublicKey wgtypes.Key
	// Endpoint is where the peer listens. The zero value means "wait for the
	// peer to connect" (a stand-in for the router in tests); no handshake is
	// started then.
	Endpoint   netip.AddrPort
	AllowedIPs []netip.Prefix
	// PresharedKey is optional; zero means none.
	PresharedKey wgtypes.Key
	// Keepalive is the persistent keepalive interval; 0 disables it. The
	// first handshake is triggered at Up whatever its value.
	Keepalive time.Duration
}

// Stats is what the local side knows about the router peer.
type Stats struct {
	LastHandshake time.Time // zero: no handshake yet
	Rx, Tx        uint64    // bytes received from and sent to the peer, handshakes included
	Endpoint      netip.AddrPort
	// HandshakeAttempts counts the handshake initiations this side sent. It
	// is -1 when the backend cannot count them (the kernel module).
	HandshakeAttempts int
}

// Age is how long ago the last handshake happened at now, or 0 when there
// was none.
func (s Stats) Age(now time.Time) time.Duration {
	if s.LastHandshake.IsZero() {
		return 0
	}
	return now.Sub(s.LastHandshake)
}

// Backend is one way to run the technician's WireGuard peer.
//
// A Backend is used once: Up, then any of WaitHandshake, Stats and
// DialContext (safe for concurrent use), then Close. After Close every method
// returns ErrClosed; Close itself is idempotent.
type Backend interface {
	// Kind reports "netstack" or "kernel" (never "auto").
	Kind() string
	// Up creates the tunnel, configures it and triggers the first handshake
	// at once. It does not wait for the handshake.
	Up(ctx context.Context, cfg Config) error
	// WaitHandshake returns at the first handshake with the peer. When ctx
	// ends first it returns the local Stats and an error wrapping
	// ErrNoHandshake and the context's error.
	WaitHandshake(ctx context.Context) (Stats, error)
	// Stats reports the peer's current state.
	Stats() (Stats, error)
	// DialContext connects to addr through the tunnel ("tcp" or "udp").
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	// Close stops every interface, socket and goroutine the backend started.
	Close() error
}

// New returns an unconfigured backend of the given kind: "netstack",
// "kernel" or "auto" ("" means "auto"). logf receives progress and errors;
// nil discards them. Keys are never passed to logf.
//
// "auto" returns the kernel backend when this process may create network
// interfaces (see ErrKernelUnavailable) and netstack otherwise; the reason for a
// fallback goes to logf.
func New(kind string, logf func(string, ...any)) (Backend, error) {
	logf = orDiscard(logf)
	switch kind {
	case KindNetstack:
		return NewNetstack(logf), nil
	case KindKernel:
		if err := kernelUsable(); err != nil {
			return nil, err
		}
		return NewKernel(KernelOptions{Logf: logf}), nil
	case KindAuto, "":
		if err := kernelUsable(); err != nil {
			logf("vpn: using netstack: %v", err)
			return NewNetstack(logf), nil
		}
		return NewKernel(KernelOptions{Logf: logf}), nil
	}
	return nil, fmt.Errorf("vpn: unknown backend %q (want auto, kernel or netstack)", kind)
}

func orDiscard(logf func(string, ...any)) func(string, ...any) {
	if logf == nil {
		return func(string, ...any) {}
	}
	return logf
}

// String formats c with the private key replaced by its public key, so that a
// Config can be logged.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "{PrivateKey:(redacted, public %s) Address:%s ListenPort:%d Peer:%s}",
		c.PrivateKey.PublicKey(), c.Address, c.ListenPort, c.Peer)
	return b.String()
}

// GoString is String: %#v must not print the key bytes either.
func (c Config) GoString() string { return "vpn.Config" + c.String() }

// String formats p with base64 public key and readable prefixes.
func (p Peer) String() string {
	return fmt.Sprintf("{PublicKey:%s Endpoint:%s AllowedIPs:%v Keepalive:%s}",
		p.PublicKey, p.Endpoint, p.AllowedIPs, p.Keepalive)
}

// validate checks what every backend needs, with messages that name the
// field to fix.
func (c Config) validate() error {
	var zero wgtypes.Key
	switch {
	case c.PrivateKey == zero:
		return errors.New("vpn: config has no private key")
	case !c.Address.IsValid():
		return errors.New("vpn: config has no tunnel address")
	case c.ListenPort < 0 || c.ListenPort > 65535:
		return fmt.Errorf("vpn: listen port %d out of range 0-65535", c.ListenPort)
	case c.Peer.PublicKey == zero:
		return errors.New("vpn: config has no peer public key")
	case c.Peer.PublicKey == c.PrivateKey.PublicKey():
		return errors.New("vpn: peer public key is our own public key")
	case c.Peer.Endpoint.IsValid() && c.Peer.Endpoint.Port() == 0:
		return errors.New("vpn: peer endpoint has port 0")
	case len(c.Peer.AllowedIPs) == 0:
		return errors.New("vpn: peer has no allowed IPs")
	case c.Peer.Keepalive < 0 || c.Peer.Keepalive > 65535*time.Second:
		return fmt.Errorf("vpn: keepalive %s out of range 0-65535s", c.Peer.Keepalive)
	}
	for _, p := range c.Peer.AllowedIPs {
		if !p.IsValid() {
			return errors.New("vpn: peer has an invalid allowed IP prefix")
		}
	}
	return nil
}
