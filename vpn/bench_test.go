package vpn

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"
)

// BenchmarkHandshake measures Up of the technician peer to its first
// handshake with a netstack router stand-in (ms/handshake), and how much of
// that is Up itself (ms/up: creating the userspace stack and device).
func BenchmarkHandshake(b *testing.B) {
	var total, up time.Duration
	for b.Loop() {
		b.StopTimer()
		p := preparePair(b, nil)
		b.StartTimer()
		start := time.Now()
		if err := p.tech.Up(b.Context(), p.techCfg); err != nil {
			b.Fatal(err)
		}
		up += time.Since(start)
		ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
		if _, err := p.tech.WaitHandshake(ctx); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		cancel()
		b.StopTimer()
		p.tech.Close()
		p.router.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/handshake")
	b.ReportMetric(float64(up.Microseconds())/1000/float64(b.N), "ms/up")
}

// BenchmarkTCPConnect measures a TCP connect through an established tunnel.
func BenchmarkTCPConnect(b *testing.B) {
	p := startPair(b, nil)
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	if _, err := p.tech.WaitHandshake(ctx); err != nil {
		b.Fatal(err)
	}
	l, err := p.router.ListenTCP(apiPort)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := net.JoinHostPort(routerTunnelAddr, strconv.Itoa(apiPort))
	for b.Loop() {
		c, err := p.tech.DialContext(ctx, "tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkThroughput measures one TCP stream through the tunnel.
func BenchmarkThroughput(b *testing.B) {
	p := startPair(b, nil)
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	if _, err := p.tech.WaitHandshake(ctx); err != nil {
		b.Fatal(err)
	}
	l, err := p.router.ListenTCP(apiPort)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	c, err := p.tech.DialContext(ctx, "tcp", net.JoinHostPort(routerTunnelAddr, strconv.Itoa(apiPort)))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}
