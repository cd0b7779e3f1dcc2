package vpn

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"
)

// apiTraffic is about what an onboarding exchanges with the router's API
// (an export plus a batch of prints), sent both ways at once.
const apiTraffic = 384 << 10

// exchange writes n random bytes on c while reading n bytes from it, and
// returns the digests of what it sent and what it received.
func exchange(c net.Conn, n int, seed uint64) (sent, got [32]byte, err error) {
	buf := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(buf)
	sent = sha256.Sum256(buf)
	var g errgroup.Group
	g.Go(func() error {
		_, err := c.Write(buf)
		return err
	})
	in := make([]byte, n)
	if _, err := io.ReadFull(c, in); err != nil {
		g.Wait()
		return sent, got, err
	}
	got = sha256.Sum256(in)
	return sent, got, g.Wait()
}

func TestNetstackPairExchangesAPITraffic(t *testing.T) {
	p := startPair(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	st, err := p.tech.WaitHandshake(ctx)
	if err != nil {
		t.Fatalf("WaitHandshake: %v", err)
	}
	// The endpoint roams to wherever the reply came from: with the router
	// stand-in on a wildcard socket that is another loopback address.
	if st.LastHandshake.IsZero() || st.Endpoint.Port() != p.techCfg.Peer.Endpoint.Port() || st.Rx == 0 || st.Tx == 0 {
		t.Errorf("stats at handshake = %+v, want a handshake time, traffic both ways and port %d", st, p.techCfg.Peer.Endpoint.Port())
	}

	l, err := p.router.ListenTCP(apiPort)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type result struct {
		sent, got [32]byte
		err       error
	}
	done := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		var r result
		r.sent, r.got, r.err = exchange(c, apiTraffic, 2)
		done <- r
	}()

	c, err := p.tech.DialContext(ctx, "tcp", net.JoinHostPort(routerTunnelAddr, strconv.Itoa(apiPort)))
	if err != nil {
		t.Fatalf("dial through tunnel: %v", err)
	}
	defer c.Close()
	techSent, techGot, err := exchange(c, apiTraffic, 1)
	if err != nil {
		t.Fatalf("technician side: %v", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("router side: %v", r.err)
	}
	if techSent != r.got || r.sent != techGot {
		t.Fatalf("data corrupted through the tunnel")
	}

	st, err = p.tech.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Rx < apiTraffic || st.Tx < apiTraffic {
		t.Errorf("stats after exchange: rx %d tx %d, want both >= %d", st.Rx, st.Tx, apiTraffic)
	}
	if st.HandshakeAttempts < 1 {
		t.Errorf("HandshakeAttempts = %d, want >= 1", st.HandshakeAttempts)
	}
}

// TestWaitHandshakeWithoutAnswer covers the two failures the local side
// cannot tell apart: a port that swallows packets and a peer with another
// key. Both must return what was sent and that nothing came back.
func TestWaitHandshakeWithoutAnswer(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, cfg *Config)
	}{
		{
			name: "filtered port",
			setup: func(t *testing.T, cfg *Config) {
				// A socket that reads and never answers: a firewall drop.
				pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(randLoopback(), 0)))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pc.Close() })
				go io.Copy(io.Discard, readerOf(pc))
				cfg.Peer.Endpoint = pc.LocalAddr().(*net.UDPAddr).AddrPort()
			},
		},
		{
			name: "wrong router key",
			setup: func(t *testing.T, cfg *Config) {
				cfg.Peer.PublicKey = mustKey(t).PublicKey()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startPair(t, func(c *Config) { tt.setup(t, c) })
			// The timeout bounds the wait; nothing is asserted about time.
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			st, err := p.tech.WaitHandshake(ctx)
			if !errors.Is(err, ErrNoHandshake) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("WaitHandshake error = %v, want ErrNoHandshake and DeadlineExceeded", err)
			}
			want := Stats{Endpoint: p.techCfg.Peer.Endpoint, HandshakeAttempts: 1}
			got := st
			got.Tx = 0 // compared below: the initiation's size is wireguard-go's business
			if diff := cmp.Diff(want, got, cmpNet); diff != "" {
				t.Errorf("stats without answer (-want +got):\n%s", diff)
			}
			if st.Tx == 0 {
				t.Errorf("Tx = 0, want the handshake initiation counted")
			}
		})
	}
}

