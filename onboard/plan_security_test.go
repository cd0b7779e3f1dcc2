package onboard

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/firewall"
)

// wideSources are WAN sources a plan's own probes do not know about: the
// after-state is checked from each of them, so a plan that only holds for
// the sources it chose to probe fails here.
var wideSources = []string{
	"100.64.1.1", "8.8.8.8", "45.33.1.1", "1.1.1.1", "203.0.113.1", "203.0.113.50", "203.0.113.255",
	"198.18.0.1", "198.19.255.254", "198.20.0.1", "198.17.255.255", "10.0.0.1", "10.10.0.1", "172.16.5.5",
	"192.0.2.1", "192.0.2.7", "192.0.2.9", "192.0.2.10", "198.51.100.50", "10.77.0.2", "10.77.0.99",
	"192.168.88.100", "223.255.255.1",
}

// planFinal plans r and returns the simulated router after every change,
// or the plan's error.
func planFinal(t *testing.T, r *Router, s Settings) (*Router, *decision, *Plan, error) {
	t.Helper()
	d, err := decide(r, decideInput{RunID: "t1", User: "admin", Host: "192.168.88.1", Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	pl, p, err := makePlan(r, d, s, "PUBKEY=")
	if err != nil {
		return nil, d, p, err
	}
	final, err := simulate(r, "t1", pl.Ops)
	if err != nil {
		t.Fatal(err)
	}
	return final, d, p, nil
}

// wanAPIOpen lists every (WAN, source, API port) the final ruleset accepts.
func wanAPIOpen(r *Router, d *decision) []string {
	var open []string
	for _, w := range d.WANs {
		for _, s := range wideSources {
			for _, a := range d.API {
				p := probe{Packet: firewallPacket(w.Name, netip.MustParseAddr(s), r.ifaceAddrs(w.Name)[0].Addr(), "tcp", a.Port)}
				if v := evaluate(r, p); v.Action == "accept" {
					open = append(open, w.Name+" from "+s+" tcp/"+itoa(int(a.Port)))
				}
			}
		}
	}
	return open
}

// Finding 13: after hardening no WAN source reaches the API, whatever
// address it claims, however the rules single sources out.
func TestPlanHardensEveryWANSource(t *testing.T) {
	base := []Row{{".id": "*1", "chain": "input", "action": "accept", "in-interface-list": "LAN"}}
	mgmt := []Row{
		{".id": "*1", "list": "mgmt", "address": "203.0.113.0/24"},
		{".id": "*2", "list": "mgmt", "address": "198.18.0.0/15"},
		{".id": "*3", "list": "range", "address": "192.0.2.5-192.0.2.9"},
	}
	tests := []struct {
		name   string
		filter []Row
	}{
		{name: "allowlist drop then blanket WAN accept", filter: []Row{
			{".id": "*2", "chain": "input", "action": "drop", "in-interface-list": "!LAN", "src-address-list": "mgmt"},
			{".id": "*3", "chain": "input", "action": "accept", "in-interface-list": "WAN"},
			{".id": "*4", "chain": "input", "action": "drop", "in-interface-list": "!LAN"},
		}},
		{name: "negated source accept", filter: []Row{
			{".id": "*2", "chain": "input", "action": "accept", "src-address": "!203.0.113.0/24"},
			{".id": "*3", "chain": "input", "action": "drop"},
		}},
		{name: "range allowlist after a drop of the rest of the list", filter: []Row{
			{".id": "*2", "chain": "input", "action": "drop", "src-address-list": "mgmt", "in-interface-list": "WAN"},
			{".id": "*3", "chain": "input", "action": "accept", "src-address-list": "!range", "protocol": "tcp"},
			{".id": "*4", "chain": "input", "action": "drop"},
		}},
		{name: "user chain accepts the WAN", filter: []Row{
			{".id": "*2", "chain": "input", "action": "jump", "jump-target": "wan"},
			{".id": "*3", "chain": "input", "action": "drop"},
			{".id": "*4", "chain": "wan", "action": "drop", "src-address": "198.18.0.0/15"},
			{".id": "*5", "chain": "wan", "action": "accept", "in-interface": "ether1", "protocol": "tcp"},
		}},
		{name: "raw notrack then accept untracked", filter: []Row{
			{".id": "*2", "chain": "input", "action": "accept", "connection-state": "untracked"},
			{".id": "*3", "chain": "input", "action": "drop", "in-interface-list": "!LAN"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defconf()
			r.AddressLists = mgmt
			r.Filter = append(slices.Clone(base), tt.filter...)
			if tt.name == "raw notrack then accept untracked" {
				r.Raw = []Row{{".id": "*1", "chain": "prerouting", "action": "notrack", "src-address": "!198.18.0.0/15"}}
			}
			final, d, _, err := planFinal(t, r, Settings{LANKeepsAPI: true})
			if err != nil {
				t.Fatalf("plan refused: %v", err)
			}
			if diff := cmp.Diff([]string(nil), wanAPIOpen(final, d)); diff != "" {
				t.Errorf("WAN sources reaching the API after the plan (-want +got):\n%s", diff)
			}
		})
	}
}

// The plan's check refuses instead of leaving the API open when no
// placement can close it: a dynamic rule at the top accepts the WAN.
func TestPlanRefusesWANOpenAboveDynamic(t *testing.T) {
	r := defconf()
	r.Filter = append([]Row{{".id": "*D", "chain": "input", "action": "accept", "dynamic": "true", "src-address": "!10.0.0.0/8", "protocol": "tcp"}}, r.Filter...)
	_, _, _, err := planFinal(t, r, Settings{LANKeepsAPI: true})
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a CheckError", err)
	}
	if !strings.Contains(err.Error(), "would still be accepted after hardening") {
		t.Errorf("err = %v, want it to say the API stays open", err)
	}
}

// Finding 10: the API allow rule and the WireGuard accept go above every
// rule that would deny them, not only interface-list drops; a deny inside a
// user chain puts them above the jump.
func TestPlanAllowAboveEveryDeny(t *testing.T) {
	tests := []struct {
		name    string
		filter  []Row
		plain   bool
		wantCmd []string // substrings, each of some change
	}{
		{name: "drop of the other API port by negated interface", plain: true, filter: []Row{
			{".id": "*1", "chain": "input", "action": "accept", "connection-state": "established,related"},
			{".id": "*2", "chain": "input", "action": "drop", "protocol": "tcp", "dst-port": "8729", "in-interface": "!bridge"},
			{".id": "*3", "chain": "input", "action": "drop", "in-interface-list": "!LAN"},
		}, wantCmd: []string{`api-allow" place-before=*2`}},
		{name: "unconditional drop early", filter: []Row{
			{".id": "*1", "chain": "input", "action": "accept", "src-address": "203.0.113.0/24"},
			{".id": "*2", "chain": "input", "action": "accept", "in-interface": "bridge"},
			{".id": "*3", "chain": "input", "action": "drop"},
		}, wantCmd: []string{`wg-accept" place-before=*3`, `api-allow" place-before=*3`}},
		{name: "drop inside a jumped-to chain", filter: []Row{
			{".id": "*1", "chain": "input", "action": "accept", "in-interface": "bridge"},
			{".id": "*2", "chain": "input", "action": "jump", "jump-target": "guard"},
			{".id": "*3", "chain": "guard", "action": "drop", "protocol": "tcp", "dst-port": "8728"},
			{".id": "*4", "chain": "guard", "action": "drop", "protocol": "udp"},
			{".id": "*5", "chain": "guard", "action": "return"},
		}, wantCmd: []string{`wg-accept" place-before=*2`, `api-allow" place-before=*2`}},
		// The first packet passes, every later one is dropped: the API
		// session through the tunnel and the WireGuard flow would die
		// (proof seed 4294967320).
		{name: "drop of established packets from outside the LAN", filter: []Row{
			{".id": "*1", "chain": "input", "action": "accept", "in-interface-list": "LAN"},
			{".id": "*2", "chain": "input", "action": "drop", "connection-state": "established,related,untracked", "in-interface-list": "!LAN", "src-address-list": "!trusted"},
			{".id": "*3", "chain": "input", "action": "accept", "protocol": "tcp", "dst-port": "8000-9000"},
		}, plain: true, wantCmd: []string{`wg-accept" place-before=*2`, `api-allow" place-before=*2`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defconf()
			r.Filter = tt.filter
			s := Settings{LANKeepsAPI: true}
			d, err := decide(r, decideInput{RunID: "t1", User: "admin", Host: "192.168.88.1", Plain: tt.plain, Settings: s})
			if err != nil {
				t.Fatal(err)
			}
			pl, p, err := makePlan(r, d, s, "PUBKEY=")
			if err != nil {
				t.Fatalf("plan refused: %v", err)
			}
			for _, w := range tt.wantCmd {
				if !slices.ContainsFunc(p.Changes, func(c Change) bool { return strings.Contains(c.Command, w) }) {
					t.Errorf("no change contains %q", w)
				}
			}
			final, err := simulate(r, "t1", pl.Ops)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, pr := range d.probes(r) {
				if pr.Kind == probeVPNAPI || pr.Kind == probeWANWG {
					got[pr.Label] = evaluate(final, pr).Action
				}
			}
			want := map[string]string{
				"VPN→API wgboot tcp/8728": "accept", "VPN→API wgboot tcp/8729": "accept", "WAN→WireGuard ether1 udp/13231": "accept",
				"VPN→API wgboot tcp/8728 established": "accept", "VPN→API wgboot tcp/8729 established": "accept", "WAN→WireGuard ether1 udp/13231 established": "accept",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("after the plan (-want +got):\n%s", diff)
			}
		})
	}
}

// The plan refuses, with a sentence, when it cannot open the tunnel's own
// probes: a dynamic rule (nothing may go above it) denies them.
func TestPlanRefusesClosedTunnel(t *testing.T) {
	tests := []struct {
		name string
		top  Row
		want string
	}{
		{name: "vpn api", top: Row{".id": "*D", "chain": "input", "action": "drop", "dynamic": "true", "protocol": "tcp", "dst-port": "8728"},
			want: "VPN→API wgboot tcp/8728 would be drop: the API could not be used through the tunnel on that port"},
		{name: "wan wireguard", top: Row{".id": "*D", "chain": "input", "action": "drop", "dynamic": "true", "protocol": "udp", "in-interface": "ether1"},
			want: "WAN→WireGuard ether1 udp/13231 from an address no rule names would be drop: the technician could not bring the tunnel up from the internet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defconf()
			r.Filter = append([]Row{tt.top}, r.Filter...)
			_, _, _, err := planFinal(t, r, Settings{LANKeepsAPI: true})
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a CheckError", err)
			}
			if !slices.Contains(ce.Problems, tt.want) {
				t.Errorf("problems = %q, want one to be %q", ce.Problems, tt.want)
			}
		})
	}
}

