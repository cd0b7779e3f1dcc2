package onboard

import (
	"context"
	"fmt"
	"net/netip"
)

// provenVia says where the router saw the technician's handshake come
// from: "wan" when it reaches the peer's address through a WAN interface,
// "lan" through another one. The router's own view (the peer's
// current-endpoint-address) decides: the address this run sent its packets
// to says little (a host name, a public address that a modem in front
// forwards, the WAN address reached from the LAN). When the router cannot
// tell, that address decides, as isWANHost says.
func (e *Engine) provenVia(ctx context.Context, host string) string {
	guess := "lan"
	if e.isWANHost(host) {
		guess = "wan"
	}
	rep, err := e.cl.Run(ctx, "/interface/wireguard/peers/print", "?comment="+tag(e.run, "wg-peer"), "=.proplist=current-endpoint-address")
	if err != nil || len(rep.Re) == 0 {
		return guess
	}
	a, err := netip.ParseAddr(rep.Re[0]["current-endpoint-address"])
	if err != nil {
		return guess
	}
	if side := e.router.sideOf(a.Unmap(), e.plan.Decision.WANs); side != "" {
		return side
	}
	return guess
}

// sideOf says on which side of the router a lies: "wan" when the router
// reaches it through a WAN interface (a connected subnet, else the most
// specific route), "lan" through another interface, "" when it cannot
// tell.
func (r *Router) sideOf(a netip.Addr, wans []wanIface) string {
	if a.IsLoopback() || a.IsUnspecified() {
		// No peer reaches a router from its own loopback: an address the
		// router cannot place (a simulator's listener without a source
		// address) says nothing about the side, and must not fall through
		// to the default route's WAN.
		return ""
	}
	iface, best := "", -1
	for _, rows := range [][]Row{r.Addresses, r.Addresses6} {
		for _, ad := range rows {
			if p, ok := ifacePrefix(ad["address"]); ok && enabled(ad) && p.Masked().Contains(a) && p.Bits() > best {
				iface, best = ad["interface"], p.Bits()
			}
		}
	}
	if iface == "" {
		for _, rt := range r.Routes {
			p, err := netip.ParsePrefix(rt["dst-address"])
			if err != nil || !enabled(rt) || rt["active"] == "false" || !p.Contains(a) || p.Bits() <= best {
				continue
			}
			for _, gw := range []string{rt["immediate-gw"], rt["gateway"]} {
				if name := r.gatewayIface(gw); name != "" {
					iface, best = name, p.Bits()
					break
				}
			}
		}
	}
	if iface == "" {
		return ""
	}
	for _, w := range wans {
		if w.Name == iface {
			return "wan"
		}
	}
	return "lan"
}

// apiOpenOnWAN reports whether the snapshot's ruleset lets the API answer
// from the WAN, from anywhere or from the sources a rule names.
func (r *Router) apiOpenOnWAN() bool {
	wans, _ := wansOf(r)
	d := &decision{API: r.apiServices(), WANs: wans}
	fw := r.compiled()
	probes, _ := d.probesOn(r, fw)
	for _, p := range probes {
		if (p.Kind == probeWANAPI || p.Kind == probeWANAPISrc || p.Kind == probeWANAPI6) && fw.eval(p).Action == "accept" {
			return true
		}
	}
	return false
}

// outsideUnproven reports whether the proof ran from the LAN only while the
// API answered on the WAN before this run (the router as inspected).
func (e *Engine) outsideUnproven(via string) bool {
	return via != "wan" && via != "outside" && e.router != nil && e.router.apiOpenOnWAN()
}

// notReachedText is how every front end says outsideUnproven.
const notReachedText = "the tunnel has not been reached from outside (the internet) yet"

// hardenDetail is the harden question's text for a proof via via.
func (e *Engine) hardenDetail(via string) string {
	s := "The API answered through the tunnel. wgboot will now drop every API port arriving on the WAN."
	if e.outsideUnproven(via) {
		s += fmt.Sprintf(" The tunnel was proven from the LAN only: %s, and until now the API answered on the WAN."+
			" Once it is closed, reaching this router from outside rests on WireGuard (UDP %d) getting through from the internet, which nothing has tested."+
			" If you are not sure it does, say no and run wgboot again from outside the LAN.", notReachedText, e.plan.Decision.ListenPort)
	}
	return s
}

// verifiedAtHost reports whether this run sent its WireGuard packets to
// the host it reached the API at (no other --verify-endpoint host).
func (e *Engine) verifiedAtHost() bool {
	return e.verifyEP.IsValid() && (e.o.Settings.VerifyEndpoint == "" || e.o.Settings.VerifyEndpoint == e.host ||
		e.verifyEP.Addr().String() == e.host)
}

// OutsideNote is what a front end tells the technician when the tunnel was
// proven from the LAN only while the API answered on the WAN before this
// run; "" otherwise.
func (s *Summary) OutsideNote() string {
	if s == nil || !s.OutsideUnproven {
		return ""
	}
	return "Proven from the LAN only: " + notReachedText + ", and the API answered on the WAN before this run. Check the tunnel from outside before relying on it."
}
