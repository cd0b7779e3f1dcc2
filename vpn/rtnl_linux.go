package vpn

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// rtnl is the little rtnetlink this package needs (create and delete a
// link, set it up, add an address and a route), built on mdlayher/netlink,
// which go.mod already carries for wgctrl. It works in the network namespace
// of the calling thread, like `ip`.
type rtnl struct{ c *netlink.Conn }

func dialRTNL() (*rtnl, error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, nil)
	if err != nil {
		return nil, fmt.Errorf("vpn: open rtnetlink: %w", err)
	}
	return &rtnl{c: c}, nil
}

func (r *rtnl) Close() error { return r.c.Close() }

func (r *rtnl) do(typ uint16, flags netlink.HeaderFlags, data []byte) error {
	_, err := r.c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: netlink.Request | netlink.Acknowledge | flags},
		Data:   data,
	})
	return err
}

// ifinfomsg encodes struct ifinfomsg.
func ifinfomsg(index int, flags, change uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	b[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	binary.NativeEndian.PutUint32(b[8:], flags)
	binary.NativeEndian.PutUint32(b[12:], change)
	return b
}

// createWireGuardLink is `ip link add NAME type wireguard`. It fails with
// EOPNOTSUPP when the kernel has no WireGuard module.
func (r *rtnl) createWireGuardLink(name string) error {
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.IFLA_IFNAME, name)
	ae.Nested(unix.IFLA_LINKINFO, func(nae *netlink.AttributeEncoder) error {
		nae.String(unix.IFLA_INFO_KIND, "wireguard")
		return nil
	})
	attrs, err := ae.Encode()
	if err != nil {
		return err
	}
	return r.do(unix.RTM_NEWLINK, netlink.Create|netlink.Excl, append(ifinfomsg(0, 0, 0), attrs...))
}

// setLinkUp is `ip link set dev INDEX mtu MTU up`.
func (r *rtnl) setLinkUp(index, mtu int) error {
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(unix.IFLA_MTU, uint32(mtu))
	attrs, err := ae.Encode()
	if err != nil {
		return err
	}
	return r.do(unix.RTM_NEWLINK, 0, append(ifinfomsg(index, unix.IFF_UP, unix.IFF_UP), attrs...))
}

// deleteLink is `ip link del dev INDEX`.
func (r *rtnl) deleteLink(index int) error {
	return r.do(unix.RTM_DELLINK, 0, ifinfomsg(index, 0, 0))
}

func family(a netip.Addr) uint8 {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// addAddress is `ip addr add PREFIX dev INDEX`; the kernel adds the route to
// the prefix's subnet once the link is up.
func (r *rtnl) addAddress(index int, p netip.Prefix) error {
	a := p.Addr().Unmap()
	hdr := make([]byte, unix.SizeofIfAddrmsg)
	hdr[0] = family(a)
	hdr[1] = uint8(p.Bits())
	hdr[3] = unix.RT_SCOPE_UNIVERSE
	binary.NativeEndian.PutUint32(hdr[4:], uint32(index))
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(unix.IFA_LOCAL, a.AsSlice())
	ae.Bytes(unix.IFA_ADDRESS, a.AsSlice())
	attrs, err := ae.Encode()
	if err != nil {
		return err
	}
	return r.do(unix.RTM_NEWADDR, netlink.Create|netlink.Excl, append(hdr, attrs...))
}

// addRoute is `ip route add PREFIX dev INDEX src SRC`. It fails with
// EEXIST when the table already has a route to PREFIX.
func (r *rtnl) addRoute(index int, p netip.Prefix, src netip.Addr) error {
	p = p.Masked()
	hdr := make([]byte, unix.SizeofRtMsg)
	hdr[0] = family(p.Addr())
	hdr[1] = uint8(p.Bits())
	hdr[4] = unix.RT_TABLE_MAIN
	hdr[5] = unix.RTPROT_BOOT
	hdr[6] = unix.RT_SCOPE_LINK
	hdr[7] = unix.RTN_UNICAST
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(unix.RTA_DST, p.Addr().AsSlice())
	ae.Uint32(unix.RTA_OIF, uint32(index))
	if src.IsValid() && family(src) == family(p.Addr()) {
		ae.Bytes(unix.RTA_PREFSRC, src.Unmap().AsSlice())
	}
	attrs, err := ae.Encode()
	if err != nil {
		return err
	}
	return r.do(unix.RTM_NEWROUTE, netlink.Create|netlink.Excl, append(hdr, attrs...))
}

// route is one entry of a routing table.
type route struct {
	Dst   netip.Prefix
	Index int // outgoing interface; 0 when none (via a gateway elsewhere, blackhole)
	Table uint32
}

// routes is `ip route show table all` for IPv4 and IPv6, without the
// local table (this machine's own addresses), default routes, and IPv6
// link-local and multicast prefixes (per link, never ambiguous).
func (r *rtnl) routes() ([]route, error) {
	var out []route
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		hdr := make([]byte, unix.SizeofRtMsg)
		hdr[0] = fam
		msgs, err := r.c.Execute(netlink.Message{
			Header: netlink.Header{Type: unix.RTM_GETROUTE, Flags: netlink.Request | netlink.Dump},
			Data:   hdr,
		})
		if err != nil {
			return nil, fmt.Errorf("vpn: read the routing table: %w", err)
		}
		for _, m := range msgs {
			rt, ok, err := parseRoute(m.Data)
			if err != nil {
				return nil, fmt.Errorf("vpn: read the routing table: %w", err)
			}
			if ok {
				out = append(out, rt)
			}
		}
	}
	return out, nil
}

var linkLocal6, multicast6 = netip.MustParsePrefix("fe80::/10"), netip.MustParsePrefix("ff00::/8")

// parseRoute decodes one RTM_NEWROUTE message; ok is false for the
// routes that routes leaves out.
func parseRoute(b []byte) (rt route, ok bool, err error) {
	if len(b) < unix.SizeofRtMsg {
		return route{}, false, fmt.Errorf("short route message (%d bytes)", len(b))
	}
	fam, bits, typ := b[0], int(b[1]), b[7]
	rt.Table = uint32(b[4])
	switch typ {
	case unix.RTN_UNICAST, unix.RTN_BLACKHOLE, unix.RTN_UNREACHABLE, unix.RTN_PROHIBIT, unix.RTN_THROW:
	default:
		return route{}, false, nil // local, broadcast, multicast, anycast, nat
	}
	ad, err := netlink.NewAttributeDecoder(b[unix.SizeofRtMsg:])
	if err != nil {
		return route{}, false, err
	}
	var dst []byte
	for ad.Next() {
		switch ad.Type() {
		case unix.RTA_DST:
			dst = ad.Bytes()
		case unix.RTA_OIF:
			rt.Index = int(ad.Uint32())
		case unix.RTA_TABLE:
			rt.Table = ad.Uint32()
		}
	}
	if err := ad.Err(); err != nil {
		return route{}, false, err
	}
	if rt.Table == unix.RT_TABLE_LOCAL || bits == 0 {
		return route{}, false, nil
	}
	a, okAddr := netip.AddrFromSlice(dst)
	if !okAddr || (fam == unix.AF_INET) != a.Is4() {
		return route{}, false, fmt.Errorf("route with a destination of %d bytes", len(dst))
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return route{}, false, err
	}
	if p.Bits() >= 8 && multicast6.Contains(p.Addr()) || p.Bits() >= 10 && linkLocal6.Contains(p.Addr()) {
		return route{}, false, nil
	}
	rt.Dst = p
	return rt, true, nil
}
