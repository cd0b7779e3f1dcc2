package onboard

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/wgboot/wgboot/firewall"
)

// Names wgboot gives the objects it creates.
const (
	tagPrefix      = "wgboot:"
	vpnList        = "wgboot-vpn"
	defaultIfName  = "wgboot"
	defaultPort    = 13231
	refusedLogPfx  = "wgboot-api-refused"
	defaultKeepSec = 25
)

// probe addresses: documentation ranges that match no real rule by
// accident. probeWANSrc is only the first candidate for the neutral WAN
// source (see neutralSource): a ruleset that names it gets another.
var (
	probeWANSrc  = netip.MustParseAddr("203.0.113.50")
	probeWANSrc6 = netip.MustParseAddr("2001:db8:ffff::50")
)

// apiService is one enabled API service and its port.
type apiService struct {
	Name    string // "api" or "api-ssl"
	Port    uint16
	Address string // /ip service address restriction ("" = any)
	ID      string
}

// wanIface is one WAN interface the router uses to reach the internet.
type wanIface struct {
	Name  string
	Addrs []netip.Prefix // its IPv4 addresses
	Addr6 []netip.Prefix // its global IPv6 addresses
}

// decision is what the engine chose, before it is turned into changes.
type decision struct {
	RunID      string
	User       string
	IfName     string
	Subnet     netip.Prefix
	RouterAddr netip.Prefix // .1/len
	LocalAddr  netip.Prefix // .2/len
	ListenPort int
	Endpoint   string // host written into the technician's config
	WANs       []wanIface
	WANLists   []string // interface lists that hold the WAN ("WAN")
	LANs       []string // interfaces that count as LAN for the probes
	API        []apiService
	UsePort    uint16 // the API port this run talks to (api-ssl unless plain)
	UseService string
	Warnings   []string
	Facts      []Fact
}

