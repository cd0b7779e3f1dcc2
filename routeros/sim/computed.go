package sim

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wgboot/wgboot/firewall"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// computed returns the read-only values print shows for an item.
// The caller holds Router.mu.
//
// Long because: one case per menu with read-only values, each short.
func (r *Router) computed(t *table, it *item) map[string]string {
	c := map[string]string{}
	running := strconv.FormatBool(!t.disabled(it))
	switch t.s.menu {
	case "/interface ethernet", "/interface bridge", "/interface vlan":
		c["running"] = running
		c["mac-address"] = macFor(it.id)
		if t.s.menu == "/interface ethernet" {
			if v, ok := it.props["mac-address"]; ok {
				c["mac-address"] = v
			}
			c["orig-mac-address"] = macFor(it.id)
		}
		if t.s.menu == "/interface bridge" {
			c["l2mtu"] = "1514"
		}
	case "/interface pppoe-client":
		c["running"] = strconv.FormatBool(!t.disabled(it) && r.hasDynamic(it.props["name"]))
	case "/interface wireguard":
		c["running"] = running
		if k, err := wgtypes.ParseKey(it.props["private-key"]); err == nil {
			c["public-key"] = k.PublicKey().String()
		}
	case "/interface wireguard peers":
		c["current-endpoint-address"], c["current-endpoint-port"] = "", "0"
		c["rx"], c["tx"] = "0", "0"
		if s, ok := r.peerStats(it.props["interface"], it.props["public-key"]); ok {
			if s.Endpoint.IsValid() {
				c["current-endpoint-address"] = r.modelledSrc(s.Endpoint).String()
				c["current-endpoint-port"] = strconv.Itoa(int(s.Endpoint.Port()))
			}
			if !s.LastHandshake.IsZero() {
				c["last-handshake"] = formatDuration(time.Since(s.LastHandshake).Truncate(time.Second))
			}
			c["rx"], c["tx"] = strconv.FormatUint(s.Rx, 10), strconv.FormatUint(s.Tx, 10)
		}
	case "/ip address", "/ipv6 address":
		c["actual-interface"] = it.props["interface"]
		ref, ok := r.st.iface(it.props["interface"])
		c["invalid"] = strconv.FormatBool(!ok || ref.t.disabled(ref.it))
	case "/ip route":
		c["active"] = strconv.FormatBool(r.routeActive(t, it))
		c["static"] = strconv.FormatBool(!it.dynamic)
		c["immediate-gw"] = it.props["gateway"]
		for _, gw := range splitList(it.props["gateway"]) {
			if iface := r.gatewayIface(gw); iface != "" {
				if a, _, _ := strings.Cut(gw, "%"); a != iface {
					gw = a + "%" + iface
				}
				c["immediate-gw"] = gw
				break
			}
		}
	case "/ip firewall filter", "/ip firewall nat", "/ip firewall raw", "/ip firewall mangle", "/ipv6 firewall filter":
		c["bytes"] = strconv.FormatUint(it.bytes, 10)
		c["packets"] = strconv.FormatUint(it.packets, 10)
		if err := validateRule(t.s.menu, t, it); err != nil {
			c["invalid"] = "true"
		}
	case "/ip firewall address-list", "/ipv6 firewall address-list":
		c["creation-time"] = r.formatDateTime(it.created)
		if !it.expires.IsZero() {
			c["timeout"] = formatDuration(it.expires.Sub(r.clk.now()).Truncate(time.Second))
		}
	case "/system resource":
		up := r.clk.now().Sub(r.bootTime).Truncate(time.Second)
		for k, v := range map[string]string{
			"uptime": formatDuration(up), "version": r.o.Version + " (stable)", "build-time": "2025-11-01 10:00:00",
			"factory-software": r.factory(), "free-memory": "201326592", "total-memory": "268435456", "cpu": r.hw.cpu,
			"cpu-count": "4", "cpu-frequency": "896", "cpu-load": "1", "free-hdd-space": "98566144",
			"total-hdd-space": "134217728", "architecture-name": r.hw.arch, "board-name": r.hw.board, "platform": "MikroTik",
		} {
			c[k] = v
		}
	case "/system routerboard":
		fw, _, _ := strings.Cut(r.o.Version, " ")
		for k, v := range map[string]string{
			"board-name": r.hw.board, "model": r.hw.model, "serial-number": r.hw.serial, "firmware-type": r.hw.firmware,
			"factory-firmware": r.factory(), "current-firmware": fw, "upgrade-firmware": fw,
		} {
			c[k] = v
		}
	case "/system clock":
		now := r.clk.now()
		c["date"] = r.formatDate(now)
		c["time"] = now.Format("15:04:05")
		c["gmt-offset"] = "+00:00"
	case "/system scheduler":
		c["owner"] = r.o.User
		c["run-count"] = strconv.Itoa(r.runs[it.id])
		if n, ok := r.nextRun[it.id]; ok && !t.disabled(it) {
			c["next-run"] = r.formatDateTime(n)
		}
		if _, ok := it.props["start-date"]; !ok {
			c["start-date"] = r.formatDate(it.created)
		}
		if _, ok := it.props["start-time"]; !ok {
			c["start-time"] = it.created.Format("15:04:05")
		}
	case "/system script":
		c["owner"] = r.o.User
		c["run-count"] = strconv.Itoa(r.runs[it.id])
	case "/ip cloud":
		on := it.props["ddns-enabled"] == "yes" || it.props["ddns-enabled"] == "true"
		c["public-address"] = r.publicAddress()
		if on {
			c["dns-name"] = fmt.Sprintf("%x.sn.mynetname.net", sha256.Sum256([]byte(r.o.Version)))[:12] + ".sn.mynetname.net"
			c["status"] = "updated"
		} else {
			c["status"] = "disabled"
		}
	case "/file":
		c["size"] = strconv.Itoa(len(it.props["contents"]))
		c["type"] = fileType(it.props["name"])
		if it.props["type"] == "directory" {
			c["type"] = "directory"
		}
		c["creation-time"] = r.formatDateTime(it.created)
		c["last-modified"] = r.formatDateTime(it.created)
	case "/certificate":
		for _, k := range []string{"fingerprint", "private-key", "invalid-before", "invalid-after", "issued", "serial-number", "ca", "expired", "trusted"} {
			if v, ok := it.props["~"+k]; ok {
				c[k] = v
			}
		}
	case "/log":
		for _, k := range []string{"time", "topics", "message"} {
			c[k] = it.props[k]
		}
	}
	return c
}

