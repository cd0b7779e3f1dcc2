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
		rows = append(rows[:at], append([]Row{{".id": "*J1", "chain": "input", "action": "jump", "jump-target": "mgmt"}}, rows[at:]...)...)
		rows = append(rows,
			Row{".id": "*J2", "chain": "mgmt", "action": "accept", "protocol": "tcp", "dst-port": "8729", "src-address": "192.168.88.0/24"},
			Row{".id": "*J3", "chain": "mgmt", "action": "drop", "in-interface-list": "!LAN"},
			Row{".id": "*J4", "chain": "mgmt", "action": "return"})
	}
	if rng.IntN(4) == 0 {
		rows = append([]Row{{".id": "*D1", "chain": "forward", "action": "passthrough", "dynamic": "true"}}, rows...)
	}
	return rows
}

// For any ruleset, a plan is either refused by its check (CheckError) or,
// re-evaluated on its own simulated result, keeps every promise: the WAN
// cannot reach the API, the tunnel can, the LAN and every non-API verdict
// are unchanged. No other error is allowed.
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
			case "wan-api":
				if after.Action == "accept" {
					bad = "WAN reaches the API"
				}
			case "vpn-api":
				if p.Use && after.Action != "accept" {
					bad = "the tunnel cannot reach the API"
				}
			case "lan-api", "other":
				if before.Action != after.Action {
					bad = "verdict changed"
				}
			}
			if bad != "" {
				t.Fatalf("case %d: %s: %s (%s -> %s)\nfilter: %v\nops: %+v", i, p.Label, bad, before.Action, after.Action, r.Filter, pl.Ops)
			}
		}
	}
	t.Logf("%d rulesets, %d plans refused by their check", n, refused)
}