// decideInput is everything outside the snapshot that decisions need.
type decideInput struct {
	RunID    string
	User     string
	Plain    bool
	Host     string // host used to reach the API (for the default endpoint)
	Settings Settings
	// LocalRoutes are the networks this computer already routes (its LAN,
	// other VPNs): the VPN subnet must not overlap them either.
	LocalRoutes []netip.Prefix
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// env builds the evaluator's view of the router.
func (r *Router) env() firewall.Env {
	env := firewall.Env{InterfaceLists: r.resolveLists(), AddressLists: map[string][]string{}}
	for _, i := range r.Interfaces {
		env.Interfaces = append(env.Interfaces, firewall.Interface{Name: i["name"], Type: ifaceType(i["type"]), Dynamic: isTrue(i["dynamic"])})
	}
	for _, a := range r.AddressLists {
		if !enabled(a) {
			continue
		}
		env.AddressLists[a["list"]] = append(env.AddressLists[a["list"]], a["address"])
	}
	for _, rows := range [][]Row{r.Addresses, r.Addresses6} {
		for _, a := range rows {
			if !enabled(a) {
				continue
			}
			if p, ok := ifacePrefix(a["address"]); ok {
				env.LocalAddrs = append(env.LocalAddrs, p.Addr())
			}
		}
	}
	return env
}

func toRules(rows []Row) []firewall.Rule {
	out := make([]firewall.Rule, len(rows))
	for i, r := range rows {
		out[i] = firewall.Rule(r)
	}
	return out
}

// tables builds the evaluator's IPv4 ruleset.
func (r *Router) tables() firewall.Tables {
	return firewall.Tables{Filter: toRules(r.Filter), NAT: toRules(r.NAT), Raw: toRules(r.Raw)}
}

// ifaceAddrs returns the enabled IPv4 addresses on an interface.
func (r *Router) ifaceAddrs(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range r.Addresses {
		if a["interface"] != name || !enabled(a) {
			continue
		}
		if p, ok := ifacePrefix(a["address"]); ok && p.Addr().Is4() {
			out = append(out, p)
		}
	}
	return out
}

// globalAddrs6 returns the global unicast IPv6 addresses on an interface.
func (r *Router) globalAddrs6(name string) []netip.Prefix {
	var out []netip.Prefix
	ula := netip.MustParsePrefix("fc00::/7")
	for _, a := range r.Addresses6 {
		if a["interface"] != name || !enabled(a) {
			continue
		}
		p, ok := ifacePrefix(a["address"])
		if !ok || !p.Addr().Is6() || !p.Addr().IsGlobalUnicast() || ula.Contains(p.Addr()) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// defaultRouteIfaces returns the interfaces of every enabled IPv4 default
// route, active or not, at any distance: a backup uplink whose route is
// inactive today carries the traffic (and the API) as soon as the primary
// fails, so it is a WAN too.
func (r *Router) defaultRouteIfaces() []string {
	set := map[string]bool{}
	for _, rt := range append(append([]Row{}, r.Routes...), r.Routes6...) {
		if !isDefaultRoute(rt) || !enabled(rt) {
			continue
		}
		for _, gw := range []string{rt["immediate-gw"], rt["gateway"]} {
			if name := r.gatewayIface(gw); name != "" {
				set[name] = true
				break
			}
		}
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// strayPublic warns of each interface with a public address that is
// neither WAN nor LAN: if it faces the internet, the API stays open there.
func (r *Router) strayPublic(wans map[string]bool, lans []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range append(append([]Row{}, r.Addresses...), r.Addresses6...) {
		n := a["interface"]
		if !enabled(a) || wans[n] || slices.Contains(lans, n) || seen[n] || wgbootTagged(a) {
			continue
		}
		p, ok := ifacePrefix(a["address"])
		if !ok || !publicAddr(p.Addr()) {
			continue
		}
		seen[n] = true
		out = append(out, fmt.Sprintf("%s has the public address %s but is neither in the WAN list, nor carries a default route, nor is LAN: wgboot leaves the API there as it is; add %s to the WAN interface list if it faces the internet", n, p.Addr(), n))
	}
	return out
}

// publicAddr: a global unicast address outside the private, CGNAT and
// unique-local ranges.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || cgnat.Contains(a) || netip.MustParsePrefix("fc00::/7").Contains(a) {
		return false
	}
	return !slices.ContainsFunc(private, func(p netip.Prefix) bool { return p.Contains(a) })
}

// isDefaultRoute: an IPv4 (0.0.0.0/0) or IPv6 (::/0) default route.
func isDefaultRoute(rt Row) bool {
	return rt["dst-address"] == "0.0.0.0/0" || rt["dst-address"] == "::/0"
}

// backupOnly reports that every enabled default route through iface is
// inactive: a backup uplink.
func (r *Router) backupOnly(iface string) bool {
	seen := false
	for _, rt := range append(append([]Row{}, r.Routes...), r.Routes6...) {
		if !isDefaultRoute(rt) || !enabled(rt) {
			continue
		}
		if r.gatewayIface(rt["immediate-gw"]) != iface && r.gatewayIface(rt["gateway"]) != iface {
			continue
		}
		if rt["active"] != "false" {
			return false
		}
		seen = true
	}
	return seen
}

// gatewayIface maps a route gateway ("10.0.0.1", "10.0.0.1%ether1",
// "pppoe-out1") to an interface name.
func (r *Router) gatewayIface(gw string) string {
	gw = strings.TrimSpace(gw)
	if gw == "" {
		return ""
	}
	if _, iface, ok := strings.Cut(gw, "%"); ok {
		return iface
	}
	if a, err := netip.ParseAddr(gw); err == nil {
		for _, ad := range append(append([]Row{}, r.Addresses...), r.Addresses6...) {
			if !enabled(ad) {
				continue
			}
			if p, ok := ifacePrefix(ad["address"]); ok && p.Masked().Contains(a) {
				return ad["interface"]
			}
		}
		return ""
	}
	for _, i := range r.Interfaces {
		if i["name"] == gw {
			return gw
		}
	}
	return ""
}

// wgbootTagged reports whether a row carries a wgboot tag.
func wgbootTagged(row Row) bool { return strings.HasPrefix(row["comment"], tagPrefix) }

// apiServices returns the enabled API services, api-ssl first.
func (r *Router) apiServices() []apiService {
	var out []apiService
	for _, s := range r.Services {
		name := s["name"]
		if name != "api" && name != "api-ssl" {
			continue
		}
		if isTrue(s["disabled"]) {
			continue
		}
		port, err := strconv.ParseUint(s["port"], 10, 16)
		if err != nil {
			continue
		}
		addr := s["address"]
		if v, ok := s["available-from"]; ok && addr == "" {
			addr = v // 7.24 renamed the property
		}
		out = append(out, apiService{Name: name, Port: uint16(port), Address: addr, ID: s[".id"]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name > out[j].Name })
	return out
}

var (
	cgnat   = netip.MustParsePrefix("100.64.0.0/10")
	private = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16")}
)

// subnetCandidates are the /24s tried in order for the VPN subnet.
func subnetCandidates() []netip.Prefix {
	var out []netip.Prefix
	for _, base := range []string{"10.77", "10.78", "10.79", "172.29"} {
		for i := 0; i < 256; i++ {
			out = append(out, netip.MustParsePrefix(fmt.Sprintf("%s.%d.0/24", base, i)))
		}
	}
	for i := 200; i < 250; i++ {
		out = append(out, netip.MustParsePrefix(fmt.Sprintf("192.168.%d.0/24", i)))
	}
	return out
}

// usedPrefixes is everything a VPN subnet must not overlap.
func (r *Router) usedPrefixes() []netip.Prefix {
	var used []netip.Prefix
	for _, a := range r.Addresses {
		if p, ok := ifacePrefix(a["address"]); ok {
			used = append(used, p.Masked())
		}
	}
	for _, rt := range r.Routes {
		if d := rt["dst-address"]; d != "" && d != "0.0.0.0/0" {
			used = append(used, prefixes(d)...)
		}
	}
	for _, a := range r.AddressLists {
		used = append(used, prefixes(a["address"])...)
	}
	for _, p := range r.Peers {
		for _, pf := range prefixes(p["allowed-address"]) {
			if pf.Bits() > 0 {
				used = append(used, pf)
			}
		}
	}
	return used
}

// ErrSubnetOverlap marks a VPN subnet refused because it overlaps a
// network in use on the router or on this computer; nothing was changed,
// and a front end that chose the subnet itself (fleet's pool) may try
// another. Test it with errors.Is, never by the text.
var ErrSubnetOverlap = errors.New("onboard: the VPN subnet overlaps a network in use")

// overlapError is a subnet refusal in the technician's words that
// errors.Is recognises as ErrSubnetOverlap.
type overlapError string

func (e overlapError) Error() string        { return string(e) }
func (e overlapError) Is(target error) bool { return target == ErrSubnetOverlap }

func overlapsAny(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if u.Addr().BitLen() == p.Addr().BitLen() && u.Overlaps(p) {
			return true
		}
	}
	return false
}

// decide makes every choice the plan is built from, in the order each
// depends on the ones before (API, user, WAN, LAN, name, subnet, port,
// endpoint). It is pure: the same snapshot and input give the same
// decision.
func decide(r *Router, in decideInput) (*decision, error) {
	d := &decision{RunID: in.RunID, User: in.User}
	s := in.Settings

	if mv := r.MajorVersion(); mv != 0 && mv < 7 {
		return nil, fmt.Errorf("onboard: the router runs RouterOS %s; wgboot needs RouterOS 7 (WireGuard arrived in 7.0): upgrade the router first", r.Version)
	}
	if slices.Contains(r.Missing, "/interface/wireguard/print") {
		return nil, fmt.Errorf("onboard: the router has no /interface wireguard menu; wgboot needs RouterOS 7 with WireGuard")
	}
	d.Facts = append(d.Facts, Fact{Name: "RouterOS", Value: r.Version}, Fact{Name: "Identity", Value: r.Identity})
	if err := d.chooseAPI(r, in.Plain); err != nil {
		return nil, err
	}
	// The user's group must have the api policy.
	if err := checkUser(r, in.User); err != nil {
		return nil, err
	}
	lists := r.resolveLists()
	wans := d.chooseWANs(r, lists)
	d.chooseLANs(r, lists, wans)
	d.IfName = defaultIfName
	for i := 1; r.hasInterface(d.IfName); i++ {
		d.IfName = fmt.Sprintf("%s%d", defaultIfName, i)
	}
	if err := d.chooseSubnet(r, s.Subnet, in.LocalRoutes); err != nil {
		return nil, err
	}
	if err := d.chooseListenPort(r, s.ListenPort); err != nil {
		return nil, err
	}
	d.chooseEndpoint(r, s.Endpoint, in.Host)
	for _, w := range d.WANs {
		if len(w.Addr6) > 0 {
			d.Facts = append(d.Facts, Fact{Name: "IPv6", Value: fmt.Sprintf("%s has %s: the API is closed on IPv6 too", w.Name, w.Addr6[0])})
		}
	}
	return d, nil
}

// chooseAPI notes the enabled API services and picks the one this run
// talks to: api-ssl, or api when plain.
func (d *decision) chooseAPI(r *Router, plain bool) error {
	d.API = r.apiServices()
	want := "api-ssl"
	if plain {
		want = "api"
	}
	for _, a := range d.API {
		if a.Name == want {
			d.UsePort, d.UseService = a.Port, a.Name
		}
	}
	if d.UseService == "" {
		return fmt.Errorf("onboard: the %s service is disabled on the router, so the tunnel could not be verified: enable it in /ip service or choose the other API with --plain", want)
	}
	var ports []string
	for _, a := range d.API {
		ports = append(ports, fmt.Sprintf("%s %d", a.Name, a.Port))
	}
	d.Facts = append(d.Facts, Fact{Name: "API services", Value: strings.Join(ports, ", ")})
	return nil
}

// chooseWANs takes as WAN the WAN interface list united with the
// default-route interfaces, warns where the two disagree or a WAN address
// is not reachable from the internet, and returns the WAN names as a set.
func (d *decision) chooseWANs(r *Router, lists map[string][]string) map[string]bool {
	fromList := lists["WAN"]
	if _, ok := lists["WAN"]; ok {
		d.WANLists = []string{"WAN"}
	}
	fromRoutes := r.defaultRouteIfaces()
	names := map[string]bool{}
	for _, n := range append(append([]string{}, fromList...), fromRoutes...) {
		names[n] = true
	}
	for _, n := range sortedKeys(names) {
		w := wanIface{Name: n, Addrs: r.ifaceAddrs(n), Addr6: r.globalAddrs6(n)}
		d.WANs = append(d.WANs, w)
	}
	for _, n := range fromRoutes {
		if len(fromList) > 0 && !slices.Contains(fromList, n) {
			what := "default route"
			if r.backupOnly(n) {
				what = "backup default route (inactive now)"
			}
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s leaves through %s, which is not in the WAN interface list: it is treated as a WAN too", what, n))
		}
	}
	for _, n := range fromList {
		if len(fromRoutes) > 0 && !slices.Contains(fromRoutes, n) {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s is in the WAN interface list but carries no default route: it is treated as a WAN anyway", n))
		}
	}
	if len(d.WANs) == 0 {
		d.Warnings = append(d.Warnings, "no WAN found (no WAN interface list and no default route): nothing to close on the WAN, and the tunnel can only be used from the LAN")
	}
	d.warnUnreachableWANs()
	d.Facts = append(d.Facts, Fact{Name: "WAN", Value: strings.Join(wanNames(d.WANs), ", ")})
	return names
}

// warnUnreachableWANs warns of WAN addresses the internet cannot reach
// directly (carrier-grade NAT, private ranges).
func (d *decision) warnUnreachableWANs() {
	for _, w := range d.WANs {
		for _, a := range w.Addrs {
			switch {
			case cgnat.Contains(a.Addr()):
				d.Warnings = append(d.Warnings, fmt.Sprintf("WAN %s has the carrier-grade NAT address %s: the router cannot be reached from the internet, so the tunnel will only work from inside the provider's network or the LAN", w.Name, a.Addr()))
			case slices.ContainsFunc(private, func(p netip.Prefix) bool { return p.Contains(a.Addr()) }):
				d.Warnings = append(d.Warnings, fmt.Sprintf("WAN %s has the private address %s: the router sits behind another router, which must forward the WireGuard port for the tunnel to work from the internet", w.Name, a.Addr()))
			}
		}
	}
}

// chooseLANs takes as LAN the members of the LAN list, else every non-WAN
// interface with an address; a WAN is never a LAN.
func (d *decision) chooseLANs(r *Router, lists map[string][]string, wans map[string]bool) {
	if l, ok := lists["LAN"]; ok {
		d.LANs = append(d.LANs, l...)
	} else {
		seen := map[string]bool{}
		for _, a := range r.Addresses {
			n := a["interface"]
			if !wans[n] && !seen[n] && enabled(a) {
				seen[n] = true
				d.LANs = append(d.LANs, n)
			}
		}
		sort.Strings(d.LANs)
	}
	d.LANs = slices.DeleteFunc(d.LANs, func(n string) bool { return wans[n] })
	d.Warnings = append(d.Warnings, r.strayPublic(wans, d.LANs)...)
}

// chooseSubnet takes the VPN subnet asked for (checked against every
// network the router or this computer uses) or the first free candidate,
// and the router's and technician's addresses in it.
func (d *decision) chooseSubnet(r *Router, asked string, localRoutes []netip.Prefix) error {
	used := r.usedPrefixes()
	if asked != "" {
		p, err := netip.ParsePrefix(asked)
		if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
			return fmt.Errorf("onboard: --subnet %q is not an IPv4 prefix of /30 or larger (like 10.77.0.0/24)", asked)
		}
		p = p.Masked()
		if overlapsAny(p, used) {
			return overlapError(fmt.Sprintf("onboard: --subnet %s overlaps an address, route, address list or peer on the router: choose another or leave it out to pick a free one", p))
		}
		for _, l := range localRoutes {
			if l.Addr().Is4() && l.Overlaps(p) {
				return overlapError(fmt.Sprintf("onboard: --subnet %s: this computer already routes %s (a LAN or another VPN here), "+
					"so the tunnel would take its traffic or lose its own: choose another, or leave --subnet out to pick a free one", p, l))
			}
		}
		d.Subnet = p
	} else {
		for _, c := range subnetCandidates() {
			if !overlapsAny(c, used) && !overlapsAny(c, localRoutes) {
				d.Subnet = c
				break
			}
		}
		if !d.Subnet.IsValid() {
			return fmt.Errorf("onboard: found no free /24 for the VPN: give one with --subnet")
		}
	}
	base := d.Subnet.Addr()
	d.RouterAddr = netip.PrefixFrom(base.Next(), d.Subnet.Bits())
	d.LocalAddr = netip.PrefixFrom(base.Next().Next(), d.Subnet.Bits())
	return nil
}

// chooseListenPort takes the WireGuard port asked for (0: none), if free,
// or the first free one from defaultPort.
func (d *decision) chooseListenPort(r *Router, asked int) error {
	if asked != 0 {
		if asked < 1 || asked > 65535 {
			return fmt.Errorf("onboard: --listen-port %d is not a port number", asked)
		}
		if why := r.portBusy(d, asked); why != "" {
			return fmt.Errorf("onboard: --listen-port %d cannot be used: %s", asked, why)
		}
		d.ListenPort = asked
		return nil
	}
	for p := defaultPort; p < defaultPort+1000; p++ {
		if r.portBusy(d, p) == "" {
			d.ListenPort = p
			break
		}
	}
	if d.ListenPort == 0 {
		return fmt.Errorf("onboard: found no free UDP port for WireGuard near %d: give one with --listen-port", defaultPort)
	}
	return nil
}

// chooseEndpoint picks the host written into the technician's config: the
// one asked for, the router's cloud DDNS name, its first WAN address, or
// the host used to reach the API (with a warning).
func (d *decision) chooseEndpoint(r *Router, asked, host string) {
	switch {
	case asked != "":
		d.Endpoint = asked
	case isTrue(r.Cloud["ddns-enabled"]) && r.Cloud["dns-name"] != "":
		d.Endpoint = r.Cloud["dns-name"]
	default:
		for _, w := range d.WANs {
			if len(w.Addrs) > 0 {
				d.Endpoint = w.Addrs[0].Addr().String()
				break
			}
		}
		if d.Endpoint == "" {
			d.Endpoint = host
			d.Warnings = append(d.Warnings, fmt.Sprintf("the router has no WAN address to publish: the technician's config uses %s; give the public name with --endpoint", host))
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (r *Router) hasInterface(name string) bool {
	for _, i := range r.Interfaces {
		if i["name"] == name {
			return true
		}
	}
	for _, i := range r.WireGuard {
		if i["name"] == name {
			return true
		}
	}
	return false
}

// portBusy says why a UDP port cannot carry WireGuard, or "" when it can:
// another WireGuard interface listens there, one of RouterOS's own UDP
// listeners has it, a dstnat rule diverts it or a raw rule drops it. The
// /ip service entries (api, api-ssl, winbox, ssh, www, ...) are all TCP:
// the same number in UDP is free.
func (r *Router) portBusy(d *decision, port int) string {
	for _, w := range r.WireGuard {
		if w["listen-port"] == strconv.Itoa(port) {
			return fmt.Sprintf("WireGuard interface %s listens on it", w["name"])
		}
	}
	switch port {
	case 5678:
		return "RouterOS's neighbor discovery (MNDP) listens on UDP 5678"
	case 20561:
		return "RouterOS's MAC server (MAC-Telnet, MAC-WinBox) listens on UDP 20561"
	}
	fw := r.compiled()
	t, env := fw.t, fw.env
	neutral := neutralSource(r)
	for _, w := range d.WANs {
		for _, a := range w.Addrs {
			v := firewall.EvaluateInput(t, env, firewall.Packet{InInterface: w.Name, Src: neutral, Dst: a.Addr(), Protocol: "udp", SrcPort: 40000, DstPort: uint16(port)})
			if v.DstNAT {
				return "a dstnat rule forwards it away from the router"
			}
			if v.Stage == "raw" && v.Action != "accept" {
				return "a raw rule drops it"
			}
		}
	}
	return ""
}

// checkUser refuses a user whose group lacks the api policy.
func checkUser(r *Router, user string) error {
	if user == "" {
		return nil
	}
	var group string
	found := false
	for _, u := range r.Users {
		if u["name"] == user {
			group, found = u["group"], true
		}
	}
	if !found {
		return nil // the login worked; some routers hide other users
	}
	for _, g := range r.Groups {
		if g["name"] != group {
			continue
		}
		for _, p := range strings.Split(g["policy"], ",") {
			if strings.TrimSpace(p) == "api" {
				return nil
			}
		}
		return fmt.Errorf("onboard: user %s is in group %s, which lacks the api policy: the tunnel check would be refused; add api to the group's policy or log in as a full admin", user, group)
	}
	return nil
}
