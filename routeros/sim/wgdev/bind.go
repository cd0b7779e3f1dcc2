package wgdev

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.zx2c4.com/wireguard/conn"
)

// maxFlows bounds the admitted-flow cache. A simulated router sees a
// handful of peers; past this many flows the cache starts over, which only
// costs one more Admit call per flow.
const maxFlows = 4096

// queueLen is how many received packets may wait out the simulated
// latency per socket before further packets are dropped, like a full
// interface queue.
const queueLen = 1024

// Counters are the packet counters of a Device's UDP sockets.
type Counters struct {
	RxPackets, RxBytes uint64 // WireGuard packets admitted and delivered
	Dropped            uint64 // packets of flows Admit refused, or over a full latency queue
	TxPackets, TxBytes uint64 // WireGuard packets sent
}

// flowKey identifies a WireGuard flow as the router's connection tracking
// would: the local socket and the remote address and port.
type flowKey struct{ local, remote netip.AddrPort }

// udpBind is a conn.Bind over one UDP socket per listen address, so that
// several simulated routers share a port number on different loopback
// addresses. Its receive path is where the simulated firewall (Admit),
// the latency and the counters apply.
type udpBind struct {
	admit   func(local, remote netip.AddrPort) bool
	latency time.Duration
	logf    func(string, ...any)

	rxPackets, rxBytes, dropped, txPackets, txBytes atomic.Uint64

	mu     sync.Mutex // guards following
	listen []netip.AddrPort
	conns  []*net.UDPConn
	cancel context.CancelFunc // stops the latency readers of the open sockets
	wg     sync.WaitGroup     // latency readers
	flows  map[flowKey]struct{}
}

var _ conn.Bind = (*udpBind)(nil)

func newBind(o Options, logf func(string, ...any)) *udpBind {
	return &udpBind{
		admit:   o.Admit,
		latency: o.Latency,
		logf:    logf,
		listen:  append([]netip.AddrPort(nil), o.Listen...),
		flows:   map[flowKey]struct{}{},
	}
}

// Open binds every listen address. The port wireguard-go asks for is
// ignored: the sockets are those of Options.Listen. A listen address with
// port 0 gets a random port on the first Open and keeps it on reopen.
func (b *udpBind) Open(uint16) ([]conn.ReceiveFunc, uint16, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns != nil {
		return nil, 0, conn.ErrBindAlreadyOpen
	}
	var conns []*net.UDPConn
	for i, ap := range b.listen {
		network := "udp4"
		if ap.Addr().Is6() && !ap.Addr().Is4In6() {
			network = "udp6"
		}
		c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(ap))
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, 0, fmt.Errorf("wgdev: listen on %v: %w", ap, err)
		}
		b.listen[i] = netip.AddrPortFrom(ap.Addr(), c.LocalAddr().(*net.UDPAddr).AddrPort().Port())
		conns = append(conns, c)
	}
	b.conns = conns
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	fns := make([]conn.ReceiveFunc, len(conns))
	for i, c := range conns {
		local := b.listen[i]
		if b.latency > 0 {
			q := make(chan delayed, queueLen)
			b.wg.Add(1)
			go b.readDelayed(ctx, c, local, q)
			fns[i] = b.receiveDelayed(ctx, q)
		} else {
			fns[i] = b.receive(c, local)
		}
	}
	var port uint16
	if len(b.listen) > 0 {
		port = b.listen[0].Port()
	}
	return fns, port, nil
}

// read returns the next admitted packet of c.
func (b *udpBind) read(c *net.UDPConn, local netip.AddrPort, buf []byte) (int, netip.AddrPort, error) {
	for {
		n, remote, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return 0, netip.AddrPort{}, err
		}
		remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
		if !b.admitted(local, remote) {
			b.dropped.Add(1)
			continue
		}
		b.rxPackets.Add(1)
		b.rxBytes.Add(uint64(n))
		return n, remote, nil
	}
}

// admitted asks Admit about the first packet of a flow and remembers an
// accepted flow. A refused flow is asked again on its next packet: RouterOS
// creates no connection for a dropped packet, so a firewall change lets the
// next handshake attempt through without a ResetFlows.
func (b *udpBind) admitted(local, remote netip.AddrPort) bool {
	if b.admit == nil {
		return true
	}
	k := flowKey{local, remote}
	b.mu.Lock()
	_, ok := b.flows[k]
	b.mu.Unlock()
	if ok {
		return true
	}
	if !b.admit(local, remote) {
		b.logf("wgdev: dropped flow %v -> %v (not admitted)", remote, local)
		return false
	}
	b.mu.Lock()
	if len(b.flows) >= maxFlows {
		clear(b.flows)
	}
	b.flows[k] = struct{}{}
	b.mu.Unlock()
	return true
}

func (b *udpBind) resetFlows() {
	b.mu.Lock()
	clear(b.flows)
	b.mu.Unlock()
}

