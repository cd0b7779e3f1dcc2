package tui

import (
	"github.com/wgboot/wgboot/onboard"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// questionScreen shows one engine question with two buttons. It is the Trust
// screen (fingerprint on first contact, a changed fingerprint as a red stop,
// any other question) and the hardening Gate.
type questionScreen struct {
	m    *Model
	q    questionMsg
	gate bool
	yes  bool // focus on the Yes button
	sent bool
}

func newQuestionScreen(m *Model, q questionMsg, gate bool) *questionScreen {
	// The Gate starts on Yes (the spec: enter confirms). First contact
	// starts on Trust: the technician compares the fingerprint shown and
	// presses enter, as with ssh's first connection; a changed certificate
	// (Danger) never offers Yes; another danger question starts on No and
	// says yes only by moving to its button. Other questions start on the
	// engine's default.
	yes := gate || (q.q.ID == onboard.QTrustFingerprint || q.q.Default) && !q.q.Danger
	return &questionScreen{m: m, q: q, gate: gate, yes: yes}
}

func (s *questionScreen) answer(a bool) {
	if s.sent {
		return
	}
	s.sent = true
	s.q.reply <- a // buffered: never blocks
	s.m.answered(s.gate)
}

func (s *questionScreen) update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	keys := s.m.keys
	switch {
	case key.Matches(k, keys.Enter):
		s.answer(s.yes)
	case key.Matches(k, keys.Yes) && !s.q.q.Danger:
		s.answer(true)
	case key.Matches(k, keys.No), key.Matches(k, keys.Back):
		s.answer(false)
	case key.Matches(k, keys.Left, keys.Right, keys.Next, keys.Prev):
		// A danger question with a Yes (create-certificate) is answered
		// yes only by moving onto its button and pressing enter: no single
		// key says yes to it. A changed certificate has no Yes at all.
		if yes, _ := s.labels(); yes != "" {
			s.yes = !s.yes
		}
	}
	return nil
}

func (s *questionScreen) labels() (string, string) {
	switch {
	case s.gate:
		return "Yes, close it", "No, leave the router as it was"
	case s.q.q.ID == onboard.QTrustFingerprint && s.q.q.Danger:
		return "", "Stop"
	case s.q.q.ID == onboard.QTrustFingerprint:
		return "Trust and continue", "Stop"
	case s.q.q.Danger:
		return "Yes, send it unencrypted", "No"
	}
	return "Yes", "No"
}

func (s *questionScreen) typing() bool { return false }

func (s *questionScreen) shortHelp() []key.Binding {
	k := s.m.keys
	return []key.Binding{k.Enter, k.YesNo, k.Left, k.Help, k.Quit}
}

// view is the question; at the Gate, with the countdown under it.
func (s *questionScreen) view(w, h int) string {
	if s.gate {
		return s.body(w) + "\n\n" + s.m.countdown()
	}
	return s.body(w)
}

func (s *questionScreen) body(w int) string {
	st := s.m.st
	q := s.q.q
	var b strings.Builder
	title := q.Title
	if s.gate {
		// The Gate always asks in the same words, whatever the engine's title.
		title = "The API answers through the tunnel. Close it on the WAN now?"
	}
	if q.Danger {
		b.WriteString(st.Danger.Render(st.IconFail+" "+title) + "\n\n")
	} else {
		b.WriteString(st.Title.Render(title) + "\n\n")
	}
	if q.Detail != "" {
		detail := ansi.Wordwrap(q.Detail, min(w, 78), "")
		if q.Danger {
			detail = st.Err.Render(detail)
		}
		b.WriteString(detail + "\n\n")
	}
	yes, no := s.labels()
	var buttons []string
	if yes != "" {
		bs := st.Button
		if s.yes {
			bs = st.ButtonOn
		}
		buttons = append(buttons, bs.Render("[ "+yes+" ]"))
	}
	ns := st.Button
	if !s.yes || yes == "" {
		ns = st.ButtonOn
	}
	buttons = append(buttons, ns.Render("[ "+no+" ]"))
	b.WriteString(strings.Join(buttons, "  "))
	if s.gate {
		b.WriteString("\n\n" + st.Muted.Render("enter confirms · n or esc declines: wgboot rolls every change back and the\nrouter is exactly as it was before (no tunnel is kept)."))
	}
	return b.String()
}
