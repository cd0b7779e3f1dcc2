package onboard

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Row is one item of a RouterOS menu as the API prints it: property names to
// value text, ".id" included.
type Row map[string]string

// Router is a snapshot of everything the plan needs, read in one batch. It is
// pure data: plans are computed from it without any I/O, so tests build it
// from fixtures or from a simulated router.
type Router struct {
	Identity string
	Version  string // "7.20.6 (stable)"
	Board    string
	Clock    Row // /system clock: date, time, gmt-offset

	Interfaces   []Row // /interface (every type, dynamic ones included)
	WireGuard    []Row // /interface wireguard
	Peers        []Row // /interface wireguard peers
	PPPoE        []Row // /interface pppoe-client
	VLANs        []Row // /interface vlan
	BridgePorts  []Row // /interface bridge port
	Lists        []Row // /interface list
	ListMembers  []Row // /interface list member
	Addresses    []Row // /ip address
	Addresses6   []Row // /ipv6 address
	Routes       []Row // /ip route
	Routes6      []Row // /ipv6 route
	Filter       []Row // /ip firewall filter, in order
	NAT          []Row // /ip firewall nat, in order
	Raw          []Row // /ip firewall raw, in order
	Filter6      []Row // /ipv6 firewall filter, in order
	AddressLists []Row // /ip firewall address-list
	Services     []Row // /ip service
	Cloud        Row   // /ip cloud
	Users        []Row // /user
	Groups       []Row // /user group
	Schedulers   []Row // /system scheduler
	Scripts      []Row // /system script
	Files        []Row // /file: name, type, size (never contents)

	// Missing lists the menus this router does not have (for example /ipv6
	// without the ipv6 package); the plan treats them as empty.
	Missing []string
}

// query is one print of the inspect batch and where its rows go.
type query struct {
	path     string // API command
	optional bool   // a trap means "menu not present", not a failure
	// props, when set, are the only properties the print asks for: the
	// menus that hold secrets (private and preshared keys, PPPoE
	// passwords, script sources, file contents) are read without them, so
	// no secret of the router ever reaches wgboot's memory, logs or
	// journal. They name every property the engine reads from those rows.
	props string
	// where are API query words ("?list=wgboot-vpn") that narrow the print.
	where []string
	set   func(r *Router, rows []Row)
}

// words is the print as sent.
func (q query) words() []string {
	w := []string{q.path}
	if q.props != "" {
		w = append(w, "=.proplist="+q.props)
	}
	return append(w, q.where...)
}

// addressListPath and addressListProps: inspect reads address-list
// entries with the properties the engine uses, and only from wgboot's own
// list in the batch; the lists that rules name follow (readNamedLists).
// Imported blocklists hold tens of thousands of entries, and routers
// keep lists that no rule consults.
const (
	addressListPath  = "/ip/firewall/address-list/print"
	addressListProps = ".id,list,address,comment,disabled,dynamic"
)

// inspectQueries is the inspect batch. Every entry is one print; they are sent
// pipelined so the whole inspection is one round trip.
var inspectQueries = []query{
	{path: "/system/identity/print", set: func(r *Router, rows []Row) { r.Identity = first(rows)["name"] }},
	{path: "/system/resource/print", set: func(r *Router, rows []Row) {
		r.Version = first(rows)["version"]
		r.Board = first(rows)["board-name"]
	}},
	{path: "/system/clock/print", set: func(r *Router, rows []Row) { r.Clock = first(rows) }},
	{path: "/interface/print", set: func(r *Router, rows []Row) { r.Interfaces = rows }},
	{path: "/interface/wireguard/print", optional: true, props: ".id,name,listen-port,public-key,mtu,comment,disabled,running", set: func(r *Router, rows []Row) { r.WireGuard = rows }},
	{path: "/interface/wireguard/peers/print", optional: true, props: ".id,name,interface,public-key,allowed-address,endpoint-address,endpoint-port,current-endpoint-address,current-endpoint-port,last-handshake,persistent-keepalive,comment,disabled", set: func(r *Router, rows []Row) { r.Peers = rows }},
	{path: "/interface/pppoe-client/print", optional: true, props: ".id,name,interface,comment,disabled,running", set: func(r *Router, rows []Row) { r.PPPoE = rows }},
	{path: "/interface/vlan/print", optional: true, set: func(r *Router, rows []Row) { r.VLANs = rows }},
	{path: "/interface/bridge/port/print", optional: true, set: func(r *Router, rows []Row) { r.BridgePorts = rows }},
	{path: "/interface/list/print", optional: true, set: func(r *Router, rows []Row) { r.Lists = rows }},
	{path: "/interface/list/member/print", optional: true, set: func(r *Router, rows []Row) { r.ListMembers = rows }},
	{path: "/ip/address/print", set: func(r *Router, rows []Row) { r.Addresses = rows }},
	{path: "/ipv6/address/print", optional: true, set: func(r *Router, rows []Row) { r.Addresses6 = rows }},
	{path: "/ip/route/print", optional: true, set: func(r *Router, rows []Row) { r.Routes = rows }},
	{path: "/ipv6/route/print", optional: true, set: func(r *Router, rows []Row) { r.Routes6 = rows }},
	{path: "/ip/firewall/filter/print", set: func(r *Router, rows []Row) { r.Filter = rows }},
	{path: "/ip/firewall/nat/print", optional: true, set: func(r *Router, rows []Row) { r.NAT = rows }},
	{path: "/ip/firewall/raw/print", optional: true, set: func(r *Router, rows []Row) { r.Raw = rows }},
	{path: "/ipv6/firewall/filter/print", optional: true, set: func(r *Router, rows []Row) { r.Filter6 = rows }},
	{path: addressListPath, optional: true, props: addressListProps, where: []string{"?list=" + vpnList}, set: func(r *Router, rows []Row) { r.AddressLists = rows }},
	{path: "/ip/service/print", set: func(r *Router, rows []Row) {
		// From 7.19 every open session is listed too, as a dynamic entry
		// named after its service (reference §7): those are not services.
		r.Services = slices.DeleteFunc(rows, func(s Row) bool { return isTrue(s["dynamic"]) || isTrue(s["connection"]) })
	}},
	{path: "/ip/cloud/print", optional: true, set: func(r *Router, rows []Row) { r.Cloud = first(rows) }},
	{path: "/user/print", props: ".id,name,group,address,comment,disabled", set: func(r *Router, rows []Row) { r.Users = rows }},
	{path: "/user/group/print", set: func(r *Router, rows []Row) { r.Groups = rows }},
	{path: "/system/scheduler/print", optional: true, props: ".id,name,interval,next-run,comment,disabled", set: func(r *Router, rows []Row) { r.Schedulers = rows }},
	{path: "/system/script/print", optional: true, props: ".id,name,comment", set: func(r *Router, rows []Row) { r.Scripts = rows }},
	{path: "/file/print", optional: true, props: ".id,name,type,size", set: func(r *Router, rows []Row) { r.Files = rows }},
}

