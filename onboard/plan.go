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

// probeKind names what a probe packet stands for; the plan's check and the
// hardening anchors select probes by kind.
type probeKind string

// The kinds of probe. WAN probes come from a neutral source (one no rule
// names, standing for an arbitrary internet host) or from a source some
// accept rule admits; for the API also from a representative of every
// source class the rules can tell apart (the -src kinds): the hardening
// must hold whatever source a WAN packet claims. Named sources also probe
// the WireGuard port, only to report deliberate per-host blocks.
const (
	probeWANAPI     probeKind = "wan-api"      // WAN→API from the neutral source or an accepted one
	probeWANAPISrc  probeKind = "wan-api-src"  // WAN→API from another source class or the VPN's own addresses
	probeLANAPI     probeKind = "lan-api"      // LAN→API
	probeVPNAPI     probeKind = "vpn-api"      // tunnel→API, the path the run must prove
	probeWANWG      probeKind = "wan-wg"       // WAN→WireGuard from the neutral source
	probeWANWGSrc   probeKind = "wan-wg-src"   // WAN→WireGuard from a source a rule names
	probeLANWG      probeKind = "lan-wg"       // LAN→WireGuard
	probeOther      probeKind = "other"        // services the plan must not change (ssh, winbox, ...)
	probeWANAPI6    probeKind = "wan-api6"     // WAN→API over IPv6 from the neutral source
	probeWANAPI6Src probeKind = "wan-api6-src" // WAN→API over IPv6 from another source class
)

