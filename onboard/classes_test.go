package onboard

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/firewall"
)

// randomLists draws address lists with overlapping prefixes, ranges,
// single addresses and now and then a DNS name, around the addresses the
// random rules name.
func randomLists(rng *rand.Rand) []Row {
	var rows []Row
	for _, l := range []string{"mgmt", "block", "other"} {
		for range rng.IntN(12) {
			a := netip.AddrFrom4([4]byte{[]byte{198, 203, 192, 100, 10}[rng.IntN(5)], byte(rng.IntN(256)), byte(rng.IntN(4)), byte(rng.IntN(256))})
			var e string
			switch rng.IntN(5) {
			case 0, 1:
				e = a.String()
			case 2:
				e = netip.PrefixFrom(a, 8+rng.IntN(25)).Masked().String()
			case 3:
				hi := a
				for range rng.IntN(600) {
					hi = hi.Next()
				}
				e = a.String() + "-" + hi.String()
			default:
				e = "host.example.net"
			}
			rows = append(rows, Row{"list": l, "address": e, "disabled": []string{"false", "false", "false", "true"}[rng.IntN(4)]})
		}
	}
	return rows
}

// The source classes are exact: any IPv4 source gets, on the router as it
// is and on the planned ruleset, the verdict of its class's
// representative. Sources are drawn at and around every edge of every set
// a rule names, and at random.
func TestSourceClassesExact(t *testing.T) {
	n := 100
	if faultsFull {
		n = 3000
	}
	rng := rand.New(rand.NewPCG(5, 6))
	checked := 0
	for i := range n {
		r := defconf()
		r.Filter = randomFilter(rng)
		for _, row := range r.Filter {
			if row["src-address-list"] == "mgmt" && rng.IntN(2) == 0 {
				row["src-address-list"] = []string{"block", "!other", "other"}[rng.IntN(3)]
			}
		}
		r.AddressLists = randomLists(rng)
		if rng.IntN(3) == 0 {
			r.Raw = []Row{{".id": "*R1", "chain": "prerouting", "action": "drop", "src-address-list": "block", "in-interface-list": "WAN"}}
		}
		if rng.IntN(4) == 0 {
			r.Filter = append([]Row{{".id": "*L1", "chain": "input", "action": "drop", "src-address-type": "local", "protocol": "tcp"}}, r.Filter...)
		}
		d, err := decide(r, decideInput{RunID: "p", User: "admin", Settings: Settings{LANKeepsAPI: true}})
		if err != nil {
			continue // a ruleset wgboot refuses up front (the WireGuard port dropped in raw)
		}
		snaps := []*Router{r}
		if pl, _, err := makePlan(r, d, Settings{LANKeepsAPI: true}, "PUB="); err == nil {
			final, err := simulate(r, "p", pl.Ops)
			if err != nil {
				t.Fatal(err)
			}
			snaps = append(snaps, final)
		} else if ce := (*CheckError)(nil); !errors.As(err, &ce) {
			t.Fatalf("case %d: %v", i, err)
		}
		env := r.compiled().env
		part := partitionSources(r, env, d)
		rep := map[string]netip.Addr{}
		for _, a := range part.reps {
			rep[part.sig(a)] = a
		}
		var sample []netip.Addr
		edges := func(s *firewall.AddrSet) {
			for lo, hi := range s.Ranges() {
				sample = append(sample, lo.Prev(), lo, lo.Next(), hi.Prev(), hi, hi.Next())
			}
		}
		for _, s := range env.Sets {
			edges(s)
		}
		for _, row := range append(append([]Row{}, r.Filter...), r.Raw...) {
			if v := row["src-address"]; v != "" {
				edges(firewall.NewAddrSet(splitList(strings.TrimPrefix(v, "!"))))
			}
		}
		edges(firewall.NewAddrSet([]string{d.Subnet.String()}))
		sample = append(sample, env.LocalAddrs...)
		for range 50 {
			sample = append(sample, netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}))
		}
		for _, a := range sample {
			if !usableSource(a) {
				continue
			}
			c, ok := rep[part.sig(a)]
			if !ok {
				t.Fatalf("case %d: %s has no class representative", i, a)
			}
			for si, snap := range snaps {
				fw := snap.compiled()
				for _, port := range []uint16{8728, 8729, 13231} {
					pkt := func(src netip.Addr) probe {
						return probe{Packet: firewall.Packet{InInterface: "ether1", Src: src, Dst: netip.MustParseAddr("203.0.113.7"), Protocol: "tcp", SrcPort: 40000, DstPort: port}}
					}
					va, vc := fw.eval(pkt(a)), fw.eval(pkt(c))
					if va.Action != vc.Action || va.Uncertain != vc.Uncertain || fmt.Sprint(va.Hits) != fmt.Sprint(vc.Hits) {
						t.Fatalf("case %d snapshot %d port %d: %s gets %s %v, its class's %s gets %s %v\nfilter %v\nlists %v", i, si, port, a, va.Action, va.Hits, c, vc.Action, vc.Hits, snap.Filter, r.AddressLists)
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d source verdicts checked against their class", checked)
}

// simulate shares the snapshot's address-list rows with its copy (they
// can number tens of thousands) and copies one before changing it: the
// snapshot stays as the router holds it.
func TestSimulateLeavesSnapshot(t *testing.T) {
	r := defconf()
	r.AddressLists = []Row{{".id": "*1", "list": "block", "address": "198.51.100.7"}, {".id": "*2", "list": "block", "address": "198.51.100.8"}}
	c, err := simulate(r, "t", []op{
		{Key: "a", Menu: "/ip firewall address-list", Verb: "set", ID: "*1", Args: []kv{{"address", "192.0.2.1"}, {"disabled", "yes"}}},
		{Key: "b", Menu: "/ip firewall address-list", Verb: "add", Args: []kv{{"list", "block"}, {"address", "192.0.2.2"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(r.AddressLists); got != "[map[.id:*1 address:198.51.100.7 list:block] map[.id:*2 address:198.51.100.8 list:block]]" {
		t.Errorf("snapshot changed by simulate: %s", got)
	}
	if len(c.AddressLists) != 3 || c.AddressLists[0]["address"] != "192.0.2.1" || c.AddressLists[0]["disabled"] != "yes" {
		t.Errorf("simulated copy = %v", c.AddressLists)
	}
}

// More source classes than the plan probes (maxSourceClasses, lowered
// here): every host some accept rule lets reach the API from the WAN
// stays closed, also the hosts the plan did not probe, because the drop
// goes above every rule wgboot can place before.
func TestPlanCappedSourceClasses(t *testing.T) {
	oldC, oldA := maxSourceClasses, maxAcceptedProbes
	maxSourceClasses, maxAcceptedProbes = 4, 0
	defer func() { maxSourceClasses, maxAcceptedProbes = oldC, oldA }()
	r := defconf()
	r.Filter = []Row{{".id": "*D", "chain": "forward", "action": "passthrough", "dynamic": "true"}}
	// The first accept names a list at high addresses: its class is past
	// the ones the plan probes (the lowest), which later rules name.
	r.Filter = append(r.Filter, Row{".id": "*1", "chain": "input", "action": "accept", "protocol": "tcp", "dst-port": "8728,8729", "src-address-list": "partners"})
	hosts := []string{"198.19.1.1", "198.19.1.2"}
	r.AddressLists = []Row{{"list": "partners", "address": hosts[0]}, {"list": "partners", "address": hosts[1]}}
	for i := 1; i <= 8; i++ {
		h := netip.AddrFrom4([4]byte{198, 18, 0, byte(i)}).String()
		hosts = append(hosts, h)
		r.Filter = append(r.Filter, Row{".id": fmt.Sprintf("*%X", 0x10+i), "chain": "input", "action": "accept", "protocol": "tcp", "dst-port": "8728,8729", "src-address": h})
	}
	r.Filter = append(r.Filter, Row{".id": "*30", "chain": "input", "action": "drop", "in-interface-list": "!LAN"})
	final, d, p, err := planFinal(t, r, Settings{LANKeepsAPI: true})
	if err != nil {
		t.Fatalf("plan refused: %v", err)
	}
	for _, h := range hosts {
		for _, a := range d.API {
			pr := probe{Packet: firewallPacket("ether1", netip.MustParseAddr(h), final.ifaceAddrs("ether1")[0].Addr(), "tcp", a.Port)}
			if v := evaluate(final, pr); v.Action == "accept" {
				t.Errorf("WAN from %s reaches tcp/%d after the plan", h, a.Port)
			}
		}
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "more than 4 classes of source address") }) {
		t.Errorf("warnings = %q, want the capped-classes one", p.Warnings)
	}
	if i := slices.IndexFunc(final.Filter, func(r Row) bool { return strings.HasPrefix(r[".id"], "@harden") }); i != 1 {
		t.Errorf("first harden rule at %d, want 1 (right below the dynamic rule)", i)
	}
}
