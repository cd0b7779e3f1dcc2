package onboard

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"

	"github.com/wgboot/wgboot/firewall"
)

// fwView is a snapshot compiled for the evaluator once: its rule tables
// and environment, with every address list parsed into a sorted range set.
// The plan evaluates hundreds of probes on each snapshot; building the
// environment and scanning the lists per probe made it quadratic in the
// entries of imported blocklists.
type fwView struct {
	t, t6 firewall.Tables
	env   firewall.Env
}

func (r *Router) compiled() *fwView { return r.compiledFrom(nil) }

// compiledFrom compiles r, reusing the sets of base whose entries are the
// same: the plan's snapshots differ from the router only in wgboot's own
// list, and comparing entries is far cheaper than parsing them again.
func (r *Router) compiledFrom(base *fwView) *fwView {
	env := r.env()
	env.Sets = make(map[string]*firewall.AddrSet, len(env.AddressLists))
	for name, entries := range env.AddressLists {
		if base != nil && slices.Equal(base.env.AddressLists[name], entries) && base.env.Sets[name] != nil {
			env.Sets[name] = base.env.Sets[name]
			continue
		}
		env.Sets[name] = firewall.NewAddrSet(entries)
	}
	return &fwView{t: r.tables(), t6: firewall.Tables{Filter: toRules(r.Filter6)}, env: env}
}

// eval runs a probe on the compiled snapshot.
func (v *fwView) eval(p probe) firewall.Verdict {
	if p.V6 {
		return firewall.EvaluateInput(v.t6, v.env, p.Packet)
	}
	return firewall.EvaluateInput(v.t, v.env, p.Packet)
}

// maxSourceClasses caps the source-class probes of a plan. Each class
// costs a probe per WAN and API port, evaluated several times; real
// rulesets have a handful of classes however long their lists are (a
// blocklist of 50,000 entries is two: inside and outside). Only rulesets
// that interleave many lists exceed it. Then the plan cannot afford to
// find the highest rule that accepts some WAN source, and it keeps the
// guarantee another way: the hardening drop goes above every rule of the
// filter that wgboot may place before (see planner.hardenAnchor), where no source
// can be accepted ahead of it.
var maxSourceClasses = 1024 // a variable only so a test can lower it

// maxAcceptedProbes caps the probes shown for the sources accept rules
// name one by one ("from 198.51.100.7"). They are there for the
// technician to read; the security check does not rest on them, since the
// source classes hold a member of every set those rules name.
var maxAcceptedProbes = 16 // a variable only so a test can lower it

// sourcePartition is IPv4 source space cut into classes the rules cannot
// tell apart: two sources of a class are inside exactly the same
// src-address values, src-address-lists and (when a rule tests
// src-address-type) router addresses that any enabled raw, nat or filter
// rule can test, so every rule matches both or
// neither and they get the same verdict.
type sourcePartition struct {
	atoms  int
	starts []netip.Addr // interval starts, ascending; the first is 0.0.0.0
	sigs   []string     // the class signature of each interval
	reps   []netip.Addr // one usable address per class, in address order
	named  []bool       // reps[i]'s class is inside some named set
	capped bool         // more classes than maxSourceClasses: reps is cut
}