// probe is one packet of the before/after table.
type probe struct {
	Label  string
	Kind   probeKind
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
// tell more source classes apart than maxSourceClasses. The probes come in
// the order of the plan's table.
func (d *decision) probesOn(r *Router, fw *fwView) (ps []probe, capped bool) {
	part := partitionSources(r, fw.env, d)
	b := &probeSet{r: r, d: d, neutral: neutralFrom(r, fw.env, part)}
	b.wanAPI(part)
	b.lanAPI()
	b.vpnAPI()
	b.wireGuard(part)
	b.others()
	b.wanAPI6()
	return b.ps, part.capped
}

// probeSet builds the probes of one decision on one snapshot.
type probeSet struct {
	r       *Router
	d       *decision
	neutral netip.Addr // the neutral WAN source (neutralFrom)
	ps      []probe
}

// dst is the address a probe arriving on iface is sent to: the
// interface's own, else the router's first IPv4 address.
func (b *probeSet) dst(iface string) netip.Addr {
	if a := b.r.ifaceAddrs(iface); len(a) > 0 {
		return a[0].Addr()
	}
	for _, a := range b.r.Addresses {
		if p, ok := ifacePrefix(a["address"]); ok && p.Addr().Is4() {
			return p.Addr()
		}
	}
	return netip.MustParseAddr("192.0.2.1")
}

// lanSrc is the source of a probe from a LAN interface: an address of its
// subnet that is not the router's own.
func (b *probeSet) lanSrc(iface string) netip.Addr {
	if a := b.r.ifaceAddrs(iface); len(a) > 0 {
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

// apiFrom adds a WAN→API probe per WAN and API port from src; label is
// the suffix of each probe's label.
func (b *probeSet) apiFrom(kind probeKind, src netip.Addr, label string) {
	for _, w := range b.d.WANs {
		for _, a := range b.d.API {
			b.ps = append(b.ps, probe{Label: fmt.Sprintf("WAN→API %s tcp/%d%s", w.Name, a.Port, label), Kind: kind, Use: a.Port == b.d.UsePort,
				Packet: firewall.Packet{InInterface: w.Name, Src: src, Dst: b.dst(w.Name), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
		}
	}
}

// wanAPI adds the IPv4 WAN→API probes: from the neutral source, from every
// source some accept rule admits by address (a WAN packet claiming one of
// them must be dropped too), and from every other source class (a drop of
// an allowlist followed by a blanket WAN accept leaves the API open to
// everyone outside the list) and the VPN's own addresses, which the plan's
// allow rule admits by address list.
func (b *probeSet) wanAPI(part *sourcePartition) {
	d := b.d
	b.apiFrom(probeWANAPI, b.neutral, "")
	accepted := acceptedSources(b.r)
	if len(accepted) > maxAcceptedProbes {
		accepted = accepted[:maxAcceptedProbes]
	}
	for _, src := range accepted {
		b.apiFrom(probeWANAPI, src, " from "+src.String())
	}
	classes := slices.Clone(part.reps)
	if d.LocalAddr.IsValid() {
		classes = append(classes, d.LocalAddr.Addr(), d.Subnet.Addr().Prev(), lastOf(d.Subnet).Next())
	}
	for _, src := range classes {
		if src == b.neutral || slices.Contains(accepted, src) {
			continue
		}
		b.apiFrom(probeWANAPISrc, src, " from "+src.String())
	}
}

// lanAPI adds a LAN→API probe per LAN interface and API port.
func (b *probeSet) lanAPI() {
	for _, l := range b.d.LANs {
		for _, a := range b.d.API {
			b.ps = append(b.ps, probe{Label: fmt.Sprintf("LAN→API %s tcp/%d", l, a.Port), Kind: probeLANAPI, Use: a.Port == b.d.UsePort,
				Packet: firewall.Packet{InInterface: l, Src: b.lanSrc(l), Dst: b.dst(l), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
		}
	}
}

// vpnAPI adds the tunnel→API probes per API port, new then established.
func (b *probeSet) vpnAPI() {
	d := b.d
	for _, est := range []bool{false, true} {
		label, state := "", ""
		if est {
			label, state = " established", "established"
		}
		for _, a := range d.API {
			b.ps = append(b.ps, probe{Label: fmt.Sprintf("VPN→API %s tcp/%d%s", d.IfName, a.Port, label), Kind: probeVPNAPI, Use: a.Port == d.UsePort, Est: est,
				Packet: firewall.Packet{InInterface: d.IfName, Src: d.LocalAddr.Addr(), Dst: d.RouterAddr.Addr(), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port, State: state}})
		}
	}
}

// wireGuard adds the probes of the WireGuard port: from each WAN (new and
// established from the neutral source, then from every named source
// class), then from each LAN.
func (b *probeSet) wireGuard(part *sourcePartition) {
	d := b.d
	port := uint16(d.ListenPort)
	for _, w := range d.WANs {
		b.ps = append(b.ps, probe{Label: fmt.Sprintf("WAN→WireGuard %s udp/%d", w.Name, d.ListenPort), Kind: probeWANWG,
			Packet: firewall.Packet{InInterface: w.Name, Src: b.neutral, Dst: b.dst(w.Name), Protocol: "udp", SrcPort: 40000, DstPort: port}})
		b.ps = append(b.ps, probe{Label: fmt.Sprintf("WAN→WireGuard %s udp/%d established", w.Name, d.ListenPort), Kind: probeWANWG, Est: true,
			Packet: firewall.Packet{InInterface: w.Name, Src: b.neutral, Dst: b.dst(w.Name), Protocol: "udp", SrcPort: 40000, DstPort: port, State: "established"}})
		for i, src := range part.reps {
			if src == b.neutral || !part.named[i] {
				continue
			}
			b.ps = append(b.ps, probe{Label: fmt.Sprintf("WAN→WireGuard %s udp/%d from %s", w.Name, d.ListenPort, src), Kind: probeWANWGSrc,
				Packet: firewall.Packet{InInterface: w.Name, Src: src, Dst: b.dst(w.Name), Protocol: "udp", SrcPort: 40000, DstPort: port}})
		}
	}
	for _, l := range d.LANs {
		b.ps = append(b.ps, probe{Label: fmt.Sprintf("LAN→WireGuard %s udp/%d", l, d.ListenPort), Kind: probeLANWG,
			Packet: firewall.Packet{InInterface: l, Src: b.lanSrc(l), Dst: b.dst(l), Protocol: "udp", SrcPort: 40000, DstPort: port}})
	}
}

// others adds the non-API probes, from each WAN and LAN: their verdicts
// must not change.
func (b *probeSet) others() {
	type other struct {
		name, proto string
		port        uint16
	}
	others := []other{{"ssh", "tcp", 22}, {"winbox", "tcp", 8291}, {"www", "tcp", 80}, {"icmp", "icmp", 0}}
	for _, wg := range b.r.WireGuard {
		if p, err := strconv.ParseUint(wg["listen-port"], 10, 16); err == nil && !wgbootTagged(wg) {
			others = append(others, other{"WireGuard " + wg["name"], "udp", uint16(p)})
		}
	}
	for _, side := range []struct {
		label  string
		ifaces []string
		wan    bool
	}{{"WAN", wanNames(b.d.WANs), true}, {"LAN", b.d.LANs, false}} {
		for _, i := range side.ifaces {
			src := b.neutral
			if !side.wan {
				src = b.lanSrc(i)
			}
			for _, o := range others {
				label := fmt.Sprintf("%s→%s %s", side.label, o.name, i)
				if o.port != 0 {
					label += fmt.Sprintf(" %s/%d", o.proto, o.port)
				}
				b.ps = append(b.ps, probe{Label: label, Kind: probeOther,
					Packet: firewall.Packet{InInterface: i, Src: src, Dst: b.dst(i), Protocol: o.proto, SrcPort: 40000, DstPort: o.port}})
			}
		}
	}
}

// wanAPI6 adds the IPv6 WAN→API probes of each WAN with a global IPv6
// address: from the neutral IPv6 source, then from every IPv6 source class.
func (b *probeSet) wanAPI6() {
	d := b.d
	neutral6, classes6 := neutralSource6(b.r), sourceClasses6(b.r)
	for _, w := range d.WANs {
		if len(w.Addr6) == 0 {
			continue
		}
		for _, a := range d.API {
			b.ps = append(b.ps, probe{Label: fmt.Sprintf("WAN→API %s IPv6 tcp/%d", w.Name, a.Port), Kind: probeWANAPI6, V6: true,
				Packet: firewall.Packet{InInterface: w.Name, Src: neutral6, Dst: w.Addr6[0].Addr(), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
		}
		for _, src := range classes6 {
			if src == neutral6 {
				continue
			}
			for _, a := range d.API {
				b.ps = append(b.ps, probe{Label: fmt.Sprintf("WAN→API %s IPv6 tcp/%d from %s", w.Name, a.Port, src), Kind: probeWANAPI6Src, V6: true, Use: a.Port == d.UsePort,
					Packet: firewall.Packet{InInterface: w.Name, Src: src, Dst: w.Addr6[0].Addr(), Protocol: "tcp", SrcPort: 40000, DstPort: a.Port}})
			}
		}
	}
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

// planner holds what the phases of makePlanWith share. Each phase places
// its rules against the simulation of the ops planned before it (the
// anchors move as rules are added), so the ops grow in phase order.
type planner struct {
	r         *Router
	d         *decision
	s         Settings
	moveRules bool // API-only rules move to the address list (see makePlan)
	ops       []op

	fwR    *fwView             // r compiled; every other snapshot is compiled from it
	views  map[*Router]*fwView // each snapshot compiled once for all its probes
	probes []probe
	capped bool // more source classes than were probed (maxSourceClasses)

	portList   []string // the API ports, sorted as text
	candidates []Row    // the API-only rules whose sources move to the address list
	allow      string   // the rule VPN→API is accepted by: "@api-allow" or an existing .id
}

func newPlanner(r *Router, d *decision, s Settings, moveRules bool) *planner {
	p := &planner{r: r, d: d, s: s, moveRules: moveRules, fwR: r.compiled()}
	p.probes, p.capped = d.probesOn(r, p.fwR)
	p.views = map[*Router]*fwView{r: p.fwR}
	for _, a := range d.API {
		p.portList = append(p.portList, strconv.Itoa(int(a.Port)))
	}
	slices.Sort(p.portList)
	return p
}

func (p *planner) add(o op) { p.ops = append(p.ops, o) }

// simulate returns the snapshot with the ops so far applied.
func (p *planner) simulate() (*Router, error) { return simulate(p.r, p.d.RunID, p.ops) }

// ev evaluates a probe on a snapshot, compiling the snapshot once.
func (p *planner) ev(x *Router, pr probe) firewall.Verdict {
	v, ok := p.views[x]
	if !ok {
		v = x.compiledFrom(p.fwR)
		p.views[x] = v
	}
	return v.eval(pr)
}

// makePlanWith builds the plan; moveRules says whether API-only rules move
// to the address list (see makePlan). The phases run in the order the
// router will see their ops, each against the simulation of the ones before.
func makePlanWith(r *Router, d *decision, s Settings, localPub string, moveRules bool) (*planned, *Plan, error) {
	p := newPlanner(r, d, s, moveRules)
	p.addTunnel(localPub)
	cur, err := p.simulate()
	if err != nil {
		return nil, nil, err
	}
	p.acceptWireGuard(cur)
	p.moveAPIRules()
	if cur, err = p.simulate(); err != nil {
		return nil, nil, err
	}
	p.placeAllow(cur)
	if cur, err = p.simulate(); err != nil {
		return nil, nil, err
	}
	if err := p.allowOtherPorts(cur); err != nil {
		return nil, nil, err
	}
	p.admitTunnel()
	mid, err := p.simulate()
	if err != nil {
		return nil, nil, err
	}
	p.harden(mid, p.hardenAnchor(mid))
	final, err := p.simulate()
	if err != nil {
		return nil, nil, err
	}
	// The plan text and the undo script hold these ids: a router that
	// gives ids of another form is refused before anything is shown.
	if err := checkIDs(p.ops); err != nil {
		return nil, nil, err
	}
	pl := &planned{Decision: d, Ops: p.ops, LocalPub: localPub, AllowKey: p.allow, settings: s}
	plan, problems := p.check(mid, final)
	if len(problems) > 0 {
		return pl, plan, &CheckError{Problems: problems, moved: len(p.candidates) > 0}
	}
	return pl, plan, nil
}

// addTunnel plans the WireGuard interface, its address, the technician's
// peer and the VPN subnet in the address list.
func (p *planner) addTunnel(localPub string) {
	d := p.d
	p.add(op{Key: "wg-interface", Step: StepApply, Desc: "WireGuard interface " + d.IfName + " on UDP " + strconv.Itoa(d.ListenPort),
		Menu: "/interface wireguard", Verb: "add", Args: []kv{{"listen-port", strconv.Itoa(d.ListenPort)}, {"name", d.IfName}}})
	p.add(op{Key: "wg-address", Step: StepApply, Desc: "router tunnel address " + d.RouterAddr.String(),
		Menu: "/ip address", Verb: "add", Args: []kv{{"address", d.RouterAddr.String()}, {"interface", d.IfName}}})
	p.add(op{Key: "wg-peer", Step: StepApply, Desc: "technician peer " + netip.PrefixFrom(d.LocalAddr.Addr(), 32).String(),
		Menu: "/interface wireguard peers", Verb: "add", Args: []kv{{"allowed-address", netip.PrefixFrom(d.LocalAddr.Addr(), 32).String()}, {"interface", d.IfName}, {"public-key", localPub}}})
	p.add(op{Key: "vpn-list", Step: StepApply, Desc: "VPN subnet in address list " + vpnList,
		Menu: "/ip firewall address-list", Verb: "add", Args: []kv{{"address", d.Subnet.String()}, {"list", vpnList}}})
}

// acceptWireGuard plans an accept of the WireGuard UDP port before
// whatever would drop it, from WAN and LAN.
func (p *planner) acceptWireGuard(cur *Router) {
	wgAt := -1
	for _, pr := range p.probes {
		if pr.Kind != probeWANWG && pr.Kind != probeLANWG {
			continue
		}
		v := p.ev(cur, pr)
		if v.Action == "accept" {
			continue
		}
		if a := anchor(cur.Filter, v); a >= 0 && (wgAt < 0 || a < wgAt) {
			wgAt = a
		}
	}
	if wgAt >= 0 {
		p.add(op{Key: "wg-accept", Step: StepApply, Desc: "accept WireGuard UDP " + strconv.Itoa(p.d.ListenPort),
			Menu: "/ip firewall filter", Verb: "add", Before: cur.Filter[wgAt][".id"],
			Args: []kv{{"action", "accept"}, {"chain", "input"}, {"dst-port", strconv.Itoa(p.d.ListenPort)}, {"protocol", "udp"}}})
	}
}

// moveAPIRules plans moving the sources of every API-only allow rule to
// the address list, the rule matching the list instead.
func (p *planner) moveAPIRules() {
	if !p.moveRules {
		return
	}
	apiPorts := map[uint16]bool{}
	for _, a := range p.d.API {
		apiPorts[a.Port] = true
	}
	for _, row := range p.r.Filter {
		if apiOnlyRule(row, apiPorts) {
			p.candidates = append(p.candidates, row)
		}
	}
	for i, row := range p.candidates {
		id := row[".id"]
		p.add(op{Key: fmt.Sprintf("src-%d", i+1), Step: StepApply, Desc: "sources of the API rule " + id + " into " + vpnList,
			Menu: "/ip firewall address-list", Verb: "add", Args: []kv{{"address", row["src-address"]}, {"list", vpnList}}})
		p.add(op{Key: fmt.Sprintf("api-rule-%d", i+1), Step: StepApply, Desc: "API rule " + id + " matches " + vpnList + " instead of " + row["src-address"],
			Menu: "/ip firewall filter", Verb: "set", ID: id, Args: []kv{{"src-address", ""}, {"src-address-list", vpnList}},
			Old: []kv{{"src-address", row["src-address"]}, {"src-address-list", ""}}})
	}
}

// placeAllow decides the rule that accepts VPN→API: a moved rule that
// already does, a moved rule for the port in use (moved up if needed), or
// a new allow rule from the address list.
func (p *planner) placeAllow(cur *Router) {
	v, at := p.allowAnchor(cur)
	if at >= 0 && slices.ContainsFunc(p.candidates, func(c Row) bool { return c[".id"] == cur.Filter[at][".id"] }) && v.Action == "accept" {
		p.allow = cur.Filter[at][".id"]
		return
	}
	if p.allow = p.reuseCandidate(cur, at); p.allow != "" {
		return
	}
	before := ""
	if at >= 0 {
		before = cur.Filter[at][".id"]
	}
	p.add(op{Key: "api-allow", Step: StepApply, Desc: "accept the API from " + vpnList,
		Menu: "/ip firewall filter", Verb: "add", Before: before,
		Args: []kv{{"action", "accept"}, {"chain", "input"}, {"dst-port", strings.Join(p.portList, ",")}, {"protocol", "tcp"}, {"src-address-list", vpnList}}})
	p.allow = "@api-allow"
}

// allowAnchor returns the verdict of the tunnel's probe of the API port in
// use and the index of the first rule the allow rule must sit above.
//
// The allow rule must also sit above whatever denies the tunnel the other
// API port. A deny inside a user chain anchors at the jump that leads
// there: the allow rule goes before the jump rather than into the user's
// chain, so the chain itself is left as it was.
func (p *planner) allowAnchor(cur *Router) (firewall.Verdict, int) {
	var use probe
	for _, pr := range p.probes {
		if pr.Kind == probeVPNAPI && pr.Use && !pr.Est {
			use = pr
			break
		}
	}
	v := p.ev(cur, use)
	at := anchor(cur.Filter, v)
	for _, pr := range p.probes {
		if pr.Kind != probeVPNAPI || (pr.Use && !pr.Est) {
			continue
		}
		if pv := p.ev(cur, pr); pv.Action != "accept" {
			if a := anchor(cur.Filter, pv); a >= 0 && (at < 0 || a < at) {
				at = a
			}
		}
	}
	return v, at
}

// reuseCandidate returns the first moved rule that covers the API port in
// use, planning to move it above index at when it sits below; "" when
// none does.
func (p *planner) reuseCandidate(cur *Router, at int) string {
	for i, c := range p.candidates {
		if !rulePorts(c)[p.d.UsePort] {
			continue
		}
		ci := indexOfID(cur.Filter, c[".id"])
		if at >= 0 && ci > at {
			oldNext := ""
			if oi := indexOfID(p.r.Filter, c[".id"]); oi+1 < len(p.r.Filter) {
				oldNext = p.r.Filter[oi+1][".id"]
			}
			p.add(op{Key: fmt.Sprintf("api-move-%d", i+1), Step: StepApply, Desc: "API rule " + c[".id"] + " moved above the rule that would drop the tunnel",
				Menu: "/ip firewall filter", Verb: "move", ID: c[".id"], Before: cur.Filter[at][".id"], OldNext: oldNext})
		}
		return c[".id"]
	}
	return ""
}

// allowOtherPorts: a moved rule may cover only some API ports: the tunnel
// gets the others by a rule of its own, above whatever still denies them.
// It is bound to the tunnel interface because the list now also holds the
// moved rule's sources, whose verdict on those ports must not change.
func (p *planner) allowOtherPorts(cur *Router) error {
	if p.allow == "@api-allow" {
		return nil
	}
	rest := -1
	var restPorts []string
	for _, pr := range p.probes {
		if pr.Kind != probeVPNAPI {
			continue
		}
		if pv := p.ev(cur, pr); pv.Action != "accept" {
			if port := strconv.Itoa(int(pr.Packet.DstPort)); !slices.Contains(restPorts, port) {
				restPorts = append(restPorts, port)
			}
			if a := anchor(cur.Filter, pv); a >= 0 && (rest < 0 || a < rest) {
				rest = a
			}
		}
	}
	slices.Sort(restPorts)
	if rest < 0 {
		return nil
	}
	p.add(op{Key: "api-allow-tunnel", Step: StepApply, Desc: "accept the API ports " + strings.Join(restPorts, ",") + " through the tunnel",
		Menu: "/ip firewall filter", Verb: "add", Before: cur.Filter[rest][".id"],
		Args: []kv{{"action", "accept"}, {"chain", "input"}, {"dst-port", strings.Join(restPorts, ",")}, {"in-interface", p.d.IfName}, {"protocol", "tcp"}, {"src-address-list", vpnList}}})
	// Only the error matters: the phases after this one simulate afresh.
	_, err := p.simulate()
	return err
}

// admitTunnel plans the /ip service and /user address restrictions to
// admit the tunnel.
func (p *planner) admitTunnel() {
	d := p.d
	for _, svc := range d.API {
		if svc.Address == "" || addrAdmits(svc.Address, d.LocalAddr.Addr()) {
			continue
		}
		p.add(op{Key: "service-" + svc.Name, Step: StepApply, Desc: "/ip service " + svc.Name + " admits " + d.Subnet.String(),
			Menu: "/ip service", Verb: "set", ID: svc.ID, Name: svc.Name,
			Args: []kv{{"address", svc.Address + "," + d.Subnet.String()}}, Old: []kv{{"address", svc.Address}}})
	}
	for _, u := range p.r.Users {
		if u["name"] != d.User || u["address"] == "" || addrAdmits(u["address"], d.LocalAddr.Addr()) {
			continue
		}
		p.add(op{Key: "user-address", Step: StepApply, Desc: "user " + u["name"] + " may log in from " + d.Subnet.String(),
			Menu: "/user", Verb: "set", ID: u[".id"], Name: u["name"],
			Args: []kv{{"address", u["address"] + "," + d.Subnet.String()}}, Old: []kv{{"address", u["address"]}}})
	}
}

// hardenAnchor returns the .id of the rule the IPv4 API drops go before:
// above the allow rule and above anything that would accept WAN→API.
func (p *planner) hardenAnchor(mid *Router) string {
	hardenBefore := p.allow
	hb := indexOfID(mid.Filter, p.allow)
	for _, pr := range p.probes {
		if pr.Kind != probeWANAPI && pr.Kind != probeWANAPISrc {
			continue
		}
		v := p.ev(mid, pr)
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
	if a := mayAcceptWAN(mid.compiledFrom(p.fwR), mid, p.probes, hb); a >= 0 {
		hb = a
		hardenBefore = mid.Filter[a][".id"]
	}
	// Too many source classes to probe them all (maxSourceClasses): the
	// drop goes above every rule wgboot can place before, so no rule can
	// accept a WAN source ahead of it whatever the source.
	if a := firstStatic(mid.Filter); p.capped && a >= 0 && a < hb {
		hardenBefore = mid.Filter[a][".id"]
	}
	return hardenBefore
}

// logArgs adds the refused-packet logging the settings ask for to a drop.
func (p *planner) logArgs(args []kv) []kv {
	if p.s.LogRefused {
		return append(args, kv{"log", "yes"}, kv{"log-prefix", refusedLogPfx})
	}
	return args
}

// harden plans the drops of every API port arriving on each WAN (by its
// interface list where it has one), elsewhere than the tunnel unless the
// LAN keeps the API, and on each WAN over IPv6.
func (p *planner) harden(mid *Router, before string) {
	d := p.d
	ports := strings.Join(p.portList, ",")
	inList := map[string]bool{}
	lists := p.r.resolveLists()
	for _, l := range d.WANLists {
		for _, m := range lists[l] {
			inList[m] = true
		}
		p.add(op{Key: "harden-" + l, Step: StepHarden, Desc: "drop the API arriving on interface list " + l,
			Menu: "/ip firewall filter", Verb: "add", Before: before,
			Args: p.logArgs([]kv{{"action", "drop"}, {"chain", "input"}, {"dst-port", ports}, {"in-interface-list", l}, {"protocol", "tcp"}})})
	}
	for _, w := range d.WANs {
		if inList[w.Name] {
			continue
		}
		p.add(op{Key: "harden-" + w.Name, Step: StepHarden, Desc: "drop the API arriving on " + w.Name,
			Menu: "/ip firewall filter", Verb: "add", Before: before,
			Args: p.logArgs([]kv{{"action", "drop"}, {"chain", "input"}, {"dst-port", ports}, {"in-interface", w.Name}, {"protocol", "tcp"}})})
	}
	if !p.s.LANKeepsAPI {
		p.add(op{Key: "harden-lan", Step: StepHarden, Desc: "drop the API arriving anywhere but the tunnel",
			Menu: "/ip firewall filter", Verb: "add", Before: before,
			Args: p.logArgs([]kv{{"action", "drop"}, {"chain", "input"}, {"dst-port", ports}, {"in-interface", "!" + d.IfName}, {"protocol", "tcp"}})})
	}
	for _, w := range d.WANs {
		if len(w.Addr6) > 0 {
			p.harden6(mid, w.Name)
		}
	}
}

// harden6 plans the IPv6 API drop on one WAN, above the first IPv6 filter
// rule that would accept a WAN→API probe there.
func (p *planner) harden6(mid *Router, wan string) {
	before, at6 := "", -1
	for _, pr := range p.probes {
		if (pr.Kind != probeWANAPI6 && pr.Kind != probeWANAPI6Src) || pr.Packet.InInterface != wan {
			continue
		}
		v := p.ev(mid, pr)
		if v.Action == "accept" && v.Table == "filter" {
			if a := anchor(mid.Filter6, v); a >= 0 && (at6 < 0 || a < at6) {
				at6, before = a, mid.Filter6[a][".id"]
			}
		}
	}
	p.add(op{Key: "harden6-" + wan, Step: StepHarden, Desc: "drop the API arriving on " + wan + " over IPv6",
		Menu: "/ipv6 firewall filter", Verb: "add", Before: before,
		Args: p.logArgs([]kv{{"action", "drop"}, {"chain", "input"}, {"dst-port", strings.Join(p.portList, ",")}, {"in-interface", wan}, {"protocol", "tcp"}})})
}

// check computes the before/after table of every probe (before on the
// snapshot, after on final, mid being the router between apply and
// harden) with the plan's warnings and changes, and returns the problems
// that refuse the plan.
func (p *planner) check(mid, final *Router) (*Plan, []string) {
	d := p.d
	plan := &Plan{Settings: p.s.public(d), Warnings: append([]string{}, d.Warnings...)}
	if p.capped {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("the firewall tells more than %d classes of source address apart: wgboot checked the first %d and puts the API drop at the top of the filter, above every rule that could accept one of the others", maxSourceClasses, maxSourceClasses))
	}
	var problems, wgBlocked []string
	neutralBefore := p.neutralVerdicts()
	for _, pr := range p.probes {
		before := p.ev(p.r, pr)
		after := p.ev(final, pr)
		atMid := p.ev(mid, pr)
		row := VerdictRow{Probe: pr.Label, Before: verdictText(before), After: verdictText(after)}
		if pr.Kind == probeVPNAPI {
			row.Before = "none"
		}
		if shownInTable(pr, row, after, neutralBefore) {
			plan.Verdicts = append(plan.Verdicts, row)
		}
		for _, n := range append(before.Notes, after.Notes...) {
			if !slices.Contains(plan.Warnings, n) {
				plan.Warnings = append(plan.Warnings, n)
			}
		}
		if pr.Kind == probeWANWGSrc && after.Action != "accept" {
			wgBlocked = append(wgBlocked, pr.Packet.Src.String()+" on "+pr.Packet.InInterface)
		}
		if why := p.problem(pr, before, after, atMid); why != "" {
			problems = append(problems, why)
		}
	}
	if len(wgBlocked) > 0 {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("WireGuard udp/%d stays closed to %s, which a rule names on purpose: a technician at such an address cannot bring the tunnel up", d.ListenPort, strings.Join(wgBlocked, ", ")))
	}
	for _, o := range p.ops {
		plan.Changes = append(plan.Changes, Change{Step: o.Step, Description: o.Desc, Command: oneLine(o.command(d.RunID)), Inverse: oneLine(o.inverse(d.RunID))})
	}
	plan.Files = []string{exportFile(d.RunID)}
	return plan, problems
}

// classKey names the WAN, port and family of a WAN→API probe.
func classKey(pr probe) string {
	return fmt.Sprintf("%s/%d/%t", pr.Packet.InInterface, pr.Packet.DstPort, pr.V6)
}

// neutralVerdicts returns the neutral source's verdict before the plan per
// WAN, port and family (classKey).
func (p *planner) neutralVerdicts() map[string]string {
	out := map[string]string{}
	for _, pr := range p.probes {
		if (pr.Kind == probeWANAPI || pr.Kind == probeWANAPI6) && !strings.Contains(pr.Label, " from ") {
			out[classKey(pr)] = verdictText(p.ev(p.r, pr))
		}
	}
	return out
}

// shownInTable reports whether a probe's row goes into the plan's table.
// Source-class probes are many; the table shows the ones whose verdict
// differs from the neutral source's (neutralBefore), the others only count
// for the check; so do the established twins that pass.
func shownInTable(pr probe, row VerdictRow, after firewall.Verdict, neutralBefore map[string]string) bool {
	switch {
	case (pr.Kind == probeWANAPISrc || pr.Kind == probeWANAPI6Src) && after.Action != "accept" && row.Before == neutralBefore[classKey(pr)]:
		return false
	case pr.Kind == probeWANWGSrc:
		return false
	case pr.Est && after.Action == "accept":
		return false
	}
	return true
}

// problem returns why a probe's verdicts refuse the plan, or "".
func (p *planner) problem(pr probe, before, after, atMid firewall.Verdict) string {
	switch pr.Kind {
	case probeWANAPI, probeWANAPISrc, probeWANAPI6, probeWANAPI6Src:
		if after.Action == "accept" {
			return pr.Label + " would still be accepted after hardening: the API would stay open to the internet"
		}
	case probeVPNAPI:
		switch {
		case pr.Use && (after.Action != "accept" || atMid.Action != "accept"):
			return pr.Label + " would not be accepted: the tunnel could not be verified"
		case after.Action != "accept":
			return fmt.Sprintf("%s would be %s: the API could not be used through the tunnel on that port", pr.Label, verdictText(after))
		}
	case probeLANAPI:
		if p.s.LANKeepsAPI && before.Action != after.Action {
			return fmt.Sprintf("%s would change from %s to %s", pr.Label, before.Action, after.Action)
		}
	case probeWANWG:
		if after.Action != "accept" {
			return fmt.Sprintf("%s from an address no rule names would be %s: the technician could not bring the tunnel up from the internet", pr.Label, verdictText(after))
		}
	case probeOther:
		if before.Action != after.Action || before.DstNAT != after.DstNAT {
			return fmt.Sprintf("%s would change from %s to %s", pr.Label, verdictText(before), verdictText(after))
		}
	}
	return ""
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
			if p.Kind != probeWANAPI && p.Kind != probeWANAPISrc {
				continue
			}
			if v := firewall.EvaluateInput(one, env, p.Packet); v.Action == "drop" && v.Uncertain {
				return i
			}
		}
	}
	return -1
}
