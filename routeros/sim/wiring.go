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