func first(rows []Row) Row {
	if len(rows) == 0 {
		return Row{}
	}
	return rows[0]
}

// buildRouter assembles a snapshot from the replies of inspectQueries, in
// the same order. A failed optional print marks its menu missing; a failed
// required one fails the inspection.
func buildRouter(replies [][]Row, errs []error) (*Router, error) {
	if len(replies) != len(inspectQueries) || len(errs) != len(inspectQueries) {
		return nil, fmt.Errorf("onboard: inspect: %d replies for %d prints", len(replies), len(inspectQueries))
	}
	r := &Router{}
	for i, q := range inspectQueries {
		if errs[i] != nil {
			if q.optional {
				r.Missing = append(r.Missing, q.path)
				continue
			}
			return nil, fmt.Errorf("onboard: inspect %s: %w", q.path, errs[i])
		}
		q.set(r, replies[i])
	}
	return r, nil
}

// namedLists returns the address lists that enabled raw, nat and filter
// rules match on (src- or dst-address-list, negated or not), sorted,
// wgboot's own left out: the inspect batch reads that one.
func (r *Router) namedLists() []string {
	var out []string
	for _, rows := range [][]Row{r.Raw, r.NAT, r.Filter} {
		for _, row := range rows {
			if !enabled(row) {
				continue
			}
			for _, k := range []string{"src-address-list", "dst-address-list"} {
				if l := strings.TrimPrefix(row[k], "!"); l != "" && l != vpnList && !slices.Contains(out, l) {
					out = append(out, l)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// readNamedLists adds to r the entries of the address lists its rules
// name, in one print whose query ORs the names (?list=a ?list=b ?#|): one
// more round trip and one pass over the router's entries, and none when no
// rule names a list.
func readNamedLists(ctx context.Context, cl session, r *Router) error {
	names := r.namedLists()
	if len(names) == 0 || slices.Contains(r.Missing, addressListPath) {
		return nil
	}
	cmd := []string{addressListPath, "=.proplist=" + addressListProps}
	for i, n := range names {
		cmd = append(cmd, "?list="+n)
		if i > 0 {
			cmd = append(cmd, "?#|")
		}
	}
	replies, errs := cl.Batch(ctx, cmd)
	if len(replies) != 1 || len(errs) != 1 {
		return fmt.Errorf("onboard: inspect: %d replies for 1 address-list print", len(replies))
	}
	if errs[0] != nil {
		return fmt.Errorf("onboard: inspect address lists %s: %w", strings.Join(names, ", "), errs[0])
	}
	if replies[0] != nil {
		for _, m := range replies[0].Re {
			r.AddressLists = append(r.AddressLists, Row(m))
		}
	}
	return nil
}

// MajorVersion returns the RouterOS major version (6, 7) or 0 when unknown.
func (r *Router) MajorVersion() int {
	v := strings.TrimSpace(r.Version)
	if v == "" {
		return 0
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// enabled reports whether a row is in effect (not disabled, not invalid).
func enabled(r Row) bool {
	return !isTrue(r["disabled"]) && !isTrue(r["invalid"])
}

func isTrue(v string) bool { return v == "true" || v == "yes" }

// ifaceType maps /interface type text to the firewall package's short names.
func ifaceType(t string) string {
	switch t {
	case "wg", "wireguard":
		return "wg"
	case "pppoe-out", "pppoe-client":
		return "pppoe-out"
	default:
		return t
	}
}

// prefixes parses a comma list of addresses, prefixes and a-b ranges into
// prefixes; ranges and names that do not parse are skipped by the caller's
// choice of ok.
func prefixes(list string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		if lo, hi, ok := strings.Cut(f, "-"); ok {
			a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
			b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
			if err1 == nil && err2 == nil {
				out = append(out, rangePrefixes(a, b)...)
			}
		}
	}
	return out
}

// rangePrefixes covers a-b with a smallest enclosing prefix; good enough for
// overlap tests, which is all ranges are used for.
func rangePrefixes(a, b netip.Addr) []netip.Prefix {
	if a.BitLen() != b.BitLen() {
		return nil
	}
	for bits := a.BitLen(); bits >= 0; bits-- {
		p := netip.PrefixFrom(a, bits).Masked()
		if p.Contains(b) {
			return []netip.Prefix{p}
		}
	}
	return nil
}

// ifacePrefix parses an /ip address "address" value (10.0.0.1/24).
func ifacePrefix(v string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(strings.TrimSpace(v))
	if err != nil {
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return p, true
}
