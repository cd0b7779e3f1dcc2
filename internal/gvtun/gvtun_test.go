package gvtun

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

func newDevice(t *testing.T, ps ...string) *Device {
	t.Helper()
	d, err := New("test", 1420)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	var pfx []netip.Prefix
	for _, p := range ps {
		pfx = append(pfx, netip.MustParsePrefix(p))
	}
	if err := d.SetAddresses(pfx); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDialContextRefuses covers what DialContext must refuse before it
// touches the stack: there is no resolver inside the tunnel, and a network
// that names a family must not reach the other one.
func TestDialContextRefuses(t *testing.T) {
	d := newDevice(t, "10.77.0.2/32", "fd77::2/128")
	for _, tt := range []struct{ network, addr, want string }{
		{"tcp", "router.lan:8729", "not an IP address"},
		{"tcp", "10.77.0.1", "missing port"},
		{"tcp", "10.77.0.1:65536", "not a number"},
		{"tcp", "10.77.0.1:api", "not a number"},
		{"tcp6", "10.77.0.1:8729", "not an address of network tcp6"},
		{"tcp4", "[fd77::1]:8729", "not an address of network tcp4"},
		{"udp6", "10.77.0.1:53", "not an address of network udp6"},
		{"ip4:icmp", "10.77.0.1:0", "unknown network"},
		{"unix", "10.77.0.1:1", "unknown network"},
	} {
		c, err := d.DialContext(t.Context(), tt.network, tt.addr)
		if err == nil {
			c.Close()
			t.Errorf("DialContext(%q, %q) succeeded, want an error with %q", tt.network, tt.addr, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DialContext(%q, %q) = %v, want an error with %q", tt.network, tt.addr, err, tt.want)
		}
	}
}

// TestDialListenBothFamilies dials the stack's own addresses (delivered
// locally) over IPv4, IPv6 and v4-mapped IPv6: the listener serves them
// all and reports plain addresses.
func TestDialListenBothFamilies(t *testing.T) {
	d := newDevice(t, "10.77.0.2/32", "fd77::2/128")
	l, err := d.ListenTCP(8729)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tt := range []struct{ network, addr, wantRemote string }{
		{"tcp", "10.77.0.2:8729", "10.77.0.2"},
		{"tcp4", "10.77.0.2:8729", "10.77.0.2"},
		{"tcp", "[fd77::2]:8729", "fd77::2"},
		{"tcp6", "[fd77::2]:8729", "fd77::2"},
		{"tcp", "[::ffff:10.77.0.2]:8729", "10.77.0.2"},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		c, err := d.DialContext(ctx, tt.network, tt.addr)
		cancel()
		if err != nil {
			t.Errorf("DialContext(%q, %q): %v", tt.network, tt.addr, err)
			continue
		}
		s, err := l.Accept()
		if err != nil {
			c.Close()
			t.Fatal(err)
		}
		if got := s.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().String(); got != tt.wantRemote {
			t.Errorf("%s %s: accepted from %s, want %s", tt.network, tt.addr, got, tt.wantRemote)
		}
		go func() { c.Write([]byte("ping")); c.Close() }()
		b, err := io.ReadAll(s)
		s.Close()
		if err != nil || string(b) != "ping" {
			t.Errorf("%s %s: read %q, %v; want ping", tt.network, tt.addr, b, err)
		}
	}
}

// TestCloseEndsRead: WireGuard's reader blocked in Read must return at
// Close, and Close must not wait for it.
func TestCloseEndsRead(t *testing.T) {
	d := newDevice(t, "10.77.0.2/32")
	done := make(chan error, 1)
	go func() {
		_, err := d.Read([][]byte{make([]byte, 1500)}, []int{0}, 0)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	d.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Read after Close = %v, want os.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read still blocked after Close")
	}
	// Writes after Close (WireGuard's receive goroutines do that) are dropped.
	if _, err := d.Write([][]byte{{0x45, 0, 0, 20}}, 0); err != nil {
		t.Errorf("Write after Close = %v, want the packet dropped silently", err)
	}
	d.Close()
}
