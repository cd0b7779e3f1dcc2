package onboard

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/sim"
)

// matrixVersions are the RouterOS 7 releases the version matrix runs, each
// for what changed there (docs/rossim.md, "Versions"): 7.1 the first with
// WireGuard; 7.8 the old mmm/dd/yyyy dates; 7.10 ISO dates; 7.15 named
// WireGuard peers; 7.17 ddns-enabled yes|auto, no !empty yet; 7.18 !empty;
// 7.19 dynamic connection entries in /ip service; 7.20.6 the default;
// 7.24 available-from.
var matrixVersions = []string{"7.1", "7.8", "7.10", "7.15", "7.17", "7.18", "7.19", "7.20.6", "7.24"}

// TestVersionMatrix runs a full onboarding (apply with the rollback timer
// armed in the router's own date form, harden, commit) and a rollback on
// every version, and checks that the API is closed from the WAN after the
// apply and the export is what it was after the rollback.
func TestVersionMatrix(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	// Two at a time: the machine is small and each run is a few seconds.
	sem := make(chan struct{}, 2)
	var mu sync.Mutex
	for _, v := range matrixVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			s := startExample(t, ex, func(o *sim.Options) { o.Version = v })
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			before := s.Export()
			var events []Event
			o := simOptions(t, s, s.LAN, nil)
			o.Sink = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
			o.Settings.VerifyEndpoint = s.LAN.String()
			o.Settings.LANKeepsAPI = true
			e, p := simtest.Plan(t, ctx, New, o, o.Settings)
			defer e.Close()
			// 7.19 lists open sessions as dynamic /ip service entries named
			// api-ssl: they are not services.
			mu.Lock()
			for _, ev := range events {
				for _, f := range ev.Facts {
					if f.Name == "API services" && f.Value != "api-ssl 8729, api 8728" {
						t.Errorf("on %s the API services read %q", v, f.Value)
					}
				}
			}
			mu.Unlock()
			sum, err := e.Apply(ctx, p)
			if err != nil {
				mu.Lock()
				for _, ev := range events {
					t.Logf("event %s %s %s", ev.Step, ev.Kind, ev.Message)
				}
				mu.Unlock()
				t.Fatalf("apply on %s: %v", v, err)
			}
			if sum == nil {
				t.Fatal("no summary")
			}
			err = s.Answers(ctx, s.WAN, o.Plain, 2*time.Second)
			if err == nil || !(errors.Is(err, routeros.ErrFiltered) || errors.Is(err, routeros.ErrRefused)) {
				t.Errorf("API from the WAN after apply on %s: %v, want no answer", v, err)
			}
			if err := e.Rollback(ctx); err != nil {
				t.Fatalf("rollback on %s: %v", v, err)
			}
			if diff := cmp.Diff(before, s.Export()); diff != "" {
				t.Errorf("export after rollback on %s differs (-before +after):\n%s", v, diff)
			}
			if !strings.Contains(s.Sim.Export(), "by RouterOS "+v) {
				t.Errorf("the export does not say it came from %s", v)
			}
		})
	}
}

// TestTimerInRouterDateForm: the rollback timer's start-date is written in
// the form the router's clock printed, and the timer it arms is scheduled
// (next-run set) and fires (the undo removes it) on a version before 7.10
// and after. The router's clock runs 60 times fast: 5 minutes are 5 s.
func TestTimerInRouterDateForm(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	for _, v := range []string{"7.8", "7.20.6"} {
		t.Run(v, func(t *testing.T) {
			s := startExample(t, ex, func(o *sim.Options) { o.Version = v; o.ClockSpeed = 60 })
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			o := simOptions(t, s, s.LAN, nil)
			o.Settings.VerifyEndpoint = s.LAN.String()
			e, p := simtest.Plan(t, ctx, New, o, o.Settings)
			defer e.Close()
			a := &applyRun{j: &Journal{}}
			if err := e.arm(ctx, a, p); err != nil {
				t.Fatalf("arm on %s: %v", v, err)
			}
			rep, err := e.cl.Run(ctx, "/system/scheduler/print", "?name=wgboot-undo-"+e.run)
			if err != nil || len(rep.Re) != 1 {
				t.Fatalf("timer on %s: %v %v", v, rep, err)
			}
			clk, err := e.cl.Run(ctx, "/system/clock/print")
			if err != nil {
				t.Fatal(err)
			}
			date, got := clk.Re[0]["date"], rep.Re[0]["start-date"]
			if strings.Contains(date, "-") != strings.Contains(got, "-") || len(date) != len(got) {
				t.Errorf("on %s the clock prints %q but the timer's start-date is %q", v, date, got)
			}
			if rep.Re[0]["next-run"] == "" {
				t.Errorf("on %s the timer is not scheduled: %v", v, rep.Re[0])
			}
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				rep, err := e.cl.Run(ctx, "/system/scheduler/print", "?name=wgboot-undo-"+e.run)
				if err == nil && len(rep.Re) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("on %s the timer did not fire within 30 s (%v)", v, err)
				}
			}
		})
	}
}