// usableSource reports whether a WAN packet can carry a as its source.
func usableSource(a netip.Addr) bool {
	return a.IsValid() && a.Is4() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// partitionSources builds the partition from the sets the rules name. A
// set that covers all of IPv4 cannot tell sources apart and is left out.
// The cost is linear in the ranges of the named sets (after a sort), not
// in their product with the rules.
// d, when not nil, is the plan's decision: the classes are also cut by
// what the plan adds (the VPN subnet, which its rules name through
// wgboot-vpn, and the router's tunnel address, one of its own), so that
// they stay exact for the planned ruleset.
func partitionSources(r *Router, env firewall.Env, d *decision) *sourcePartition {
	p := sweepSets(namedSets(r, env, d))
	p.pickReps()
	return p
}

// namedSets returns the IPv4 ranges of every distinct source set an
// enabled raw, nat or filter rule can test (see partitionSources), each
// set (an "atom" of the partition) as its ranges in address order.
func namedSets(r *Router, env firewall.Env, d *decision) [][][2]netip.Addr {
	var extra []netip.Prefix
	var extraLocal []netip.Addr
	if d != nil {
		extra = append(extra, d.Subnet)
		extraLocal = append(extraLocal, d.RouterAddr.Addr())
	}
	var atoms [][][2]netip.Addr
	seen := map[string]bool{}
	addAtom := func(key string, s *firewall.AddrSet) {
		if seen[key] {
			return
		}
		seen[key] = true
		if coversIPv4(s) {
			return
		}
		var rs [][2]netip.Addr
		for lo, hi := range s.Ranges() {
			if !lo.Is4() {
				break
			}
			rs = append(rs, [2]netip.Addr{lo, hi})
		}
		if len(rs) > 0 {
			atoms = append(atoms, rs)
		}
	}
	list := func(name string) *firewall.AddrSet {
		if s, ok := env.Sets[name]; ok {
			return s
		}
		return firewall.NewAddrSet(env.AddressLists[name])
	}
	for _, rows := range [][]Row{r.Raw, r.NAT, r.Filter} {
		for _, row := range rows {
			if !enabled(row) {
				continue
			}
			if v := strings.TrimPrefix(row["src-address"], "!"); v != "" {
				// RouterOS takes one value here; a comma list is split
				// all the same, since more classes never hide one.
				addAtom("a:"+v, firewall.NewAddrSet(splitList(v)))
			}
			if l := strings.TrimPrefix(row["src-address-list"], "!"); l != "" {
				addAtom("l:"+l, list(l))
			}
		}
	}
	for _, p := range extra {
		if p.IsValid() {
			addAtom("x:"+p.String(), firewall.NewAddrSet([]string{p.Masked().String()}))
		}
	}
	// The router's own addresses set sources apart only for a rule that
	// matches src-address-type (local).
	if slices.ContainsFunc(slices.Concat(r.Raw, r.NAT, r.Filter), func(row Row) bool { return enabled(row) && row["src-address-type"] != "" }) {
		var local []string
		for _, a := range append(slices.Clone(env.LocalAddrs), extraLocal...) {
			if a.IsValid() {
				local = append(local, a.String())
			}
		}
		addAtom("local", firewall.NewAddrSet(local))
	}
	return atoms
}

// sweepSets cuts IPv4 into the intervals the atoms tell apart: it sweeps
// the range ends in address order; the set of atoms in effect between two
// consecutive ends is one interval's signature. Ends are kept as integers
// (2^32 for "after the last address") so the sort, the only superlinear
// step, compares machine words.
func sweepSets(atoms [][][2]netip.Addr) *sourcePartition {
	type event struct {
		at   uint64
		atom int32
		on   bool
	}
	u := func(a netip.Addr) uint64 { b := a.As4(); return uint64(binary.BigEndian.Uint32(b[:])) }
	n := 0
	for _, rs := range atoms {
		n += 2 * len(rs)
	}
	evs := make([]event, 0, n)
	for i, rs := range atoms {
		for _, r := range rs {
			evs = append(evs, event{u(r[0]), int32(i), true}, event{u(r[1]) + 1, int32(i), false})
		}
	}
	slices.SortFunc(evs, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	p := &sourcePartition{atoms: len(atoms), starts: make([]netip.Addr, 0, n/2+1), sigs: make([]string, 0, n/2+1)}
	cur := make([]byte, (len(atoms)+7)/8)
	zero := string(cur)
	p.starts, p.sigs = append(p.starts, netip.IPv4Unspecified()), append(p.sigs, zero)
	// Signatures recur (a blocklist's intervals alternate between two):
	// each distinct one is stored once.
	intern := map[string]string{zero: zero}
	sigOf := func() string {
		if s, ok := intern[string(cur)]; ok {
			return s
		}
		s := string(cur)
		intern[s] = s
		return s
	}
	for i := 0; i < len(evs); {
		at := evs[i].at
		for ; i < len(evs) && evs[i].at == at; i++ {
			if evs[i].on {
				cur[evs[i].atom/8] |= 1 << (evs[i].atom % 8)
			} else {
				cur[evs[i].atom/8] &^= 1 << (evs[i].atom % 8)
			}
		}
		if at > 0xffffffff {
			break
		}
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(at))
		start := netip.AddrFrom4(b)
		if last := len(p.starts) - 1; p.starts[last] == start {
			p.sigs[last] = sigOf()
		} else if p.sigs[last] != string(cur) {
			p.starts, p.sigs = append(p.starts, start), append(p.sigs, sigOf())
		}
	}
	return p
}

// pickReps picks one representative per signature: the first host inside
// the first interval of the class that a packet can carry, at most
// maxSourceClasses of them.
func (p *sourcePartition) pickReps() {
	zero := strings.Repeat("\x00", (p.atoms+7)/8) // the signature of no atom
	chosen := map[string]bool{}
	classes := 0
	for i, lo := range p.starts {
		sig := p.sigs[i]
		if chosen[sig] {
			continue
		}
		hi := netip.AddrFrom4([4]byte{255, 255, 255, 255})
		if i+1 < len(p.starts) {
			hi = p.starts[i+1].Prev()
		}
		rep := netip.Addr{}
		for _, c := range []netip.Addr{lo.Next(), lo, hi} {
			if c.IsValid() && c.Compare(lo) >= 0 && c.Compare(hi) <= 0 && usableSource(c) {
				rep = c
				break
			}
		}
		if !rep.IsValid() {
			continue // another interval of the class may hold one
		}
		chosen[sig] = true
		if classes++; classes > maxSourceClasses {
			p.capped = true
			continue
		}
		p.reps = append(p.reps, rep)
		p.named = append(p.named, sig != zero)
	}
}

// sig returns the signature of a's class.
func (p *sourcePartition) sig(a netip.Addr) string {
	i, found := slices.BinarySearchFunc(p.starts, a, func(s, a netip.Addr) int { return cmp.Compare(s.Compare(a), 0) })
	if !found {
		i--
	}
	return p.sigs[i]
}

// named reports whether a is inside a set some rule names.
func (p *sourcePartition) isNamed(a netip.Addr) bool {
	return strings.Trim(p.sig(a), "\x00") != ""
}

// coversIPv4 reports whether s holds every IPv4 address.
func coversIPv4(s *firewall.AddrSet) bool {
	for lo, hi := range s.Ranges() {
		return lo == netip.IPv4Unspecified() && hi == netip.AddrFrom4([4]byte{255, 255, 255, 255})
	}
	return false
}

// firstStatic returns the index of the first rule that is not dynamic
// (RouterOS places nothing above dynamic rules), or -1.
func firstStatic(rows []Row) int {
	for i, row := range rows {
		if !isTrue(row["dynamic"]) {
			return i
		}
	}
	return -1
}