// factory is the version the board shipped with: never newer than the one
// it runs.
func (r *Router) factory() string {
	if versionAtLeast(r.o.Version, "7.1") {
		return "7.1"
	}
	return r.o.Version
}

func (r *Router) formatDateTime(t time.Time) string {
	return r.formatDate(t) + " " + t.Format("15:04:05")
}

func fileType(name string) string {
	switch {
	case strings.HasSuffix(name, ".rsc"):
		return "script"
	case strings.HasSuffix(name, ".backup"):
		return "backup"
	case strings.HasSuffix(name, ".txt"):
		return ".txt file"
	}
	return "file"
}

func macFor(id uint32) string {
	return fmt.Sprintf("48:A9:8A:00:%02X:%02X", byte(id>>8), byte(id))
}

func (r *Router) hasDynamic(iface string) bool {
	for _, it := range r.st.tables["/ip address"].items {
		if it.dynamic && it.props["interface"] == iface {
			return true
		}
	}
	return false
}

// publicAddress is what /ip cloud reports: the address the WAN side is seen with.
func (r *Router) publicAddress() string {
	for _, l := range r.o.Listen {
		if l.Iface == "ether1" && l.Src.IsValid() {
			return l.Src.String()
		}
	}
	for _, it := range r.st.tables["/ip address"].items {
		if it.props["interface"] == "ether1" || it.dynamic {
			a, _, _ := strings.Cut(it.props["address"], "/")
			return a
		}
	}
	return ""
}

// validateRule checks a firewall rule with the shared evaluator's rules.
func validateRule(menu string, t *table, it *item) error {
	rule := firewall.Rule{}
	for k, v := range it.props {
		rule[k] = v
	}
	tbl := strings.TrimPrefix(menu, "/ip firewall ")
	if strings.HasPrefix(menu, "/ipv6") {
		tbl = ""
	}
	var err error
	if tbl == "" {
		err = firewall.ValidateRule(rule)
	} else {
		err = firewall.ValidateTableRule(tbl, rule)
	}
	if err != nil {
		return trap(1, "%s", err.Error())
	}
	return nil
}

// execInterface serves /interface: a view over every typed interface menu.
func (r *Router) execInterface(q *request) (*reply, error) {
	view := &table{s: r.st.tables["/interface"].s, counter: new(uint32)}
	owner := map[uint32]ifaceRef{}
	for _, ref := range r.st.interfaces() {
		it := &item{id: ref.it.id, props: map[string]string{}, dynamic: ref.it.dynamic}
		it.props["name"] = ref.name
		if d, ok := ref.it.props["default-name"]; ok {
			it.props["default-name"] = d
		}
		it.props["type"] = ref.typ
		mtu, _ := ref.t.get(ref.it, "mtu")
		if mtu == "auto" || mtu == "" {
			mtu = "1500"
		}
		it.props["mtu"] = mtu
		it.props["actual-mtu"] = mtu
		if v, ok := ref.t.get(ref.it, "l2mtu"); ok {
			it.props["l2mtu"] = v
		}
		if v, ok := ref.it.props["comment"]; ok {
			it.props["comment"] = v
		}
		it.props["disabled"] = strconv.FormatBool(ref.t.disabled(ref.it))
		comp := r.computed(ref.t, ref.it)
		it.props["running"] = comp["running"]
		it.props["mac-address"] = comp["mac-address"]
		view.items = append(view.items, it)
		owner[it.id] = ref
	}
	switch q.verb {
	case "print", "getall":
		return r.print(view, q)
	case "listen":
		l := *q
		l.args = append(append([]arg(nil), q.args...), arg{"follow-only", ""})
		return r.print(view, &l)
	case "get":
		return r.getValue(view, q)
	case "set", "enable", "disable", "remove", "unset":
		items, err := r.resolve(view, q)
		if err != nil {
			return nil, err
		}
		for _, v := range items {
			ref := owner[v.id]
			sub := &request{menu: ref.t.s.menu, verb: q.verb, system: true}
			sub.args = append(sub.args, arg{"numbers", formatID(v.id)})
			for _, a := range q.args {
				switch a.Key {
				case "numbers", ".id", "number":
				case "name", "mtu", "l2mtu", "comment", "disabled", "value-name":
					sub.args = append(sub.args, a)
				default:
					return nil, errUnknownParam()
				}
			}
			var err error
			if q.verb == "remove" {
				_, err = r.remove(ref.t, sub)
			} else {
				_, err = r.set(ref.t, sub)
			}
			if err != nil {
				return nil, err
			}
		}
		return &reply{}, nil
	}
	return nil, noSuchCommand(q.verb)
}
