package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros/sim"
)

// funcPrompter answers with a function of the question.
type funcPrompter func(ctx context.Context, q Question) (bool, error)

func (f funcPrompter) Confirm(ctx context.Context, q Question) (bool, error) { return f(ctx, q) }

// connected starts ex, connects an engine with o (changed by mod) and
// plans: the start of most tests here.
func connected(t *testing.T, ctx context.Context, ex simtest.Example, simMod func(*sim.Options), mod func(*Options)) (*simtest.Router, *Engine, *Plan, Options) {
	t.Helper()
	s := startExample(t, ex, simMod)
	o := simOptions(t, s, s.LAN, nil)
	o.Settings.VerifyEndpoint = s.LAN.String()
	if mod != nil {
		mod(&o)
	}
	e, p := simtest.Plan(t, ctx, New, o, o.Settings)
	t.Cleanup(func() { e.Close() })
	return s, e, p, o
}

// At the harden question the tunnel is on disk (journal and wg-quick file)
// and the confirm window has just been restarted, with an Event carrying
// the new deadline (findings 7 and the gate).
func TestHardenGate(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var events []Event
	var atQuestion []Event
	var journal *Journal
	var confExists bool
	s, e, p, o := connected(t, ctx, ex, nil, func(o *Options) {
		o.Sink = func(ev Event) { events = append(events, ev) }
		o.Prompter = funcPrompter(func(ctx context.Context, q Question) (bool, error) {
			if q.ID == "harden" {
				atQuestion = slices.Clone(events)
				journal, _ = ReadJournal(o.StateDir, o.Router)
				if journal != nil && journal.Tunnel != nil {
					_, err := os.Stat(journal.Tunnel.ConfigPath)
					confExists = err == nil
				}
			}
			return true, nil
		})
	})
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	if journal == nil || journal.Tunnel == nil || !confExists {
		t.Fatalf("at the harden question the journal has no tunnel or no wg-quick file: %+v", journal)
	}
	i := slices.IndexFunc(atQuestion, func(ev Event) bool { return ev.Step == StepHarden && ev.Deadline != nil })
	if i < 0 {
		t.Fatal("no event with the restarted deadline before the harden question")
	}
	ev := atQuestion[i]
	if left := ev.Deadline.Sub(ev.Time); left < o.Settings.ConfirmTimeout-time.Minute || left > o.Settings.ConfirmTimeout+time.Minute {
		t.Errorf("the restarted window leaves %s, want about %s", left, o.Settings.ConfirmTimeout)
	}
	if strings.Contains(s.Sim.Export(), "wgboot-undo") {
		t.Error("still armed after the commit")
	}
}

// When the safety net fires while the harden question is up, the engine
// says so and does not harden a router that has already rolled back.
func TestHardenGateTimerFired(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var s *simtest.Router
	s, e, p, _ := connected(t, ctx, ex, func(o *sim.Options) { o.ClockSpeed = 60 }, func(o *Options) {
		o.Settings.ConfirmTimeout = 2 * time.Minute // two seconds at 60x
		o.Prompter = funcPrompter(func(ctx context.Context, q Question) (bool, error) {
			if q.ID != "harden" {
				return true, nil
			}
			// Wait for the router's own rollback: a condition, not a time.
			for strings.Contains(s.Sim.Export(), "wgboot-undo") {
				select {
				case <-ctx.Done():
					return false, ctx.Err()
				case <-time.After(20 * time.Millisecond):
				}
			}
			return true, nil
		})
	})
	_, err := e.Apply(ctx, p)
	if err == nil || !errors.Is(err, errFired) || !strings.Contains(err.Error(), "ran out") {
		t.Fatalf("apply after the timer fired: %v, want the confirm window ran out", err)
	}
	if FailedStep(err) != StepHarden {
		t.Errorf("failed at %q, want harden", FailedStep(err))
	}
	if strings.Contains(s.Sim.Export(), "harden") {
		t.Error("a hardening rule was added after the rollback")
	}
}

