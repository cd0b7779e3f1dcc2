package tui

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/wgboot/wgboot/onboard"
)

// evil is router text built to drive a terminal: an OSC that retitles the
// window, a CSI that clears the screen, a bidi override, an 8-bit CSI and
// a forged line.
const evil = "\x1b]0;pwned\x07\x1b[2J evil\u202e\u009b31m\nforged"

// rawControls must never reach the terminal from the router. The goldens'
// ASCII profile means the wizard itself writes no escape sequence either.
var rawControls = []string{"\x1b", "\x07", "\u202e", "\u009b"}

// hostileEngine answers every step with the router's text set to evil:
// questions, facts, warnings, plan lines, the failure and its error.
func hostileEngine() *fakeEngine {
	fe := &fakeEngine{}
	fe.connect = func(ctx context.Context) error {
		fe.emit(onboard.StepConnect, onboard.KindStarted, "Connecting to "+evil, nil)
		if _, err := fe.ask(ctx, onboard.Question{ID: "trust-fingerprint", Title: "Trust " + evil + "?", Detail: "identity " + evil, Default: true}); err != nil {
			return err
		}
		fe.emit(onboard.StepConnect, onboard.KindDone, "Logged in to "+evil, nil)
		return nil
	}
	facts := []onboard.Fact{{Name: "Identity", Value: evil}, {Name: "WAN " + evil, Value: "ether1", Warning: "comment " + evil}}
	fe.inspect = func(ctx context.Context) ([]onboard.Fact, error) {
		fe.emit(onboard.StepInspect, onboard.KindStarted, "Reading "+evil, nil)
		fe.emit(onboard.StepInspect, onboard.KindProgress, "", func(e *onboard.Event) { e.Facts = facts })
		fe.emit(onboard.StepInspect, onboard.KindWarning, "warning "+evil, nil)
		fe.emit(onboard.StepInspect, onboard.KindDone, "read "+evil, nil)
		return facts, nil
	}
	fe.plan = func(ctx context.Context, s onboard.Settings) (*onboard.Plan, error) {
		p := fakePlan(s)
		p.Warnings = []string{"the rule " + evil + " accepts everything"}
		p.Changes[0].Description = "interface " + evil
		p.Verdicts[0].Probe = "WAN " + evil
		fe.emit(onboard.StepPlan, onboard.KindDone, "plan checked", func(e *onboard.Event) { e.Plan = p })
		return p, nil
	}
	fe.apply = func(ctx context.Context, p *onboard.Plan) (*onboard.Summary, error) {
		fe.emit(onboard.StepApply, onboard.KindFailed, "router said: "+evil, func(e *onboard.Event) {
			e.Err = &onboard.FailureInfo{What: "apply failed: " + evil, Undone: []string{"rule " + evil},
				// Diagnostics is a block: its line breaks are kept.
				Try: "check " + evil, Diagnostics: "trap: " + strings.ReplaceAll(evil, "\n", " ")}
		})
		return nil, errors.New("routeros: router said: " + evil)
	}
	return fe
}

// assertShown fails when the screen holds a raw control from the router,
// or does not show the router's text as visible escapes.
func assertShown(t *testing.T, where, screen string) {
	t.Helper()
	for _, raw := range rawControls {
		if strings.Contains(screen, raw) {
			t.Errorf("%s: the screen holds raw %q:\n%q", where, raw, screen)
		}
	}
	if !strings.Contains(screen, `\x1b]0;pwned\x07`) {
		t.Errorf("%s: the screen does not show the router's text as escapes:\n%s", where, screen)
	}
}

// TestHostileRouterText walks the wizard against a router whose every
// string is hostile: each screen shows it escaped.
func TestHostileRouterText(t *testing.T) {
	clock := newFakeClock()
	factory, _ := fakeFactory(hostileEngine())
	h := start(t, demoOptions(factory, clock))
	// Wide enough that no escape is cut by wrapping.
	h.tm.Send(tea.WindowSizeMsg{Width: 240, Height: 60})

	h.waitFor("Router", "Password", "api-ssl")
	h.submitConnect()
	assertShown(t, "question", h.waitFor("pwned", "Trust and continue"))
	h.key("enter")
	assertShown(t, "inspect", h.waitFor("Identity", "Press enter"))
	h.key("enter")
	assertShown(t, "plan commands", h.waitFor("Commands (7)"))
	h.key("tab")
	assertShown(t, "plan verdicts", h.waitFor("Before", "After"))
	h.key("tab")
	assertShown(t, "plan warnings", h.waitFor("accepts everything"))
	h.key("enter")
	assertShown(t, "failure", h.waitFor("apply failed", "check"))
}

// TestHostileRouterTextAccessible: the accessible (line by line) front end
// shows the same text escaped.
func TestHostileRouterTextAccessible(t *testing.T) {
	var out bytes.Buffer
	a := &accessible{out: &out, o: Options{Now: newFakeClock().Now}}
	fe := hostileEngine()
	fe.c = Connection{Sink: a.sink, Prompter: a}
	fe.now = a.o.Now
	ctx := context.Background()
	if _, err := fe.Inspect(ctx); err != nil {
		t.Fatal(err)
	}
	p, _ := fe.Plan(ctx, onboard.Settings{})
	a.printPlan(p)
	_, err := fe.Apply(ctx, p)
	a.failed(err)
	assertShown(t, "accessible", out.String())
	if strings.Contains(out.String(), "\nforged") {
		t.Errorf("a router's newline starts a line of its own:\n%s", out.String())
	}
}

// TestHostileRouterTextDone: the Done screen names the router by its
// identity, escaped.
func TestHostileRouterTextDone(t *testing.T) {
	clock := newFakeClock()
	fe := &fakeEngine{}
	fe.apply = func(ctx context.Context, p *onboard.Plan) (*onboard.Summary, error) {
		s := *fakeSummary
		s.Identity = evil
		fe.emit(onboard.StepCommit, onboard.KindDone, "config written for "+evil, func(e *onboard.Event) { e.Summary = &s })
		return &s, nil
	}
	factory, _ := fakeFactory(fe)
	h := start(t, demoOptions(factory, clock))
	h.tm.Send(tea.WindowSizeMsg{Width: 240, Height: 60})
	h.waitFor("Router", "Password", "api-ssl")
	h.submitConnect()
	h.waitFor("Trust and continue")
	h.key("enter")
	h.waitFor("Press enter")
	h.key("enter")
	h.waitFor("Commands (7)")
	h.key("enter")
	assertShown(t, "done", h.waitFor("Reconnect next time"))
}
