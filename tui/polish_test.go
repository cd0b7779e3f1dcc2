package tui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros"
)

// goldenSizes compares the screen showing want at 80×24 and at 120×40
// with testdata/<Test>/<name>-<size>.golden, and leaves the terminal at
// 80×24.
func (h *harness) goldenSizes(t *testing.T, name string, want ...string) {
	t.Helper()
	for _, sz := range []struct{ w, h int }{{120, 40}, {80, 24}} {
		h.tm.Send(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		var v string
		if !eventually(func() bool {
			v = h.view()
			lines := strings.Split(v, "\n")
			if len(lines) != sz.h || lipgloss.Width(lines[0]) != sz.w {
				return false
			}
			for _, w := range want {
				if !strings.Contains(v, w) {
					return false
				}
			}
			return v == h.view() // settled
		}) {
			t.Fatalf("at %dx%d the screen never showed %q:\n%s", sz.w, sz.h, want, v)
		}
		t.Run(fmt.Sprintf("%s-%dx%d", name, sz.w, sz.h), func(t *testing.T) {
			checkFits(t, v, sz.w, sz.h)
			golden.RequireEqual(t, []byte(v))
		})
	}
}

// noCLIWords fails when a wizard screen names a command-line flag or the
// password variable: the technician sets those values in fields here.
func noCLIWords(t *testing.T, v string) {
	t.Helper()
	for _, w := range []string{"WGBOOT_PASSWORD", "--subnet", "--listen-port", "--endpoint", "--confirm-timeout", "--router", "--plain", "--verify-endpoint"} {
		if strings.Contains(v, w) {
			t.Errorf("the wizard names %s:\n%s", w, v)
		}
	}
}

// typeInto replaces the focused field's text (n characters) with s.
func (h *harness) typeInto(n int, s string) {
	for range n {
		h.key("backspace")
	}
	h.tm.Type(s)
}

// TestHelpOnConnect: ? opens the help on the Connect screen instead of
// typing into the Router field; in the password field it is a character
// of the password.
func TestHelpOnConnect(t *testing.T) {
	fe := &fakeEngine{}
	factory, _ := fakeFactory(fe)
	h := start(t, demoOptions(factory, newFakeClock()))
	h.waitFor("Router", "Password", "? help")
	h.key("?")
	h.goldenSizes(t, "help", "Keys", "Press ? or esc to close this help.")
	h.key("esc")
	v := h.waitFor("┃ Router", "> 192.168.88.1")
	if strings.Contains(v, "192.168.88.1?") {
		t.Errorf("? was typed into the Router field:\n%s", v)
	}
	for range 3 { // router, port, user
		h.key("enter")
	}
	h.waitFor("┃ Password")
	h.tm.Type("a?b")
	h.waitFor("> ***")
	if v := h.view(); strings.Contains(v, "Keys") {
		t.Fatalf("? in the password field opened the help:\n%s", v)
	}
	h.key("enter")
	h.key("enter")
	h.waitFor("Trust and continue")
	if fe.c.Password != "a?b" {
		t.Errorf("password %q reached the engine, want a?b", fe.c.Password)
	}
}

// authFailure is what the engine does on a refused login: a Connect
// failure whose hint is written for the command line.
func authFailure(fe *fakeEngine) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		err := fmt.Errorf("onboard: connect to %s: %w", fe.c.Router, routeros.ErrAuth)
		fe.emit(onboard.StepConnect, onboard.KindFailed, err.Error(), func(e *onboard.Event) {
			e.Err = &onboard.FailureInfo{What: err.Error(), Try: "check the user name and the password in WGBOOT_PASSWORD"}
		})
		return err
	}
}