// Disarm finds the script and schedulers by tag when their ids were lost
// with a reply (finding 6).
func TestDisarmByTag(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, e, p, _ := connected(t, ctx, ex, nil, nil)
	a := &applyRun{ids: map[string]string{}, started: e.now(), j: &Journal{Router: e.addr, RunID: e.run}}
	if err := e.arm(ctx, a, p); err != nil {
		t.Fatal(err)
	}
	for _, lost := range []*string{&a.j.Net.Script, &a.j.Net.Boot, &a.j.Net.Timer} {
		if *lost == "" {
			t.Fatal("arm recorded no id")
		}
		*lost = ""
	}
	if err := e.disarm(ctx, e.cl, a.j, true); err != nil {
		t.Fatal(err)
	}
	if x := s.Sim.Export(); strings.Contains(x, "wgboot-undo") {
		t.Errorf("the safety net is still there:\n%s", x)
	}
	// A second disarm (the reply of the first was lost) finds nothing and
	// is no error, unless it is the strict check that the timer is armed.
	a.j.Net = SafetyNet{}
	if err := e.disarm(ctx, e.cl, a.j, false); err != nil {
		t.Errorf("second disarm: %v", err)
	}
	a.j.Net = SafetyNet{}
	if err := e.disarm(ctx, e.cl, a.j, true); !errors.Is(err, errFired) {
		t.Errorf("strict disarm without a timer: %v, want errFired", err)
	}
}

// Rollback refuses a journal written for another router (finding 5).
func TestRollbackForeignJournal(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := startExample(t, ex, nil)
	o := simOptions(t, s, s.LAN, nil)
	e := simtest.Connect(t, ctx, New, o)
	defer e.Close()
	before := s.Export()
	if err := writeJournal(o.StateDir, &Journal{Router: "192.0.2.77:8729", Identity: "Other", RunID: "0badc0", State: StateCommitted}); err != nil {
		t.Fatal(err)
	}
	// The journal sits where this router's belongs.
	if err := os.Rename(journalPath(o.StateDir, "192.0.2.77:8729"), mustMkdir(t, journalPath(o.StateDir, e.addr))); err != nil {
		t.Fatal(err)
	}
	err := e.Rollback(ctx)
	for _, want := range []string{"192.0.2.77:8729", "Other", "not this router", "--state-dir", journalPath(o.StateDir, e.addr)} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rollback: %v, want it to say %q", err, want)
		}
	}
	if diff := cmp.Diff(before, s.Export()); diff != "" {
		t.Errorf("the router changed (-before +after):\n%s", diff)
	}
}

