package tui

import (
	"strings"
	"testing"
)

// TestStateTransitions walks the Model's two mode enums through the
// transitions of state.go, in the orders the wizard meets them, and checks
// what the rest of the model reads from them.
func TestStateTransitions(t *testing.T) {
	type want struct {
		phase          phase
		safety         safetyNet
		armed, fired   bool
		quitting, back bool // back: RolledBack()
	}
	tests := []struct {
		name  string
		steps string // a arm, d disarm, f fire, o the engine says it ran out, ? ask quit, s stay, q quit, r rolled back
		want  want
	}{
		{"start", "", want{phaseRun, netIdle, false, false, false, false}},
		{"armed", "a", want{phaseRun, netArmed, true, false, false, false}},
		{"extended", "aa", want{phaseRun, netArmed, true, false, false, false}},
		{"committed", "ad", want{phaseRun, netIdle, false, false, false, false}},
		{"fire while idle does nothing", "f", want{phaseRun, netIdle, false, false, false, false}},
		{"fired still counts as armed", "af", want{phaseRun, netFired, true, true, false, false}},
		{"fired then undone remembers it fired", "afd", want{phaseRun, netFiredIdle, false, true, false, false}},
		{"fired twice", "aff", want{phaseRun, netFired, true, true, false, false}},
		{"re-armed after firing", "afda", want{phaseRun, netFired, true, true, false, false}},
		{"ask quit", "a?", want{phaseAskQuit, netArmed, true, false, false, false}},
		{"stay", "a?s", want{phaseRun, netArmed, true, false, false, false}},
		{"quit", "a?q", want{phaseQuitting, netArmed, true, false, true, false}},
		{"quit and roll back", "a?qr", want{phaseRolledBack, netIdle, false, false, true, true}},
		{"rolled back after firing", "af?qr", want{phaseRolledBack, netFiredIdle, false, true, true, true}},
		{"rolled back by Shutdown without a quit", "ar", want{phaseRolledBack, netIdle, false, false, true, true}},
		{"engine: ran out after its events disarmed", "ado", want{phaseRun, netFiredIdle, false, true, false, false}},
		{"engine: ran out while armed", "ao", want{phaseRun, netFired, true, true, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{})
			for _, s := range tt.steps {
				switch s {
				case 'a':
					m.arm()
				case 'd':
					m.disarm()
				case 'f':
					m.fire()
				case 'o':
					m.ranOut()
				case '?':
					m.askQuit()
				case 's':
					m.stay()
				case 'q':
					m.startQuit()
				case 'r':
					m.rolledBack()
				}
			}
			got := want{m.phase, m.safety, m.safety.armed(), m.safety.fired(), m.phase.quitting(), m.RolledBack()}
			if got != tt.want {
				t.Errorf("after %q: got %+v (%s, %s), want %+v (%s, %s)", tt.steps, got, got.phase, got.safety, tt.want, tt.want.phase, tt.want.safety)
			}
		})
	}
}

// TestRolledBackOnce: the wizard's rollback is recorded once, so its note
// is printed once however many signals of it arrive (the engine's event
// and the result of the call).
func TestRolledBackOnce(t *testing.T) {
	m := New(Options{})
	m.arm()
	m.startQuit()
	if !m.rolledBack() {
		t.Fatal("first rolledBack() = false, want true")
	}
	if m.rolledBack() {
		t.Error("second rolledBack() = true, want false")
	}
}

// TestStateNames: every value has its own name (the debug log prints them).
func TestStateNames(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range []interface{ String() string }{
		phaseRun, phaseAskQuit, phaseQuitting, phaseRolledBack,
		netIdle, netArmed, netFired, netFiredIdle,
	} {
		n := s.String()
		if n == "" || strings.HasSuffix(n, "?") || seen[n] {
			t.Errorf("%#v: name %q empty, unknown or repeated", s, n)
		}
		seen[n] = true
	}
	for id := scrConnect; id <= scrFailure; id++ {
		if id.String() == "" {
			t.Errorf("screen %d has no title", id)
		}
	}
}
