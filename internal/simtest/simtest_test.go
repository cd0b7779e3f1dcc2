package simtest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/sim"
)

// The soho defconf answers the API on its LAN side, both api and pinned
// api-ssl, and drops it on the WAN; the export has no header comments.
func TestStartSoho(t *testing.T) {
	rt := Start(t, Named(t, "soho-defconf"), Options{Password: "simtest-pw"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !rt.WAN.IsValid() || !rt.LAN.IsValid() || rt.Reach() != rt.LAN {
		t.Fatalf("wan %v lan %v reach %v: want both sides, reached on the LAN", rt.WAN, rt.LAN, rt.Reach())
	}
	for _, plain := range []bool{false, true} {
		if err := rt.Answers(ctx, rt.LAN, plain, 3*time.Second); err != nil {
			t.Errorf("LAN (plain %v): %v", plain, err)
		}
	}
	if err := rt.Answers(ctx, rt.WAN, false, 2*time.Second); !errors.Is(err, routeros.ErrFiltered) && !errors.Is(err, routeros.ErrRefused) {
		t.Errorf("WAN: %v, want no answer", err)
	}
	if rt.Port(rt.LAN, false) == 0 || rt.Port(rt.LAN, false) == rt.Port(rt.LAN, true) || rt.Port(WANClient, false) != 0 {
		t.Errorf("ports: api-ssl %d, api %d, elsewhere %d", rt.Port(rt.LAN, false), rt.Port(rt.LAN, true), rt.Port(WANClient, false))
	}
	exp := rt.Export()
	if strings.Contains(exp, "\n#") || strings.HasPrefix(exp, "#") || !strings.Contains(exp, "/ip firewall filter") {
		t.Errorf("export with comments or without the firewall:\n%s", exp)
	}
	cl, err := rt.Dial(ctx, rt.LAN, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Run(ctx, "/system/identity/set", "=name=changed"); err != nil {
		t.Fatal(err)
	}
	if rt.Export() == exp {
		t.Error("the export did not follow the change")
	}
}

// Options.Sim is applied last: here the version the router reports.
func TestStartSimOptions(t *testing.T) {
	rt := Start(t, Named(t, "open-cpe"), Options{Password: "pw", Quiet: true, Sim: func(o *sim.Options) { o.Version = "7.8" }})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := rt.Dial(ctx, rt.Reach(), false, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rep, err := cl.Run(ctx, "/system/resource/print")
	if err != nil || len(rep.Re) != 1 || !strings.HasPrefix(rep.Re[0]["version"], "7.8") {
		t.Fatalf("version: %v %v", rep, err)
	}
}

func TestParseExample(t *testing.T) {
	for _, tt := range []struct {
		name, config string
		wan          []string
		lan          string
		err          bool
	}{
		{"wired", "# wgboot-example: wan=ether1,ether2 lan=bridge\n", []string{"ether1", "ether2"}, "bridge", false},
		{"unwired", "/system identity set name=x\n", nil, "", false},
		{"malformed", "# wgboot-example: wan=ether1 dynamic-address=ether1=bad\n", nil, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := ParseExample(tt.name, tt.config)
			if (err != nil) != tt.err || ex.Name != tt.name || ex.Config != tt.config {
				t.Fatalf("%+v, %v", ex, err)
			}
			if fmt.Sprint(ex.WAN) != fmt.Sprint(tt.wan) || ex.LAN != tt.lan {
				t.Errorf("wan %v lan %q, want %v %q", ex.WAN, ex.LAN, tt.wan, tt.lan)
			}
		})
	}
}

func TestExamples(t *testing.T) {
	all := Examples(t, "../../examples/*.rsc", "testdata/none/*.rsc")
	if len(all) < 5 || all[0].Name == "" || all[0].Config == "" {
		t.Fatalf("%d examples", len(all))
	}
	r := &recorder{TB: t}
	r.do(func() { Examples(r, "testdata/none/*.rsc") })
	if r.failed == "" {
		t.Error("no examples at the first pattern did not fail")
	}
}

// recorder is a testing.TB whose Fatalf records the failure and ends the
// goroutine, as testing's does.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

func (r *recorder) do(f func()) {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	<-done
}

// fakeEngine fails at the step it is told to.
type fakeEngine struct {
	failAt string
	closed int
	steps  []string
}

func (e *fakeEngine) Connect(context.Context) error { return e.step("connect") }
func (e *fakeEngine) Plan(_ context.Context, s string) (string, error) {
	return "plan for " + s, e.step("plan")
}
func (e *fakeEngine) Close() error { e.closed++; return nil }
func (e *fakeEngine) step(s string) error {
	e.steps = append(e.steps, s)
	if e.failAt == s {
		return errors.New(s + " refused")
	}
	return nil
}

func TestPlan(t *testing.T) {
	for _, tt := range []struct {
		failAt, wantFail string
		wantClosed       int
	}{
		{"", "", 0},
		{"new", "new engine: new refused", 0},
		{"connect", "connect: connect refused", 1},
		{"plan", "plan: plan refused", 1},
	} {
		t.Run(tt.failAt, func(t *testing.T) {
			e := &fakeEngine{failAt: tt.failAt}
			newEngine := func(o int) (*fakeEngine, error) {
				if o != 7 {
					t.Errorf("options %d, want 7", o)
				}
				return e, e.step("new")
			}
			r := &recorder{TB: t}
			var got string
			r.do(func() { _, got = Plan(r, context.Background(), newEngine, 7, "lan") })
			if r.failed != tt.wantFail || e.closed != tt.wantClosed {
				t.Errorf("failed %q, closed %d; want %q, %d", r.failed, e.closed, tt.wantFail, tt.wantClosed)
			}
			if tt.failAt == "" && got != "plan for lan" {
				t.Errorf("plan %q", got)
			}
		})
	}
}
