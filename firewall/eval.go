package firewall

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// evaluator carries one packet through the tables. It is created per call,
// so EvaluateInput is safe for concurrent use.
type evaluator struct {
	env    Env
	pkt    Packet
	proto  int  // IP protocol number of pkt, -1 when unknown
	natted bool // a dstnat rule translated the packet
	v      Verdict

	lists map[string]*AddrSet     // lists Env.Sets lacks, compiled on first use
	added map[string][]netip.Addr // addresses this evaluation added to a list
}

// chainResult is how a chain walk ended.
type chainResult struct {
	terminal bool   // a rule decided; otherwise the chain fell through or returned
	action   string // the deciding rule's action
	index    int    // the deciding rule's index in its table
	nat      bool   // the deciding rule translated the destination
}

// nonMatchers are rule properties that do not restrict which packets a
// rule matches: actions and their arguments, bookkeeping and read-only
// counters that an API print returns.
var nonMatchers = map[string]bool{
	"chain": true, "action": true, "jump-target": true, "log": true,
	"log-prefix": true, "comment": true, "disabled": true, ".id": true,
	".nextid": true, ".about": true, "dynamic": true, "invalid": true,
	"builtin": true, "bytes": true, "packets": true, "place-before": true,
	"reject-with": true, "address-list": true, "address-list-timeout": true,
	"to-addresses": true, "to-ports": true, "hw-offload": true,
	"randomise-ports": true, "numbers": true, "copy-from": true,
}

// noMatchFallback lists the actions for which a rule that cannot be fully
// evaluated is assumed NOT to match: assuming so never lets a packet
// through that the router might drop.
var noMatchFallback = map[string]bool{"accept": true, "notrack": true, "return": true}

func (e *evaluator) note(format string, args ...any) {
	e.v.Uncertain = true
	e.v.Notes = append(e.v.Notes, fmt.Sprintf(format, args...))
}

func (e *evaluator) chain(table string, rules []Rule, name string, depth int) chainResult {
	for i, r := range rules {
		if r["chain"] != name {
			continue
		}
		if d, ok := parseBool(r["disabled"]); d || !ok {
			if !ok {
				e.note("%s rule %d: disabled=%q is not a boolean, rule skipped", table, i, r["disabled"])
			}
			continue
		}
		action := r["action"]
		if action == "" {
			action = "accept" // RouterOS's default action in filter, nat and raw
		}
		if !e.match(table, i, r, action) {
			continue
		}
		if action == "jump" && depth+1 > maxJumpDepth {
			e.note("%s rule %d: jump nested deeper than %d (a loop RouterOS would refuse), treated as not matching", table, i, maxJumpDepth)
			continue
		}
		e.v.Hits = append(e.v.Hits, Hit{Table: table, Index: i})
		if lg, _ := parseBool(r["log"]); lg || action == "log" {
			e.log(r)
		}
		switch action {
		case "accept", "drop", "reject", "tarpit":
			return chainResult{terminal: true, action: action, index: i}
		case "notrack":
			if table == "raw" {
				return chainResult{terminal: true, action: action, index: i}
			}
			e.note("%s rule %d: action notrack is only valid in raw, ignored", table, i)
		case "jump":
			target := r["jump-target"]
			if target == "" {
				e.note("%s rule %d: action jump without jump-target, ignored", table, i)
				continue
			}
			if res := e.chain(table, rules, target, depth+1); res.terminal {
				return res
			}
		case "return":
			return chainResult{}
		case "log", "passthrough", "fasttrack-connection":
			// Count (and log) and go on with the next rule.
		case "add-src-to-address-list", "add-dst-to-address-list":
			// RouterOS adds the address at once, so later rules of the same
			// evaluation see it.
			e.addToList(r["address-list"], action == "add-src-to-address-list")
		case "dst-nat", "redirect", "netmap", "same":
			if table != "nat" {
				e.note("%s rule %d: action %s is only valid in nat, ignored", table, i, action)
				continue
			}
			before := netip.AddrPortFrom(e.pkt.Dst, e.pkt.DstPort)
			e.translate(i, r, action)
			// conntrack flags a connection dstnat only when the
			// translation changed its destination.
			changed := before != netip.AddrPortFrom(e.pkt.Dst, e.pkt.DstPort)
			e.natted = e.natted || changed
			return chainResult{terminal: true, action: action, index: i, nat: changed}
		case "src-nat", "masquerade", "endpoint-independent-nat":
			// Source translation does not change whether the packet is for
			// the router; it ends the nat chain like accept.
			return chainResult{terminal: true, action: action, index: i}
		default:
			e.note("%s rule %d: action %q is not modelled, rule treated as passthrough", table, i, action)
		}
	}
	return chainResult{}
}

