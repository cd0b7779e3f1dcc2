package firewall

import (
	"iter"
	"net/netip"
	"slices"
)

// AddrSet is an address list compiled for matching: every entry parsed
// once into sorted, non-overlapping ranges (IPv4 before IPv6), so that
// membership is a binary search. Imported drop lists hold tens of
// thousands of entries; scanning them for every rule of every packet made
// both the plan's check and rossim's packet path quadratic.
type AddrSet struct {
	ranges []addrRange
	unsure bool // some entry is not an address (a DNS name the router resolves)
}

// NewAddrSet compiles the entries of one address list (addresses,
// prefixes, a-b ranges, as RouterOS writes them). Entries that are not
// addresses are left out and make Unsure true.
func NewAddrSet(entries []string) *AddrSet {
	s := &AddrSet{ranges: make([]addrRange, 0, len(entries))}
	for _, e := range entries {
		r, err := parseAddrSpec(e)
		if err != nil {
			s.unsure = true
			continue
		}
		s.ranges = append(s.ranges, r)
	}
	s.ranges = mergeRanges(s.ranges)
	return s
}

// mergeRanges sorts rs and joins ranges that overlap or touch, within one
// family.
func mergeRanges(rs []addrRange) []addrRange {
	slices.SortFunc(rs, func(a, b addrRange) int { return a.lo.Compare(b.lo) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			next := last.hi.Next() // invalid after the family's last address
			if last.lo.Is4() == r.lo.Is4() && (!next.IsValid() || r.lo.Compare(next) <= 0) {
				if last.hi.Less(r.hi) {
					last.hi = r.hi
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// Contains reports whether a is in the set. A nil set is empty.
func (s *AddrSet) Contains(a netip.Addr) bool {
	if s == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	// The first range that does not end below a is the only candidate:
	// ranges are sorted and disjoint, so their ends increase too.
	i, _ := slices.BinarySearchFunc(s.ranges, a, func(r addrRange, a netip.Addr) int { return r.hi.Compare(a) })
	return i < len(s.ranges) && s.ranges[i].contains(a)
}

// Unsure reports whether the list holds entries that are not addresses,
// whose membership the evaluator cannot decide.
func (s *AddrSet) Unsure() bool { return s != nil && s.unsure }

// Len is the number of disjoint ranges.
func (s *AddrSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.ranges)
}

// Ranges yields the disjoint ranges in order, inclusive, IPv4 first.
func (s *AddrSet) Ranges() iter.Seq2[netip.Addr, netip.Addr] {
	return func(yield func(lo, hi netip.Addr) bool) {
		if s == nil {
			return
		}
		for _, r := range s.ranges {
			if !yield(r.lo, r.hi) {
				return
			}
		}
	}
}

// CompileLists compiles every list of lists (as Env.AddressLists holds
// them) for Env.Sets.
func CompileLists(lists map[string][]string) map[string]*AddrSet {
	out := make(map[string]*AddrSet, len(lists))
	for name, entries := range lists {
		out[name] = NewAddrSet(entries)
	}
	return out
}
