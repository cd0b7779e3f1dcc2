package sim

import (
	"net/netip"
	"strconv"
	"strings"
)

// Route selection, as the manual's "IP Routing" page describes it: a route
// is a candidate when it is enabled and has a reachable next hop (a gateway
// inside a connected network, or a running interface); of the candidates
// for one destination in one routing table, the lowest distance becomes
// active. Candidates that tie are all active here (RouterOS 7 combines them
// into ECMP; the manual's wording, "the selection of the active route is
// arbitrary", is about which one a router lists as best). Not modelled:
// check-gateway, recursive next hops (target-scope) and routing marks.

// routeActive reports whether a route in /ip route is active. The caller
// holds r.mu.
func (r *Router) routeActive(t *table, it *item) bool {
	if !r.routeCandidate(t, it) {
		return false
	}
	dist := routeDistance(t, it)
	dst, table := routeKey(t, it)
	for _, o := range t.items {
		if o == it {
			continue
		}
		if d, tb := routeKey(t, o); d != dst || tb != table {
			continue
		}
		if routeDistance(t, o) < dist && r.routeCandidate(t, o) {
			return false
		}
	}
	return true
}

func routeKey(t *table, it *item) (dst, table string) {
	dst, _ = t.get(it, "dst-address")
	table, _ = t.get(it, "routing-table")
	if p, err := netip.ParsePrefix(dst); err == nil {
		dst = p.Masked().String()
	}
	return dst, table
}

func routeDistance(t *table, it *item) int {
	v, _ := t.get(it, "distance")
	n, err := strconv.Atoi(v)
	if err != nil {
		return 1
	}
	return n
}

// routeCandidate: enabled, with at least one reachable gateway.
func (r *Router) routeCandidate(t *table, it *item) bool {
	if t.disabled(it) {
		return false
	}
	for _, gw := range splitList(it.props["gateway"]) {
		if r.gatewayIface(gw) != "" {
			return true
		}
	}
	return false
}

// gatewayIface is the running interface a gateway is reached through ("" when
// it is unreachable): "10.0.0.1", "10.0.0.1%ether1" or an interface name.
// The caller holds r.mu.
func (r *Router) gatewayIface(gw string) string {
	addr, iface, scoped := strings.Cut(gw, "%")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		if r.ifaceRunning(gw) {
			return gw
		}
		return ""
	}
	if scoped {
		if r.ifaceRunning(iface) {
			return iface
		}
		return ""
	}
	a = a.Unmap()
	at := r.st.tables["/ip address"]
	for _, ad := range at.items {
		if at.disabled(ad) || !r.ifaceRunning(ad.props["interface"]) {
			continue
		}
		p, err := netip.ParsePrefix(ad.props["address"])
		if err != nil {
			continue
		}
		if p.Masked().Contains(a) {
			return ad.props["interface"]
		}
	}
	return ""
}

// ifaceRunning reports an interface that exists, is enabled and is up (a
// PPPoE client only while it holds its dynamic address). The caller holds r.mu.
func (r *Router) ifaceRunning(name string) bool {
	ref, ok := r.st.iface(name)
	if !ok || ref.t.disabled(ref.it) {
		return false
	}
	if ref.t.s.menu == "/interface pppoe-client" {
		return r.hasDynamic(name)
	}
	return true
}

// fitDynamicRoutes gives the dynamic default route of each PPPoE client the
// configured default-route-distance, and removes it when the client has
// add-default-route=no (the RouterOS default). The caller holds r.mu.
func (r *Router) fitDynamicRoutes() {
	rt := r.st.tables["/ip route"]
	pp := r.st.tables["/interface pppoe-client"]
	kept := rt.items[:0]
	for _, it := range rt.items {
		if it.dynamic {
			if c := r.findOne(pp, it.props["gateway"]); c != nil {
				if v, _ := pp.get(c, "add-default-route"); v != "true" {
					continue
				}
				if v, ok := pp.get(c, "default-route-distance"); ok && v != "0" {
					it.props["distance"] = v
				}
			}
		}
		kept = append(kept, it)
	}
	rt.items = kept
}