// Finding 9: the WireGuard port is opened for a source no rule names, not
// judged from an allowlisted one; a per-host block stays and is reported.
func TestPlanWireGuardNeutralSource(t *testing.T) {
	r := defconf()
	r.AddressLists = []Row{{".id": "*1", "list": "mgmt", "address": "203.0.113.0/24"}, {".id": "*2", "list": "mgmt", "address": "198.18.0.0/15"}}
	r.Filter = []Row{
		{".id": "*1", "chain": "input", "action": "drop", "src-address": "192.0.2.66"},
		{".id": "*2", "chain": "input", "action": "accept", "in-interface-list": "WAN", "protocol": "udp", "src-address-list": "mgmt"},
		{".id": "*3", "chain": "input", "action": "accept", "in-interface-list": "LAN"},
		{".id": "*4", "chain": "input", "action": "drop", "in-interface-list": "!LAN"},
	}
	final, d, p, err := planFinal(t, r, Settings{LANKeepsAPI: true})
	if err != nil {
		t.Fatalf("plan refused: %v", err)
	}
	if !slices.ContainsFunc(p.Changes, func(c Change) bool { return strings.Contains(c.Command, `wg-accept" place-before=*4`) }) {
		t.Errorf("no wg-accept before *4 in %v", p.Changes)
	}
	got := map[string]string{}
	for _, src := range []string{"100.64.1.1", "8.8.8.8", "203.0.113.9", "192.0.2.66"} {
		pr := probe{Packet: firewallPacket("ether1", netip.MustParseAddr(src), netip.MustParseAddr("198.51.100.10"), "udp", uint16(d.ListenPort))}
		got[src] = evaluate(final, pr).Action
	}
	want := map[string]string{"100.64.1.1": "accept", "8.8.8.8": "accept", "203.0.113.9": "accept", "192.0.2.66": "drop"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WAN→WireGuard after the plan (-want +got):\n%s", diff)
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "stays closed to 192.0.2.66 on ether1") }) {
		t.Errorf("warnings = %q, want one naming the blocked host", p.Warnings)
	}
}

