package firewall

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// naiveIn is membership by scanning every entry, as the evaluator did.
func naiveIn(entries []string, a netip.Addr) bool {
	for _, e := range entries {
		if r, err := parseAddrSpec(e); err == nil && r.contains(a) {
			return true
		}
	}
	return false
}

func TestAddrSet(t *testing.T) {
	entries := []string{
		"10.0.0.0/24", "10.0.1.0/24", // touching: merged
		"10.0.0.5",                                       // inside
		"192.0.2.10-192.0.2.20", "192.0.2.15-192.0.2.30", // overlapping ranges
		"255.255.255.255", "255.255.255.0/24", // the family's last address
		"0.0.0.0",
		"2001:db8::/64", "::ffff:198.51.100.7", // IPv6, and a mapped IPv4 that RouterOS shows as IPv4
		"bad.example.com",
	}
	s := NewAddrSet(entries)
	if !s.Unsure() {
		t.Error("a DNS name entry: Unsure false")
	}
	if got := s.Len(); got != 6 {
		var rs []string
		for lo, hi := range s.Ranges() {
			rs = append(rs, lo.String()+"-"+hi.String())
		}
		t.Errorf("Len = %d (%v), want 6 disjoint ranges", got, rs)
	}
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"10.0.0.0", true}, {"10.0.1.255", true}, {"10.0.2.0", false}, {"9.255.255.255", false},
		{"192.0.2.9", false}, {"192.0.2.10", true}, {"192.0.2.30", true}, {"192.0.2.31", false},
		{"255.255.255.254", true}, {"255.255.255.255", true}, {"0.0.0.0", true}, {"0.0.0.1", false},
		{"2001:db8::1", true}, {"2001:db8:0:1::", false}, {"::ffff:10.0.0.9", true},
		{"198.51.100.7", true}, {"::a00:1", false}, // 10.0.0.1's bits as IPv6 are not IPv4
	} {
		if got := s.Contains(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Contains(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	var nilSet *AddrSet
	if nilSet.Contains(netip.MustParseAddr("10.0.0.1")) || nilSet.Unsure() || nilSet.Len() != 0 {
		t.Error("a nil set is not empty")
	}
	if s.Contains(netip.Addr{}) {
		t.Error("the zero Addr is in the set")
	}
}

// TestAddrSetMatchesScan compares the compiled set with a scan of the
// entries on random lists and addresses concentrated around their edges.
func TestAddrSetMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var entries []string
		var edges []netip.Addr
		for range 1 + rng.IntN(30) {
			a := netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(4)), byte(rng.IntN(256))})
			switch rng.IntN(3) {
			case 0:
				entries = append(entries, a.String())
				edges = append(edges, a)
			case 1:
				p := netip.PrefixFrom(a, 22+rng.IntN(11)).Masked()
				entries = append(entries, p.String())
				edges = append(edges, p.Addr(), lastAddr(p))
			default:
				hi := a
				for range rng.IntN(300) {
					if n := hi.Next(); n.IsValid() {
						hi = n
					}
				}
				entries = append(entries, a.String()+"-"+hi.String())
				edges = append(edges, a, hi)
			}
		}
		s := NewAddrSet(entries)
		var probe []netip.Addr
		for _, e := range edges {
			probe = append(probe, e.Prev(), e, e.Next())
		}
		for _, a := range probe {
			if !a.IsValid() {
				continue
			}
			if got, want := s.Contains(a), naiveIn(entries, a); got != want {
				t.Fatalf("round %d: Contains(%s) = %v, scan says %v (entries %v)", round, a, got, want, entries)
			}
		}
	}
}

// Compiled lists (Env.Sets) give the same verdicts as the raw entries,
// also when a rule adds the packet's source to a list during evaluation.
func TestEnvSetsSameVerdict(t *testing.T) {
	rules := []Rule{
		{"chain": "input", "action": "add-src-to-address-list", "address-list": "seen", "protocol": "tcp", "dst-port": "7001"},
		{"chain": "input", "action": "accept", "src-address-list": "seen", "protocol": "tcp"},
		{"chain": "input", "action": "drop", "src-address-list": "block"},
		{"chain": "input", "action": "accept", "src-address-list": "!block"},
	}
	lists := map[string][]string{"block": {"203.0.113.0/28", "198.51.100.9", "192.0.2.1-192.0.2.5"}, "seen": {"192.0.2.200"}}
	plain := Env{AddressLists: lists}
	compiled := Env{AddressLists: lists, Sets: CompileLists(lists)}
	for _, src := range []string{"203.0.113.1", "203.0.113.16", "198.51.100.9", "192.0.2.3", "192.0.2.200", "8.8.8.8"} {
		for _, port := range []uint16{7001, 22} {
			p := Packet{InInterface: "ether1", Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr("192.0.2.254"), Protocol: "tcp", SrcPort: 40000, DstPort: port}
			a, b := EvaluateInput(Tables{Filter: rules}, plain, p), EvaluateInput(Tables{Filter: rules}, compiled, p)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("%s:%d: scan %+v, compiled %+v", src, port, a, b)
			}
		}
	}
	// An evaluation's additions do not leak into the shared compiled set.
	p := Packet{InInterface: "ether1", Src: netip.MustParseAddr("8.8.4.4"), Dst: netip.MustParseAddr("192.0.2.254"), Protocol: "tcp", SrcPort: 40000, DstPort: 7001}
	EvaluateInput(Tables{Filter: rules}, compiled, p)
	if compiled.Sets["seen"].Contains(p.Src) {
		t.Error("add-src-to-address-list changed the shared compiled list")
	}
}

func FuzzAddrSet(f *testing.F) {
	f.Add("10.0.0.0/24", "10.0.0.5-10.0.1.3", "10.0.1.3")
	f.Add("255.255.255.255", "0.0.0.0/0", "1.2.3.4")
	f.Add("2001:db8::/127", "example.com", "2001:db8::1")
	f.Fuzz(func(t *testing.T, e1, e2, probe string) {
		a, err := netip.ParseAddr(probe)
		if err != nil {
			return
		}
		entries := []string{e1, e2}
		s := NewAddrSet(entries)
		if got, want := s.Contains(a), naiveIn(entries, a); got != want {
			t.Fatalf("Contains(%s) = %v, scan %v, entries %q", a, got, want, entries)
		}
	})
}

// BenchmarkEvaluateBigList evaluates one packet against a drop rule that
// names a 50,000-entry list, with the list compiled once (Env.Sets).
func BenchmarkEvaluateBigList(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	var entries []string
	for range 50000 {
		entries = append(entries, netip.AddrFrom4([4]byte{byte(1 + rng.IntN(200)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}).String())
	}
	lists := map[string][]string{"blocklist": entries}
	env := Env{AddressLists: lists, Sets: CompileLists(lists)}
	t := Tables{Filter: []Rule{{"chain": "input", "action": "drop", "src-address-list": "blocklist"}}}
	p := Packet{InInterface: "ether1", Src: netip.MustParseAddr("203.0.113.50"), Dst: netip.MustParseAddr("192.0.2.1"), Protocol: "tcp", DstPort: 8729}
	b.ReportAllocs()
	for b.Loop() {
		EvaluateInput(t, env, p)
	}
}