func mustMkdir(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(path[:strings.LastIndex(path, "/")], 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// Rollback after an Apply cancelled while the engine worked through the
// tunnel dials again instead of failing on the dead session (and finds
// nothing left, as the Apply undid itself).
func TestRollbackAfterCancelledApply(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	actx, acancel := context.WithCancel(ctx)
	s := startExample(t, ex, nil)
	before := s.Export()
	o := simOptions(t, s, s.LAN, nil)
	o.Settings.VerifyEndpoint = s.LAN.String()
	o.Prompter = funcPrompter(func(ctx context.Context, q Question) (bool, error) {
		if q.ID == "harden" {
			acancel() // the technician pressed esc at the gate
			return false, ctx.Err()
		}
		return true, nil
	})
	e, p := simtest.Plan(t, ctx, New, o, o.Settings)
	defer e.Close()
	if _, err := e.Apply(actx, p); err == nil {
		t.Fatal("a cancelled apply succeeded")
	}
	// Whatever session the engine kept is gone too.
	e.cl.Close()
	if j, _ := ReadJournal(o.StateDir, e.addr); j == nil || j.Tunnel != nil || j.State != StateRolledBack {
		t.Errorf("journal after the undone apply: %+v, want rolled back without a tunnel", j)
	}
	if confs, _ := filepath.Glob(filepath.Join(o.StateDir, "routers", "*", "*.conf")); len(confs) > 0 {
		t.Errorf("wg-quick files left after the undo: %v", confs)
	}
	if err := e.Rollback(ctx); err != nil {
		t.Fatalf("rollback after the cancelled apply: %v", err)
	}
	if diff := cmp.Diff(before, s.Export()); diff != "" {
		t.Errorf("(-before +after):\n%s", diff)
	}
}

// The inspect checklist goes out live, group by group, and names the WAN,
// the public endpoint, the API exposure now and the WireGuard there is.
func TestInspectFactsLive(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := startExample(t, ex, nil)
	var events []Event
	e := simtest.Connect(t, ctx, New, simOptions(t, s, s.LAN, &events))
	defer e.Close()
	facts, err := e.Inspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var live []Fact
	groups := 0
	for _, ev := range events {
		if ev.Step == StepInspect && ev.Kind == KindProgress && len(ev.Facts) > 0 {
			live = append(live, ev.Facts...)
			groups++
		}
	}
	if groups < 4 {
		t.Errorf("%d progress events with facts, want one per group", groups)
	}
	if diff := cmp.Diff(facts, live); diff != "" {
		t.Errorf("live facts differ from the returned ones (-returned +live):\n%s", diff)
	}
	byName := map[string]Fact{}
	for _, f := range facts {
		byName[f.Name] = f
	}
	for name, want := range map[string]string{"WAN interfaces": "ether1 203.0.113.7/24", "Public endpoint": "203.0.113.7", "WireGuard interfaces": "none"} {
		if !strings.Contains(byName[name].Value, want) {
			t.Errorf("fact %q = %q, want it to contain %q", name, byName[name].Value, want)
		}
	}
	if !slices.ContainsFunc(facts, func(f Fact) bool { return strings.HasPrefix(f.Name, "API exposure now: WAN→API ether1") }) {
		b, _ := json.MarshalIndent(facts, "", " ")
		t.Errorf("no API exposure fact for ether1:\n%s", b)
	}
}

func TestEndpointFact(t *testing.T) {
	tests := []struct {
		name  string
		r     Router
		addr  string
		want  string
		warns string
	}{
		{name: "public", addr: "203.0.113.7/24", want: "203.0.113.7 (ether1)"},
		{name: "cgnat", addr: "100.64.3.4/10", want: "100.64.3.4 (ether1)", warns: "carrier-grade NAT"},
		{name: "private", addr: "192.168.1.20/24", want: "192.168.1.20 (ether1)", warns: "private"},
		{name: "ddns", r: Router{Cloud: Row{"ddns-enabled": "yes", "dns-name": "abc.sn.mynetname.net"}}, addr: "100.64.3.4/10", want: "abc.sn.mynetname.net (IP cloud DDNS)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := ifacePrefix(tt.addr)
			f := tt.r.endpointFact([]wanIface{{Name: "ether1", Addrs: []netip.Prefix{p}}})
			if f.Value != tt.want {
				t.Errorf("value %q, want %q", f.Value, tt.want)
			}
			if (tt.warns == "") != (f.Warning == "") || !strings.Contains(f.Warning, tt.warns) {
				t.Errorf("warning %q, want one with %q", f.Warning, tt.warns)
			}
		})
	}
}

func TestHasWireGuard(t *testing.T) {
	tests := []struct {
		version string
		missing []string
		want    bool
	}{
		{"7.20.6 (stable)", nil, true},
		{"7.1", nil, true},
		{"7.1rc1", nil, true},
		{"7.0.5", nil, false},
		{"6.49.10 (long-term)", nil, false},
		{"8.0", nil, true},
		{"", nil, true},
		{"7.20.6", []string{"/interface/wireguard/print"}, false},
	}
	for _, tt := range tests {
		r := Router{Version: tt.version, Missing: tt.missing}
		if got := r.hasWireGuard(); got != tt.want {
			t.Errorf("%q missing %v: hasWireGuard %v, want %v", tt.version, tt.missing, got, tt.want)
		}
	}
}

// RouterOS 7.0.x is refused with the way out (finding 1).
func TestRefuseRouterOS70(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	s := startExample(t, ex, func(o *sim.Options) { o.Version = "7.0.5" })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := simtest.Connect(t, ctx, New, simOptions(t, s, s.LAN, nil))
	defer e.Close()
	_, err := e.Inspect(ctx)
	if err == nil || !strings.Contains(err.Error(), "upgrade to RouterOS 7.1 or later") || !strings.Contains(err.Error(), "WireGuard") {
		t.Fatalf("err = %v, want a refusal saying to upgrade to RouterOS 7.1 or later", err)
	}
}

// The batch order places every add before an item that exists before the
// batch, in waves the router cannot reorder; a placement no such order
// reproduces falls back to one op at a time.
func TestPipelineOrder(t *testing.T) {
	filter := func(ids ...string) []Row {
		var rows []Row
		for _, id := range ids {
			rows = append(rows, Row{".id": id, "chain": "input", "action": "accept"})
		}
		return rows
	}
	add := func(key, before string, args ...kv) op {
		return op{Key: key, Menu: "/ip firewall filter", Verb: "add", Before: before, Args: append([]kv{{"chain", "input"}}, args...)}
	}
	type sent struct {
		Key, Before string
		Wave        int
	}
	tests := []struct {
		name string
		ops  []op
		want []sent // nil: no batch order
	}{
		{name: "chained place-before", ops: []op{add("a", "*2"), add("b", "@a"), add("c", ""), add("d", "@c")},
			want: []sent{{"b", "*2", 0}, {"a", "*2", 1}, {"d", "", 0}, {"c", "", 1}}},
		{name: "interface and list names", ops: []op{
			{Key: "wg-interface", Menu: "/interface wireguard", Verb: "add", Args: []kv{{"name", "wgboot"}}},
			{Key: "wg-address", Menu: "/ip address", Verb: "add", Args: []kv{{"address", "10.77.0.1/24"}, {"interface", "wgboot"}}},
			{Key: "vpn-list", Menu: "/ip firewall address-list", Verb: "add", Args: []kv{{"address", "10.77.0.0/24"}, {"list", "wgboot-vpn"}}},
			add("api-allow", "*3", kv{"src-address-list", "wgboot-vpn"}),
			add("wg-accept", "*1"),
		}, want: []sent{{"wg-interface", "", 0}, {"wg-address", "", 1}, {"vpn-list", "", 0}, {"wg-accept", "*1", 0}, {"api-allow", "*3", 1}}},
		{name: "move before a new rule", ops: []op{add("a", "*1"), {Key: "m", Menu: "/ip firewall filter", Verb: "move", ID: "*3", Before: "@a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Engine{run: "t", router: &Router{Filter: filter("*1", "*2", "*3")}}
			out, ok := e.pipelineOrder(&applyRun{j: &Journal{}}, tt.ops)
			if !ok {
				if tt.want != nil {
					t.Fatal("no batch order")
				}
				return
			}
			if tt.want == nil {
				t.Fatalf("batch order %v, want the sequential fallback", out)
			}
			waves := opWaves(out)
			var got []sent
			for i, o := range out {
				got = append(got, sent{o.Key, o.Before, waves[i]})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzRouterVersion: any version text reads without a panic, and a 6.x or
// 7.0.x version never counts as having WireGuard.
func FuzzRouterVersion(f *testing.F) {
	for _, s := range []string{"7.20.6 (stable)", "7.0.5", "6.49.10 (long-term)", "7.1rc1", "", "7.", "99999999999999999999.1", ".1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := Router{Version: v}
		ok := r.hasWireGuard()
		if (strings.HasPrefix(v, "6.") || strings.HasPrefix(v, "7.0.") || v == "7.0") && ok {
			t.Errorf("%q counts as having WireGuard", v)
		}
	})
}
