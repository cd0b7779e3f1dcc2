package onboard

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros/sim"
)

// faultsFull runs every case instead of a sample (make faults).
var faultsFull = os.Getenv("WGBOOT_FAULTS") == "full"

// changingPaths returns the API command paths a run sends that change the
// router, from a plan made against a fresh simulator.
func changingPaths(t *testing.T, ex simtest.Example) []string {
	t.Helper()
	s := startExample(t, ex, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := simtest.Connect(t, ctx, New, simOptions(t, s, s.LAN, nil))
	defer e.Close()
	if _, err := e.Plan(ctx, e.o.Settings); err != nil {
		t.Fatal(err)
	}
	paths := []string{"/system/scheduler/add", "/system/script/add"}
	for _, o := range e.plan.Ops {
		verbs := []string{o.Verb}
		if o.Verb == "set" {
			verbs = nil
			for _, w := range setWords(o.Menu, o.ID, o.Args) {
				verbs = append(verbs, w[0][strings.LastIndex(w[0], "/")+1:])
			}
		}
		for _, v := range verbs {
			if p := apiPath(o.Menu, v); !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	return paths
}

// A trap at any router-changing command leaves the router as it was, with
// a message that names what failed; a trap on the export, or on removing
// it at commit, only warns.
func TestFaultTrap(t *testing.T) {
	for _, path := range []string{"../examples/soho-defconf.rsc", "testdata/configs/lan-api-rule.rsc", "../examples/apissl-restricted.rsc"} {
		ex := simtest.LoadExample(t, path)
		paths := changingPaths(t, ex)
		for _, trapOn := range append(paths, "/export", "/file/remove") {
			t.Run(ex.Name+trapOn, func(t *testing.T) {
				t.Parallel()
				// The undo may need the trapped command too: then the router's
				// own scheduler finishes it, on a 30x clock.
				s := startExample(t, ex, func(o *sim.Options) { o.TrapOn = []string{trapOn}; o.ClockSpeed = 30 })
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				before := s.Export()
				var events []Event
				o := simOptions(t, s, s.LAN, &events)
				o.Settings.VerifyEndpoint = s.LAN.String()
				o.Settings.ConfirmTimeout = 2 * time.Minute
				e, p := simtest.Plan(t, ctx, New, o, o.Settings)
				defer e.Close()
				_, err := e.Apply(ctx, p)
				if step, ok := map[string]Step{"/export": StepArm, "/file/remove": StepCommit}[trapOn]; ok {
					if err != nil {
						t.Fatalf("a refused %s must only warn, got %v", trapOn, err)
					}
					if !slices.ContainsFunc(events, func(ev Event) bool { return ev.Kind == KindWarning && ev.Step == step }) {
						t.Errorf("no warning at %s about the refused %s", step, trapOn)
					}
					return
				}
				if err == nil {
					t.Fatalf("apply succeeded with %s trapped", trapOn)
				}
				i := slices.IndexFunc(events, func(ev Event) bool { return ev.Kind == KindFailed && ev.Err != nil && ev.Step != StepRollback })
				if i < 0 {
					t.Fatal("no failed event with FailureInfo")
				}
				if fi := events[i].Err; fi.What == "" || !strings.Contains(fi.What, "sim:") && !strings.Contains(fi.What, "trap") && !strings.Contains(fi.What, "failed") {
					t.Errorf("failure does not say what failed: %+v", fi)
				}
				e.Close()
				waitRestored(ctx, t, s, before)
				checkNoSecrets(t, o, events, e.key)
			})
		}
	}
}

// A connection severed after any command is undone by the router's own
// scheduler (wgboot is not allowed to reconnect), on a 10x clock.
func TestFaultDrop(t *testing.T) {
	configs := []string{"../examples/soho-defconf.rsc"}
	if faultsFull {
		configs = append(configs, "testdata/configs/lan-api-rule.rsc", "../examples/apissl-restricted.rsc", "testdata/configs/ipv6-wan.rsc")
	}
	for _, c := range configs {
		ex := simtest.LoadExample(t, c)
		t.Run(ex.Name, func(t *testing.T) { faultDrop(t, ex) })
	}
}

func faultDrop(t *testing.T, ex simtest.Example) {
	// Measure where the run's commands fall with a clean run.
	s := startExample(t, ex, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := simOptions(t, s, s.LAN, nil)
	o.Settings.VerifyEndpoint = s.LAN.String()
	e, p := simtest.Plan(t, ctx, New, o, o.Settings)
	first := s.Sim.Stats().Commands + 1
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	last := s.Sim.Stats().Commands
	e.Close()
	var ns []int64
	for n := first; n <= last; n++ {
		ns = append(ns, n)
	}
	if !faultsFull && len(ns) > 6 {
		// A sample: the first command, ones inside apply and harden, the last.
		ns = []int64{ns[0], ns[2], ns[len(ns)/3], ns[len(ns)/2], ns[2*len(ns)/3], ns[len(ns)-1]}
	}
	for _, n := range ns {
		t.Run(strings.ReplaceAll(time.Duration(n).String(), "ns", ""), func(t *testing.T) {
			t.Parallel()
			s := startExample(t, ex, func(o *sim.Options) { o.DropAfterCommands = int(n); o.ClockSpeed = 10 })
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			before := s.Export()
			o := simOptions(t, s, s.LAN, nil)
			o.Settings.VerifyEndpoint = s.LAN.String()
			o.Settings.ConfirmTimeout = 2 * time.Minute // 12s at 10x
			o.Dial = firstDialOnly()                    // after the sever wgboot cannot come back
			e, p := simtest.Plan(t, ctx, New, o, o.Settings)
			defer e.Close()
			if _, err := e.Apply(ctx, p); err == nil {
				t.Logf("drop after command %d came after the commit: onboarded", n)
				return
			}
			e.Close()
			waitRestored(ctx, t, s, before)
		})
	}
}

// firstDialOnly is a dialer that makes the first connection only: every
// later one finds the path to the router gone.
func firstDialOnly() func(ctx context.Context, network, addr string) (net.Conn, error) {
	var dials atomic.Int32
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) > 1 {
			return nil, errors.New("test: the path to the router is gone")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// waitRestored waits until the router's export is the one before the run
// (wgboot's undo, or its scheduler on the accelerated clock): a condition
// with ctx as the only bound, not a timed assertion.
func waitRestored(ctx context.Context, t *testing.T, s *simtest.Router, before string) {
	t.Helper()
	for {
		got := s.Export()
		if got == before {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("router not restored (-before +after):\n%s", cmp.Diff(before, got))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// A rerun after a run that lost the router finds its journal and tags,
// rolls it back (with consent) and onboards afresh.
func TestFaultRerunAfterLostRouter(t *testing.T) {
	ex := simtest.LoadExample(t, "testdata/configs/lan-api-rule.rsc")
	s := startExample(t, ex, func(o *sim.Options) { o.DropAfterCommands = 36 }) // inside the router-side changes
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := s.Export()
	o := simOptions(t, s, s.LAN, nil)
	o.Settings.VerifyEndpoint = s.LAN.String()
	o.Dial = firstDialOnly()
	e, p := simtest.Plan(t, ctx, New, o, o.Settings)
	if _, err := e.Apply(ctx, p); err == nil {
		t.Fatal("apply survived the severed connection")
	}
	e.Close()
	if s.Export() == before {
		t.Fatal("nothing was left armed: pick a later command to sever")
	}

	// The rerun: same state dir, the path is back.
	o.Dial = nil
	o.RunID = "rerun"
	ask := &answers{yes: map[string]bool{"rollback-earlier": true, "harden": true}}
	o.Prompter = ask
	e2, p2 := simtest.Plan(t, ctx, New, o, o.Settings)
	defer e2.Close()
	if !slices.Contains(ask.asked, "rollback-earlier") || p2.Noop {
		t.Fatalf("asked %v, noop %v: want the earlier run rolled back and a fresh plan", ask.asked, p2.Noop)
	}
	if _, err := e2.Apply(ctx, p2); err != nil {
		t.Fatalf("rerun apply: %v", err)
	}
	if strings.Contains(s.Sim.Export(), "wgboot:e2e") {
		t.Error("objects of the earlier run are still there")
	}
	if err := e2.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, s.Export()); diff != "" {
		t.Errorf("(-before +after):\n%s", diff)
	}
}
