package fleet

import (
	"fmt"
	"net/netip"
	"sync"
)

// Pool hands out VPN subnets of one size from a larger network, skipping
// those reserved (explicit subnets of the inventory). Safe for concurrent use.
type Pool struct {
	bits int

	mu       sync.Mutex // guards following
	next     netip.Addr
	end      netip.Prefix
	reserved []netip.Prefix
}

// NewPool returns a pool of /bits subnets of p.
func NewPool(p netip.Prefix, bits int, reserved []netip.Prefix) (*Pool, error) {
	if !p.Addr().Is4() || bits < p.Bits() || bits > 30 {
		return nil, fmt.Errorf("fleet: cannot carve /%d subnets out of %s", bits, p)
	}
	return &Pool{bits: bits, next: p.Masked().Addr(), end: p.Masked(), reserved: reserved}, nil
}

// Next returns the next free subnet, or an error when the pool is used up.
func (p *Pool) Next() (netip.Prefix, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.next.IsValid() && p.end.Contains(p.next) {
		s := netip.PrefixFrom(p.next, p.bits)
		p.next = lastAddr(s).Next()
		if !overlaps(s, p.reserved) {
			return s, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("fleet: the pool %s has no free /%d left: give a larger pool", p.end, p.bits)
}

func overlaps(s netip.Prefix, list []netip.Prefix) bool {
	for _, r := range list {
		if r.Overlaps(s) {
			return true
		}
	}
	return false
}

// lastAddr is the highest address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= uint32(uint64(1)<<host - 1)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
