package vpn

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wgboot/wgboot/internal/uapi"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
)

// userspace is the wireguard-go device shared by the netstack and the TUN
// backends: configuration over its in-process UAPI, peer state, and
// handshake events taken from its log lines.
type userspace struct {
	dev     *device.Device
	peerKey device.NoisePublicKey
	// events gets a token when wireguard-go logs a received handshake
	// message, so WaitHandshake wakes at once instead of at its next poll.
	events   chan struct{}
	attempts atomic.Int64
}

// newUserspaceLogger returns the wireguard-go logger for one device. Errors
// go to logf; verbose lines only feed handshake events and counters, so a
// technician's log is not flooded with routine start/stop lines.
// wireguard-go never formats keys other than abbreviated public keys.
func newUserspaceLogger(logf func(string, ...any), events chan struct{}, attempts *atomic.Int64) *device.Logger {
	return &device.Logger{
		Verbosef: func(format string, args ...any) {
			switch {
			case strings.Contains(format, "Sending handshake initiation"):
				attempts.Add(1)
			case strings.Contains(format, "Received handshake response"),
				strings.Contains(format, "Received handshake initiation"),
				strings.Contains(format, "Receiving keepalive packet"):
				select {
				case events <- struct{}{}:
				default:
				}
			}
		},
		Errorf: func(format string, args ...any) {
			logf("vpn: wireguard: "+format, args...)
		},
	}
}

// uapiConfig renders cfg as wireguard-go UAPI "set" text (keys in hex).
func uapiConfig(cfg Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "private_key=%s\n", hex.EncodeToString(cfg.PrivateKey[:]))
	fmt.Fprintf(&b, "listen_port=%d\n", cfg.ListenPort)
	b.WriteString("replace_peers=true\n")
	fmt.Fprintf(&b, "public_key=%s\n", hex.EncodeToString(cfg.Peer.PublicKey[:]))
	if !isZeroKey(cfg.Peer.PresharedKey) {
		fmt.Fprintf(&b, "preshared_key=%s\n", hex.EncodeToString(cfg.Peer.PresharedKey[:]))
	}
	if cfg.Peer.Endpoint.IsValid() {
		fmt.Fprintf(&b, "endpoint=%s\n", cfg.Peer.Endpoint)
	}
	fmt.Fprintf(&b, "persistent_keepalive_interval=%d\n", int(cfg.Peer.Keepalive/time.Second))
	b.WriteString("replace_allowed_ips=true\n")
	for _, p := range cfg.Peer.AllowedIPs {
		fmt.Fprintf(&b, "allowed_ip=%s\n", p.Masked())
	}
	return b.String()
}

// configure applies cfg, brings the device up and sends the first handshake
// initiation at once (a keepalive with no session starts one), so nothing
// waits for a keepalive timer or for application traffic.
//
// The device goes up before it is configured (finding 67). The TUN reports
// "up" on its own and wireguard-go brings the device up from another
// goroutine; when that happened during the configuration, it bound the
// UDP socket a second time after the first initiation had gone out from
// the first socket, and the router's answer came to a closed port: the
// handshake then waited for the retry 5s later, past the safety net of a
// fast-clocked test router. Up first, the configuration's listen port is
// the last bind, made before the peer exists.
func (u *userspace) configure(cfg Config) error {
	if err := u.dev.Up(); err != nil {
		return fmt.Errorf("vpn: bring wireguard up (is listen port %d free?): %w", cfg.ListenPort, err)
	}
	if err := u.dev.IpcSet(uapiConfig(cfg)); err != nil {
		if ipcErr := (*device.IPCError)(nil); errors.As(err, &ipcErr) && ipcErr.ErrorCode() == ipc.IpcErrorPortInUse {
			// Worded as when the port was bound by Up.
			return fmt.Errorf("vpn: bring wireguard up (is listen port %d free?): %w", cfg.ListenPort, ipcErr.Unwrap())
		}
		// The UAPI error text names the field, never the key value.
		return fmt.Errorf("vpn: configure wireguard: %w", err)
	}
	// A fixed port is checked once more: a bind that failed elsewhere than
	// in the configuration leaves wireguard-go on a random one.
	if cfg.ListenPort != 0 {
		port, err := u.listenPort()
		if err != nil {
			return err
		}
		if port != cfg.ListenPort {
			return fmt.Errorf("vpn: listen port %d is in use (another WireGuard or program); choose another or 0 for a random one", cfg.ListenPort)
		}
	}
	u.peerKey = device.NoisePublicKey(cfg.Peer.PublicKey)
	p := u.dev.LookupPeer(u.peerKey)
	if p == nil {
		return errors.New("vpn: configured peer is missing from the device")
	}
	if cfg.Peer.Endpoint.IsValid() {
		p.SendKeepalive()
	}
	return nil
}