// TestWrongPassword: a refused login points to the Password field, not to
// WGBOOT_PASSWORD; esc goes back to Connect with everything typed kept.
func TestWrongPassword(t *testing.T) {
	fe := &fakeEngine{}
	fe.connect = authFailure(fe)
	factory, made := fakeFactory(fe)
	h := start(t, demoOptions(factory, newFakeClock()))
	h.waitFor("┃ Router")
	h.key("enter")
	h.waitFor("┃ Port")
	h.tm.Type("8730")
	h.key("enter")
	h.waitFor("┃ User")
	h.typeInto(len("admin"), "tech")
	h.waitFor("> tech")
	h.key("enter")
	h.waitFor("┃ Password")
	h.tm.Type("wrong")
	h.key("enter")
	h.key("enter")
	v := h.waitFor("refused the user name", "Password field")
	noCLIWords(t, v)
	h.goldenSizes(t, "failure", "refused the user name", "login refused", "Password field")

	<-made
	h.key("esc")
	h.waitFor("┃ Router", "> 8730", "> tech")
	h.goldenSizes(t, "connect-kept", "┃ Router", "> 8730", "> tech")
	fe.connect = nil // the password is right this time
	h.submitConnect()
	h.waitFor("Trust and continue")
	if got := fe.Calls(); got[len(got)-1] != "connect 192.168.88.1:8730 tech" {
		t.Errorf("engine calls %q: want the second connect with what was typed", got)
	}
	if fe.c.Password != "wrong" {
		t.Errorf("the typed password was not kept: %q", fe.c.Password)
	}
}

// refusingPlan refuses a subnet as the engine does when it overlaps the
// router's LAN (only known after Inspect): a failed Plan step.
func refusingPlan(fe *fakeEngine, subnet string) func(ctx context.Context, s onboard.Settings) (*onboard.Plan, error) {
	return func(ctx context.Context, s onboard.Settings) (*onboard.Plan, error) {
		if s.Subnet == subnet {
			err := fmt.Errorf("onboard: --subnet %s overlaps an address, route, address list or peer on the router: choose another or leave it out to pick a free one", subnet)
			fe.emit(onboard.StepPlan, onboard.KindFailed, err.Error(), func(e *onboard.Event) {
				e.Err = &onboard.FailureInfo{What: err.Error(), Try: "nothing was changed on the router"}
			})
			return nil, err
		}
		p := fakePlan(s)
		fe.emit(onboard.StepPlan, onboard.KindDone, "plan checked", func(e *onboard.Event) { e.Plan = p })
		return p, nil
	}
}

// TestPlanRefusedInEditor: a subnet the engine refuses (it overlaps the
// LAN) is refused inside the editor, with the reason in the wizard's words
// and the other settings kept; correcting it gives the new plan.
func TestPlanRefusedInEditor(t *testing.T) {
	fe := &fakeEngine{}
	fe.plan = refusingPlan(fe, "192.168.88.0/24")
	h := startFake(t, fe, newFakeClock(), "plan")
	h.key("e")
	h.waitFor("┃ VPN subnet")
	h.typeInto(len("10.77.0.0/24"), "192.168.88.0/24")
	h.waitFor("> 192.168.88.0/24")
	for range 4 { // subnet, port, endpoint, local
		h.key("enter")
	}
	h.waitFor("LAN keeps API access?")
	h.key("enter")
	h.key("enter")
	h.waitFor("┃ Confirm timeout")
	h.typeInto(len("5m"), "10m")
	h.waitFor("> 10m")
	h.key("enter")

	v := h.waitFor("VPN subnet 192.168.88.0/24 overlaps", "> 192.168.88.0/24")
	if strings.Contains(v, "Failure") {
		t.Fatalf("a refused subnet ended on the Failure screen:\n%s", v)
	}
	noCLIWords(t, v)
	h.goldenSizes(t, "refused", "VPN subnet 192.168.88.0/24 overlaps", "> 192.168.88.0/24")

	h.typeInto(len("192.168.88.0/24"), "10.99.0.0/24")
	h.waitFor("> 10.99.0.0/24")
	for range 4 {
		h.key("enter")
	}
	h.waitFor("LAN keeps API access?")
	h.key("enter")
	h.key("enter")
	h.waitFor("┃ Confirm timeout", "> 10m") // kept through the refusal
	h.key("enter")
	h.waitFor("Subnet 10.99.0.0/24", "Confirm 10m", "Commands (7)")

	// Refused again, esc leaves the editor for the last plan accepted.
	h.key("e")
	h.waitFor("┃ VPN subnet", "> 10.99.0.0/24")
	h.typeInto(len("10.99.0.0/24"), "192.168.88.0/24")
	h.waitFor("> 192.168.88.0/24")
	for range 4 {
		h.key("enter")
	}
	h.waitFor("LAN keeps API access?")
	for range 3 {
		h.key("enter")
	}
	h.waitFor("VPN subnet 192.168.88.0/24 overlaps")
	h.key("esc")
	h.waitFor("Subnet 10.99.0.0/24", "Confirm 10m", "Commands (7)")
}

