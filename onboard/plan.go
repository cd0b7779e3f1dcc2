package onboard

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/wgboot/wgboot/firewall"
)

// planned is a plan with everything Apply needs that the public Plan does
// not show.
type planned struct {
	Decision *decision
	Ops      []op
	LocalPub string // technician's public key (base64)
	AllowKey string // the rule VPN→API is accepted by: "@key" or an existing .id
	settings Settings
}

// apiOnlyRule reports whether a filter rule accepts only API ports from
// source addresses, the rule the spec says to move to the address list.
func apiOnlyRule(row Row, apiPorts map[uint16]bool) bool {
	if row["chain"] != "input" || row["action"] != "accept" || !enabled(row) || isTrue(row["dynamic"]) {
		return false
	}
	if row["protocol"] != "tcp" && row["protocol"] != "6" {
		return false
	}
	src := row["src-address"]
	if src == "" || strings.HasPrefix(src, "!") || row["dst-port"] == "" {
		return false
	}
	meta := map[string]bool{".id": true, ".nextid": true, ".about": true, "chain": true, "action": true, "protocol": true,
		"dst-port": true, "src-address": true, "comment": true, "disabled": true, "dynamic": true, "invalid": true,
		"bytes": true, "packets": true, "log": true, "log-prefix": true}
	for k, v := range row {
		if meta[k] || v == "" {
			continue
		}
		return false
	}
	for _, p := range strings.Split(row["dst-port"], ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(p), "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return false
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil {
				return false
			}
		}
		for x := a; x <= b; x++ {
			if !apiPorts[uint16(x)] {
				return false
			}
		}
	}
	return true
}

func rulePorts(row Row) map[uint16]bool {
	out := map[uint16]bool{}
	for _, p := range strings.Split(row["dst-port"], ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(p), "-")
		a, _ := strconv.ParseUint(lo, 10, 16)
		b := a
		if isRange {
			b, _ = strconv.ParseUint(hi, 10, 16)
		}
		for x := a; x <= b && x != 0; x++ {
			out[uint16(x)] = true
		}
	}
	return out
}

// anchor returns the index in the filter table of the input-chain rule that
// decided v (the rule itself, or the jump that led to it), or -1 when no
// filter rule decided. The index is moved below any leading dynamic rules:
// nothing may be placed above them.
func anchor(rows []Row, v firewall.Verdict) int {
	if v.Table != "filter" || v.Index < 0 || v.Index >= len(rows) {
		return -1
	}
	idx := -1
	if rows[v.Index]["chain"] == "input" {
		idx = v.Index
	} else {
		for i := len(v.Hits) - 1; i >= 0; i-- {
			h := v.Hits[i]
			if h.Table == "filter" && h.Index < len(rows) && rows[h.Index]["chain"] == "input" {
				idx = h.Index
				break
			}
		}
	}
	if idx < 0 {
		return -1
	}
	for idx < len(rows) && isTrue(rows[idx]["dynamic"]) {
		idx++
	}
	if idx >= len(rows) {
		return -1
	}
	return idx
}

// probe is one packet of the before/after table.
//
// WAN probes come from a neutral source (one no rule names, standing for an
// arbitrary internet host) and, for the API, from a representative of every
// source class the rules can tell apart ("wan-api-src"): the hardening must
// hold whatever source a WAN packet claims. Named sources also probe the
// WireGuard port ("wan-wg-src"), only to report deliberate per-host blocks.
type probe struct {
	Label  string
	Kind   string // "wan-api", "wan-api-src", "lan-api", "vpn-api", "wan-wg", "wan-wg-src", "lan-wg", "other", "wan-api6", "wan-api6-src"
	Packet firewall.Packet
	V6     bool
	Use    bool // the API port this run talks to
	// Est marks the established-state twin of a tunnel probe: a rule
	// that drops established packets from outside the LAN lets the first
	// packet through and then kills the session, so both must pass.
	Est bool
}

func (d *decision) probes(r *Router) []probe {
	ps, _ := d.probesOn(r, r.compiled())
	return ps
}

