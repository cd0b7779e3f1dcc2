package onboard

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros"
)

// onboardAt onboards s through addr (verifying the tunnel at the same
// address) with the state dir and run id given, and returns the options and
// the summary.
func onboardAt(t *testing.T, ctx context.Context, s *simtest.Router, addr netip.Addr, state, run string) (Options, *Summary) {
	t.Helper()
	o := simOptions(t, s, addr, nil)
	o.StateDir, o.RunID = state, run
	o.Settings.VerifyEndpoint = addr.String()
	if addr == s.WAN {
		o.WANProbe = s.APIAddr(s.WAN, o.Plain)
	}
	e, p := simtest.Plan(t, ctx, New, o, o.Settings)
	defer e.Close()
	sum, err := e.Apply(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return o, sum
}

// rollbackAt runs a rollback of s through addr with a new engine.
func rollbackAt(t *testing.T, ctx context.Context, s *simtest.Router, addr netip.Addr, state string, events *[]Event) error {
	t.Helper()
	o := simOptions(t, s, addr, events)
	o.StateDir = state
	o.RunID = ""
	e := simtest.Connect(t, ctx, New, o)
	defer e.Close()
	return e.Rollback(ctx)
}

// A journal of router B carrying the same run id as router A's tags is
// never used against A: A's rules stay A's, B's wg-quick file stays on disk,
// and A is restored exactly from its own tags (finding 18).
func TestRollbackSameRunOtherRouter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	state := t.TempDir()
	a := startExample(t, simtest.Named(t, "soho-defconf"), nil)
	b := startExample(t, simtest.LoadExample(t, "testdata/rollback/wan-admin.rsc"), nil)
	beforeA := a.Export()
	oA, _ := onboardAt(t, ctx, a, a.LAN, state, "same")
	_, sumB := onboardAt(t, ctx, b, b.WAN, state, "same")
	// A's journal is lost; B's is the only one of run "same".
	if err := os.Remove(journalPath(state, oA.Router)); err != nil {
		t.Fatal(err)
	}
	if err := rollbackAt(t, ctx, a, a.LAN, state, nil); err != nil {
		t.Fatalf("rollback of A: %v", err)
	}
	if diff := cmp.Diff(beforeA, a.Export()); diff != "" {
		t.Errorf("router A after its rollback (-before +after):\n%s", diff)
	}
	if _, err := os.Stat(sumB.ConfigPath); err != nil {
		t.Errorf("router B's wg-quick file: %v", err)
	}
	if j, _ := ReadJournal(state, b.APIAddr(b.WAN, false)); j == nil || j.State != StateCommitted {
		t.Errorf("router B's journal after A's rollback: %+v", j)
	}
}

// A rollback without the journal gives a rule wgboot moved to its address
// list (set by .id, and moved above a drop in lan-api-rule) back its exact
// old sources and place: the allow-listed WAN admin gets in again, and the
// export is as before the onboarding (finding 19).
func TestRollbackWithoutJournalRestoresRule(t *testing.T) {
	for _, tt := range []struct {
		config string
		wan    bool // the technician (and the admin) on the WAN
	}{
		{"testdata/rollback/wan-admin.rsc", true},
		{"testdata/configs/lan-api-rule.rsc", false},
	} {
		t.Run(filepath.Base(tt.config), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s := startExample(t, simtest.LoadExample(t, tt.config), nil)
			before := s.Export()
			state := t.TempDir()
			reach := s.LAN
			if tt.wan {
				reach = s.WAN
			}
			o, _ := onboardAt(t, ctx, s, reach, state, "")
			if !strings.Contains(s.Sim.Export(), "old-values") {
				t.Fatal("no old values kept on the router")
			}
			if tt.wan {
				if err := s.Answers(ctx, s.WAN, o.Plain, 2*time.Second); err == nil {
					t.Fatal("the API still answers on the WAN after the onboarding")
				}
			}
			if err := os.RemoveAll(filepath.Join(state, "routers")); err != nil {
				t.Fatal(err)
			}
			var events []Event
			if err := rollbackAt(t, ctx, s, s.LAN, state, &events); err != nil {
				t.Fatalf("rollback without a journal: %v", err)
			}
			if diff := cmp.Diff(before, s.Export()); diff != "" {
				t.Errorf("export after a journal-less rollback (-before +after):\n%s", diff)
			}
			if tt.wan {
				if err := s.Answers(ctx, s.WAN, o.Plain, 2*time.Second); err != nil {
					t.Errorf("the allow-listed admin on the WAN after the rollback: %v", err)
				}
			}
			for _, ev := range events {
				if ev.Kind == KindWarning && strings.Contains(ev.Message, "keep") {
					t.Errorf("warning that rules keep their new values: %s", ev.Message)
				}
			}
		})
	}
}