func TestNeutralSource(t *testing.T) {
	tests := []struct {
		name  string
		lists []Row
		rules []Row
		want  string
	}{
		{name: "nothing named", want: "203.0.113.50"},
		{name: "list names the first documentation range", lists: []Row{{"list": "mgmt", "address": "203.0.113.0/24"}}, want: "198.51.100.50"},
		{name: "rules and a range name all three", lists: []Row{{"list": "x", "address": "192.0.2.0-192.0.2.255"}},
			rules: []Row{{"chain": "input", "action": "accept", "src-address": "!203.0.113.0/24"}, {"chain": "input", "action": "drop", "src-address": "198.51.100.0/23"}},
			want:  "1.99.99.99"},
		{name: "the whole space singles nobody out", rules: []Row{{"chain": "input", "action": "accept", "src-address": "0.0.0.0/0"}}, want: "203.0.113.50"},
		{name: "a disabled rule names nothing", rules: []Row{{"chain": "input", "action": "drop", "src-address": "203.0.113.0/24", "disabled": "true"}}, want: "203.0.113.50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defconf()
			r.AddressLists, r.Filter = tt.lists, tt.rules
			if got := neutralSource(r).String(); got != tt.want {
				t.Errorf("neutralSource = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSourceClasses(t *testing.T) {
	r := defconf()
	r.AddressLists = []Row{{"list": "mgmt", "address": "10.0.0.0/8"}, {"list": "mgmt", "address": "example.com"}, {"list": "unused", "address": "9.9.9.9"}}
	r.Filter = []Row{
		{"chain": "input", "action": "drop", "src-address-list": "!mgmt"},
		{"chain": "input", "action": "accept", "src-address": "192.0.2.5-192.0.2.9,198.51.100.7"},
	}
	r.Raw = []Row{{"chain": "prerouting", "action": "drop", "src-address": "0.0.0.0/0"}}
	var got []string
	for _, a := range sourceClasses(r) {
		got = append(got, a.String())
	}
	// One per class, in address order: outside everything (the raw rule's
	// 0.0.0.0/0 tells nobody apart), mgmt, the accept rule's sources (one
	// class however many spans). The router's own address is a class only
	// for rules that test src-address-type.
	want := []string{"0.0.0.1", "10.0.0.1", "192.0.2.6"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sourceClasses (-want +got):\n%s", diff)
	}
	r.Filter = append(r.Filter, Row{"chain": "input", "action": "drop", "src-address-type": "local"})
	if got := sourceClasses(r); !slices.Contains(got, netip.MustParseAddr("192.168.88.1")) {
		t.Errorf("sourceClasses with a src-address-type rule = %v, want the router's address as a class", got)
	}
}

func TestSpansOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.0.0.0/8", "10.0.0.0-10.255.255.255"},
		{"!192.0.2.7", "192.0.2.7-192.0.2.7"},
		{"192.0.2.9-192.0.2.5", "192.0.2.5-192.0.2.9"},
		{"10.1.2.3/16, 2001:db8::/32,name.example", "10.1.0.0-10.1.255.255"},
		{"", ""},
		{"6:2001:db8::/127", "2001:db8::-2001:db8::1"},
		{"6:!2001:db8::9-2001:db8::1,10.0.0.1", "2001:db8::1-2001:db8::9"},
	}
	for _, tt := range tests {
		var got []string
		in, six := strings.CutPrefix(tt.in, "6:")
		for _, s := range spansOfFamily(in, six) {
			got = append(got, s.lo.String()+"-"+s.hi.String())
		}
		if g := strings.Join(got, ","); g != tt.want {
			t.Errorf("spansOf(%q) = %q, want %q", tt.in, g, tt.want)
		}
	}
}

// FuzzSpansOf: every span is ordered IPv4, and a plain address or prefix
// is contained in what it parses to.
func FuzzSpansOf(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "!1.2.3.4", "1.2.3.9-1.2.3.1", "0.0.0.0/0,255.255.255.255/32", "x,::1", "1.2.3.4/33", "-", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		spans := spansOf(v)
		for _, s := range spans {
			if !s.lo.Is4() || !s.hi.Is4() || s.hi.Less(s.lo) {
				t.Fatalf("spansOf(%q) gave %v-%v", v, s.lo, s.hi)
			}
		}
		if p, err := netip.ParsePrefix(strings.TrimPrefix(v, "!")); err == nil && p.Addr().Is4() {
			if len(spans) != 1 || !spans[0].contains(p.Addr()) {
				t.Fatalf("spansOf(%q) = %v, want one span holding %s", v, spans, p.Addr())
			}
		}
	})
}

