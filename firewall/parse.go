package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// portRange is an inclusive range of TCP/UDP ports.
type portRange struct{ lo, hi uint16 }

// parsePortList parses a RouterOS port list such as "22,80,8728-8729".
// RouterOS refuses empty elements and reversed ranges, so do we.
func parsePortList(s string) ([]portRange, error) {
	if s == "" {
		return nil, errors.New("empty port list")
	}
	var out []portRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parsePort(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parsePort(hi); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("port range %q is reversed", part)
			}
		}
		out = append(out, portRange{a, b})
	}
	return out, nil
}

func parsePort(s string) (uint16, error) {
	// strconv accepts "+1"; RouterOS does not, and neither do leading spaces.
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return uint16(n), nil
}

func portsContain(rs []portRange, p uint16) bool {
	for _, r := range rs {
		if p >= r.lo && p <= r.hi {
			return true
		}
	}
	return false
}

// addrRange is an inclusive range of addresses of one family. A single
// address and a prefix are both stored as ranges so that matching is one
// comparison whatever the RouterOS spelling was.
type addrRange struct{ lo, hi netip.Addr }

func (r addrRange) contains(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is4() != r.lo.Is4() {
		return false
	}
	return r.lo.Compare(a) <= 0 && a.Compare(r.hi) <= 0
}

// parseAddrSpec parses an address as RouterOS writes it in src-address,
// dst-address and address-list entries: "192.0.2.1", "192.0.2.0/24"
// (host bits are ignored, as RouterOS masks them), or "192.0.2.10-192.0.2.20".
func parseAddrSpec(s string) (addrRange, error) {
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err := netip.ParseAddr(lo)
		if err != nil {
			return addrRange{}, fmt.Errorf("invalid address %q", lo)
		}
		b, err := netip.ParseAddr(hi)
		if err != nil {
			return addrRange{}, fmt.Errorf("invalid address %q", hi)
		}
		a, b = a.Unmap(), b.Unmap()
		if a.Is4() != b.Is4() || a.Zone() != "" || b.Zone() != "" {
			return addrRange{}, fmt.Errorf("invalid address range %q", s)
		}
		if b.Less(a) {
			return addrRange{}, fmt.Errorf("address range %q is reversed", s)
		}
		return addrRange{a, b}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return addrRange{}, fmt.Errorf("invalid prefix %q", s)
		}
		if p.Addr().Is4In6() {
			return addrRange{}, fmt.Errorf("invalid prefix %q", s)
		}
		p = p.Masked()
		return addrRange{p.Addr(), lastAddr(p)}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return addrRange{}, fmt.Errorf("invalid address %q", s)
	}
	a = a.Unmap()
	return addrRange{a, a}, nil
}

// lastAddr returns the highest address of a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// splitNeg strips RouterOS's leading "!" negation.
func splitNeg(v string) (neg bool, rest string) {
	if strings.HasPrefix(v, "!") {
		return true, v[1:]
	}
	return false, v
}

// parseBool reads a RouterOS boolean. ok is false for anything else.
func parseBool(v string) (b, ok bool) {
	switch v {
	case "yes", "true":
		return true, true
	case "no", "false", "":
		return false, true
	}
	return false, false
}

// protocolNumbers maps the protocol names RouterOS accepts to IP protocol
// numbers, so that "tcp" and "6" match each other.
var protocolNumbers = map[string]int{
	"icmp": 1, "igmp": 2, "ggp": 3, "ip-encap": 4, "ipencap": 4, "st": 5,
	"tcp": 6, "egp": 8, "pup": 12, "udp": 17, "hmp": 20, "xns-idp": 22,
	"rdp": 27, "iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37,
	"idpr-cmtp": 38, "ipv6-encap": 41, "ipv6-route": 43, "ipv6-frag": 44,
	"idrp": 45, "rsvp": 46, "gre": 47, "ipsec-esp": 50, "ipsec-ah": 51,
	"icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73, "vmtp": 81,
	"ospf": 89, "ipip": 94, "etherip": 97, "encap": 98, "pim": 103,
	"vrrp": 112, "l2tp": 115, "sctp": 132, "udp-lite": 136,
}

// parseProtocol returns the protocol number of a name or a decimal number.
func parseProtocol(v string) (int, bool) {
	if n, ok := protocolNumbers[strings.ToLower(v)]; ok {
		return n, true
	}
	if v == "" || v[0] < '0' || v[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 8)
	if err != nil {
		return 0, false
	}
	return int(n), true
}

// portProtocols are the protocols RouterOS lets a rule match ports on.
func hasPorts(proto int) bool {
	switch proto {
	case 6, 17, 33, 132, 136: // tcp, udp, dccp, sctp, udp-lite
		return true
	}
	return false
}
