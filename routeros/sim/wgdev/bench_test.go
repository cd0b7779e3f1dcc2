package wgdev

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkSetPeersToFirstByte measures the time from SetPeers on the
// router to the first byte read through the tunnel by a fresh client
// (handshake, TCP connect, first server write).
func BenchmarkSetPeersToFirstByte(b *testing.B) {
	r := newRouter(b, Options{Logf: func(string, ...any) {}})
	for b.Loop() {
		b.StopTimer()
		c := newClient(b, r)
		b.StartTimer()
		if err := r.dev.SetPeers([]Peer{r.peer(c.key)}); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		conn, err := c.net.DialContext(ctx, "tcp", netip.AddrPortFrom(routerTunnel.Addr(), 8729).String())
		if err != nil {
			b.Fatal(err)
		}
		one := make([]byte, 1)
		if _, err := conn.Read(one); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		conn.Close()
		cancel()
		c.dev.Close()
		b.StartTimer()
	}
}

// BenchmarkLatency reports a round trip through the tunnel with
// Options.Latency set, to show the delay is applied once per packet.
func BenchmarkLatency(b *testing.B) {
	for _, lat := range []time.Duration{0, 10 * time.Millisecond} {
		b.Run(lat.String(), func(b *testing.B) {
			r := newRouter(b, Options{Latency: lat, Logf: func(string, ...any) {}})
			c := newClient(b, r)
			if err := r.dev.SetPeers([]Peer{r.peer(c.key)}); err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			conn, err := c.net.DialContext(ctx, "tcp", netip.AddrPortFrom(routerTunnel.Addr(), 8729).String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			buf := make([]byte, 64)
			if _, err := conn.Read(buf); err != nil { // the greeting line
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := conn.Write([]byte("x")); err != nil {
					b.Fatal(err)
				}
				if _, err := conn.Read(buf[:1]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
