package vpn

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestNetstackCloseUnderTraffic closes the technician's netstack while the
// router side keeps sending on several TCP connections through the tunnel
// (and the technician's own writes are still in flight). gVisor answers
// the segments that arrive during the close with ACKs and resets from its
// own goroutines; none of them may write to anything Close has closed (a
// data race under -race, a "send on closed channel" panic without).
// wireguard-go's netstack device (CreateNetTUN) failed this in 4 runs of
// 4, after 2 to 40 iterations (finding 29).
func TestNetstackCloseUnderTraffic(t *testing.T) {
	const iterations, conns = 100, 2
	for i := range iterations {
		// A subtest each, so that each pair is gone before the next.
		if !t.Run(strconv.Itoa(i), func(t *testing.T) { closeUnderTraffic(t, i, conns) }) {
			return
		}
	}
}

func closeUnderTraffic(t *testing.T, iter, conns int) {
	p := startPair(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := p.tech.WaitHandshake(ctx); err != nil {
		t.Fatalf("iteration %d: WaitHandshake: %v", iter, err)
	}
	l, err := p.router.ListenTCP(apiPort)
	if err != nil {
		t.Fatal(err)
	}

	// The router stand-in writes until its connection fails: it is still
	// sending when the technician's side goes away.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	defer func() {
		close(stop)
		l.Close()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 16<<10)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				go func() { <-stop; c.Close() }()
				go io.Copy(io.Discard, c)
				for {
					c.SetWriteDeadline(time.Now().Add(5 * time.Second))
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
		}
	}()

	addr := net.JoinHostPort(routerTunnelAddr, strconv.Itoa(apiPort))
	for range conns {
		c, err := p.tech.DialContext(ctx, "tcp", addr)
		if err != nil {
			t.Fatalf("iteration %d: dial through tunnel: %v", iter, err)
		}
		defer c.Close()
		// Read some, so that data is flowing, then leave the rest
		// unread (the window fills, the router retransmits and probes)
		// while our own writes keep the outbound queue full.
		if _, err := io.ReadFull(c, make([]byte, 32<<10)); err != nil {
			t.Fatalf("iteration %d: read through tunnel: %v", iter, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 16<<10)
			for {
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
	}
	// The router also keeps knocking on a closed port of the
	// technician's address: each SYN is answered with a reset that
	// gVisor sends from WireGuard's receive goroutine, outside any
	// endpoint, so nothing orders it before Close.
	// Datagrams to a closed port are answered the same way, with ICMP.
	closed := net.JoinHostPort(p.techCfg.Address.Addr().String(), "9")
	for range 2 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				dctx, dcancel := context.WithTimeout(ctx, 100*time.Millisecond)
				if c, err := p.router.DialContext(dctx, "tcp", closed); err == nil {
					c.Close()
				}
				dcancel()
			}
		}()
		go func() {
			defer wg.Done()
			c, err := p.router.DialContext(ctx, "udp", closed)
			if err != nil {
				t.Errorf("iteration %d: dial udp through tunnel: %v", iter, err)
				return
			}
			defer c.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.Write([]byte("knock"))
				time.Sleep(time.Millisecond)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	if err := p.tech.Close(); err != nil {
		t.Fatalf("iteration %d: close: %v", iter, err)
	}
	// Close waits for the stack's goroutines; that must stay short.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("iteration %d: close took %v, want under 5s", iter, d)
	}
	// Let the router's retransmissions and the technician's late
	// segments land on the closed side before the next iteration.
	time.Sleep(50 * time.Millisecond)
}
