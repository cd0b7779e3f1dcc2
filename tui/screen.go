package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// screen is one screen of the wizard. The root Model keeps what every
// screen shares (quit, help, the header, the countdown, the engine calls)
// and routes the rest to the screen on show (current): its keys and other
// messages, its body and its footer.
type screen interface {
	// update takes a key the root did not take (quit and help are the
	// root's), or another message (huh's own, cursor blinks).
	update(msg tea.Msg) tea.Cmd
	// view is the body, in w×h cells (the root clips and pads it).
	view(w, h int) string
	// shortHelp is the footer: the keys of the screen as it is now.
	shortHelp() []key.Binding
	// typing reports whether a text field has the keys, so q is text.
	typing() bool
}

var (
	_ screen = (*connectScreen)(nil)
	_ screen = (*questionScreen)(nil)
	_ screen = (*inspectScreen)(nil)
	_ screen = (*planScreen)(nil)
	_ screen = (*applyScreen)(nil)
	_ screen = (*doneScreen)(nil)
	_ screen = (*failureScreen)(nil)
)

// screenID names the screens; the order is the technician's path:
// Connect -> (Trust) -> Inspect -> Plan -> Apply -> Gate -> Apply -> Done,
// with Failure reachable from any engine call.
type screenID int

const (
	scrConnect screenID = iota
	scrTrust            // any engine question other than the hardening gate
	scrInspect
	scrPlan
	scrApply
	scrGate
	scrDone
	scrFailure
)

func (s screenID) title() (string, int) {
	switch s {
	case scrConnect:
		return "Connect", 1
	case scrTrust:
		return "Trust", 1
	case scrInspect:
		return "Inspect", 2
	case scrPlan:
		return "Plan", 3
	case scrApply:
		return "Apply and verify", 4
	case scrGate:
		return "Gate", 5
	case scrDone:
		return "Done", 6
	default:
		return "Failure", 0
	}
}

func (s screenID) String() string { t, _ := s.title(); return t }

const totalSteps = 6

// current is the screen on show: the one place that maps a screenID to
// its screen.
func (m *Model) current() screen {
	switch m.scr {
	case scrConnect:
		return m.connect
	case scrTrust:
		return m.question
	case scrInspect:
		return m.inspect
	case scrPlan:
		return m.plan
	case scrApply:
		return m.apply
	case scrGate:
		return m.gate
	case scrDone:
		return m.done
	default:
		return m.failure
	}
}