func (b *udpBind) receive(c *net.UDPConn, local netip.AddrPort) conn.ReceiveFunc {
	return func(packets [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
		n, remote, err := b.read(c, local, packets[0])
		if err != nil {
			return 0, err
		}
		sizes[0] = n
		eps[0] = &endpoint{dst: remote, src: local}
		return 1, nil
	}
}

// delayed is a received packet waiting out the simulated latency.
type delayed struct {
	data          []byte
	remote, local netip.AddrPort
	due           time.Time
}

// readDelayed reads c and queues each admitted packet with its due time.
// Every packet gets the same delay, so the queue is in due order and the
// receive side never holds a packet back longer than its own delay.
func (b *udpBind) readDelayed(ctx context.Context, c *net.UDPConn, local netip.AddrPort, q chan<- delayed) {
	defer b.wg.Done()
	defer close(q)
	buf := make([]byte, 65535)
	for {
		n, remote, err := b.read(c, local, buf)
		if err != nil {
			return
		}
		d := delayed{data: append([]byte(nil), buf[:n]...), remote: remote, local: local, due: time.Now().Add(b.latency)}
		select {
		case q <- d:
		case <-ctx.Done():
			return
		default:
			b.dropped.Add(1)
		}
	}
}

func (b *udpBind) receiveDelayed(ctx context.Context, q <-chan delayed) conn.ReceiveFunc {
	return func(packets [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
		d, ok := <-q
		if !ok {
			return 0, net.ErrClosed
		}
		t := time.NewTimer(time.Until(d.due))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, net.ErrClosed
		}
		sizes[0] = copy(packets[0], d.data)
		eps[0] = &endpoint{dst: d.remote, src: d.local}
		return 1, nil
	}
}

// Close closes the sockets; the receive functions then return
// net.ErrClosed, as conn.Bind requires.
func (b *udpBind) Close() error {
	b.mu.Lock()
	conns, cancel := b.conns, b.cancel
	b.conns, b.cancel = nil, nil
	b.mu.Unlock()
	var errs []error
	for _, c := range conns {
		errs = append(errs, c.Close())
	}
	if cancel != nil {
		cancel()
	}
	b.wg.Wait()
	return errors.Join(errs...)
}

func (b *udpBind) SetMark(uint32) error { return nil }

func (b *udpBind) BatchSize() int { return 1 }

// Send writes from the socket the endpoint was last seen on, or from the
// first socket of the endpoint's family.
func (b *udpBind) Send(bufs [][]byte, ep conn.Endpoint) error {
	e, ok := ep.(*endpoint)
	if !ok {
		return conn.ErrWrongEndpointType
	}
	c := b.connFor(e)
	if c == nil {
		return fmt.Errorf("wgdev: no socket to send to %v: %w", e.dst, net.ErrClosed)
	}
	for _, buf := range bufs {
		if _, err := c.WriteToUDPAddrPort(buf, e.dst); err != nil {
			return err
		}
		b.txPackets.Add(1)
		b.txBytes.Add(uint64(len(buf)))
	}
	return nil
}

func (b *udpBind) connFor(e *endpoint) *net.UDPConn {
	b.mu.Lock()
	defer b.mu.Unlock()
	var fallback *net.UDPConn
	src := e.source()
	for i, c := range b.conns {
		if src.IsValid() && b.listen[i] == src {
			return c
		}
		if fallback == nil && b.listen[i].Addr().Is4() == e.dst.Addr().Is4() {
			fallback = c
		}
	}
	return fallback
}

func (b *udpBind) ParseEndpoint(s string) (conn.Endpoint, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil, fmt.Errorf("wgdev: endpoint %q: %w", s, err)
	}
	return &endpoint{dst: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}, nil
}

func (b *udpBind) counters() Counters {
	return Counters{
		RxPackets: b.rxPackets.Load(), RxBytes: b.rxBytes.Load(), Dropped: b.dropped.Load(),
		TxPackets: b.txPackets.Load(), TxBytes: b.txBytes.Load(),
	}
}

// endpoint is a remote peer address and the local socket it talks to.
// endpoint is a peer's address and the local socket it was last seen on.
// wireguard-go calls ClearSrc from its timer goroutine while Send reads src
// from the sender goroutine, so src has its own lock (as StdNetEndpoint's does).
type endpoint struct {
	dst netip.AddrPort

	mu  sync.Mutex // guards src
	src netip.AddrPort
}

func (e *endpoint) source() netip.AddrPort {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.src
}

var _ conn.Endpoint = (*endpoint)(nil)

func (e *endpoint) ClearSrc() {
	e.mu.Lock()
	e.src = netip.AddrPort{}
	e.mu.Unlock()
}
func (e *endpoint) SrcToString() string { return e.source().String() }
func (e *endpoint) DstToString() string { return e.dst.String() }
func (e *endpoint) DstToBytes() []byte  { b, _ := e.dst.MarshalBinary(); return b }
func (e *endpoint) DstIP() netip.Addr   { return e.dst.Addr() }
func (e *endpoint) SrcIP() netip.Addr   { return e.source().Addr() }
