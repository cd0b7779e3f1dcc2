// Package gvtun is a WireGuard tun.Device whose other end is a gVisor
// userspace network stack in this process, with the dial and listen
// helpers both the technician's netstack backend (vpn) and the router
// simulator (routeros/sim/wgdev) need.
//
// It exists instead of wireguard-go's netstack.CreateNetTUN for two
// reasons. That device fixes its addresses at creation, while /ip address
// on a RouterOS WireGuard interface changes at any time (SetAddresses).
// And its Close closes the channel gVisor's goroutines send outgoing
// packets on while they may still be sending (a reset answering a segment
// that arrives during the close): a data race, and a "send on closed
// channel" panic that takes the whole process down (finding 29). Here
// the stack hands packets to a gVisor channel endpoint, whose queue is
// closed under the same lock its writers take, and Close stops and waits
// for the stack before closing anything.
package gvtun

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.zx2c4.com/wireguard/tun"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// nicID is the one NIC of each stack.
const nicID tcpip.NICID = 1

// queueLen is how many outgoing packets may wait for WireGuard to read
// them; beyond that the stack drops (TCP retransmits).
const queueLen = 1024

// Device is a tun.Device backed by a gVisor stack.
type Device struct {
	ep     *channel.Endpoint
	st     *stack.Stack
	mtu    int
	name   string
	events chan tun.Event
	ctx    context.Context // cancelled by Close: ends a blocked Read
	cancel context.CancelFunc
	once   sync.Once
}

var _ tun.Device = (*Device)(nil)

// New returns a device with no address; name is what Name reports.
func New(name string, mtu int) (*Device, error) {
	st := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal:        true,
	})
	sack := tcpip.TCPSACKEnabled(true)
	if err := st.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); err != nil {
		st.Close()
		return nil, fmt.Errorf("gvtun: enable tcp sack: %v", err)
	}
	ep := channel.New(queueLen, uint32(mtu), "")
	if err := st.CreateNIC(nicID, ep); err != nil {
		st.Close()
		return nil, fmt.Errorf("gvtun: create nic: %v", err)
	}
	// Everything not for the stack itself goes back into the tunnel, where
	// WireGuard's allowed-ips routing picks the peer.
	st.AddRoute(tcpip.Route{Destination: header.IPv4EmptySubnet, NIC: nicID})
	st.AddRoute(tcpip.Route{Destination: header.IPv6EmptySubnet, NIC: nicID})
	ctx, cancel := context.WithCancel(context.Background())
	d := &Device{ep: ep, st: st, mtu: mtu, name: name, events: make(chan tun.Event, 1), ctx: ctx, cancel: cancel}
	d.events <- tun.EventUp
	return d, nil
}

// SetAddresses makes the stack's addresses exactly ps.
func (d *Device) SetAddresses(ps []netip.Prefix) error {
	want := map[tcpip.Address]tcpip.ProtocolAddress{}
	for _, p := range ps {
		a, bits := p.Addr(), p.Bits()
		if a.Is4In6() {
			a, bits = a.Unmap(), max(bits-96, 0)
		}
		proto := ipv4.ProtocolNumber
		if a.Is6() {
			proto = ipv6.ProtocolNumber
		}
		addr := tcpip.AddrFromSlice(a.AsSlice())
		want[addr] = tcpip.ProtocolAddress{Protocol: proto, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr, PrefixLen: bits}}
	}
	for _, have := range d.st.AllAddresses()[nicID] {
		if w, ok := want[have.AddressWithPrefix.Address]; ok && w.AddressWithPrefix.PrefixLen == have.AddressWithPrefix.PrefixLen {
			delete(want, have.AddressWithPrefix.Address)
			continue
		}
		if err := d.st.RemoveAddress(nicID, have.AddressWithPrefix.Address); err != nil {
			return fmt.Errorf("gvtun: remove address %v: %v", have.AddressWithPrefix, err)
		}
	}
	for _, pa := range want {
		if err := d.st.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); err != nil {
			return fmt.Errorf("gvtun: add address %v: %v", pa.AddressWithPrefix, err)
		}
	}
	return nil
}

func (d *Device) File() *os.File           { return nil }
func (d *Device) Name() (string, error)    { return d.name, nil }
func (d *Device) MTU() (int, error)        { return d.mtu, nil }
func (d *Device) BatchSize() int           { return 1 }
func (d *Device) Events() <-chan tun.Event { return d.events }

// Read hands WireGuard the next packet the stack sends. It waits on the
// endpoint's queue itself (no notify callback), so no stack goroutine
// ever blocks on, or sends to, a channel of ours.
func (d *Device) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	pkt := d.ep.ReadContext(d.ctx)
	if pkt == nil {
		return 0, os.ErrClosed
	}
	v := pkt.ToView()
	pkt.DecRef()
	n, err := v.Read(bufs[0][offset:])
	v.Release()
	if err != nil {
		return 0, err
	}
	sizes[0] = n
	return 1, nil
}