// TestPlanRefusedFirst: settings given on the command line that the
// engine refuses open the editor with them (not the Failure screen); esc
// leaves it for Inspect, where nothing was lost.
func TestPlanRefusedFirst(t *testing.T) {
	fe := &fakeEngine{}
	fe.plan = refusingPlan(fe, "192.168.88.0/24")
	factory, _ := fakeFactory(fe)
	o := demoOptions(factory, newFakeClock())
	o.Settings = onboard.Settings{Subnet: "192.168.88.0/24", ConfirmTimeout: 7 * time.Minute}
	h := start(t, o)
	h.waitFor("Router")
	h.submitConnect()
	h.waitFor("Trust and continue")
	h.key("enter")
	h.waitFor("Press enter to see the plan")
	h.key("enter")
	v := h.waitFor("VPN subnet 192.168.88.0/24 overlaps", "> 192.168.88.0/24")
	noCLIWords(t, v)
	h.key("esc")
	h.waitFor("Press enter to see the plan")
}

// TestLongRows: a row wider than the terminal ends with an ellipsis; a
// RouterOS command wraps between arguments with a trailing backslash.
func TestLongRows(t *testing.T) {
	fe := &fakeEngine{}
	fe.plan = func(ctx context.Context, s onboard.Settings) (*onboard.Plan, error) {
		p := fakePlan(s)
		p.Settings.Endpoint = "wireguard-gateway-of-the-customer-with-a-long-name.example.com"
		return p, nil
	}
	h := startFake(t, fe, newFakeClock(), "plan")
	v := h.waitFor("Commands (7)")
	if !strings.Contains(v, "Endpoint wireguard-gateway-of-the-cust") || !strings.Contains(v, "…\n") {
		t.Errorf("the long settings row does not end with an ellipsis:\n%s", v)
	}
	if !regexp.MustCompile(`name=wgboot \\ *\n    comment="wgboot: interface"`).MatchString(v) {
		t.Errorf("the long command is not wrapped between arguments:\n%s", v)
	}
	h.goldenSizes(t, "plan", "Commands (7)")
}

// TestWrapCommand: wrapped commands fit, split only between arguments or
// after key=, and join back to the command.
func TestWrapCommand(t *testing.T) {
	cmds := []string{`/tool fetch url="https://example.com/a path/with spaces" dst-path=x`}
	for _, c := range fakePlan(onboard.Settings{}).Changes {
		cmds = append(cmds, c.Command)
	}
	for _, c := range cmds {
		for w := 20; w <= 120; w++ {
			got := wrapCommand(c, w)
			lines := strings.Split(got, "\n")
			var joined []string
			for i, l := range lines {
				if i < len(lines)-1 && !strings.HasSuffix(l, "\\") {
					t.Fatalf("w=%d: line %d of %q has no continuation backslash", w, i, got)
				}
				if i > 0 && !strings.HasPrefix(l, contIndent) {
					t.Fatalf("w=%d: continuation %q not indented", w, l)
				}
				if strings.Count(l, `"`)%2 != 0 {
					t.Fatalf("w=%d: a quoted value is split: %q", w, l)
				}
				joined = append(joined, strings.TrimSuffix(strings.TrimSpace(l), "\\"))
			}
			back := strings.Join(strings.Fields(strings.ReplaceAll(strings.Join(joined, " "), "= ", "=")), " ")
			if back != strings.Join(strings.Fields(c), " ") {
				t.Fatalf("w=%d: %q joins back to %q, not %q", w, got, back, c)
			}
		}
	}
}

