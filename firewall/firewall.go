package firewall

import (
	"net/netip"
)

// Rule is one entry of /ip firewall filter, nat or raw, with RouterOS
// property names and RouterOS value text ("chain", "action", "protocol",
// "dst-port", "src-address-list", "in-interface-list", "connection-state",
// "disabled", "log", "log-prefix", ".id", "comment", ...).
type Rule map[string]string

// Tables is a router's ruleset in evaluation order (dynamic rules included).
type Tables struct{ Filter, NAT, Raw []Rule }

// Env is everything outside the rules that matching needs.
type Env struct {
	// Interfaces lists every interface: name, type ("ether", "bridge",
	// "vlan", "pppoe-out", "wg") and whether it is dynamic (for the
	// built-in interface lists "dynamic" and "static").
	Interfaces []Interface
	// InterfaceLists maps a list name to its member interface names, with
	// include/exclude already resolved (ResolveInterfaceLists).
	InterfaceLists map[string][]string
	// AddressLists maps a list name to its enabled entries (address, prefix
	// or a-b range). Entries that are not addresses (DNS names) cannot be
	// evaluated and make a verdict that consults them uncertain.
	AddressLists map[string][]string
	// Sets, when set, holds the address lists already compiled
	// (CompileLists); a list found here is not read from AddressLists.
	// Callers that evaluate many packets against one snapshot compile once
	// so that each evaluation costs rules x log(entries), not rules x
	// entries.
	Sets map[string]*AddrSet
	// LocalAddrs are the router's own addresses (dst-address-type=local,
	// and the test whether a dstnat rule diverted a packet away).
	LocalAddrs []netip.Addr
}

// Interface is one router interface as matching needs it.
type Interface struct {
	Name, Type string
	Dynamic    bool
}

// Packet is the first packet of a flow arriving at the router.
type Packet struct {
	InInterface      string
	Src, Dst         netip.Addr
	Protocol         string // "tcp", "udp", "icmp" (any name or number RouterOS knows)
	SrcPort, DstPort uint16
	State            string // "new" (default when empty), "established", "related", "invalid", "untracked"
}

// Verdict is the outcome of the input path for a packet (raw prerouting,
// dstnat, then filter input).
type Verdict struct {
	Action string // "accept", "drop", "reject" (tarpit counts as drop)
	Stage  string // "raw", "dstnat", "filter", "default" (no rule matched: accept)
	Table  string // "raw", "nat", "filter"; "" for the default
	Index  int    // index of the deciding rule in that table, -1 for default
	Hits   []Hit  // every rule whose counters increment, in order (log, passthrough, jump, the deciding rule, ...)
	Logs   []Log  // log lines the evaluation writes (action=log, or log=yes on a matching rule)
	DstNAT bool   // a dstnat rule diverted the packet away from the router (to an address that is not local)

	// Uncertain is true when the verdict depends on something this package
	// does not model (a matcher such as limit or tcp-flags, an address-list
	// entry that is a DNS name, a malformed value, a jump loop). Such a rule
	// is assumed to match when its action is anything but accept, notrack
	// or return, and assumed not to match otherwise: the evaluator errs on
	// the side of "the packet does not get through".
	Uncertain bool
	// Notes says, for a technician, why the verdict is uncertain
	// ("filter rule 3: limit is not modelled, assumed to match").
	Notes []string
}

// Hit names one rule whose counters a packet increments.
type Hit struct {
	Table string
	Index int
}

// Log is one line the router would write to its log. Message is in
// RouterOS style: "input: in:ether1 out:(unknown 0), proto TCP (SYN), 203.0.113.50:40000->192.0.2.1:8729".
type Log struct{ Prefix, Message string }

// maxJumpDepth bounds nested jumps. RouterOS refuses to add a rule that
// creates a jump loop, so a deeper nesting can only come from a ruleset the
// router would not hold; such a jump is treated as not matching and the
// verdict is marked uncertain.
const maxJumpDepth = 16

// EvaluateInput runs packet p through the input path of a router holding t:
// raw prerouting, nat dstnat (only for new connections), then filter input.
// The first terminal rule decides; a built-in chain with no matching rule
// accepts. It never fails: what it cannot evaluate it reports in
// Verdict.Uncertain and Verdict.Notes.
func EvaluateInput(t Tables, env Env, p Packet) Verdict {
	if p.State == "" {
		p.State = "new"
	}
	e := &evaluator{env: env, pkt: p, proto: -1}
	if n, ok := parseProtocol(p.Protocol); ok {
		e.proto = n
	}
	v := &e.v

	// raw prerouting: accept and notrack leave the table, drop is final.
	if res := e.chain("raw", t.Raw, "prerouting", 0); res.terminal {
		switch res.action {
		case "drop", "tarpit", "reject":
			v.Action, v.Stage, v.Table, v.Index = "drop", "raw", "raw", res.index
			return e.done()
		case "notrack":
			e.pkt.State = "untracked"
		}
	}

	// dstnat sees only the first packet of a tracked connection; later
	// packets follow the translation conntrack remembers.
	if e.pkt.State == "new" {
		if res := e.chain("nat", t.NAT, "dstnat", 0); res.terminal && res.nat {
			if !e.isLocal(e.pkt.Dst) {
				v.Action, v.Stage, v.Table, v.Index, v.DstNAT = "drop", "dstnat", "nat", res.index, true
				return e.done()
			}
		}
	}

	if res := e.chain("filter", t.Filter, "input", 0); res.terminal {
		v.Action, v.Stage, v.Table, v.Index = res.action, "filter", "filter", res.index
		switch res.action {
		case "tarpit":
			v.Action = "drop"
		case "accept", "drop", "reject":
		default:
			// A terminal action that is not one of the above in filter
			// (e.g. a NAT action in the wrong table) cannot be added on a
			// router; treat it as drop and say so.
			v.Action = "drop"
			e.note("filter rule %d: action %q is not valid in filter, assumed drop", res.index, res.action)
		}
		return e.done()
	}
	v.Action, v.Stage, v.Table, v.Index = "accept", "default", "", -1
	return e.done()
}

func (e *evaluator) done() Verdict { return e.v }

func (e *evaluator) isLocal(a netip.Addr) bool {
	a = a.Unmap()
	for _, l := range e.env.LocalAddrs {
		if l.Unmap() == a {
			return true
		}
	}
	return false
}
