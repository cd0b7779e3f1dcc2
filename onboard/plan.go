// The plan: the ops that onboard a router, built phase by phase (makePlanWith), each
// against the simulation of the ones before, and the rules it places them by.

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