func (u *userspace) stats() (Stats, error) {
	text, err := u.dev.IpcGet()
	if err != nil {
		return Stats{}, fmt.Errorf("vpn: read wireguard state: %w", err)
	}
	st, err := readState(text)
	if err != nil {
		return Stats{}, err
	}
	for _, p := range st.Peers {
		if p.PublicKey == u.peerKey {
			return Stats{LastHandshake: p.LastHandshake, Rx: p.Rx, Tx: p.Tx, Endpoint: p.Endpoint,
				HandshakeAttempts: int(u.attempts.Load())}, nil
		}
	}
	return Stats{}, errors.New("vpn: configured peer is missing from the device")
}

// waitHandshake returns at the first handshake. It wakes on handshake log
// events and polls every handshakePoll besides, so a missed event costs at
// most a few milliseconds. wireguard-go logs "Received handshake response"
// just before it derives the session and records the handshake time, so an
// event switches to fast polling (handshakeFollow) for a short while.
func waitHandshake(ctx context.Context, stats func() (Stats, error), events <-chan struct{}) (Stats, error) {
	t := time.NewTicker(handshakePoll)
	defer t.Stop()
	follow := 0 // fast polls left after an event
	for {
		st, err := stats()
		if err != nil {
			return st, err
		}
		if !st.LastHandshake.IsZero() {
			return st, nil
		}
		if follow > 0 {
			follow--
			select {
			case <-ctx.Done():
				return st, noHandshakeError(st, ctx.Err())
			case <-time.After(handshakeFollow):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return st, noHandshakeError(st, ctx.Err())
		case <-events:
			follow = int(handshakePoll / handshakeFollow)
		case <-t.C:
		}
	}
}

func noHandshakeError(st Stats, cause error) error {
	attempts := ""
	if st.HandshakeAttempts >= 0 {
		attempts = fmt.Sprintf(" in %d handshake attempts", st.HandshakeAttempts)
	}
	return fmt.Errorf("%w from %s: sent %d bytes%s, received %d bytes (a filtered port and a wrong key look the same from here; check the router's side): %w",
		ErrNoHandshake, st.Endpoint, st.Tx, attempts, st.Rx, cause)
}

func (u *userspace) listenPort() (int, error) {
	text, err := u.dev.IpcGet()
	if err != nil {
		return 0, fmt.Errorf("vpn: read wireguard state: %w", err)
	}
	st, err := readState(text)
	return st.ListenPort, err
}

// readState parses the device's UAPI "get" reply. A reply with any bad
// line fails as a whole: a half-read reply must not pass for the tunnel's
// state. uapi errors never quote a value (the reply carries the private
// key), so the error can be shown and logged as it is.
func readState(text string) (uapi.State, error) {
	st, err := uapi.Parse(text)
	if err != nil {
		return uapi.State{}, fmt.Errorf("vpn: read wireguard state: %w", err)
	}
	return st, nil
}

func isZeroKey(k [32]byte) bool { return k == [32]byte{} }