// TestDoneLongPath: a config path too long for its row is shown whole on
// a line of its own, and the reconnect command wraps with a backslash
// between its arguments, never inside the path.
func TestDoneLongPath(t *testing.T) {
	const path = "/tmp/wgboot-demo-3044697888/routers/127.57.195.52_8729/wgboot-e6cdbc.conf"
	sum := *fakeSummary
	sum.ConfigPath, sum.Reconnect = path, "wg-quick up "+path
	fe := &fakeEngine{summary: &sum}
	h := startFake(t, fe, newFakeClock(), "apply")
	h.key("enter")
	v := h.waitFor("Reconnect next time")
	for _, want := range []string{"Config\n" + path, "  wg-quick up \\", "      " + path} {
		if !strings.Contains(trimRows(v), want) {
			t.Errorf("the Done screen lacks %q:\n%s", want, v)
		}
	}
	h.goldenSizes(t, "done", "Reconnect next time")
}

// trimRows drops the blanks that pad each row of a screen.
func trimRows(v string) string {
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// TestInspectWizardWords: the engine's warnings about the router name the
// wizard's fields, whether they come as events or with Inspect's result.
func TestInspectWizardWords(t *testing.T) {
	fe := &fakeEngine{}
	fe.inspect = func(ctx context.Context) ([]onboard.Fact, error) {
		f := onboard.Fact{Name: "Public endpoint", Value: "192.168.1.20",
			Warning: "the WAN address is private: another router in front must forward UDP to this one; give the public name with --endpoint"}
		fe.emit(onboard.StepInspect, onboard.KindProgress, "", func(e *onboard.Event) { e.Facts = []onboard.Fact{f} })
		return []onboard.Fact{f}, nil
	}
	h := startFake(t, fe, newFakeClock(), "inspect")
	v := h.waitFor("Published endpoint field")
	noCLIWords(t, v)
}

// TestLongTokenEllipsis: a token wider than the terminal (here a
// fingerprint in the diagnostics at 60 columns) ends its row with an
// ellipsis instead of running on, split, into the next row.
func TestLongTokenEllipsis(t *testing.T) {
	const fp = "sha256:3f9a610c2bd47e88115ac0de42976b13a80ef1229c357d64b019e35f8ac7204d"
	m := New(Options{Now: newFakeClock().Now})
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 20})
	m.fail(fmt.Errorf("pinned %s", fp), true)
	v := m.View()
	checkFits(t, v, 60, 20)
	if !strings.Contains(v, fp[:59]+"…") {
		t.Errorf("the long fingerprint's row does not end with an ellipsis:\n%s", v)
	}
	if strings.Contains(v, "\n"+fp[59:]) || strings.Contains(v, "\n"+fp[58:]) {
		t.Errorf("the fingerprint was split over two rows:\n%s", v)
	}
}

// TestHelpEverywhere: ? opens the help on every screen of a walk, the
// settings editor included, and esc closes it where it was.
func TestHelpEverywhere(t *testing.T) {
	fe := &fakeEngine{}
	factory, _ := fakeFactory(fe)
	h := start(t, demoOptions(factory, newFakeClock()))
	help := func(screen string, back ...string) {
		t.Helper()
		h.key("?")
		h.waitFor("Press ? or esc to close this help.")
		h.key("esc")
		h.waitFor(back...)
	}
	help("connect", "┃ Router")
	h.submitConnect()
	h.waitFor("Trust and continue")
	help("trust", "Trust and continue")
	h.key("enter")
	h.waitFor("Press enter to see the plan")
	help("inspect", "Press enter to see the plan")
	h.key("enter")
	h.waitFor("Commands (7)")
	help("plan", "Commands (7)")
	h.key("e")
	h.waitFor("┃ VPN subnet")
	help("settings", "┃ VPN subnet")
	h.key("esc")
	h.waitFor("Commands (7)")
	h.key("enter")
	h.waitFor("Close it on the WAN now?")
	help("gate", "Close it on the WAN now?")
	h.key("enter")
	h.waitFor("Reconnect next time")
	help("done", "Reconnect next time")
}