// match reports whether every matcher of r matches the packet. A matcher
// that cannot be evaluated makes the verdict uncertain; the rule is then
// assumed to match unless its action is in noMatchFallback.
func (e *evaluator) match(table string, i int, r Rule, action string) bool {
	var unknown []string
	for k, val := range r {
		if nonMatchers[k] || val == "" {
			continue
		}
		m, why := e.matcher(k, val)
		switch m {
		case no:
			return false
		case unknown_:
			unknown = append(unknown, why)
		}
	}
	if len(unknown) == 0 {
		return true
	}
	slices.Sort(unknown)
	assume := !noMatchFallback[action]
	how := "assumed to match"
	if !assume {
		how = "assumed not to match"
	}
	e.note("%s rule %d: %s; %s", table, i, strings.Join(unknown, ", "), how)
	return assume
}

type tri int

const (
	no tri = iota
	yes
	unknown_
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

// neg applies a RouterOS "!" to a tri-state result.
func neg(n bool, t tri) tri {
	if !n || t == unknown_ {
		return t
	}
	if t == yes {
		return no
	}
	return yes
}

// matcher evaluates one property of a rule. why explains an unknown result.
//
// Long because: one case per RouterOS matcher property, each a few lines; a table of
// funcs would scatter them without making any one simpler.
func (e *evaluator) matcher(key, val string) (t tri, why string) {
	n, v := splitNeg(val)
	switch key {
	case "protocol":
		want, ok := parseProtocol(v)
		if !ok {
			return unknown_, fmt.Sprintf("protocol=%s is not a protocol", val)
		}
		return neg(n, triOf(e.proto >= 0 && want == e.proto)), ""
	case "src-port", "dst-port", "port":
		ports, err := parsePortList(v)
		if err != nil {
			return unknown_, fmt.Sprintf("%s=%s is not a port list", key, val)
		}
		if !hasPorts(e.proto) {
			// Ports exist only for tcp/udp-like packets; RouterOS refuses
			// such a rule without a protocol, so treat it as not matching.
			return no, ""
		}
		var in bool
		switch key {
		case "src-port":
			in = portsContain(ports, e.pkt.SrcPort)
		case "dst-port":
			in = portsContain(ports, e.pkt.DstPort)
		default:
			in = portsContain(ports, e.pkt.SrcPort) || portsContain(ports, e.pkt.DstPort)
		}
		return neg(n, triOf(in)), ""
	case "src-address", "dst-address":
		r, err := parseAddrSpec(v)
		if err != nil {
			return unknown_, fmt.Sprintf("%s=%s is not an address", key, val)
		}
		a := e.pkt.Src
		if key == "dst-address" {
			a = e.pkt.Dst
		}
		return neg(n, triOf(r.contains(a))), ""
	case "src-address-list", "dst-address-list":
		a := e.pkt.Src
		if key == "dst-address-list" {
			a = e.pkt.Dst
		}
		in, sure := e.inList(v, a)
		if !sure {
			return unknown_, fmt.Sprintf("address list %q has entries that are not addresses", v)
		}
		return neg(n, triOf(in)), ""
	case "in-interface":
		return neg(n, triOf(e.pkt.InInterface == v)), ""
	case "in-interface-list":
		return neg(n, triOf(e.inIfaceList(v, e.pkt.InInterface))), ""
	case "out-interface", "out-interface-list":
		// A packet for the router has no out-interface: such a rule never
		// matches on the input path, negated or not.
		return no, ""
	case "connection-state":
		st := e.pkt.State
		hit := false
		for s := range strings.SplitSeq(v, ",") {
			switch s {
			case "established", "related", "new", "invalid", "untracked":
			default:
				return unknown_, fmt.Sprintf("connection-state=%s has an unknown state", val)
			}
			hit = hit || s == st
		}
		return neg(n, triOf(hit)), ""
	case "connection-nat-state":
		hit := false
		for s := range strings.SplitSeq(v, ",") {
			switch s {
			case "dstnat":
				hit = hit || e.natted
			case "srcnat":
				// Source NAT happens after the input chain.
			default:
				return unknown_, fmt.Sprintf("connection-nat-state=%s has an unknown state", val)
			}
		}
		return neg(n, triOf(hit)), ""
	case "dst-address-type", "src-address-type":
		a := e.pkt.Src
		if key == "dst-address-type" {
			a = e.pkt.Dst
		}
		hit := false
		for s := range strings.SplitSeq(v, ",") {
			switch s {
			case "local":
				hit = hit || e.isLocal(a)
			case "unicast":
				hit = hit || (a.IsValid() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255}))
			case "multicast":
				hit = hit || a.IsMulticast()
			case "broadcast":
				if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
					hit = true
				} else if a.Is4() {
					// Subnet broadcast depends on the router's prefixes,
					// which Env does not carry.
					return unknown_, fmt.Sprintf("%s=%s needs the router's prefixes", key, val)
				}
			case "blackhole", "prohibit", "unreachable":
				// Route types: a packet for one of the router's addresses
				// is routed locally, never by such a route.
			default:
				return unknown_, fmt.Sprintf("%s=%s has an unknown type", key, val)
			}
		}
		return neg(n, triOf(hit)), ""
	case "ipsec-policy":
		dir, pol, ok := strings.Cut(v, ",")
		if !ok || (dir != "in" && dir != "out") || (pol != "none" && pol != "ipsec") {
			return unknown_, fmt.Sprintf("ipsec-policy=%s is not direction,policy", val)
		}
		// Our packets never arrive through IPsec, and a packet for the
		// router has no outbound policy to look up.
		return neg(n, triOf(dir == "in" && pol == "none")), ""
	}
	return unknown_, key + " is not modelled"
}