// Write gives the stack the packets WireGuard decrypted. WireGuard's
// receive goroutines may call it during and after Close; the stack then
// drops them.
func (d *Device) Write(bufs [][]byte, offset int) (int, error) {
	for _, b := range bufs {
		p := b[offset:]
		if len(p) == 0 {
			continue
		}
		var proto tcpip.NetworkProtocolNumber
		switch p[0] >> 4 {
		case 4:
			proto = header.IPv4ProtocolNumber
		case 6:
			proto = header.IPv6ProtocolNumber
		default:
			return 0, syscall.EAFNOSUPPORT
		}
		pkb := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(p)})
		d.ep.InjectInbound(proto, pkb)
		pkb.DecRef()
	}
	return len(bufs), nil
}

// Close ends a blocked Read, then closes the stack (its endpoints reset)
// and waits for every goroutine of it. Only then is the endpoint's queue
// closed, and that under the lock its writers take, so a packet the
// stack still sends (a reset to a late segment, WireGuard's receive
// goroutine writing during the close) is dropped, never sent on a closed
// channel. The events channel has no writer after New.
func (d *Device) Close() error {
	d.once.Do(func() {
		d.cancel()
		d.st.Close()
		d.st.Wait()
		d.ep.Close()
		close(d.events)
	})
	return nil
}

// DialContext connects through the tunnel like net.Dialer.DialContext,
// for "tcp", "tcp4", "tcp6", "udp", "udp4" and "udp6" to an IP address
// and port (the stack has no resolver: names are refused).
func (d *Device) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, sport, err := net.SplitHostPort(address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	port, err := strconv.ParseUint(sport, 10, 16)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("port %q is not a number 0-65535", sport)}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("%q is not an IP address (there is no DNS inside the tunnel)", host)}
	}
	ip = ip.Unmap().WithZone("")
	var want4, want6 bool
	switch network {
	case "tcp", "udp":
		want4, want6 = true, true
	case "tcp4", "udp4":
		want4 = true
	case "tcp6", "udp6":
		want6 = true
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	if (ip.Is4() && !want4) || (ip.Is6() && !want6) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("%s is not an address of network %s", ip, network)}
	}
	fa, proto := fullAddr(netip.AddrPortFrom(ip, uint16(port)))
	var c net.Conn
	if network[:3] == "tcp" {
		c, err = gonet.DialContextTCP(ctx, d.st, fa, proto)
	} else {
		c, err = gonet.DialUDP(d.st, nil, &fa, proto)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListenTCP listens on port on every address of the stack, present and
// future. Accepted conns' addresses are plain IPv4 for IPv4 peers (not
// v4-mapped).
func (d *Device) ListenTCP(port uint16) (net.Listener, error) {
	// One dual-stack endpoint on the unspecified IPv6 address also takes
	// IPv4 (as v4-mapped), and addresses added later are covered.
	var wq waiter.Queue
	ep, terr := d.st.NewEndpoint(tcp.ProtocolNumber, ipv6.ProtocolNumber, &wq)
	if terr != nil {
		return nil, fmt.Errorf("gvtun: listen tcp port %d: %v", port, terr)
	}
	ep.SocketOptions().SetV6Only(false)
	if terr := ep.Bind(tcpip.FullAddress{NIC: nicID, Port: port}); terr != nil {
		ep.Close()
		return nil, fmt.Errorf("gvtun: listen tcp port %d: %v", port, terr)
	}
	if terr := ep.Listen(128); terr != nil {
		ep.Close()
		return nil, fmt.Errorf("gvtun: listen tcp port %d: %v", port, terr)
	}
	return &listener{gonet.NewTCPListener(d.st, &wq, ep)}, nil
}

func fullAddr(ap netip.AddrPort) (tcpip.FullAddress, tcpip.NetworkProtocolNumber) {
	proto := ipv4.ProtocolNumber
	if ap.Addr().Is6() {
		proto = ipv6.ProtocolNumber
	}
	return tcpip.FullAddress{NIC: nicID, Addr: tcpip.AddrFromSlice(ap.Addr().AsSlice()), Port: ap.Port()}, proto
}

// listener unmaps the v4-mapped addresses of the dual-stack endpoint.
type listener struct {
	*gonet.TCPListener
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.TCPListener.Accept()
	if err != nil {
		return nil, err
	}
	tc := c.(*gonet.TCPConn)
	return &tunnelConn{TCPConn: tc, local: unmapTCP(tc.LocalAddr()), remote: unmapTCP(tc.RemoteAddr())}, nil
}

func (l *listener) Addr() net.Addr { return unmapTCP(l.TCPListener.Addr()) }

// tunnelConn is an accepted connection inside the tunnel.
type tunnelConn struct {
	*gonet.TCPConn
	local, remote net.Addr
}

func (c *tunnelConn) LocalAddr() net.Addr  { return c.local }
func (c *tunnelConn) RemoteAddr() net.Addr { return c.remote }

func unmapTCP(a net.Addr) net.Addr {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a
	}
	ap := ta.AddrPort()
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}
