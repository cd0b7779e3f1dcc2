package vpn

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// cmpNet compares netip values, whose fields are unexported.
var cmpNet = cmp.Options{cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{}, netip.Prefix{})}

// logBuffer collects a backend's log lines; tests inspect them and print
// them when they fail.
type logBuffer struct {
	mu sync.Mutex // guards following
	b  strings.Builder
}

func (l *logBuffer) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format, args...)
	l.b.WriteByte('\n')
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// randLoopback returns a random 127.x.y.z address so that parallel test
// packages do not share endpoints.
func randLoopback() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(254)), byte(1 + rand.IntN(254)), byte(1 + rand.IntN(254))})
}

func mustKey(t testing.TB) wgtypes.Key {
	t.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pair is a technician peer and a netstack stand-in for the router, both
// in this process, talking over loopback UDP.
type pair struct {
	tech, router       *Netstack
	techCfg, routerCfg Config
	techLog, routerLog *logBuffer
}

const (
	routerTunnelAddr = "10.77.0.1"
	apiPort          = 8729
)

// startPair brings up the router stand-in, then the technician peer aimed at
// it; edit may change the technician's config before Up (nil: none).
func startPair(t testing.TB, edit func(*Config)) *pair {
	t.Helper()
	p := preparePair(t, edit)
	if err := p.tech.Up(t.Context(), p.techCfg); err != nil {
		t.Fatalf("technician up: %v", err)
	}
	return p
}

// preparePair is startPair with the technician's backend not yet up.
func preparePair(t testing.TB, edit func(*Config)) *pair {
	t.Helper()
	p := &pair{techLog: &logBuffer{}, routerLog: &logBuffer{}}
	tk, rk := mustKey(t), mustKey(t)
	p.routerCfg = Config{
		PrivateKey: rk,
		Address:    netip.MustParsePrefix(routerTunnelAddr + "/24"),
		Peer: Peer{
			PublicKey:  tk.PublicKey(),
			AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.2/32")},
		},
	}
	p.router = NewNetstack(p.routerLog.logf)
	t.Cleanup(func() { p.router.Close() })
	if err := p.router.Up(t.Context(), p.routerCfg); err != nil {
		t.Fatalf("router up: %v", err)
	}
	port, err := p.router.us.listenPort()
	if err != nil {
		t.Fatal(err)
	}
	p.techCfg = Config{
		PrivateKey: tk,
		Address:    netip.MustParsePrefix("10.77.0.2/24"),
		Peer: Peer{
			PublicKey:  rk.PublicKey(),
			Endpoint:   netip.AddrPortFrom(randLoopback(), uint16(port)),
			AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.0/24")},
			Keepalive:  25 * time.Second,
		},
	}
	if edit != nil {
		edit(&p.techCfg)
	}
	p.tech = NewNetstack(p.techLog.logf)
	t.Cleanup(func() {
		p.tech.Close()
		if t.Failed() {
			t.Logf("technician log:\n%s\nrouter log:\n%s", p.techLog, p.routerLog)
		}
	})
	return p
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func hexString(b []byte) string { return fmt.Sprintf("%x", b) }

func netipPrefixZero() netip.Prefix { return netip.Prefix{} }

func netipAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
