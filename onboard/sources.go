// Probe sources: the neutral WAN source no rule names, the sources accept rules admit, and
// the IPv4 spans and IPv6 source classes the rules tell apart.

package onboard

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/wgboot/wgboot/firewall"
)

// acceptedSources returns one address per source that an enabled accept
// rule of the filter admits by src-address or src-address-list, in rule
// order, without duplicates. IPv4 only.
func acceptedSources(r *Router) []netip.Addr {
	lists := map[string][]string{}
	for _, a := range r.AddressLists {
		if enabled(a) {
			lists[a["list"]] = append(lists[a["list"]], a["address"])
		}
	}
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	addFrom := func(v string) {
		if v == "" || strings.HasPrefix(v, "!") {
			return
		}
		for _, p := range prefixes(v) {
			a := p.Addr()
			if !a.Is4() {
				continue
			}
			if p.Bits() < 32 {
				a = a.Next()
			}
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	for _, row := range r.Filter {
		if row["action"] != "accept" || !enabled(row) {
			continue
		}
		addFrom(row["src-address"])
		if l := row["src-address-list"]; l != "" && !strings.HasPrefix(l, "!") {
			for _, e := range lists[l] {
				addFrom(e)
			}
		}
	}
	return out
}

// addrSpan is one inclusive IPv4 range that a rule or an address list names.
type addrSpan struct{ lo, hi netip.Addr }

func (s addrSpan) contains(a netip.Addr) bool {
	return a.BitLen() == s.lo.BitLen() && s.lo.Compare(a) <= 0 && a.Compare(s.hi) <= 0
}

// spansOf parses a comma list of addresses, prefixes and a-b ranges (a
// leading "!" ignored) into exact IPv4 spans; anything else (IPv6, DNS names)
// is skipped.
func spansOf(v string) []addrSpan { return spansOfFamily(v, false) }

// spansOfFamily is spansOf for IPv4 (six false) or IPv6 (six true).
func spansOfFamily(v string, six bool) []addrSpan {
	v = strings.TrimPrefix(strings.TrimSpace(v), "!")
	var out []addrSpan
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if lo, hi, ok := strings.Cut(f, "-"); ok {
			a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
			b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
			if err1 == nil && err2 == nil && a.Is6() == six && b.Is6() == six && !a.Is4In6() && !b.Is4In6() {
				if b.Less(a) {
					a, b = b, a
				}
				out = append(out, addrSpan{a, b})
			}
			continue
		}
		p, ok := ifacePrefix(f)
		if !ok || p.Addr().Is6() != six || p.Addr().Is4In6() {
			continue
		}
		p = p.Masked()
		hi := p.Addr().AsSlice()
		for i := p.Bits(); i < len(hi)*8; i++ {
			hi[i/8] |= 0x80 >> (i % 8)
		}
		h, _ := netip.AddrFromSlice(hi)
		out = append(out, addrSpan{p.Addr(), h})
	}
	return out
}

// neutralSource returns an IPv4 address that no address list entry and no
// source matcher of any rule contains, and that is not the router's own: a
// stand-in for the technician's public address, which is unknown in advance
// and must not get special treatment. Documentation ranges come first so a
// plan reads the same on every router that does not name them.
func neutralSource(r *Router) netip.Addr {
	env := r.env()
	env.Sets = firewall.CompileLists(env.AddressLists)
	return neutralFrom(r, env, partitionSources(r, env, nil))
}

func neutralFrom(r *Router, env firewall.Env, part *sourcePartition) netip.Addr {
	taken := func(a netip.Addr) bool {
		if part.isNamed(a) {
			return true
		}
		// Entries of lists no rule names count too, unless a list spans
		// every address (which singles nobody out).
		for _, s := range env.Sets {
			if s.Contains(a) && !coversIPv4(s) {
				return true
			}
		}
		for _, ad := range r.Addresses {
			if p, ok := ifacePrefix(ad["address"]); ok && p.Addr() == a {
				return true
			}
		}
		return false
	}
	var cands []netip.Addr
	cands = append(cands, probeWANSrc, netip.MustParseAddr("198.51.100.50"), netip.MustParseAddr("192.0.2.50"))
	for _, base := range []string{"203.0.113.0", "198.51.100.0", "192.0.2.0"} {
		a := netip.MustParseAddr(base)
		for i := 0; i < 255; i++ {
			a = a.Next()
			cands = append(cands, a)
		}
	}
	// Then public space outside the documentation ranges, one /8 at a time.
	for o := 1; o < 224; o++ {
		cands = append(cands, netip.AddrFrom4([4]byte{byte(o), 99, 99, 99}))
	}
	for _, c := range cands {
		if !taken(c) {
			return c
		}
	}
	return probeWANSrc
}

// sourceClasses returns one address for every class of source the rules
// can tell apart (sourcePartition), in address order. Together they
// cover every verdict a WAN source can get from source matching: any
// source gets the verdict of its class's representative. Addresses no
// packet can carry are left out.
func sourceClasses(r *Router) []netip.Addr {
	env := r.env()
	env.Sets = firewall.CompileLists(env.AddressLists)
	return partitionSources(r, env, nil).reps
}

// lastOf returns the last address of a prefix.
func lastOf(p netip.Prefix) netip.Addr {
	sp := spansOfFamily(p.String(), p.Addr().Is6())
	if len(sp) == 0 {
		return p.Addr()
	}
	return sp[0].hi
}

// sourceSpans6 is sourceSpans for the IPv6 filter (RouterOS keeps IPv6
// address lists apart; the snapshot does not read them, so only
// src-address counts).
func sourceSpans6(r *Router) []addrSpan {
	var out []addrSpan
	for _, row := range r.Filter6 {
		if enabled(row) {
			out = append(out, spansOfFamily(row["src-address"], true)...)
		}
	}
	return out
}

// neutralSource6 is neutralSource for IPv6: an address of 2001:db8::/32
// that no IPv6 rule names.
func neutralSource6(r *Router) netip.Addr {
	spans := sourceSpans6(r)
	for i := 0; i < 256; i++ {
		b := probeWANSrc6.As16()
		b[4] -= byte(i) // 2001:db8:ffff::50, 2001:db8:feff::50, ...
		c := netip.AddrFrom16(b)
		if !slices.ContainsFunc(spans, func(s addrSpan) bool {
			return s.contains(c) && s.lo.IsValid() && !(s.lo.IsUnspecified() && s.hi == lastOf(netip.MustParsePrefix("::/0")))
		}) {
			return c
		}
	}
	return probeWANSrc6
}

// sourceClasses6 is sourceClasses for the IPv6 filter.
func sourceClasses6(r *Router) []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, s := range sourceSpans6(r) {
		in := s.lo
		if s.hi != s.lo {
			in = s.lo.Next()
		}
		for _, a := range []netip.Addr{in, s.lo.Prev(), s.hi.Next()} {
			if a.IsValid() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}
