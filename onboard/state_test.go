package onboard

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/simtest"
)

// stateAt is the State the first event of step and kind carried.
func stateAt(t *testing.T, events []Event, step Step, kind Kind) State {
	t.Helper()
	for _, ev := range events {
		if ev.Step == step && ev.Kind == kind {
			return ev.State
		}
	}
	t.Fatalf("no %s %s event", step, kind)
	return State{}
}

// Every event carries the run's state as the engine knows it, so a front
// end reads "armed" or "hardened" off the event instead of re-deriving it
// from the sequence: connected from the login on, armed with its deadline
// from the arm to the commit, applied, proven (how), hardened, committed.
func TestEventState(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var events []Event
	var atGate State
	_, e, p, _ := connected(t, ctx, ex, nil, func(o *Options) {
		o.Sink = func(ev Event) { events = append(events, ev) }
		o.Prompter = funcPrompter(func(ctx context.Context, q Question) (bool, error) {
			if q.ID == QHarden && len(events) > 0 {
				atGate = events[len(events)-1].State
			}
			return true, nil
		})
	})
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		step Step
		kind Kind
		want State // Deadline: only whether one is set (see below)
	}{
		{StepConnect, KindStarted, State{}},
		{StepConnect, KindDone, State{Connected: true}},
		{StepArm, KindStarted, State{Connected: true}},
		{StepArm, KindDone, State{Connected: true, Armed: true}},
		{StepApply, KindDone, State{Connected: true, Armed: true, Applied: true}},
		{StepTunnel, KindDone, State{Connected: true, Armed: true, Applied: true, ProvenVia: "lan"}},
		{StepHarden, KindDone, State{Connected: true, Armed: true, Applied: true, ProvenVia: "lan", Hardened: true}},
		{StepCommit, KindDone, State{Connected: true, Applied: true, ProvenVia: "lan", Hardened: true, Committed: true}},
	}
	for _, tt := range tests {
		got := stateAt(t, events, tt.step, tt.kind)
		if (got.Deadline != nil) != tt.want.Armed {
			t.Errorf("%s %s: deadline %v with armed %v", tt.step, tt.kind, got.Deadline, tt.want.Armed)
		}
		got.Deadline = nil
		if got != tt.want {
			t.Errorf("%s %s: state %+v, want %+v", tt.step, tt.kind, got, tt.want)
		}
	}
	// The deadline is the one the events announce: the arm's, then each
	// restart of the window.
	var last *time.Time
	for _, ev := range events {
		if ev.Deadline != nil {
			last = ev.Deadline
		}
		if ev.State.Armed && (last == nil || ev.State.Deadline == nil || !ev.State.Deadline.Equal(*last)) {
			t.Errorf("%s %s %q: state deadline %v, want the last announced %v", ev.Step, ev.Kind, ev.Message, ev.State.Deadline, last)
		}
	}
	if !atGate.Armed || atGate.Hardened || atGate.ProvenVia == "" {
		t.Errorf("state at the Gate %+v, want armed, proven, not hardened", atGate)
	}
}

// A "no" at the Gate is the engine's to act on: it rolls every change back
// itself, says so in its events (and their State), and returns an error
// that wraps ErrDeclined. The front end only answers the question.
func TestGateNoRollsBack(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	tests := []struct {
		name   string
		answer func() (bool, error)
	}{
		{"plain no", func() (bool, error) { return false, nil }},
		{"ErrDeclined", func() (bool, error) { return false, ErrDeclined }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var events []Event
			s, e, p, _ := connected(t, ctx, ex, nil, func(o *Options) {
				o.Sink = func(ev Event) { events = append(events, ev) }
				o.Prompter = funcPrompter(func(ctx context.Context, q Question) (bool, error) {
					if q.ID == QHarden {
						return tt.answer()
					}
					return true, nil
				})
			})
			before := s.Export()
			sum, err := e.Apply(ctx, p)
			if sum != nil || !errors.Is(err, ErrDeclined) {
				t.Fatalf("apply after no at the Gate: %v, %v; want no summary and ErrDeclined", sum, err)
			}
			if FailedStep(err) != StepHarden {
				t.Errorf("failed step %q, want %q", FailedStep(err), StepHarden)
			}
			if got := s.Sim.Export(); strings.Contains(got, "wgboot") {
				t.Errorf("the router keeps wgboot's objects after the no:\n%s", got)
			}
			if got := s.Export(); got != before {
				t.Errorf("export after the no differs from before")
			}
			end := stateAt(t, events, StepRollback, KindDone)
			if !end.RolledBack || end.Armed || end.Deadline != nil || end.Hardened || end.Committed {
				t.Errorf("state after the rollback %+v, want rolled back, nothing armed or hardened", end)
			}
			if last := events[len(events)-1]; last.Step != StepHarden || last.Kind != KindFailed || !last.State.RolledBack {
				t.Errorf("last event %s %s %+v, want harden failed, rolled back", last.Step, last.Kind, last.State)
			}
		})
	}
}

// The Gate's deadline is the safety net's, and the engine keeps it: the
// question carries it, and when it passes with no answer the engine stops
// waiting and rolls back as when the window runs out, whichever front end
// asked (the wizard, the CLI on stdin, accessible mode). The clock is the
// engine's own (Options.Now): it jumps past the deadline while the
// question is up.
func TestGateDeadline(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var events []Event
	var offset atomic.Int64
	var asked Question
	var gave error
	s, e, p, _ := connected(t, ctx, ex, nil, func(o *Options) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		o.Sink = func(ev Event) { events = append(events, ev) }
		o.Prompter = funcPrompter(func(qctx context.Context, q Question) (bool, error) {
			if q.ID != QHarden {
				return true, nil
			}
			asked = q
			offset.Store(int64(o.Settings.ConfirmTimeout + time.Minute))
			select { // no answer: only the engine ends the wait
			case <-qctx.Done():
				gave = qctx.Err()
				return false, qctx.Err()
			case <-ctx.Done():
				return false, ctx.Err()
			}
		})
	})
	_, err := e.Apply(ctx, p)
	if KindOf(err) != ErrorWindowRanOut || FailedStep(err) != StepHarden || ctx.Err() != nil {
		t.Fatalf("apply with no answer by the deadline: %v (kind %q, step %q), want the window ran out at harden", err, KindOf(err), FailedStep(err))
	}
	if gave == nil {
		t.Error("the question's context was not ended at the deadline")
	}
	var last *time.Time
	for _, ev := range events {
		if ev.Step == StepHarden && ev.Kind == KindFailed {
			break
		}
		if ev.State.Deadline != nil {
			last = ev.State.Deadline
		}
	}
	if asked.Deadline == nil || last == nil || !asked.Deadline.Equal(*last) {
		t.Errorf("the Gate's deadline %v, want the safety net's %v", asked.Deadline, last)
	}
	if got := s.Sim.Export(); strings.Contains(got, "wgboot") {
		t.Errorf("the router keeps wgboot's objects after the deadline:\n%s", got)
	}
	end := events[len(events)-1]
	if end.Err == nil || end.Err.Kind != ErrorWindowRanOut || !end.State.RolledBack || end.State.Armed {
		t.Errorf("last event %s %s %+v %+v, want the window ran out, rolled back", end.Step, end.Kind, end.Err, end.State)
	}
}