// When the rule wgboot modified was changed since (or is another rule by
// now), a rollback does not replay the old values over it, keeps the
// address-list entries the rule depends on, and fails saying so.
func TestRollbackChangedRuleKept(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, withJournal := range []bool{true, false} {
		name := "journal"
		if !withJournal {
			name = "tags"
		}
		t.Run(name, func(t *testing.T) {
			s := startExample(t, simtest.LoadExample(t, "testdata/rollback/wan-admin.rsc"), nil)
			state := t.TempDir()
			onboardAt(t, ctx, s, s.WAN, state, "")
			if !withJournal {
				os.RemoveAll(filepath.Join(state, "routers"))
			}
			// Someone edits the moved rule meanwhile.
			o := simOptions(t, s, s.LAN, nil)
			editRule(t, ctx, o, s.APIAddr(s.LAN, o.Plain), "API for the admin at home", "=dst-port=8729")
			err := rollbackAt(t, ctx, s, s.LAN, state, nil)
			if err == nil || !strings.Contains(err.Error(), "API for the admin at home") && !strings.Contains(err.Error(), "changed") {
				t.Errorf("rollback over a changed rule: %v, want a failure naming the rule", err)
			}
			x := strings.ReplaceAll(s.Sim.Export(), "\\\n    ", "") // export line continuations
			if !strings.Contains(x, "dst-port=8729") || !strings.Contains(x, "src-address-list=wgboot-vpn") {
				t.Errorf("the changed rule was overwritten:\n%s", x)
			}
			if !strings.Contains(x, "address=203.0.113.99") {
				t.Errorf("the admin's address left the address list the changed rule still uses:\n%s", x)
			}
		})
	}
}

// A rollback after commit whose removal of the WAN drop fails stops before
// it touches the tunnel and exits non-zero: the API stays reachable through
// the tunnel, and no safety net is left to undo that later (finding 20).
func TestRollbackAfterCommitStopsBeforeTunnel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := startExample(t, simtest.LoadExample(t, "testdata/rollback/wan-admin.rsc"), nil)
	state := t.TempDir()
	o, sum := onboardAt(t, ctx, s, s.WAN, state, "")
	committed := s.Export()
	s.Sim.InjectFaults(0, []string{"/ip/firewall/filter/remove"})
	var events []Event
	err := rollbackAt(t, ctx, s, s.WAN, state, &events)
	if err == nil {
		t.Fatal("rollback with the WAN drop unremovable succeeded")
	}
	if !strings.Contains(err.Error(), "tunnel") {
		t.Errorf("rollback error %q does not say the tunnel was kept", err)
	}
	s.Sim.InjectFaults(0, nil)
	if diff := cmp.Diff(committed, s.Export()); diff != "" {
		t.Errorf("the router changed (-committed +after):\n%s", diff)
	}
	if err := tunnelDial(t, ctx, o, sum, netip.AddrPortFrom(s.WAN, uint16(sumPort(t, sum)))); err != nil {
		t.Errorf("the API through the tunnel after the stopped rollback: %v", err)
	}
	armed := false
	for _, ev := range events {
		if ev.Step == StepArm && ev.Kind == KindDone {
			armed = true
		}
	}
	if !armed {
		t.Error("the rollback armed no safety net before changing the router")
	}
	// Once the router lets go, the rollback goes through.
	if err := rollbackAt(t, ctx, s, s.WAN, state, nil); err != nil {
		t.Fatalf("second rollback: %v", err)
	}
	if err := s.Answers(ctx, s.WAN, o.Plain, 2*time.Second); err != nil {
		t.Errorf("API on the WAN after the rollback: %v", err)
	}
}

