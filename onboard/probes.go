// The probes: the packets the plan evaluates before and after its changes, one kind per
// path the run must open, close or leave as it was (WAN, LAN and tunnel to the API and to
// WireGuard, the other services).

package onboard

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/wgboot/wgboot/firewall"
)

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