func firewallPacket(in string, src, dst netip.Addr, proto string, port uint16) firewall.Packet {
	return firewall.Packet{InInterface: in, Src: src, Dst: dst, Protocol: proto, SrcPort: 40000, DstPort: port}
}

// The same over IPv6: a drop of a named prefix followed by an accept of
// the WAN must not leave the API open to the rest of the internet.
func TestPlanHardensEveryWANSource6(t *testing.T) {
	r := defconf()
	r.Addresses6 = []Row{{".id": "*1", "address": "2001:db8:1::2/64", "interface": "ether1"}}
	r.Filter6 = []Row{
		{".id": "*1", "chain": "input", "action": "accept", "connection-state": "established,related"},
		{".id": "*2", "chain": "input", "action": "drop", "src-address": "2001:db8:ff00::/40"},
		{".id": "*3", "chain": "input", "action": "accept", "in-interface": "ether1", "src-address": "!2001:db8:ff00::/40"},
		{".id": "*4", "chain": "input", "action": "drop"},
	}
	final, d, p, err := planFinal(t, r, Settings{LANKeepsAPI: true})
	if err != nil {
		t.Fatalf("plan refused: %v", err)
	}
	// Above the accept of the WAN (the drop of the named prefix may stay above).
	if !slices.ContainsFunc(p.Changes, func(c Change) bool {
		return strings.HasPrefix(c.Command, "/ipv6 firewall filter add action=drop") && strings.HasSuffix(c.Command, "place-before=*3")
	}) {
		t.Errorf("no IPv6 harden rule before *3 in %v", p.Changes)
	}
	var open []string
	for _, src := range []string{"2001:db8:ffff::50", "2001:db8:1::99", "2a00:1450::1", "2001:db8:ff00::1", "2001:db9::1"} {
		for _, a := range d.API {
			pr := probe{V6: true, Packet: firewallPacket("ether1", netip.MustParseAddr(src), netip.MustParseAddr("2001:db8:1::2"), "tcp", a.Port)}
			if v := evaluate(final, pr); v.Action == "accept" {
				open = append(open, src+" tcp/"+itoa(int(a.Port)))
			}
		}
	}
	if diff := cmp.Diff([]string(nil), open); diff != "" {
		t.Errorf("IPv6 WAN sources reaching the API (-want +got):\n%s", diff)
	}
	if got := neutralSource6(r).String(); got != "2001:db8:feff::50" {
		t.Errorf("neutralSource6 = %s, want 2001:db8:feff::50 (the /40 names ff00-ffff)", got)
	}
}