// inIfaceList reports whether iface is in the interface list name,
// including the built-in lists all, none, dynamic and static.
func (e *evaluator) inIfaceList(name, iface string) bool {
	switch name {
	case "all":
		return true
	case "none":
		return false
	case "dynamic", "static":
		dyn := false
		for _, in := range e.env.Interfaces {
			if in.Name == iface {
				dyn = in.Dynamic
				break
			}
		}
		return dyn == (name == "dynamic")
	}
	return slices.Contains(e.env.InterfaceLists[name], iface)
}

// inList reports whether a is in address list name. sure is false when the
// answer is no but the list holds entries that could not be parsed (DNS
// names the router would resolve).
func (e *evaluator) inList(name string, a netip.Addr) (in, sure bool) {
	s := e.list(name)
	if s.Contains(a) || slices.Contains(e.added[name], a.Unmap()) {
		return true, true
	}
	return false, !s.Unsure()
}

// list returns the compiled list name: from Env.Sets, or compiled once per
// evaluation from Env.AddressLists.
func (e *evaluator) list(name string) *AddrSet {
	if s, ok := e.env.Sets[name]; ok {
		return s
	}
	if s, ok := e.lists[name]; ok {
		return s
	}
	if e.lists == nil {
		e.lists = map[string]*AddrSet{}
	}
	s := NewAddrSet(e.env.AddressLists[name])
	e.lists[name] = s
	return s
}

// addToList records an add-src/dst-to-address-list for the rest of this
// evaluation; the compiled lists, shared between evaluations, stay as
// they are.
func (e *evaluator) addToList(name string, src bool) {
	if name == "" {
		return
	}
	a := e.pkt.Dst
	if src {
		a = e.pkt.Src
	}
	if !a.IsValid() {
		return
	}
	if e.added == nil {
		e.added = map[string][]netip.Addr{}
	}
	e.added[name] = append(e.added[name], a.Unmap())
}