// probesOn is probes for r compiled as fw; capped reports that the rules
// tell more source classes apart than maxSourceClasses.
//
// Long because: one block per kind of probe packet (WAN, accepted sources,
// source classes, LAN, tunnel), all appending to the same list.
func (d *decision) probesOn(r *Router, fw *fwView) (ps []probe, capped bool) {
	env := fw.env
	part := partitionSources(r, env, d)
	neutral := neutralFrom(r, env, part)
	neutral6, classes6 := neutralSource6(r), sourceClasses6(r)
	dstOf := func(iface string) netip.Addr {
		if a := r.ifaceAddrs(iface); len(a) > 0 {
			return a[0].Addr()
		}
		for _, a := range r.Addresses {
			if p, ok := ifacePrefix(a["address"]); ok && p.Addr().Is4() {
				return p.Addr()
			}
		}
		return netip.MustParseAddr("192.0.2.1")
	}
	lanSrc := func(iface string) netip.Addr {
		if a := r.ifaceAddrs(iface); len(a) > 0 {
			p := a[0].Masked()
			src := p.Addr().Next()
			for i := 0; i < 200 && (src == a[0].Addr()) && p.Contains(src.Next()); i++ {
				src = src.Next()
			}
			// Prefer an address that is not the router's own.
			if src == a[0].Addr() || !p.Contains(src) {
				return a[0].Addr()
			}
			for n := src.Next(); n.IsValid() && p.Contains(n) && n != a[0].Addr(); n = n.Next() {
				src = n
				if n.As4()[3] >= 100 {
					break
				}
			}
			return src
		}
		return netip.MustParseAddr("192.168.88.100")
	}
	for _, w := range d.WANs {
		for _, a := range d.API {
			ps = append(ps, probe{Label: fmt.Sprintf("WAN→API %s tcp/%d", w.Name, a.Port), Kind: "wan-api", Use: a.Port == d.UsePort,
				Packet: firewall.Packet{InInterface: w.Name, Src: neutral, Dst: dstOf(w.Name), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
		}
	}
	// Sources some accept rule admits by address: a WAN packet claiming one
	// of them must be dropped too, so they get probes of their own.
	accepted := acceptedSources(r)
	if len(accepted) > maxAcceptedProbes {
		accepted = accepted[:maxAcceptedProbes]
	}
	for _, src := range accepted {
		for _, w := range d.WANs {
			for _, a := range d.API {
				ps = append(ps, probe{Label: fmt.Sprintf("WAN→API %s tcp/%d from %s", w.Name, a.Port, src), Kind: "wan-api", Use: a.Port == d.UsePort,
					Packet: firewall.Packet{InInterface: w.Name, Src: src, Dst: dstOf(w.Name), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
			}
		}
	}
	// Every other source class (a drop of an allowlist followed by a
	// blanket WAN accept leaves the API open to everyone outside the list),
	// and the VPN's own addresses, which the plan's allow rule admits by
	// address list.
	classes := slices.Clone(part.reps)
	if d.LocalAddr.IsValid() {
		classes = append(classes, d.LocalAddr.Addr(), d.Subnet.Addr().Prev(), lastOf(d.Subnet).Next())
	}
	for _, src := range classes {
		if src == neutral || slices.Contains(accepted, src) {
			continue
		}
		for _, w := range d.WANs {
			for _, a := range d.API {
				ps = append(ps, probe{Label: fmt.Sprintf("WAN→API %s tcp/%d from %s", w.Name, a.Port, src), Kind: "wan-api-src", Use: a.Port == d.UsePort,
					Packet: firewall.Packet{InInterface: w.Name, Src: src, Dst: dstOf(w.Name), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
			}
		}
	}
	for _, l := range d.LANs {
		for _, a := range d.API {
			ps = append(ps, probe{Label: fmt.Sprintf("LAN→API %s tcp/%d", l, a.Port), Kind: "lan-api", Use: a.Port == d.UsePort,
				Packet: firewall.Packet{InInterface: l, Src: lanSrc(l), Dst: dstOf(l), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
		}
	}
	for _, a := range d.API {
		ps = append(ps, probe{Label: fmt.Sprintf("VPN→API %s tcp/%d", d.IfName, a.Port), Kind: "vpn-api", Use: a.Port == d.UsePort,
			Packet: firewall.Packet{InInterface: d.IfName, Src: d.LocalAddr.Addr(), Dst: d.RouterAddr.Addr(), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
	}
	for _, a := range d.API {
		ps = append(ps, probe{Label: fmt.Sprintf("VPN→API %s tcp/%d established", d.IfName, a.Port), Kind: "vpn-api", Use: a.Port == d.UsePort, Est: true,
			Packet: firewall.Packet{InInterface: d.IfName, Src: d.LocalAddr.Addr(), Dst: d.RouterAddr.Addr(), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port, State: "established"}})
	}
	for _, w := range d.WANs {
		ps = append(ps, probe{Label: fmt.Sprintf("WAN→WireGuard %s udp/%d", w.Name, d.ListenPort), Kind: "wan-wg",
			Packet: firewall.Packet{InInterface: w.Name, Src: neutral, Dst: dstOf(w.Name), Protocol: "udp", SrcPort: 40000, DstPort: uint16(d.ListenPort)}})
		ps = append(ps, probe{Label: fmt.Sprintf("WAN→WireGuard %s udp/%d established", w.Name, d.ListenPort), Kind: "wan-wg", Est: true,
			Packet: firewall.Packet{InInterface: w.Name, Src: neutral, Dst: dstOf(w.Name), Protocol: "udp", SrcPort: 40000, DstPort: uint16(d.ListenPort), State: "established"}})
		for i, src := range part.reps {
			if src == neutral || !part.named[i] {
				continue
			}
			ps = append(ps, probe{Label: fmt.Sprintf("WAN→WireGuard %s udp/%d from %s", w.Name, d.ListenPort, src), Kind: "wan-wg-src",
				Packet: firewall.Packet{InInterface: w.Name, Src: src, Dst: dstOf(w.Name), Protocol: "udp", SrcPort: 40000, DstPort: uint16(d.ListenPort)}})
		}
	}
	for _, l := range d.LANs {
		ps = append(ps, probe{Label: fmt.Sprintf("LAN→WireGuard %s udp/%d", l, d.ListenPort), Kind: "lan-wg",
			Packet: firewall.Packet{InInterface: l, Src: lanSrc(l), Dst: dstOf(l), Protocol: "udp", SrcPort: 40000, DstPort: uint16(d.ListenPort)}})
	}
	// Non-API probes: their verdicts must not change.
	type other struct {
		name, proto string
		port        uint16
	}
	others := []other{{"ssh", "tcp", 22}, {"winbox", "tcp", 8291}, {"www", "tcp", 80}, {"icmp", "icmp", 0}}
	for _, wg := range r.WireGuard {
		if p, err := strconv.ParseUint(wg["listen-port"], 10, 16); err == nil && !wgbootTagged(wg) {
			others = append(others, other{"WireGuard " + wg["name"], "udp", uint16(p)})
		}
	}
	for _, side := range []struct {
		label  string
		ifaces []string
		wan    bool
	}{{"WAN", wanNames(d.WANs), true}, {"LAN", d.LANs, false}} {
		for _, i := range side.ifaces {
			src := neutral
			if !side.wan {
				src = lanSrc(i)
			}
			for _, o := range others {
				label := fmt.Sprintf("%s→%s %s", side.label, o.name, i)
				if o.port != 0 {
					label += fmt.Sprintf(" %s/%d", o.proto, o.port)
				}
				ps = append(ps, probe{Label: label, Kind: "other",
					Packet: firewall.Packet{InInterface: i, Src: src, Dst: dstOf(i), Protocol: o.proto, SrcPort: 40000, DstPort: o.port}})
			}
		}
	}
	for _, w := range d.WANs {
		if len(w.Addr6) == 0 {
			continue
		}
		for _, a := range d.API {
			ps = append(ps, probe{Label: fmt.Sprintf("WAN→API %s IPv6 tcp/%d", w.Name, a.Port), Kind: "wan-api6", V6: true,
				Packet: firewall.Packet{InInterface: w.Name, Src: neutral6, Dst: w.Addr6[0].Addr(), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
		}
		for _, src := range classes6 {
			if src == neutral6 {
				continue
			}
			for _, a := range d.API {
				ps = append(ps, probe{Label: fmt.Sprintf("WAN→API %s IPv6 tcp/%d from %s", w.Name, a.Port, src), Kind: "wan-api6-src", V6: true, Use: a.Port == d.UsePort,
					Packet: firewall.Packet{InInterface: w.Name, Src: src, Dst: w.Addr6[0].Addr(), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
			}
		}
	}
	return ps, part.capped
}

func wanNames(ws []wanIface) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Name)
	}
	return out
}

// evaluate runs a probe on a snapshot.
func evaluate(r *Router, p probe) firewall.Verdict {
	return r.compiled().eval(p)
}

func verdictText(v firewall.Verdict) string {
	s := v.Action
	if v.DstNAT {
		s = "dstnat"
	}
	if v.Uncertain {
		s += "?"
	}
	return s
}

// makePlan turns a decision into ordered ops and checks them with the
// evaluator. It is pure. When moving an API-only rule to the address list
// would fail the check (it was dead behind a drop, so moving it would open
// the API to its sources), that rule is left alone and a new allow rule is
// planned instead.
func makePlan(r *Router, d *decision, s Settings, localPub string) (*planned, *Plan, error) {
	pl, p, err := makePlanWith(r, d, s, localPub, true)
	var ce *CheckError
	if errors.As(err, &ce) && ce.moved {
		if pl2, p2, err2 := makePlanWith(r, d, s, localPub, false); err2 == nil {
			return pl2, p2, nil
		}
	}
	return pl, p, err
}

// makePlanWith builds the plan; moveRules says whether API-only rules move
// to the address list (see makePlan).
//
// Long because: each step places its rules against the simulation of the
// steps before it (anchors, the ops so far, the running ruleset), so the
// steps read in order here rather than threading that state through helpers.
func makePlanWith(r *Router, d *decision, s Settings, localPub string, moveRules bool) (*planned, *Plan, error) {
	run := d.RunID
	pl := &planned{Decision: d, LocalPub: localPub}
	var ops []op
	add := func(o op) { ops = append(ops, o) }

	add(op{Key: "wg-interface", Step: StepApply, Desc: "WireGuard interface " + d.IfName + " on UDP " + strconv.Itoa(d.ListenPort),
		Menu: "/interface wireguard", Verb: "add", Args: []kv{{"listen-port", strconv.Itoa(d.ListenPort)}, {"name", d.IfName}}})
	add(op{Key: "wg-address", Step: StepApply, Desc: "router tunnel address " + d.RouterAddr.String(),
		Menu: "/ip address", Verb: "add", Args: []kv{{"address", d.RouterAddr.String()}, {"interface", d.IfName}}})
	add(op{Key: "wg-peer", Step: StepApply, Desc: "technician peer " + netip.PrefixFrom(d.LocalAddr.Addr(), 32).String(),
		Menu: "/interface wireguard peers", Verb: "add", Args: []kv{{"allowed-address", netip.PrefixFrom(d.LocalAddr.Addr(), 32).String()}, {"interface", d.IfName}, {"public-key", localPub}}})
	add(op{Key: "vpn-list", Step: StepApply, Desc: "VPN subnet in address list " + vpnList,
		Menu: "/ip firewall address-list", Verb: "add", Args: []kv{{"address", d.Subnet.String()}, {"list", vpnList}}})

	// Each snapshot is compiled once for all the probes evaluated on it.
	fwR := r.compiled()
	probes, capped := d.probesOn(r, fwR)
	views := map[*Router]*fwView{r: fwR}
	ev := func(x *Router, p probe) firewall.Verdict {
		v, ok := views[x]
		if !ok {
			v = x.compiledFrom(fwR)
			views[x] = v
		}
		return v.eval(p)
	}
	cur, err := simulate(r, run, ops)
	if err != nil {
		return nil, nil, err
	}

	// WireGuard UDP: accept before whatever would drop it, from WAN and LAN.
	wgAt := -1
	for _, p := range probes {
		if p.Kind != "wan-wg" && p.Kind != "lan-wg" {
			continue
		}
		v := ev(cur, p)
		if v.Action == "accept" {
			continue
		}
		if a := anchor(cur.Filter, v); a >= 0 && (wgAt < 0 || a < wgAt) {
			wgAt = a
		}
	}
	if wgAt >= 0 {
		add(op{Key: "wg-accept", Step: StepApply, Desc: "accept WireGuard UDP " + strconv.Itoa(d.ListenPort),
			Menu: "/ip firewall filter", Verb: "add", Before: cur.Filter[wgAt][".id"],
			Args: []kv{{"action", "accept"}, {"chain", "input"}, {"dst-port", strconv.Itoa(d.ListenPort)}, {"protocol", "udp"}}})
	}

	// The API allow rule moves to the address list.
	apiPorts := map[uint16]bool{}
	var portList []string
	for _, a := range d.API {
		apiPorts[a.Port] = true
		portList = append(portList, strconv.Itoa(int(a.Port)))
	}
	slices.Sort(portList)
	var candidates []Row
	for _, row := range r.Filter {
		if moveRules && apiOnlyRule(row, apiPorts) {
			candidates = append(candidates, row)
		}
	}
	for i, row := range candidates {
		id := row[".id"]
		add(op{Key: fmt.Sprintf("src-%d", i+1), Step: StepApply, Desc: "sources of the API rule " + id + " into " + vpnList,
			Menu: "/ip firewall address-list", Verb: "add", Args: []kv{{"address", row["src-address"]}, {"list", vpnList}}})
		add(op{Key: fmt.Sprintf("api-rule-%d", i+1), Step: StepApply, Desc: "API rule " + id + " matches " + vpnList + " instead of " + row["src-address"],
			Menu: "/ip firewall filter", Verb: "set", ID: id, Args: []kv{{"src-address", ""}, {"src-address-list", vpnList}},
			Old: []kv{{"src-address", row["src-address"]}, {"src-address-list", ""}}})
	}
	if cur, err = simulate(r, run, ops); err != nil {
		return nil, nil, err
	}
	vpnProbe := func() probe {
		for _, p := range probes {
			if p.Kind == "vpn-api" && p.Use && !p.Est {
				return p
			}
		}
		return probe{}
	}()
	v := ev(cur, vpnProbe)
	at := anchor(cur.Filter, v)
	// The allow rule must also sit above whatever denies the tunnel the
	// other API port. A deny inside a user chain anchors at the jump that
	// leads there: the allow rule goes before the jump rather than into the
	// user's chain, so the chain itself is left as it was.
	for _, p := range probes {
		if p.Kind != "vpn-api" || (p.Use && !p.Est) {
			continue
		}
		if pv := ev(cur, p); pv.Action != "accept" {
			if a := anchor(cur.Filter, pv); a >= 0 && (at < 0 || a < at) {
				at = a
			}
		}
	}
	allow := ""
	if at >= 0 && slices.ContainsFunc(candidates, func(c Row) bool { return c[".id"] == cur.Filter[at][".id"] }) && v.Action == "accept" {
		allow = cur.Filter[at][".id"]
	}
	if allow == "" {
		for i, c := range candidates {
			if !rulePorts(c)[d.UsePort] {
				continue
			}
			ci := indexOfID(cur.Filter, c[".id"])
			if at >= 0 && ci > at {
				oldNext := ""
				if oi := indexOfID(r.Filter, c[".id"]); oi+1 < len(r.Filter) {
					oldNext = r.Filter[oi+1][".id"]
				}
				add(op{Key: fmt.Sprintf("api-move-%d", i+1), Step: StepApply, Desc: "API rule " + c[".id"] + " moved above the rule that would drop the tunnel",
					Menu: "/ip firewall filter", Verb: "move", ID: c[".id"], Before: cur.Filter[at][".id"], OldNext: oldNext})
			}
			allow = c[".id"]
			break
		}
	}
	if allow == "" {
		before := ""
		if at >= 0 {
			before = cur.Filter[at][".id"]
		}
		add(op{Key: "api-allow", Step: StepApply, Desc: "accept the API from " + vpnList,
			Menu: "/ip firewall filter", Verb: "add", Before: before,
			Args: []kv{{"action", "accept"}, {"chain", "input"}, {"dst-port", strings.Join(portList, ",")}, {"protocol", "tcp"}, {"src-address-list", vpnList}}})
		allow = "@api-allow"
	}
	pl.AllowKey = allow
	if cur, err = simulate(r, run, ops); err != nil {
		return nil, nil, err
	}
	// A moved rule may cover only some API ports: the tunnel gets the
	// others by a rule of its own, above whatever still denies them. It is
	// bound to the tunnel interface because the list now also holds the
	// moved rule's sources, whose verdict on those ports must not change.
	if allow != "@api-allow" {
		rest := -1
		var restPorts []string
		for _, p := range probes {
			if p.Kind != "vpn-api" {
				continue
			}
			if pv := ev(cur, p); pv.Action != "accept" {
				if port := strconv.Itoa(int(p.Packet.DstPort)); !slices.Contains(restPorts, port) {
					restPorts = append(restPorts, port)
				}
				if a := anchor(cur.Filter, pv); a >= 0 && (rest < 0 || a < rest) {
					rest = a
				}
			}
		}
		slices.Sort(restPorts)
		if rest >= 0 {
			add(op{Key: "api-allow-tunnel", Step: StepApply, Desc: "accept the API ports " + strings.Join(restPorts, ",") + " through the tunnel",
				Menu: "/ip firewall filter", Verb: "add", Before: cur.Filter[rest][".id"],
				Args: []kv{{"action", "accept"}, {"chain", "input"}, {"dst-port", strings.Join(restPorts, ",")}, {"in-interface", d.IfName}, {"protocol", "tcp"}, {"src-address-list", vpnList}}})
			if cur, err = simulate(r, run, ops); err != nil {
				return nil, nil, err
			}
		}
	}

	// /ip service and /user address restrictions must admit the tunnel.
	for _, svc := range d.API {
		if svc.Address == "" || addrAdmits(svc.Address, d.LocalAddr.Addr()) {
			continue
		}
		add(op{Key: "service-" + svc.Name, Step: StepApply, Desc: "/ip service " + svc.Name + " admits " + d.Subnet.String(),
			Menu: "/ip service", Verb: "set", ID: svc.ID, Name: svc.Name,
			Args: []kv{{"address", svc.Address + "," + d.Subnet.String()}}, Old: []kv{{"address", svc.Address}}})
	}
	for _, u := range r.Users {
		if u["name"] != d.User || u["address"] == "" || addrAdmits(u["address"], d.LocalAddr.Addr()) {
			continue
		}
		add(op{Key: "user-address", Step: StepApply, Desc: "user " + u["name"] + " may log in from " + d.Subnet.String(),
			Menu: "/user", Verb: "set", ID: u[".id"], Name: u["name"],
			Args: []kv{{"address", u["address"] + "," + d.Subnet.String()}}, Old: []kv{{"address", u["address"]}}})
	}
	mid, err := simulate(r, run, ops)
	if err != nil {
		return nil, nil, err
	}

	// Harden: drop every API port arriving on each WAN, above the allow rule
	// and above anything that would accept WAN→API.
	hardenBefore := allow
	hb := indexOfID(mid.Filter, allow)
	for _, p := range probes {
		if p.Kind != "wan-api" && p.Kind != "wan-api-src" {
			continue
		}
		v := ev(mid, p)
		if v.Action != "accept" {
			continue
		}
		if a := anchor(mid.Filter, v); a >= 0 && a < hb {
			hb = a
			hardenBefore = mid.Filter[a][".id"]
		}
	}
	// The evaluator assumes an accept with a matcher it does not model
	// (limit, tcp-flags, ...) does not match: for hardening that is the
	// unsafe side, so an input accept that might match a WAN→API probe
	// counts as accepting it. (Such rules inside user chains are not
	// followed.)
	if a := mayAcceptWAN(mid.compiledFrom(fwR), mid, probes, hb); a >= 0 {
		hb = a
		hardenBefore = mid.Filter[a][".id"]
	}
	// Too many source classes to probe them all (maxSourceClasses): the
	// drop goes above every rule wgboot can place before, so no rule can
	// accept a WAN source ahead of it whatever the source.
	if a := firstStatic(mid.Filter); capped && a >= 0 && a < hb {
		hb = a
		hardenBefore = mid.Filter[a][".id"]
	}
	logArgs := func(args []kv) []kv {
		if s.LogRefused {
			return append(args, kv{"log", "yes"}, kv{"log-prefix", refusedLogPfx})
		}
		return args
	}
	inList := map[string]bool{}
	lists := r.resolveLists()
	for _, l := range d.WANLists {
		for _, m := range lists[l] {
			inList[m] = true
		}
		add(op{Key: "harden-" + l, Step: StepHarden, Desc: "drop the API arriving on interface list " + l,
			Menu: "/ip firewall filter", Verb: "add", Before: hardenBefore,
			Args: logArgs([]kv{{"action", "drop"}, {"chain", "input"}, {"dst-port", strings.Join(portList, ",")}, {"in-interface-list", l}, {"protocol", "tcp"}})})
	}
	for _, w := range d.WANs {
		if inList[w.Name] {
			continue
		}
		add(op{Key: "harden-" + w.Name, Step: StepHarden, Desc: "drop the API arriving on " + w.Name,
			Menu: "/ip firewall filter", Verb: "add", Before: hardenBefore,
			Args: logArgs([]kv{{"action", "drop"}, {"chain", "input"}, {"dst-port", strings.Join(portList, ",")}, {"in-interface", w.Name}, {"protocol", "tcp"}})})
	}
	if !s.LANKeepsAPI {
		add(op{Key: "harden-lan", Step: StepHarden, Desc: "drop the API arriving anywhere but the tunnel",
			Menu: "/ip firewall filter", Verb: "add", Before: hardenBefore,
			Args: logArgs([]kv{{"action", "drop"}, {"chain", "input"}, {"dst-port", strings.Join(portList, ",")}, {"in-interface", "!" + d.IfName}, {"protocol", "tcp"}})})
	}
	for _, w := range d.WANs {
		if len(w.Addr6) == 0 {
			continue
		}
		before, at6 := "", -1
		for _, p := range probes {
			if (p.Kind != "wan-api6" && p.Kind != "wan-api6-src") || p.Packet.InInterface != w.Name {
				continue
			}
			v := ev(mid, p)
			if v.Action == "accept" && v.Table == "filter" {
				if a := anchor(mid.Filter6, v); a >= 0 && (at6 < 0 || a < at6) {
					at6, before = a, mid.Filter6[a][".id"]
				}
			}
		}
		add(op{Key: "harden6-" + w.Name, Step: StepHarden, Desc: "drop the API arriving on " + w.Name + " over IPv6",
			Menu: "/ipv6 firewall filter", Verb: "add", Before: before,
			Args: logArgs([]kv{{"action", "drop"}, {"chain", "input"}, {"dst-port", strings.Join(portList, ",")}, {"in-interface", w.Name}, {"protocol", "tcp"}})})
	}
	final, err := simulate(r, run, ops)
	if err != nil {
		return nil, nil, err
	}
	// The plan text and the undo script hold these ids: a router that
	// gives ids of another form is refused before anything is shown.
	if err := checkIDs(ops); err != nil {
		return nil, nil, err
	}
	pl.Ops = ops
	pl.settings = s

	// Check: compute the table and refuse a plan that fails.
	plan := &Plan{Settings: s.public(d), Warnings: append([]string{}, d.Warnings...)}
	if capped {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("the firewall tells more than %d classes of source address apart: wgboot checked the first %d and puts the API drop at the top of the filter, above every rule that could accept one of the others", maxSourceClasses, maxSourceClasses))
	}
	var problems []string
	var wgBlocked []string
	// The neutral source's verdict per WAN and port: a source-class row is
	// shown only where it tells something the neutral row does not.
	neutralBefore := map[string]string{}
	classKey := func(p probe) string {
		return fmt.Sprintf("%s/%d/%t", p.Packet.InInterface, p.Packet.DstPort, p.V6)
	}
	for _, p := range probes {
		if (p.Kind == "wan-api" || p.Kind == "wan-api6") && !strings.Contains(p.Label, " from ") {
			neutralBefore[classKey(p)] = verdictText(ev(r, p))
		}
	}
	for _, p := range probes {
		before := ev(r, p)
		after := ev(final, p)
		atMid := ev(mid, p)
		row := VerdictRow{Probe: p.Label, Before: verdictText(before), After: verdictText(after)}
		if p.Kind == "vpn-api" {
			row.Before = "none"
		}
		// Source-class probes are many; the table shows the ones whose
		// verdict differs from the neutral source's, the others only count
		// for the check.
		switch {
		case (p.Kind == "wan-api-src" || p.Kind == "wan-api6-src") && after.Action != "accept" && row.Before == neutralBefore[classKey(p)]:
		case p.Kind == "wan-wg-src":
		case p.Est && after.Action == "accept":
		default:
			plan.Verdicts = append(plan.Verdicts, row)
		}
		for _, n := range append(before.Notes, after.Notes...) {
			if !slices.Contains(plan.Warnings, n) {
				plan.Warnings = append(plan.Warnings, n)
			}
		}
		switch p.Kind {
		case "wan-api", "wan-api-src", "wan-api6", "wan-api6-src":
			if after.Action == "accept" {
				problems = append(problems, p.Label+" would still be accepted after hardening: the API would stay open to the internet")
			}
		case "vpn-api":
			switch {
			case p.Use && (after.Action != "accept" || atMid.Action != "accept"):
				problems = append(problems, p.Label+" would not be accepted: the tunnel could not be verified")
			case after.Action != "accept":
				problems = append(problems, fmt.Sprintf("%s would be %s: the API could not be used through the tunnel on that port", p.Label, verdictText(after)))
			}
		case "wan-wg-src":
			if after.Action != "accept" {
				wgBlocked = append(wgBlocked, p.Packet.Src.String()+" on "+p.Packet.InInterface)
			}
		case "lan-api":
			if s.LANKeepsAPI && before.Action != after.Action {
				problems = append(problems, fmt.Sprintf("%s would change from %s to %s", p.Label, before.Action, after.Action))
			}
		case "wan-wg":
			if after.Action != "accept" {
				problems = append(problems, fmt.Sprintf("%s from an address no rule names would be %s: the technician could not bring the tunnel up from the internet", p.Label, verdictText(after)))
			}
		case "other":
			if before.Action != after.Action || before.DstNAT != after.DstNAT {
				problems = append(problems, fmt.Sprintf("%s would change from %s to %s", p.Label, verdictText(before), verdictText(after)))
			}
		}
	}
	if len(wgBlocked) > 0 {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("WireGuard udp/%d stays closed to %s, which a rule names on purpose: a technician at such an address cannot bring the tunnel up", d.ListenPort, strings.Join(wgBlocked, ", ")))
	}
	for _, o := range ops {
		plan.Changes = append(plan.Changes, Change{Step: o.Step, Description: o.Desc, Command: oneLine(o.command(run)), Inverse: oneLine(o.inverse(run))})
	}
	plan.Files = []string{exportFile(run)}
	if len(problems) > 0 {
		return pl, plan, &CheckError{Problems: problems, moved: len(candidates) > 0}
	}
	return pl, plan, nil
}

// CheckError is a plan the evaluator refused: applying it would lock someone
// out or change what it must not change.
type CheckError struct {
	Problems []string
	moved    bool // the plan modified API-only rules (a plan without may pass)
}

func (e *CheckError) Error() string {
	return "onboard: the plan failed its firewall check, nothing was changed: " + strings.Join(e.Problems, "; ")
}

// ErrCheck matches every *CheckError with errors.Is.
var ErrCheck = errors.New("onboard: plan check failed")

// Is makes errors.Is(err, ErrCheck) work.
func (e *CheckError) Is(target error) bool { return target == ErrCheck }

// addrAdmits reports whether a comma list of prefixes contains a.
func addrAdmits(list string, a netip.Addr) bool {
	for _, p := range prefixes(list) {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// public returns the settings with the engine's choices filled in.
func (s Settings) public(d *decision) Settings {
	s.Subnet = d.Subnet.String()
	s.ListenPort = d.ListenPort
	s.Endpoint = d.Endpoint
	return s
}

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

// mayAcceptWAN returns the index of the first non-dynamic input accept
// above limit whose match on some WAN→API probe is uncertain, or -1. Each
// rule is tried alone with action drop, which the evaluator assumes to
// match when unsure.
func mayAcceptWAN(fw *fwView, r *Router, probes []probe, limit int) int {
	env := fw.env
	for i, row := range r.Filter {
		if i >= limit {
			break
		}
		if row["chain"] != "input" || row["action"] != "accept" || !enabled(row) || isTrue(row["dynamic"]) {
			continue
		}
		as := firewall.Rule{}
		for k, v := range row {
			as[k] = v
		}
		as["action"] = "drop"
		one := firewall.Tables{Filter: []firewall.Rule{as}}
		for _, p := range probes {
			if p.Kind != "wan-api" && p.Kind != "wan-api-src" {
				continue
			}
			if v := firewall.EvaluateInput(one, env, p.Packet); v.Action == "drop" && v.Uncertain {
				return i
			}
		}
	}
	return -1
}