// BenchmarkPlanManySources plans a router whose rules name 40 address-list
// entries: every one adds source-class probes the plan evaluates three times.
func BenchmarkPlanManySources(b *testing.B) {
	r := defconf()
	for i := range 40 {
		r.AddressLists = append(r.AddressLists, Row{"list": "mgmt", "address": "198.18." + itoa(i) + ".0/24"})
	}
	r.Filter = []Row{
		{".id": "*1", "chain": "input", "action": "accept", "in-interface-list": "LAN"},
		{".id": "*2", "chain": "input", "action": "drop", "in-interface-list": "!LAN", "src-address-list": "mgmt"},
		{".id": "*3", "chain": "input", "action": "accept", "in-interface-list": "WAN"},
		{".id": "*4", "chain": "input", "action": "drop", "in-interface-list": "!LAN"},
	}
	d, err := decide(r, decideInput{RunID: "t1", User: "admin", Host: "192.168.88.1", Settings: Settings{LANKeepsAPI: true}})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := makePlan(r, d, Settings{LANKeepsAPI: true}, "PUBKEY="); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(d.probes(r))), "probes")
}

// An accept the evaluator cannot decide (here a rate limit) may let WAN
// packets reach the API on the router: the harden rule goes above it.
func TestPlanHardensAboveUncertainAccept(t *testing.T) {
	r := defconf()
	r.Filter = []Row{
		{".id": "*1", "chain": "input", "action": "accept", "connection-state": "established,related"},
		{".id": "*2", "chain": "input", "action": "accept", "protocol": "icmp"},
		{".id": "*3", "chain": "input", "action": "accept", "in-interface-list": "WAN", "protocol": "tcp", "limit": "10,5:packet"},
		{".id": "*4", "chain": "input", "action": "drop", "in-interface-list": "!LAN"},
	}
	_, _, p, err := planFinal(t, r, Settings{LANKeepsAPI: true})
	if err != nil {
		t.Fatalf("plan refused: %v", err)
	}
	if !slices.ContainsFunc(p.Changes, func(c Change) bool { return strings.Contains(c.Command, `harden-WAN" place-before=*3`) }) {
		t.Errorf("no harden-WAN before *3 in %v", p.Changes)
	}
}
