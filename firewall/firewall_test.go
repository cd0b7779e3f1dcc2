package firewall

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// r builds a Rule from "key=value key=value" (values without spaces).
func r(s string) Rule {
	out := Rule{}
	for f := range strings.FieldsSeq(s) {
		k, v, _ := strings.Cut(f, "=")
		out[k] = v
	}
	return out
}

func rules(lines ...string) []Rule {
	out := make([]Rule, len(lines))
	for i, l := range lines {
		out[i] = r(l)
	}
	return out
}

var (
	wanAddr = netip.MustParseAddr("203.0.113.1")
	lanAddr = netip.MustParseAddr("192.168.88.1")
	vpnAddr = netip.MustParseAddr("10.77.0.1")
	v6Addr  = netip.MustParseAddr("2001:db8::1")
	tech    = netip.MustParseAddr("198.51.100.7")
	techVPN = netip.MustParseAddr("10.77.0.2")
	lanHost = netip.MustParseAddr("192.168.88.20")
)

// defconf is the SOHO default configuration's firewall (RouterOS 7).
func defconf() Tables {
	return Tables{
		Filter: rules(
			"chain=input action=accept connection-state=established,related,untracked comment=defconf:accept-established",
			"chain=input action=drop connection-state=invalid",
			"chain=input action=accept protocol=icmp",
			"chain=input action=accept dst-address=127.0.0.1",
			"chain=input action=drop in-interface-list=!LAN",
			"chain=forward action=accept ipsec-policy=in,ipsec",
			"chain=forward action=accept ipsec-policy=out,ipsec",
			"chain=forward action=fasttrack-connection connection-state=established,related hw-offload=yes",
			"chain=forward action=accept connection-state=established,related,untracked",
			"chain=forward action=drop connection-state=invalid",
			"chain=forward action=drop connection-state=new connection-nat-state=!dstnat in-interface-list=WAN",
		),
		NAT: rules("chain=srcnat action=masquerade out-interface-list=WAN ipsec-policy=out,none"),
	}
}

func testEnv() Env {
	return Env{
		Interfaces: []Interface{
			{Name: "ether1", Type: "ether"}, {Name: "ether2", Type: "ether"},
			{Name: "bridge", Type: "bridge"}, {Name: "wg0", Type: "wg"},
			{Name: "pppoe-out1", Type: "pppoe-out", Dynamic: true},
		},
		InterfaceLists: map[string][]string{"WAN": {"ether1", "pppoe-out1"}, "LAN": {"bridge"}},
		AddressLists: map[string][]string{
			"wgboot-vpn": {"10.77.0.0/24"},
			"mgmt":       {"198.51.100.1-198.51.100.9", "192.0.2.5"},
			"v6":         {"2001:db8:1::/48"},
			"dns":        {"example.com"},
		},
		LocalAddrs: []netip.Addr{wanAddr, lanAddr, vpnAddr, v6Addr, netip.MustParseAddr("127.0.0.1")},
	}
}

func tcp(in string, src netip.Addr, dst netip.Addr, dport uint16) Packet {
	return Packet{InInterface: in, Src: src, Dst: dst, Protocol: "tcp", SrcPort: 40000, DstPort: dport}
}

func udp(in string, src netip.Addr, dst netip.Addr, dport uint16) Packet {
	return Packet{InInterface: in, Src: src, Dst: dst, Protocol: "udp", SrcPort: 51820, DstPort: dport}
}

func with(p Packet, f func(*Packet)) Packet { f(&p); return p }

// insert returns rules with extra placed before index at.
func insert(rs []Rule, at int, extra ...Rule) []Rule {
	out := append([]Rule{}, rs[:at]...)
	out = append(out, extra...)
	return append(out, rs[at:]...)
}