// translate applies a dstnat action to the packet.
func (e *evaluator) translate(i int, r Rule, action string) {
	if tp := r["to-ports"]; tp != "" && hasPorts(e.proto) {
		if ps, err := parsePortList(tp); err == nil {
			e.pkt.DstPort = ps[0].lo
		} else {
			e.note("nat rule %d: to-ports=%s is not a port list, port unchanged", i, tp)
		}
	}
	if action == "redirect" {
		// redirect delivers to the router itself, on the address of the
		// incoming interface; any local address of the family stands in.
		if !e.isLocal(e.pkt.Dst) {
			for _, l := range e.env.LocalAddrs {
				if l.Unmap().Is4() == e.pkt.Dst.Unmap().Is4() {
					e.pkt.Dst = l.Unmap()
					return
				}
			}
			e.note("nat rule %d: redirect but the router has no local address of the packet's family", i)
		}
		return
	}
	ta := r["to-addresses"]
	if ta == "" {
		return
	}
	if action == "netmap" && strings.Contains(ta, "/") {
		if p, err := netip.ParsePrefix(ta); err == nil && p.Addr().Is4() == e.pkt.Dst.Unmap().Is4() {
			e.pkt.Dst = netmap(p.Masked(), e.pkt.Dst.Unmap())
			return
		}
	}
	ar, err := parseAddrSpec(ta)
	if err != nil || ar.lo.Is4() != e.pkt.Dst.Unmap().Is4() {
		e.note("nat rule %d: to-addresses=%s is not an address of the packet's family, address unchanged", i, ta)
		return
	}
	// RouterOS picks one address of a range per connection; the first
	// stands in for all of them.
	if ar.lo != ar.hi {
		e.note("nat rule %d: to-addresses=%s is a range, first address assumed", i, ta)
	}
	e.pkt.Dst = ar.lo
}

// netmap keeps the host bits of a and takes the network bits of p.
func netmap(p netip.Prefix, a netip.Addr) netip.Addr {
	nb, ab := p.Addr().AsSlice(), a.AsSlice()
	for bit := 0; bit < p.Bits(); bit++ {
		m := byte(0x80 >> (bit % 8))
		ab[bit/8] = ab[bit/8]&^m | nb[bit/8]&m
	}
	out, _ := netip.AddrFromSlice(ab)
	return out
}

// log appends the line RouterOS writes for a matching rule with log=yes or
// action=log.
func (e *evaluator) log(r Rule) {
	e.v.Logs = append(e.v.Logs, Log{Prefix: r["log-prefix"], Message: e.logMessage(r["chain"])})
}

func (e *evaluator) logMessage(chain string) string {
	p := e.pkt
	var b strings.Builder
	fmt.Fprintf(&b, "%s: in:%s out:(unknown 0), ", chain, p.InInterface)
	switch {
	case e.proto == 6:
		flags := "ACK"
		if p.State == "new" || p.State == "untracked" {
			flags = "SYN"
		}
		fmt.Fprintf(&b, "proto TCP (%s), %s->%s", flags, hostPort(p.Src, p.SrcPort), hostPort(p.Dst, p.DstPort))
	case hasPorts(e.proto):
		fmt.Fprintf(&b, "proto %s, %s->%s", strings.ToUpper(protoName(e.proto, p.Protocol)), hostPort(p.Src, p.SrcPort), hostPort(p.Dst, p.DstPort))
	case e.proto == 1:
		fmt.Fprintf(&b, "proto ICMP (type 8, code 0), %s->%s", p.Src, p.Dst)
	default:
		fmt.Fprintf(&b, "proto %s, %s->%s", strings.ToUpper(protoName(e.proto, p.Protocol)), p.Src, p.Dst)
	}
	return b.String()
}

func protoName(n int, given string) string {
	for name, num := range protocolNumbers {
		if num == n && name != "ipencap" && name != "ip-encap" {
			return name
		}
	}
	if n == 4 {
		return "ipencap"
	}
	if n < 0 {
		return given
	}
	return fmt.Sprint(n)
}

func hostPort(a netip.Addr, port uint16) string {
	return netip.AddrPortFrom(a, port).String()
}
