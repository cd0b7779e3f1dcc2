package proof

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
)

// floorRTTs is the number of round trips a full onboarding cannot avoid
// on rossim, where the latency delays API replies and WireGuard packets:
// login, one pipelined read of the configuration, two for arming (the
// scheduler's start time needs the router's clock), one pipelined apply,
// the WireGuard handshake, TCP and TLS handshakes and login through the
// tunnel, verify, harden, reverify, disarm.
const floorRTTs = 13

// rttMeter counts sequential round trips over every connection the engine
// opens (original path and tunnel): a read that returns data after a write
// is one request waited for. Connections are counted too; each one is a
// TCP and a TLS handshake.
type rttMeter struct {
	mu    sync.Mutex // guards following
	rtts  int
	conns int
}

type meterConn struct {
	net.Conn
	m       *rttMeter
	pending bool // guarded by m.mu
}

func (m *rttMeter) wrap(c net.Conn) net.Conn {
	m.mu.Lock()
	m.conns++
	m.mu.Unlock()
	return &meterConn{Conn: c, m: m}
}

func (c *meterConn) Write(p []byte) (int, error) {
	c.m.mu.Lock()
	c.pending = true
	c.m.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *meterConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.m.mu.Lock()
		if c.pending {
			c.m.rtts++
			c.pending = false
		}
		c.m.mu.Unlock()
	}
	return n, err
}

func (m *rttMeter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return m.wrap(c), nil
}

type meterBackend struct {
	vpn.Backend
	m *rttMeter
}

func (b meterBackend) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := b.Backend.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return b.m.wrap(c), nil
}

// applyFigures are the measurements of one onboarding.
type applyFigures struct {
	wall, handshake time.Duration
	rtts, conns     int
}

// measureApply runs one full onboarding of soho-defconf from the LAN at the
// given latency, in-process, and measures it.
func measureApply(b *testing.B, latency time.Duration) applyFigures {
	ex := simtest.Named(b, "soho-defconf")
	rt := startRouter(b, ex, func(o *sim.Options) { o.Latency = latency })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m := &rttMeter{}
	var mu sync.Mutex
	var peerAt, shakeAt time.Time
	o := onboard.Options{
		Router: rt.APIAddr(rt.LAN, false), User: "admin", Password: password, Fingerprint: rt.Info.Fingerprint, StateDir: b.TempDir(),
		Settings: onboard.Settings{LANKeepsAPI: true, ConfirmTimeout: 5 * time.Minute},
		Dial:     m.dial,
		NewLocal: func(string) (vpn.Backend, error) { return meterBackend{Backend: vpn.NewNetstack(nil), m: m}, nil },
		Sink: func(ev onboard.Event) {
			mu.Lock()
			defer mu.Unlock()
			now := time.Now()
			if ev.Step == onboard.StepApply && ev.Kind == onboard.KindProgress && strings.Contains(ev.Message, "peer") && peerAt.IsZero() {
				peerAt = now
			}
			if ev.Handshake != nil && ev.Handshake.Done && shakeAt.IsZero() {
				shakeAt = now
			}
		},
	}
	start := time.Now()
	e, p := simtest.Plan(b, ctx, onboard.New, o, o.Settings)
	defer e.Close()
	if _, err := e.Apply(ctx, p); err != nil {
		b.Fatal(err)
	}
	f := applyFigures{wall: time.Since(start)}
	mu.Lock()
	if !peerAt.IsZero() && !shakeAt.IsZero() {
		f.handshake = shakeAt.Sub(peerAt)
	}
	mu.Unlock()
	m.mu.Lock()
	f.rtts, f.conns = m.rtts, m.conns
	m.mu.Unlock()
	return f
}

// BenchmarkApply is a full onboarding against rossim at 0, 50 and 100 ms of
// latency. Figures per run: sequential round trips (requests waited for,
// TLS handshakes included, one per connection), connections (each a TCP and
// a TLS handshake), wall time, its ratio to the floor (floorRTTs x RTT) and
// the time from the peer being configured to the first handshake.
func BenchmarkApply(b *testing.B) {
	for _, lat := range []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond} {
		b.Run("latency="+lat.String(), func(b *testing.B) {
			var sum applyFigures
			for range b.N {
				f := measureApply(b, lat)
				sum.wall += f.wall
				sum.handshake += f.handshake
				sum.rtts += f.rtts
				sum.conns += f.conns
			}
			n := float64(b.N)
			b.ReportMetric(float64(sum.rtts)/n, "roundtrips/op")
			// TLS 1.3 costs one exchange per connection; the rest are API requests.
			b.ReportMetric(float64(sum.rtts-sum.conns)/n, "api-roundtrips/op")
			b.ReportMetric(float64(sum.conns)/n, "tcp+tls-handshakes/op")
			b.ReportMetric(sum.wall.Seconds()/n, "wall-s/op")
			b.ReportMetric(sum.handshake.Seconds()*1000/n, "peer-to-handshake-ms/op")
			if lat > 0 {
				b.ReportMetric(sum.wall.Seconds()/n/(floorRTTs*lat.Seconds()), "x-floor")
			}
		})
	}
}

// BenchmarkVersion is the start-up time of `wgboot --version` (process
// start to exit).
func BenchmarkVersion(b *testing.B) {
	bin := wgbootBinary(b)
	b.ResetTimer()
	for range b.N {
		if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil {
			b.Fatalf("wgboot --version: %v\n%s", err, out)
		}
	}
}