// sumPort is the API port in the summary's wg-quick file's peer: the
// tunnel test dials the same endpoint port the run used.
func sumPort(t *testing.T, sum *Summary) int {
	t.Helper()
	_, p, err := net.SplitHostPort(sum.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// editRule sets props on the filter rule with comment, over a new API
// session at addr: someone else's change to the router.
func editRule(t *testing.T, ctx context.Context, o Options, addr, comment string, props ...string) {
	t.Helper()
	cl, err := routeros.Dial(ctx, routeros.Config{Addr: addr, TLS: !o.Plain, Fingerprint: o.Fingerprint, User: o.User, Password: o.Password, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rep, err := cl.Run(ctx, "/ip/firewall/filter/print", "?comment="+comment)
	if err != nil || len(rep.Re) != 1 {
		t.Fatalf("find the rule %q: %v", comment, err)
	}
	if _, err := cl.Run(ctx, append([]string{"/ip/firewall/filter/set", "=numbers=" + rep.Re[0][".id"]}, props...)...); err != nil {
		t.Fatal(err)
	}
}

// A run id has 128 bits (32 hex digits): no two runs share one, so a
// journal or a tag found by run id is that run's (finding 18).
func TestRunIDIs128Bits(t *testing.T) {
	seen := map[string]bool{}
	for range 64 {
		e, err := New(Options{Router: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		id := e.RunID()
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" || seen[id] {
			t.Fatalf("run id %q: want 32 hex digits, never repeated", id)
		}
		seen[id] = true
	}
	e, err := New(Options{Router: "192.0.2.1", RunID: "fixed"})
	if err != nil || e.RunID() != "fixed" {
		t.Errorf("a fixed run id: %v %q", err, e.RunID())
	}
}

// A rollback cut off while it armed its net leaves part of the net: the
// next rollback keeps a timer that is there (it finishes the job), clears a
// script or boot scheduler without one (their names would clash with the
// fresh net), and ends with the router as before (finding 20).
func TestRollbackAfterCutOffArm(t *testing.T) {
	for _, tt := range []struct {
		name string
		left [][]string // what the cut-off arm left, with RUN for the run id
	}{
		{"timer left", [][]string{{"/system/scheduler/add", "=name=wgboot-undo-RUN", "=start-time=startup", "=interval=0s", "=on-event=:log info x", "=comment=wgboot:RUN undo-timer"}}},
		{"script and boot left", [][]string{
			{"/system/script/add", "=name=wgboot-undo-RUN", "=source=:log info x", "=comment=wgboot:RUN undo"},
			{"/system/scheduler/add", "=name=wgboot-undo-RUN-boot", "=start-time=startup", "=interval=0s", "=on-event=wgboot-undo-RUN", "=comment=wgboot:RUN undo-boot"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s := startExample(t, simtest.LoadExample(t, "testdata/rollback/wan-admin.rsc"), nil)
			before := s.Export()
			state := t.TempDir()
			o, _ := onboardAt(t, ctx, s, s.LAN, state, "cut")
			cl, err := s.Dial(ctx, s.LAN, o.Plain, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.left {
				for i := range w {
					w[i] = strings.ReplaceAll(w[i], "RUN", "cut")
				}
				if _, err := cl.Run(ctx, w...); err != nil {
					t.Fatal(err)
				}
			}
			cl.Close()
			if err := rollbackAt(t, ctx, s, s.LAN, state, nil); err != nil {
				t.Fatalf("rollback: %v", err)
			}
			if diff := cmp.Diff(before, s.Export()); diff != "" {
				t.Errorf("(-before +after):\n%s", diff)
			}
		})
	}
}

// FuzzReadOldValues: the old-values script comes from the router, so any
// source is read without panic and yields only sets and moves of a named
// item; what addOldValues writes reads back whole.
func FuzzReadOldValues(f *testing.F) {
	r := &Router{Filter: []Row{{".id": "*4", "chain": "input", "action": "accept", "protocol": "tcp", "dst-port": "8728,8729", "src-address": "203.0.113.99", "comment": "a \"quoted\"\n$x"}}}
	pl := &planned{Ops: []op{
		{Key: "src-1", Menu: "/ip firewall address-list", Verb: "add", Args: []kv{{"address", "203.0.113.99"}, {"list", vpnList}}},
		{Key: "api-rule-1", Menu: "/ip firewall filter", Verb: "set", ID: "*4", Args: []kv{{"src-address", ""}, {"src-address-list", vpnList}},
			Old: []kv{{"src-address", "203.0.113.99"}, {"src-address-list", ""}}},
		{Key: "api-move-1", Menu: "/ip firewall filter", Verb: "move", ID: "*4", OldNext: "*5"},
	}}
	addOldValues(r, "fz", pl, nil)
	if pl.Ops[1].Key != oldValuesKey {
		f.Fatalf("the old-values record is not before the first set: %+v", pl.Ops)
	}
	var src string
	for _, a := range pl.Ops[1].Args {
		if a.K == "source" {
			src = a.V
		}
	}
	got := readOldValues(src)
	if len(got) != 2 || got[0].Key != "api-rule-1" || got[0].Old[0].V != "203.0.113.99" || got[1].OldNext != "*5" ||
		!slices.Contains(got[0].Deps, "src-1") || !slices.Contains(got[0].Deps, oldValuesKey) {
		f.Fatalf("read back %+v", got)
	}
	f.Add(src)
	f.Add("#wgboot-old {\"verb\":\"set\"}\n#wgboot-old [1,2]\n# x")
	f.Add("#wgboot-old {\"key\":\"k\",\"menu\":\"/ip service\",\"verb\":\"remove\",\"id\":\"*1\"}")
	f.Fuzz(func(t *testing.T, source string) {
		for _, jo := range readOldValues(source) {
			if (jo.Verb != "set" && jo.Verb != "move") || jo.ID == "" || jo.Menu == "" {
				t.Fatalf("read %+v", jo)
			}
		}
	})
}

// Every Rollback that started ends with a final event (done or failed),
// whatever stops it: a front end that renders events must never be left
// with a rollback "in progress" (house issue: Rollback had exits with no
// final event).
func TestRollbackAlwaysEnds(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	var events []Event
	_, e, _, o := connected(t, ctx, ex, nil, func(o *Options) {
		o.Sink = func(ev Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, ev)
		}
	})
	// A journal that does not parse: the rollback cannot read it.
	p := journalPath(o.StateDir, e.Addr())
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.Rollback(ctx); err == nil {
		t.Fatal("rollback over a corrupt journal succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	var last *Event
	for i := range events {
		if events[i].Step == StepRollback {
			last = &events[i]
		}
	}
	if last == nil || last.Kind != KindFailed {
		t.Errorf("the rollback's last event is %+v, want a failure", last)
	}
}
