package firewall

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzEvaluateInput feeds arbitrary rule text to the evaluator: it must
// never panic and must always return a well-formed verdict.
func FuzzEvaluateInput(f *testing.F) {
	f.Add("chain=input action=drop protocol=tcp dst-port=8729", "chain=prerouting action=notrack", "chain=dstnat action=dst-nat to-addresses=10.0.0.1 to-ports=1", "tcp", uint16(8729), "")
	f.Add("chain=input action=jump jump-target=input", "chain=prerouting action=jump jump-target=x", "chain=x action=return", "udp", uint16(13231), "established")
	f.Add("chain=input action=accept src-address=!1.2.3.4-1.2.3.9 connection-state=!new", "", "chain=dstnat action=netmap to-addresses=::/0", "icmp", uint16(0), "invalid")
	f.Add("chain=input action=log log=maybe disabled=x dst-address-type=broadcast,local", "chain=prerouting action=drop limit=1", "chain=dstnat action=redirect to-ports=x", "47", uint16(1), "untracked")
	f.Fuzz(func(t *testing.T, filter, raw, nat, proto string, port uint16, state string) {
		tb := Tables{Filter: fuzzRules(filter), Raw: fuzzRules(raw), NAT: fuzzRules(nat)}
		for _, dst := range []netip.Addr{wanAddr, v6Addr} {
			p := Packet{InInterface: "ether1", Src: tech, Dst: dst, Protocol: proto, SrcPort: 40000, DstPort: port, State: state}
			v := EvaluateInput(tb, testEnv(), p)
			if !slices.Contains([]string{"accept", "drop", "reject"}, v.Action) {
				t.Fatalf("action %q", v.Action)
			}
			n := map[string]int{"filter": len(tb.Filter), "raw": len(tb.Raw), "nat": len(tb.NAT)}
			if v.Index == -1 {
				if v.Stage != "default" || v.Action != "accept" {
					t.Fatalf("default verdict %+v", v)
				}
			} else if v.Index < 0 || v.Index >= n[v.Table] {
				t.Fatalf("index %d out of range of table %q", v.Index, v.Table)
			}
			for _, h := range v.Hits {
				if h.Index < 0 || h.Index >= n[h.Table] {
					t.Fatalf("hit %+v out of range", h)
				}
			}
			if v.Uncertain != (len(v.Notes) > 0) {
				t.Fatalf("Uncertain %v with notes %q", v.Uncertain, v.Notes)
			}
		}
	})
}

// fuzzRules splits text into rules at ";" and properties at spaces.
func fuzzRules(s string) []Rule {
	var out []Rule
	for l := range strings.SplitSeq(s, ";") {
		out = append(out, r(l))
	}
	return out
}

func FuzzValidateRule(f *testing.F) {
	f.Add("chain=input action=jump", "filter")
	f.Add("chain=input protocol=tcp dst-port=1-2,3", "nat")
	f.Add("chain=dstnat action=dst-nat to-addresses=1.1.1.1-1.1.1.2", "raw")
	f.Fuzz(func(t *testing.T, s, table string) {
		rule := r(s)
		err := ValidateTableRule(table, rule)
		if err != nil && err.Error() == "" {
			t.Fatal("empty trap text")
		}
		// A rule RouterOS would accept must evaluate without a note about
		// malformed values of the matchers that are validated.
		if ValidateRule(rule) == nil {
			rule["chain"] = "input"
			if rule["action"] == "jump" {
				return
			}
			v := EvaluateInput(Tables{Filter: []Rule{rule}}, testEnv(), tcp("ether1", tech, wanAddr, 22))
			for _, n := range v.Notes {
				if strings.Contains(n, "is not a port list") || strings.Contains(n, "is not an address") || strings.Contains(n, "is not a protocol") {
					t.Fatalf("valid rule %v evaluated with note %q", rule, n)
				}
			}
		}
	})
}

func BenchmarkEvaluateInput200(b *testing.B) {
	var tb Tables
	for i := range 199 {
		tb.Filter = append(tb.Filter, Rule{
			"chain": "input", "action": "accept", "protocol": "tcp",
			"dst-port":          "1000-2000,3000",
			"src-address":       "10." + strconv.Itoa(i%250) + ".0.0/16",
			"in-interface-list": "LAN",
			"comment":           "bench",
		})
	}
	tb.Filter = append(tb.Filter, r("chain=input action=drop in-interface-list=!LAN"))
	env := testEnv()
	p := tcp("ether1", tech, wanAddr, 8729)
	b.ReportAllocs()
	for b.Loop() {
		v := EvaluateInput(tb, env, p)
		if v.Index != 199 {
			b.Fatalf("verdict %+v", v)
		}
	}
}
