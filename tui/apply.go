package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/wgboot/wgboot/onboard"
)

// applySteps are the rows of the Apply screen, in the engine's order.
var applySteps = []struct {
	step  onboard.Step
	label string
}{
	{onboard.StepArm, "Arm safety net"},
	{onboard.StepApply, "Apply changes"},
	{onboard.StepTunnel, "Tunnel"},
	{onboard.StepVerify, "API via tunnel"},
	{onboard.StepHarden, "Close WAN API"},
	{onboard.StepReverify, "Check again"},
	{onboard.StepCommit, "Commit"},
}

type stepState struct {
	kind onboard.Kind // "" pending, started/progress running, done, failed
	msg  string
}

// applyScreen lists each step with a spinner, then a check mark or a cross,
// the live handshake, the first API reply through the tunnel and the
// countdown of the armed auto-rollback.
type applyScreen struct {
	m        *Model
	state    map[onboard.Step]stepState
	hs       *onboard.Handshake
	hsAt     time.Time // when the last handshake happened
	reply    string    // the verify step's message: the first API reply
	warnings []string
	note     string
	rollback string // the engine's rollback message, when it rolled back
	undoneOK bool   // the engine's last rollback finished (done, not failed)
	failure  *onboard.FailureInfo
	phone    *phoneMsg // the proof from outside is waiting for this phone
}

func (a *applyScreen) reset() {
	*a = applyScreen{m: a.m, state: map[onboard.Step]stepState{}}
}

func (a *applyScreen) add(e onboard.Event) {
	if e.Err != nil {
		a.failure = e.Err
	}
	switch e.Step {
	case onboard.StepConnect, onboard.StepInspect, onboard.StepPlan:
		return
	case onboard.StepRollback:
		if e.Message != "" {
			a.rollback = e.Message
		}
		switch e.Kind {
		case onboard.KindDone:
			a.undoneOK = true
		case onboard.KindStarted, onboard.KindFailed:
			a.undoneOK = false
		}
		return
	}
	if e.Handshake != nil {
		hs := *e.Handshake
		a.hs = &hs
		// Keep the moment of the handshake, so its age counts up live.
		a.hsAt = e.Time.Add(-hs.Age)
	}
	if e.Kind == onboard.KindWarning {
		a.warnings = append(a.warnings, e.Message)
		return
	}
	if e.Step == onboard.StepVerify && e.Kind == onboard.KindDone && a.reply == "" {
		a.reply = e.Message
	}
	cur := a.state[e.Step]
	switch e.Kind {
	case onboard.KindInfo:
		if cur.kind == "" {
			cur.kind = onboard.KindProgress
		}
	case onboard.KindProgress:
		if cur.kind != onboard.KindDone && cur.kind != onboard.KindFailed {
			cur.kind = onboard.KindProgress
		}
	default:
		cur.kind = e.Kind
	}
	if e.Message != "" {
		cur.msg = e.Message
	}
	a.state[e.Step] = cur
}

// update: the engine drives this screen; only the root's keys (quit,
// help) act here.
func (a *applyScreen) update(tea.Msg) tea.Cmd { return nil }

func (a *applyScreen) typing() bool { return false }

func (a *applyScreen) shortHelp() []key.Binding {
	return []key.Binding{a.m.keys.Help, a.m.keys.Quit}
}

func (a *applyScreen) view(w, h int) string {
	return a.body(a.m.busyLine, a.m.countdown(), a.m.now())
}

func (a *applyScreen) body(busy func(string) string, countdown string, now time.Time) string {
	st := &a.m.st
	var b strings.Builder
	if p := a.phone; p != nil && a.state[onboard.StepVerify].kind != onboard.KindDone && a.state[onboard.StepVerify].kind != onboard.KindFailed {
		// The phone's code takes the screen: a camera needs all of it.
		b.WriteString(busy(a.state[onboard.StepVerify].msg) + "\n")
		for _, w := range a.warnings {
			b.WriteString(st.Warn.Render(st.IconWarn+" "+w) + "\n")
		}
		b.WriteString(wrapWords(st.Title.Render("Prove it from outside:")+" on a phone, turn Wi-Fi off (mobile data), open the WireGuard app, + > scan from QR code, activate "+p.name+". Enlarge the terminal if the code is cut.", 78) + "\n")
		if p.err != nil {
			b.WriteString(st.Err.Render("No QR code: "+p.err.Error()) + "\n")
		} else {
			b.WriteString(p.qr)
		}
		if countdown != "" {
			b.WriteString("\n" + countdown)
		}
		return b.String()
	}
	for _, s := range applySteps {
		cur := a.state[s.step]
		label := pad(s.label, 15)
		switch cur.kind {
		case onboard.KindDone:
			b.WriteString(" " + st.OK.Render(st.IconOK) + " " + label + " " + st.Muted.Render(cur.msg))
		case onboard.KindFailed:
			b.WriteString(" " + st.Err.Render(st.IconFail) + " " + label + " " + st.Err.Render(cur.msg))
		case "":
			b.WriteString(" " + st.Muted.Render(st.IconPending+" "+label))
		default:
			b.WriteString(" " + busy(label+" "+cur.msg))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	if a.hs != nil {
		hs := *a.hs
		if !a.hsAt.IsZero() && now.After(a.hsAt) {
			hs.Age = now.Sub(a.hsAt)
		}
		b.WriteString(st.Label.Render("Handshake   ") + handshakeText(&hs) + "\n")
	}
	if a.reply != "" {
		b.WriteString(st.Label.Render("API reply   ") + a.reply + "\n")
	}
	for _, w := range a.warnings {
		b.WriteString(st.Warn.Render(st.IconWarn+" "+w) + "\n")
	}
	if a.rollback != "" {
		b.WriteString(st.Warn.Render(a.rollback) + "\n")
	}
	if a.note != "" {
		b.WriteString(st.Err.Render(a.note) + "\n")
	}
	if countdown != "" {
		b.WriteString("\n" + countdown)
	}
	return b.String()
}

func handshakeText(h *onboard.Handshake) string {
	if !h.Done {
		return "waiting for the first handshake…"
	}
	s := fmt.Sprintf("%s ago", h.Age.Round(time.Second))
	if h.Endpoint != "" {
		s += " · endpoint " + h.Endpoint
	}
	if h.Rx != 0 || h.Tx != 0 {
		s += fmt.Sprintf(" · rx %s tx %s", bytesText(h.Rx), bytesText(h.Tx))
	}
	return s
}

func bytesText(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
