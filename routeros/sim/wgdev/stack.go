package wgdev

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"

	"golang.zx2c4.com/wireguard/tun"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// nicID is the one NIC of each stack.
const nicID tcpip.NICID = 1

// stackTUN is a tun.Device backed by a gVisor stack. It exists instead of
// wireguard-go's netstack.CreateNetTUN because that one fixes its
// addresses at creation, while /ip address on a RouterOS WireGuard
// interface changes at any time (SetAddresses).
type stackTUN struct {
	ep     *channel.Endpoint
	st     *stack.Stack
	mtu    int
	events chan tun.Event
	ctx    context.Context // cancelled by Close: ends a blocked Read
	cancel context.CancelFunc
	once   sync.Once
}

var _ tun.Device = (*stackTUN)(nil)

func newStackTUN(mtu int) (*stackTUN, error) {
	st := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal:        true,
	})
	sack := tcpip.TCPSACKEnabled(true)
	if err := st.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); err != nil {
		st.Close()
		return nil, fmt.Errorf("wgdev: enable tcp sack: %v", err)
	}
	ep := channel.New(queueLen, uint32(mtu), "")
	if err := st.CreateNIC(nicID, ep); err != nil {
		st.Close()
		return nil, fmt.Errorf("wgdev: create nic: %v", err)
	}
	// Everything not for the stack itself goes back into the tunnel, where
	// WireGuard's allowed-ips routing picks the peer.
	st.AddRoute(tcpip.Route{Destination: header.IPv4EmptySubnet, NIC: nicID})
	st.AddRoute(tcpip.Route{Destination: header.IPv6EmptySubnet, NIC: nicID})
	ctx, cancel := context.WithCancel(context.Background())
	t := &stackTUN{ep: ep, st: st, mtu: mtu, events: make(chan tun.Event, 1), ctx: ctx, cancel: cancel}
	t.events <- tun.EventUp
	return t, nil
}

// setAddresses makes the stack's addresses exactly ps.
func (t *stackTUN) setAddresses(ps []netip.Prefix) error {
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
	for _, have := range t.st.AllAddresses()[nicID] {
		if w, ok := want[have.AddressWithPrefix.Address]; ok && w.AddressWithPrefix.PrefixLen == have.AddressWithPrefix.PrefixLen {
			delete(want, have.AddressWithPrefix.Address)
			continue
		}
		if err := t.st.RemoveAddress(nicID, have.AddressWithPrefix.Address); err != nil {
			return fmt.Errorf("wgdev: remove address %v: %v", have.AddressWithPrefix, err)
		}
	}
	for _, pa := range want {
		if err := t.st.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); err != nil {
			return fmt.Errorf("wgdev: add address %v: %v", pa.AddressWithPrefix, err)
		}
	}
	return nil
}

func (t *stackTUN) File() *os.File           { return nil }
func (t *stackTUN) Name() (string, error)    { return "wgdev", nil }
func (t *stackTUN) MTU() (int, error)        { return t.mtu, nil }
func (t *stackTUN) BatchSize() int           { return 1 }
func (t *stackTUN) Events() <-chan tun.Event { return t.events }

// Read hands WireGuard the next packet the stack sends.
func (t *stackTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	pkt := t.ep.ReadContext(t.ctx)
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

// Write gives the stack the packets WireGuard decrypted.
func (t *stackTUN) Write(bufs [][]byte, offset int) (int, error) {
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
		t.ep.InjectInbound(proto, pkb)
		pkb.DecRef()
	}
	return len(bufs), nil
}

func (t *stackTUN) Close() error {
	t.once.Do(func() {
		t.cancel()
		t.st.Close()
		t.st.Wait()
		t.ep.Close()
		close(t.events)
	})
	return nil
}
