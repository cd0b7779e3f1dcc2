package onboard

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// randomFilter draws an input chain (and sometimes a user chain reached by
// a jump) from the matchers and actions routers really hold.
func randomFilter(rng *rand.Rand) []Row {
	matchers := []Row{
		{"connection-state": "established,related,untracked"},
		{"connection-state": "invalid"},
		{"protocol": "icmp"},
		{"in-interface-list": "!LAN"},
		{"in-interface-list": "WAN"},
		{"in-interface": "ether1"},
		{"in-interface": "bridge"},
		{"protocol": "tcp", "dst-port": "8728,8729"},
		{"protocol": "tcp", "dst-port": "8729", "src-address": "192.168.88.0/24"},
		{"protocol": "tcp", "dst-port": "22,8291"},
		{"protocol": "udp", "dst-port": "13231"},
		{"src-address": "203.0.113.0/24"},
		{"src-address": "!203.0.113.0/24"},
		{"src-address-list": "mgmt", "in-interface-list": "!LAN"},
		{"src-address-list": "!mgmt"},
		{"src-address": "192.0.2.5-192.0.2.9", "protocol": "udp"},
		{"protocol": "tcp", "dst-port": "8729", "in-interface": "!bridge"},
		{"connection-state": "untracked"},
		{"protocol": "tcp", "dst-port": "80", "in-interface-list": "LAN"},
		{},
	}
	actions := []string{"accept", "drop", "reject", "log", "passthrough"}
	var rows []Row
	n := 1 + rng.IntN(8)
	for i := range n {
		r := Row{".id": fmt.Sprintf("*%X", i+1), "chain": "input"}
		for k, v := range matchers[rng.IntN(len(matchers))] {
			r[k] = v
		}
		r["action"] = actions[rng.IntN(len(actions))]
		rows = append(rows, r)
	}
	if rng.IntN(3) == 0 {
		at := rng.IntN(len(rows) + 1)
		rows = append(rows[:at], append([]Row{{".id": "*A1", "chain": "input", "action": "jump", "jump-target": "mgmt"}}, rows[at:]...)...)
		rows = append(rows,
			Row{".id": "*A2", "chain": "mgmt", "action": "accept", "protocol": "tcp", "dst-port": "8729", "src-address": "192.168.88.0/24"},
			Row{".id": "*A3", "chain": "mgmt", "action": "drop", "in-interface-list": "!LAN"},
			Row{".id": "*A4", "chain": "mgmt", "action": "return"})
	}
	if rng.IntN(4) == 0 {
		rows = append([]Row{{".id": "*D1", "chain": "forward", "action": "passthrough", "dynamic": "true"}}, rows...)
	}
	return rows
}

// For any ruleset, a plan is either refused by its check (CheckError) or,
// re-evaluated on its own simulated result, keeps every promise: the WAN
// cannot reach the API from any source (also from sources the plan did not
// probe), the tunnel reaches every API port, the WireGuard port is open to
// an address no rule names, the LAN and every non-API verdict are
// unchanged. No other error is allowed.
func TestPropertyPlan(t *testing.T) {
	n := 300
	if faultsFull {
		n = 5000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	refused := 0
	for i := range n {
		r := defconf()
		r.Filter = randomFilter(rng)
		r.AddressLists = []Row{{"list": "mgmt", "address": "198.18.0.0/15"}, {"list": "mgmt", "address": "100.64.1.0/24"}}
		if rng.IntN(3) == 0 {
			r.Raw = []Row{{".id": "*R1", "chain": "prerouting", "action": "notrack", "src-address": "!198.18.0.0/15"}}
		}
		d, err := decide(r, decideInput{RunID: "p", User: "admin", Settings: Settings{LANKeepsAPI: true}})
		if err != nil {
			t.Fatalf("case %d: decide: %v", i, err)
		}
		pl, _, err := makePlan(r, d, Settings{LANKeepsAPI: true}, "PUB=")
		var ce *CheckError
		if errors.As(err, &ce) {
			refused++
			continue
		}
		if err != nil {
			t.Fatalf("case %d: %v\nfilter: %v", i, err, r.Filter)
		}
		final, err := simulate(r, "p", pl.Ops)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.probes(r) {
			before, after := evaluate(r, p), evaluate(final, p)
			bad := ""
			switch p.Kind {
			case probeWANAPI, probeWANAPISrc:
				if after.Action == "accept" {
					bad = "WAN reaches the API"
				}
			case probeVPNAPI:
				if after.Action != "accept" {
					bad = "the tunnel cannot reach the API"
				}
			case probeWANWG:
				if after.Action != "accept" {
					bad = "the WireGuard port is closed to the internet"
				}
			case probeLANAPI, probeOther:
				if before.Action != after.Action {
					bad = "verdict changed"
				}
			}
			if bad != "" {
				t.Fatalf("case %d: %s: %s (%s -> %s)\nfilter: %v\nops: %+v", i, p.Label, bad, before.Action, after.Action, r.Filter, pl.Ops)
			}
		}
		// Sources the plan did not choose to probe: none reaches the API.
		if open := wanAPIOpen(final, d); len(open) > 0 {
			t.Fatalf("case %d: WAN reaches the API from %v\nfilter: %v\nops: %+v", i, open, r.Filter, pl.Ops)
		}
	}
	t.Logf("%d rulesets, %d plans refused by their check", n, refused)
}