// readerOf adapts a packet conn for io.Copy; it ends when the conn closes.
func readerOf(pc net.PacketConn) io.Reader {
	return readerFunc(func(b []byte) (int, error) {
		n, _, err := pc.ReadFrom(b)
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

func TestBackendLifecycleErrors(t *testing.T) {
	n := NewNetstack(nil)
	if _, err := n.Stats(); !errors.Is(err, ErrNotUp) {
		t.Errorf("Stats before Up = %v, want ErrNotUp", err)
	}
	if _, err := n.DialContext(t.Context(), "tcp", "10.77.0.1:8729"); !errors.Is(err, ErrNotUp) {
		t.Errorf("DialContext before Up = %v, want ErrNotUp", err)
	}
	if _, err := n.WaitHandshake(t.Context()); !errors.Is(err, ErrNotUp) {
		t.Errorf("WaitHandshake before Up = %v, want ErrNotUp", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	p := startPair(t, nil)
	if err := p.tech.Up(t.Context(), p.techCfg); err == nil {
		t.Errorf("second Up succeeded, want an error")
	}
	p.tech.Close()
	if _, err := p.tech.Stats(); !errors.Is(err, ErrClosed) {
		t.Errorf("Stats after Close = %v, want ErrClosed", err)
	}
	if _, err := p.tech.DialContext(t.Context(), "tcp", "10.77.0.1:8729"); !errors.Is(err, ErrClosed) {
		t.Errorf("DialContext after Close = %v, want ErrClosed", err)
	}
	if err := p.tech.Up(t.Context(), p.techCfg); !errors.Is(err, ErrClosed) {
		t.Errorf("Up after Close = %v, want ErrClosed", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		kind    string
		want    []string // acceptable kinds
		wantErr bool
	}{
		{kind: "netstack", want: []string{KindNetstack}},
		{kind: "auto", want: []string{KindNetstack, KindKernel}},
		{kind: "", want: []string{KindNetstack, KindKernel}},
		{kind: "tun", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			b, err := New(tt.kind, nil)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("New(%q) succeeded, want an error", tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if !slices.Contains(tt.want, b.Kind()) {
				t.Errorf("New(%q).Kind() = %q, want one of %v", tt.kind, b.Kind(), tt.want)
			}
			// auto picks kernel exactly when the kernel backend is usable.
			if tt.kind != KindNetstack {
				wantKind := KindNetstack
				if kernelUsable() == nil {
					wantKind = KindKernel
				}
				if b.Kind() != wantKind {
					t.Errorf("New(%q).Kind() = %q, want %q (kernelUsable: %v)", tt.kind, b.Kind(), wantKind, kernelUsable())
				}
			}
		})
	}
}

func TestKernelLifecycleErrors(t *testing.T) {
	k := NewKernel(KernelOptions{})
	if _, err := k.Stats(); !errors.Is(err, ErrNotUp) {
		t.Errorf("Stats before Up = %v, want ErrNotUp", err)
	}
	if _, err := k.WaitHandshake(t.Context()); !errors.Is(err, ErrNotUp) {
		t.Errorf("WaitHandshake before Up = %v, want ErrNotUp", err)
	}
	if _, err := k.DialContext(t.Context(), "tcp", "10.77.0.1:8729"); !errors.Is(err, ErrNotUp) {
		t.Errorf("DialContext before Up = %v, want ErrNotUp", err)
	}
	if err := k.Up(t.Context(), Config{}); err == nil {
		t.Errorf("Up with an empty config succeeded")
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Stats(); !errors.Is(err, ErrClosed) {
		t.Errorf("Stats after Close = %v, want ErrClosed", err)
	}
	if k.Kind() != KindKernel {
		t.Errorf("Kind = %q", k.Kind())
	}
}