func TestEvaluateInputDefconf(t *testing.T) {
	dc := defconf()
	planned := dc
	planned.Filter = insert(dc.Filter, 4,
		r("chain=input action=accept protocol=udp dst-port=13231 comment=wgboot:wg"),
		r("chain=input action=accept protocol=tcp dst-port=8728,8729 src-address-list=wgboot-vpn in-interface=wg0 comment=wgboot:api"),
	)
	tests := []struct {
		name string
		t    Tables
		p    Packet
		want Verdict
	}{
		{"api from wan dropped", dc, tcp("ether1", tech, wanAddr, 8729),
			Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 4, Hits: []Hit{{"filter", 4}}}},
		{"api from lan default accept", dc, tcp("bridge", lanHost, lanAddr, 8729),
			Verdict{Action: "accept", Stage: "default", Index: -1}},
		{"established from wan accepted", dc, with(tcp("ether1", tech, wanAddr, 8729), func(p *Packet) { p.State = "established" }),
			Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"filter", 0}}}},
		{"invalid dropped", dc, with(tcp("bridge", lanHost, lanAddr, 8729), func(p *Packet) { p.State = "invalid" }),
			Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 1, Hits: []Hit{{"filter", 1}}}},
		{"icmp from wan accepted", dc, Packet{InInterface: "ether1", Src: tech, Dst: wanAddr, Protocol: "icmp"},
			Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 2, Hits: []Hit{{"filter", 2}}}},
		{"wireguard from wan dropped", dc, udp("ether1", tech, wanAddr, 13231),
			Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 4, Hits: []Hit{{"filter", 4}}}},
		{"wireguard from wan accepted by plan", planned, udp("ether1", tech, wanAddr, 13231),
			Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 4, Hits: []Hit{{"filter", 4}}}},
		{"api through tunnel accepted by plan", planned, tcp("wg0", techVPN, vpnAddr, 8729),
			Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 5, Hits: []Hit{{"filter", 5}}}},
		{"api through tunnel from outside vpn subnet dropped", planned, tcp("wg0", tech, vpnAddr, 8729),
			Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 6, Hits: []Hit{{"filter", 6}}}},
		{"pppoe wan dropped", dc, tcp("pppoe-out1", tech, wanAddr, 8729),
			Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 4, Hits: []Hit{{"filter", 4}}}},
		{"capsman loopback accepted", dc, udp("ether1", tech, netip.MustParseAddr("127.0.0.1"), 5246),
			Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 3, Hits: []Hit{{"filter", 3}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EvaluateInput(tt.t, testEnv(), tt.p)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("EvaluateInput (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMatchers checks each matcher, alone and negated, with one rule
// "drop if it matches" in front of an otherwise empty input chain.
func TestMatchers(t *testing.T) {
	base := tcp("ether1", tech, wanAddr, 8729)
	tests := []struct {
		name  string
		rule  string
		p     Packet
		match bool
	}{
		{"protocol name", "protocol=tcp", base, true},
		{"protocol other name", "protocol=udp", base, false},
		{"protocol number", "protocol=6", base, true},
		{"protocol negated", "protocol=!tcp", base, false},
		{"protocol negated other", "protocol=!udp", base, true},
		{"protocol gre by number", "protocol=gre", with(base, func(p *Packet) { p.Protocol = "47" }), true},
		{"protocol case", "protocol=TCP", base, true},
		{"dst-port single", "protocol=tcp dst-port=8729", base, true},
		{"dst-port list", "protocol=tcp dst-port=22,8729,80", base, true},
		{"dst-port range", "protocol=tcp dst-port=8728-8729", base, true},
		{"dst-port range miss", "protocol=tcp dst-port=1-8728", base, false},
		{"dst-port negated", "protocol=tcp dst-port=!8728-8729", base, false},
		{"dst-port negated miss", "protocol=tcp dst-port=!22", base, true},
		{"dst-port on icmp", "dst-port=8729", with(base, func(p *Packet) { p.Protocol = "icmp" }), false},
		{"src-port", "protocol=tcp src-port=40000", base, true},
		{"src-port miss", "protocol=tcp src-port=40001-50000", base, false},
		{"port either src", "protocol=tcp port=40000", base, true},
		{"port either dst", "protocol=tcp port=8729", base, true},
		{"port neither", "protocol=tcp port=1", base, false},
		{"src-address exact", "src-address=198.51.100.7", base, true},
		{"src-address prefix", "src-address=198.51.100.0/24", base, true},
		{"src-address prefix host bits", "src-address=198.51.100.99/24", base, true},
		{"src-address range", "src-address=198.51.100.5-198.51.100.8", base, true},
		{"src-address range miss", "src-address=198.51.100.8-198.51.100.9", base, false},
		{"src-address negated", "src-address=!198.51.100.0/24", base, false},
		{"src-address other family", "src-address=2001:db8::/32", base, false},
		{"dst-address", "dst-address=203.0.113.1", base, true},
		{"dst-address miss", "dst-address=203.0.113.2", base, false},
		{"dst-address v6", "dst-address=2001:db8::/64", tcp("ether1", netip.MustParseAddr("2001:db8:1::5"), v6Addr, 8729), true},
		{"src-address-list", "src-address-list=mgmt", base, true},
		{"src-address-list single entry", "src-address-list=mgmt", with(base, func(p *Packet) { p.Src = netip.MustParseAddr("192.0.2.5") }), true},
		{"src-address-list miss", "src-address-list=wgboot-vpn", base, false},
		{"src-address-list negated", "src-address-list=!wgboot-vpn", base, true},
		{"src-address-list unknown list", "src-address-list=nope", base, false},
		{"src-address-list v6", "src-address-list=v6", tcp("ether1", netip.MustParseAddr("2001:db8:1::5"), v6Addr, 8729), true},
		{"dst-address-list", "dst-address-list=mgmt", base, false},
		{"in-interface", "in-interface=ether1", base, true},
		{"in-interface miss", "in-interface=ether2", base, false},
		{"in-interface negated", "in-interface=!ether1", base, false},
		{"in-interface-list", "in-interface-list=WAN", base, true},
		{"in-interface-list negated", "in-interface-list=!LAN", base, true},
		{"in-interface-list all", "in-interface-list=all", base, true},
		{"in-interface-list none", "in-interface-list=none", base, false},
		{"in-interface-list !none", "in-interface-list=!none", base, true},
		{"in-interface-list static", "in-interface-list=static", base, true},
		{"in-interface-list dynamic", "in-interface-list=dynamic", base, false},
		{"in-interface-list dynamic pppoe", "in-interface-list=dynamic", with(base, func(p *Packet) { p.InInterface = "pppoe-out1" }), true},
		{"out-interface never on input", "out-interface=ether1", base, false},
		{"out-interface negated never on input", "out-interface=!ether1", base, false},
		{"out-interface-list never on input", "out-interface-list=WAN", base, false},
		{"connection-state empty is new", "connection-state=new", base, true},
		{"connection-state list", "connection-state=established,related", base, false},
		{"connection-state established", "connection-state=established,related", with(base, func(p *Packet) { p.State = "related" }), true},
		{"connection-state negated", "connection-state=!invalid", base, true},
		{"connection-state untracked", "connection-state=untracked", with(base, func(p *Packet) { p.State = "untracked" }), true},
		{"connection-nat-state without nat", "connection-nat-state=dstnat", base, false},
		{"connection-nat-state negated", "connection-nat-state=!dstnat", base, true},
		{"connection-nat-state srcnat", "connection-nat-state=srcnat", base, false},
		{"dst-address-type local", "dst-address-type=local", base, true},
		{"dst-address-type !local", "dst-address-type=!local", base, false},
		{"dst-address-type local miss", "dst-address-type=local", with(base, func(p *Packet) { p.Dst = lanHost }), false},
		{"dst-address-type unicast", "dst-address-type=unicast", base, true},
		{"dst-address-type multicast", "dst-address-type=multicast", base, false},
		{"dst-address-type broadcast", "dst-address-type=broadcast", with(base, func(p *Packet) { p.Dst = netip.MustParseAddr("255.255.255.255") }), true},
		{"src-address-type local", "src-address-type=local", base, false},
		{"ipsec-policy in,none", "ipsec-policy=in,none", base, true},
		{"ipsec-policy in,ipsec", "ipsec-policy=in,ipsec", base, false},
		{"ipsec-policy out,none", "ipsec-policy=out,none", base, false},
		{"all matchers together", "protocol=tcp dst-port=8729 src-address=198.51.100.0/24 in-interface-list=WAN connection-state=new dst-address-type=local", base, true},
		{"one of many fails", "protocol=tcp dst-port=8729 src-address=198.51.100.0/24 in-interface-list=LAN", base, false},
		{"empty value ignored", "protocol= dst-address=", base, true},
		{"comment and id are not matchers", ".id=*1 comment=x bytes=10 packets=1", base, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := Tables{Filter: []Rule{r("chain=input action=drop " + tt.rule)}}
			got := EvaluateInput(tb, testEnv(), tt.p)
			if got.Uncertain {
				t.Errorf("verdict uncertain: %q", got.Notes)
			}
			if gotMatch := got.Action == "drop"; gotMatch != tt.match {
				t.Errorf("rule %q matched = %v, want %v (verdict %+v)", tt.rule, gotMatch, tt.match, got)
			}
		})
	}
}

// TestEvaluateInputFlow covers chain flow: jump/return, logging,
// passthrough, disabled rules, raw, dstnat and uncertain verdicts.
func TestEvaluateInputFlow(t *testing.T) {
	api := tcp("ether1", tech, wanAddr, 8729)
	tests := []struct {
		name string
		t    Tables
		p    Packet
		want Verdict
	}{
		{
			name: "jump then drop in user chain",
			t: Tables{Filter: rules(
				"chain=input action=jump jump-target=wan-in in-interface-list=WAN",
				"chain=wan-in action=accept protocol=udp",
				"chain=wan-in action=drop",
			)},
			p:    api,
			want: Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 2, Hits: []Hit{{"filter", 0}, {"filter", 2}}},
		},
		{
			name: "return goes back to caller",
			t: Tables{Filter: rules(
				"chain=input action=jump jump-target=check",
				"chain=check action=return src-address-list=mgmt",
				"chain=check action=drop",
				"chain=input action=accept protocol=tcp",
			)},
			p:    api,
			want: Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 3, Hits: []Hit{{"filter", 0}, {"filter", 1}, {"filter", 3}}},
		},
		{
			name: "end of user chain returns",
			t: Tables{Filter: rules(
				"chain=input action=jump jump-target=empty",
				"chain=input action=reject",
			)},
			p:    api,
			want: Verdict{Action: "reject", Stage: "filter", Table: "filter", Index: 1, Hits: []Hit{{"filter", 0}, {"filter", 1}}},
		},
		{
			name: "return in built-in chain accepts",
			t:    Tables{Filter: rules("chain=input action=return", "chain=input action=drop")},
			p:    api,
			want: Verdict{Action: "accept", Stage: "default", Index: -1, Hits: []Hit{{"filter", 0}}},
		},
		{
			name: "jump loop is cut and flagged",
			t: Tables{Filter: rules(
				"chain=input action=jump jump-target=a",
				"chain=a action=jump jump-target=b",
				"chain=b action=jump jump-target=a",
			)},
			p: api,
			want: Verdict{Action: "accept", Stage: "default", Index: -1, Uncertain: true,
				Hits:  hitsLoop(),
				Notes: []string{"filter rule 2: jump nested deeper than 16 (a loop RouterOS would refuse), treated as not matching"}},
		},
		{
			name: "disabled rules skipped",
			t:    Tables{Filter: rules("chain=input action=drop disabled=yes", "chain=input action=drop disabled=true", "chain=input action=tarpit disabled=no")},
			p:    api,
			want: Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 2, Hits: []Hit{{"filter", 2}}},
		},
		{
			name: "log=yes logs the deciding rule",
			t:    Tables{Filter: []Rule{{"chain": "input", "action": "drop", "log": "yes", "log-prefix": "API-WAN"}}},
			p:    api,
			want: Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"filter", 0}},
				Logs: []Log{{"API-WAN", "input: in:ether1 out:(unknown 0), proto TCP (SYN), 198.51.100.7:40000->203.0.113.1:8729"}}},
		},
		{
			name: "action log and passthrough continue",
			t: Tables{Filter: []Rule{
				{"chain": "input", "action": "log", "log-prefix": "seen"},
				{"chain": "input", "action": "passthrough"},
				{"chain": "input", "action": "add-src-to-address-list", "address-list": "knock"},
				{"chain": "input", "action": "accept", "src-address-list": "knock", "log": "true"},
			}},
			p: udp("ether1", tech, wanAddr, 13231),
			want: Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 3,
				Hits: []Hit{{"filter", 0}, {"filter", 1}, {"filter", 2}, {"filter", 3}},
				Logs: []Log{
					{"seen", "input: in:ether1 out:(unknown 0), proto UDP, 198.51.100.7:51820->203.0.113.1:13231"},
					{"", "input: in:ether1 out:(unknown 0), proto UDP, 198.51.100.7:51820->203.0.113.1:13231"},
				}},
		},
		{
			name: "raw drop is final",
			t:    Tables{Raw: rules("chain=prerouting action=drop protocol=tcp dst-port=8729"), Filter: rules("chain=input action=accept")},
			p:    api,
			want: Verdict{Action: "drop", Stage: "raw", Table: "raw", Index: 0, Hits: []Hit{{"raw", 0}}},
		},
		{
			name: "raw accept continues to filter",
			t:    Tables{Raw: rules("chain=prerouting action=accept", "chain=prerouting action=drop"), Filter: rules("chain=input action=reject")},
			p:    api,
			want: Verdict{Action: "reject", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"raw", 0}, {"filter", 0}}},
		},
		{
			name: "raw notrack makes the packet untracked",
			t:    Tables{Raw: rules("chain=prerouting action=notrack"), Filter: defconf().Filter},
			p:    api,
			want: Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"raw", 0}, {"filter", 0}}},
		},
		{
			name: "raw output chain ignored",
			t:    Tables{Raw: rules("chain=output action=drop")},
			p:    api,
			want: Verdict{Action: "accept", Stage: "default", Index: -1},
		},
		{
			name: "dstnat diverts api port away from router",
			t: Tables{
				NAT:    rules("chain=dstnat action=dst-nat protocol=tcp dst-port=8729 in-interface-list=WAN to-addresses=192.168.88.20"),
				Filter: rules("chain=input action=accept"),
			},
			p:    api,
			want: Verdict{Action: "drop", Stage: "dstnat", Table: "nat", Index: 0, DstNAT: true, Hits: []Hit{{"nat", 0}}},
		},
		{
			name: "dstnat port change on local address continues into input",
			t: Tables{
				NAT: rules("chain=dstnat action=dst-nat protocol=tcp dst-port=443 dst-address-type=local to-ports=8729"),
				Filter: rules(
					"chain=input action=accept protocol=tcp dst-port=8729 connection-nat-state=dstnat",
					"chain=input action=drop",
				),
			},
			p:    tcp("ether1", tech, wanAddr, 443),
			want: Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"nat", 0}, {"filter", 0}}},
		},
		{
			name: "dstnat to another local address",
			t:    Tables{NAT: rules("chain=dstnat action=dst-nat to-addresses=192.168.88.1"), Filter: rules("chain=input action=drop dst-address=192.168.88.1")},
			p:    api,
			want: Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"nat", 0}, {"filter", 0}}},
		},
		{
			name: "redirect stays on the router",
			t:    Tables{NAT: rules("chain=dstnat action=redirect protocol=tcp to-ports=8729"), Filter: rules("chain=input action=accept dst-port=8729 protocol=tcp")},
			p:    tcp("ether1", tech, netip.MustParseAddr("192.0.2.99"), 80),
			want: Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"nat", 0}, {"filter", 0}}},
		},
		{
			name: "netmap keeps host bits onto a local address",
			t:    Tables{NAT: rules("chain=dstnat action=netmap to-addresses=192.168.88.0/24"), Filter: rules("chain=input action=drop dst-address=192.168.88.1")},
			p:    tcp("ether1", tech, netip.MustParseAddr("203.0.113.1"), 80),
			want: Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"nat", 0}, {"filter", 0}}},
		},
		{
			name: "netmap keeps host bits onto a lan host",
			t:    Tables{NAT: rules("chain=dstnat action=netmap to-addresses=192.168.88.0/24"), Filter: rules("chain=input action=accept")},
			p:    tcp("ether1", tech, netip.MustParseAddr("203.0.113.20"), 80),
			want: Verdict{Action: "drop", Stage: "dstnat", Table: "nat", Index: 0, DstNAT: true, Hits: []Hit{{"nat", 0}}},
		},
		{
			name: "identity dst-nat does not set connection-nat-state",
			t: Tables{
				NAT:    rules("chain=dstnat action=dst-nat to-addresses=203.0.113.1 to-ports=8729"),
				Filter: rules("chain=input action=drop connection-nat-state=dstnat"),
			},
			p:    api,
			want: Verdict{Action: "accept", Stage: "default", Index: -1, Hits: []Hit{{"nat", 0}}},
		},
		{
			name: "nat accept prevents dstnat",
			t:    Tables{NAT: rules("chain=dstnat action=accept", "chain=dstnat action=dst-nat to-addresses=192.168.88.20")},
			p:    api,
			want: Verdict{Action: "accept", Stage: "default", Index: -1, Hits: []Hit{{"nat", 0}}},
		},
		{
			name: "established packets skip dstnat",
			t:    Tables{NAT: rules("chain=dstnat action=dst-nat to-addresses=192.168.88.20")},
			p:    with(api, func(p *Packet) { p.State = "established" }),
			want: Verdict{Action: "accept", Stage: "default", Index: -1},
		},
		{
			name: "unmodelled matcher on drop assumed to match",
			t:    Tables{Filter: rules("chain=input action=drop protocol=tcp limit=10,5:packet")},
			p:    api,
			want: Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"filter", 0}}, Uncertain: true,
				Notes: []string{"filter rule 0: limit is not modelled; assumed to match"}},
		},
		{
			name: "unmodelled matcher on accept assumed not to match",
			t:    Tables{Filter: rules("chain=input action=accept tcp-flags=syn", "chain=input action=drop")},
			p:    api,
			want: Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 1, Hits: []Hit{{"filter", 1}}, Uncertain: true,
				Notes: []string{"filter rule 0: tcp-flags is not modelled; assumed not to match"}},
		},
		{
			name: "a definite mismatch beats an unmodelled matcher",
			t:    Tables{Filter: rules("chain=input action=drop protocol=udp limit=10,5:packet")},
			p:    api,
			want: Verdict{Action: "accept", Stage: "default", Index: -1},
		},
		{
			name: "address list with a dns name is uncertain",
			t:    Tables{Filter: rules("chain=input action=drop src-address-list=dns")},
			p:    api,
			want: Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"filter", 0}}, Uncertain: true,
				Notes: []string{`filter rule 0: address list "dns" has entries that are not addresses; assumed to match`}},
		},
		{
			name: "malformed value is uncertain, never misread",
			t:    Tables{Filter: rules("chain=input action=accept dst-port=88a", "chain=input action=drop")},
			p:    api,
			want: Verdict{Action: "drop", Stage: "filter", Table: "filter", Index: 1, Hits: []Hit{{"filter", 1}}, Uncertain: true,
				Notes: []string{"filter rule 0: dst-port=88a is not a port list; assumed not to match"}},
		},
		{
			name: "default action is accept",
			t:    Tables{Filter: rules("chain=input protocol=tcp", "chain=input action=drop")},
			p:    api,
			want: Verdict{Action: "accept", Stage: "filter", Table: "filter", Index: 0, Hits: []Hit{{"filter", 0}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EvaluateInput(tt.t, testEnv(), tt.p)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("EvaluateInput (-want +got):\n%s", diff)
			}
		})
	}
}

