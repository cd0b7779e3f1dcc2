package sim

import (
	"bufio"
	"fmt"
	"net/netip"
	"strings"

	"github.com/wgboot/wgboot/routeros/rsc"
)

// Wiring is how an example configuration expects to be wired to the host,
// as its header line says:
//
//	# wgboot-example: wan=ether1 lan=bridge dynamic-address=ether1=203.0.113.7/24
//
// Tests, the demo and the docs read it so that every example is wired the
// same way everywhere (see examples/README.md for the keys).
type Wiring struct {
	WAN     []string         // interfaces the example treats as WAN
	LAN     string           // the LAN interface (or bridge)
	Dynamic []DynamicAddress // addresses a DHCP or PPPoE client would get

	// LANClient is a client address inside the LAN's subnet (its .100), so
	// rules that admit the LAN by source see a LAN client; 192.168.88.100
	// (the defconf LAN) when the config gives the LAN no address.
	LANClient netip.Addr
}

// String writes w as the keys of a "# wgboot-example:" line
// ("wan=ether1 lan=bridge dynamic-address=ether1=203.0.113.7/24"): what
// rossim and the demo show, and what a technician puts in the export to
// wire it otherwise.
func (w Wiring) String() string {
	var parts []string
	if len(w.WAN) > 0 {
		parts = append(parts, "wan="+strings.Join(w.WAN, ","))
	}
	if w.LAN != "" {
		parts = append(parts, "lan="+w.LAN)
	}
	for _, d := range w.Dynamic {
		parts = append(parts, "dynamic-address="+d.Iface+"="+d.Prefix.String())
	}
	return strings.Join(parts, " ")
}

// defconfLANClient is the LAN client when the config names no LAN address.
var defconfLANClient = netip.MustParseAddr("192.168.88.100")

// ParseWiring reads the "# wgboot-example:" line of an export. A config
// without one has the zero Wiring; keys it does not know are ignored (the
// line also documents service ports for readers).
func ParseWiring(config string) (Wiring, error) {
	var w Wiring
	sc := bufio.NewScanner(strings.NewReader(config))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# wgboot-example:")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "wan":
				w.WAN = strings.Split(v, ",")
			case "lan":
				w.LAN = v
			case "dynamic-address":
				iface, cidr, _ := strings.Cut(v, "=")
				p, err := netip.ParsePrefix(cidr)
				if err != nil || iface == "" {
					return Wiring{}, fmt.Errorf("sim: wgboot-example line: dynamic-address %q: want IFACE=CIDR", v)
				}
				w.Dynamic = append(w.Dynamic, DynamicAddress{Iface: iface, Prefix: p})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Wiring{}, err
	}
	w.LANClient = LANClient(config, w.LAN)
	return w, nil
}

// LANClient finds the address of interface lan in the config and returns
// the .100 of its subnet (192.168.88.100 when lan has none; zero when lan
// is empty).
func LANClient(config, lan string) netip.Addr {
	if lan == "" {
		return netip.Addr{}
	}
	f, err := rsc.ParseString(config)
	if err != nil {
		return defconfLANClient // Start reports the config's error
	}
	for _, c := range f.Commands("/ip address") {
		if i, _ := c.Get("interface"); i != lan {
			continue
		}
		a, _ := c.Get("address")
		p, err := netip.ParsePrefix(a)
		if err != nil {
			continue
		}
		src := p.Masked().Addr()
		for range 100 {
			src = src.Next()
		}
		return src
	}
	return defconfLANClient
}

// Addresses FindWiring gives the WAN of an export without an example line:
// documentation addresses (RFC 5737), as a DHCP or PPPoE client would get.
var (
	dhcpWANPrefix  = netip.MustParsePrefix("203.0.113.7/24")
	pppoeWANPrefix = netip.MustParsePrefix("203.0.113.7/32")
)