// An Apply that failed and whose changes the engine undid: esc on Failure
// starts again at Connect (a new session: the router changed twice since
// Inspect) with what was typed kept. An Apply whose undo did not finish
// keeps the technician on Failure: what is left must be read first.
func TestEscAfterApplyFailure(t *testing.T) {
	for _, tt := range []struct {
		name     string
		undoneOK bool
	}{
		{"undone", true},
		{"undo failed", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fe := &fakeEngine{}
			fe.apply = func(ctx context.Context, p *onboard.Plan) (*onboard.Summary, error) {
				deadline := fe.now().Add(p.Settings.ConfirmTimeout)
				fe.emit(onboard.StepArm, onboard.KindDone, "rollback armed", func(e *onboard.Event) { e.Deadline = &deadline })
				fe.emit(onboard.StepApply, onboard.KindFailed, "router said: no such item", func(e *onboard.Event) {
					e.Err = &onboard.FailureInfo{What: "The router refused a change.", Undone: []string{"WireGuard interface wgboot"}}
				})
				fe.emit(onboard.StepRollback, onboard.KindStarted, "rolling back", nil)
				if tt.undoneOK {
					fe.emit(onboard.StepRollback, onboard.KindDone, "undid 1 change", nil)
				} else {
					fe.emit(onboard.StepRollback, onboard.KindFailed, "could not undo", nil)
				}
				return nil, errors.New("onboard: apply: router said: no such item")
			}
			h := startFake(t, fe, newFakeClock(), "plan")
			h.key("enter")
			h.waitFor("The router refused a change.")
			h.key("esc")
			if tt.undoneOK {
				h.waitFor("┃ Router", "Password")
				if !eventually(func() bool { return contains(fe.Calls(), "close") }) {
					t.Errorf("going back to Connect left the engine open")
				}
				return
			}
			time.Sleep(200 * time.Millisecond)
			if v := h.waitFor("The router refused a change."); strings.Contains(v, "┃ Router") {
				t.Errorf("esc left Failure although the undo did not finish:\n%s", v)
			}
		})
	}
}

// Shutdown must not start a rollback while an Apply is still running on
// the engine (an Engine is not safe for concurrent use): when the call in
// flight does not end in time, the router's own safety net is left to
// roll back, and the technician is told so.
func TestShutdownWaitsForApply(t *testing.T) {
	fe := &fakeEngine{}
	var applying atomic.Bool
	release := make(chan struct{})
	fe.apply = func(ctx context.Context, p *onboard.Plan) (*onboard.Summary, error) {
		applying.Store(true)
		defer applying.Store(false)
		d := fe.now().Add(5 * time.Minute)
		fe.emit(onboard.StepArm, onboard.KindDone, "rollback armed", func(e *onboard.Event) { e.Deadline = &d })
		<-release // a call that ignores its ctx (a stuck router read)
		return nil, errors.New("onboard: apply: cancelled")
	}
	var concurrent atomic.Bool
	fe.rollback = func(ctx context.Context) error {
		if applying.Load() {
			concurrent.Store(true)
		}
		return nil
	}
	h := startFake(t, fe, newFakeClock(), "plan")
	h.m.opWait = 200 * time.Millisecond
	h.key("enter")
	h.waitFor("armed")
	err := h.m.Shutdown(context.Background())
	close(release)
	if concurrent.Load() {
		t.Fatalf("Shutdown started a rollback while Apply was still running")
	}
	if err == nil || !strings.Contains(err.Error(), "safety net") {
		t.Errorf("Shutdown = %v, want an error that leaves the rollback to the router's safety net", err)
	}
}