// hitsLoop is the hit list of the a->b->a loop test: input rule 0, then
// alternating rules 1 and 2 until the depth limit.
func hitsLoop() []Hit {
	h := []Hit{{"filter", 0}}
	for d := 1; d < maxJumpDepth; d++ {
		h = append(h, Hit{"filter", 1 + (d+1)%2})
	}
	return h
}

func TestEvaluateInputDoesNotModifyInputs(t *testing.T) {
	tb := Tables{Filter: rules("chain=input action=add-src-to-address-list address-list=mgmt", "chain=input action=accept")}
	env := testEnv()
	before := append([]string{}, env.AddressLists["mgmt"]...)
	EvaluateInput(tb, env, tcp("ether1", netip.MustParseAddr("192.0.2.77"), wanAddr, 22))
	if diff := cmp.Diff(before, env.AddressLists["mgmt"]); diff != "" {
		t.Errorf("address list changed (-want +got):\n%s", diff)
	}
}

// TestDefconfMatrix renders the defconf verdict for a grid of packets into
// a golden file, so that a change in evaluation shows up as a readable diff.
func TestDefconfMatrix(t *testing.T) {
	tb := defconf()
	tb.Filter = insert(tb.Filter, 4,
		r("chain=input action=accept protocol=udp dst-port=13231 in-interface-list=WAN comment=wgboot:wg"),
		r("chain=input action=accept protocol=tcp dst-port=8729 src-address-list=wgboot-vpn comment=wgboot:api"),
	)
	var b strings.Builder
	for _, in := range []string{"ether1", "bridge", "wg0", "pppoe-out1"} {
		for _, src := range []netip.Addr{tech, lanHost, techVPN} {
			for _, proto := range []string{"tcp", "udp", "icmp"} {
				for _, port := range []uint16{8729, 13231} {
					for _, st := range []string{"", "established", "invalid"} {
						p := Packet{InInterface: in, Src: src, Dst: wanAddr, Protocol: proto, SrcPort: 40000, DstPort: port, State: st}
						v := EvaluateInput(tb, testEnv(), p)
						fmt.Fprintf(&b, "%-10s %-15s %-4s %5d %-11s -> %-6s %-7s %2d\n", in, src, proto, port, st, v.Action, v.Stage, v.Index)
					}
				}
			}
		}
	}
	golden(t, b.String())
}

func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