// FindWiring is ParseWiring for any export: an example's
// "# wgboot-example:" line when it has one, else the wiring read from the
// configuration itself, the way a technician would read it:
//
//   - WAN: an enabled PPPoE client (its pppoe-out interface), else the
//     interface of an enabled DHCP client, else a member of the WAN
//     interface list, else the interface whose address holds the default
//     route's gateway, else the only interface with an address;
//   - LAN: a member of the LAN interface list, else the interface of a DHCP
//     server, else an interface with a private address, that is not a WAN;
//   - a DHCP or PPPoE WAN gets 203.0.113.7 (/24 or /32) as its dynamic
//     address, since nothing in the export says what the ISP gives.
//
// An export whose WAN cannot be told gets an error that says so.
//
// Long because: the fallbacks above, in order, read as the list says.
func FindWiring(config string) (Wiring, error) {
	if strings.Contains(config, "# wgboot-example:") {
		return ParseWiring(config)
	}
	f, err := parseConfig(config)
	if err != nil {
		return Wiring{}, err
	}
	enabled := func(c rsc.Command) bool {
		d, _ := c.Get("disabled")
		return d != "yes" && d != "true"
	}
	var w Wiring
	addWAN := func(iface string, dyn netip.Prefix) {
		for _, x := range w.WAN {
			if x == iface {
				return
			}
		}
		w.WAN = append(w.WAN, iface)
		if dyn.IsValid() {
			w.Dynamic = append(w.Dynamic, DynamicAddress{Iface: iface, Prefix: dyn})
		}
	}
	// A PPPoE client is disabled unless the export says disabled=no.
	for _, c := range f.Commands("/interface pppoe-client") {
		if d, _ := c.Get("disabled"); c.Verb == "add" && (d == "no" || d == "false") {
			if name, _ := c.Get("name"); name != "" {
				addWAN(name, pppoeWANPrefix)
			}
		}
	}
	for _, c := range f.Commands("/ip dhcp-client") {
		if i, _ := c.Get("interface"); c.Verb == "add" && i != "" && enabled(c) {
			addWAN(i, dhcpWANPrefix)
		}
	}
	members := func(list string) []string {
		var out []string
		for _, c := range f.Commands("/interface list member") {
			if l, _ := c.Get("list"); l == list && c.Verb == "add" && enabled(c) {
				if i, _ := c.Get("interface"); i != "" {
					out = append(out, i)
				}
			}
		}
		return out
	}
	if len(w.WAN) == 0 {
		for _, i := range members("WAN") {
			addWAN(i, netip.Prefix{})
		}
	}
	type addr struct {
		iface string
		p     netip.Prefix
	}
	var addrs []addr
	for _, c := range f.Commands("/ip address") {
		a, _ := c.Get("address")
		i, _ := c.Get("interface")
		p, err := netip.ParsePrefix(a)
		if err != nil {
			if ip, err2 := netip.ParseAddr(a); err2 == nil {
				p = netip.PrefixFrom(ip, ip.BitLen())
			} else {
				continue
			}
		}
		if c.Verb == "add" && i != "" && enabled(c) {
			addrs = append(addrs, addr{i, p})
		}
	}
	if len(w.WAN) == 0 {
		for _, c := range f.Commands("/ip route") {
			dst, _ := c.Get("dst-address")
			gw, _ := c.Get("gateway")
			g, err := netip.ParseAddr(gw)
			if c.Verb != "add" || (dst != "" && dst != "0.0.0.0/0") || err != nil || !enabled(c) {
				continue
			}
			for _, a := range addrs {
				if a.p.Contains(g) {
					addWAN(a.iface, netip.Prefix{})
				}
			}
		}
	}
	if len(w.WAN) == 0 {
		ifaces := map[string]bool{}
		for _, a := range addrs {
			ifaces[a.iface] = true
		}
		if len(ifaces) == 1 {
			addWAN(addrs[0].iface, netip.Prefix{})
		}
	}
	if len(w.WAN) == 0 {
		return Wiring{}, fmt.Errorf("sim: the export has no WAN wgboot can tell (no PPPoE or DHCP client, no WAN interface list, no default route through an address of its own): add a line \"# wgboot-example: wan=IFACE lan=IFACE\" to it")
	}
	isWAN := func(i string) bool {
		for _, x := range w.WAN {
			if x == i {
				return true
			}
		}
		return false
	}
	var lans []string
	lans = append(lans, members("LAN")...)
	for _, c := range f.Commands("/ip dhcp-server") {
		if i, _ := c.Get("interface"); c.Verb == "add" && i != "" && enabled(c) {
			lans = append(lans, i)
		}
	}
	for _, a := range addrs {
		if a.p.Addr().IsPrivate() {
			lans = append(lans, a.iface)
		}
	}
	for _, l := range lans {
		if !isWAN(l) {
			w.LAN = l
			break
		}
	}
	w.LANClient = LANClient(config, w.LAN)
	return w, nil
}

// ConfigVersion is the RouterOS version an export's header names
// ("# 2021-12-30 02:30:00 by RouterOS 7.1.5"), or "" when it names none or
// does not parse. A copy of a technician's router is emulated at that
// version, so the copy prints dates and answers as the router itself does.
func ConfigVersion(config string) string {
	f, err := rsc.ParseString(config)
	if err != nil {
		return ""
	}
	return f.Version()
}
