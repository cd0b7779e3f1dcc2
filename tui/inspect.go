package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/wgboot/wgboot/onboard"
)

// inspectScreen is the checklist that fills in while the engine reads the
// router. Facts arrive on events (live) and again as Inspect's result.
type inspectScreen struct {
	m        *Model
	w        int // terminal width, for wrapping warnings
	facts    []onboard.Fact
	warnings []string // warnings not tied to a fact
	ready    bool
}

func (s *inspectScreen) reset() { *s = inspectScreen{m: s.m, w: s.w} }

// merge adds or replaces facts by name, keeping the order of first arrival.
func (s *inspectScreen) merge(fs []onboard.Fact) {
next:
	for _, f := range fs {
		for i := range s.facts {
			if s.facts[i].Name == f.Name {
				s.facts[i] = f
				continue next
			}
		}
		s.facts = append(s.facts, f)
	}
}

func (s *inspectScreen) add(e onboard.Event) {
	s.merge(e.Facts)
	if e.Kind == onboard.KindWarning && len(e.Facts) == 0 && e.Message != "" {
		s.warnings = append(s.warnings, e.Message)
	}
}

func (s *inspectScreen) finish(fs []onboard.Fact) {
	s.merge(fs)
	s.ready = true
}

// update: enter goes on to the Plan once the router is read; esc goes
// back to Connect (nothing was changed yet).
func (s *inspectScreen) update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(k, s.m.keys.Enter) && s.ready:
		return s.m.toPlan()
	case key.Matches(k, s.m.keys.Back):
		return s.m.backToConnect()
	}
	return nil
}

func (s *inspectScreen) typing() bool { return false }

func (s *inspectScreen) shortHelp() []key.Binding {
	k := s.m.keys
	return []key.Binding{as(k.Enter, "plan"), k.Back, k.Help, k.Quit}
}

func (s *inspectScreen) view(w, h int) string {
	st := &s.m.st
	busy := s.m.busyLine
	var b strings.Builder
	b.WriteString(st.Title.Render("What the router looks like now") + "\n\n")
	width := 0
	for _, f := range s.facts {
		width = max(width, len(f.Name))
	}
	for _, f := range s.facts {
		icon := st.OK.Render(st.IconOK)
		if f.Warning != "" {
			icon = st.Warn.Render(st.IconWarn)
		}
		b.WriteString(" " + icon + " " + st.Label.Render(pad(f.Name, width)) + "  " + st.Value.Render(f.Value) + "\n")
		if f.Warning != "" {
			indent := strings.Repeat(" ", width+5)
			for _, l := range strings.Split(ansi.Wordwrap(f.Warning, max(s.w-len(indent), 20), ""), "\n") {
				b.WriteString(indent + st.Warn.Render(l) + "\n")
			}
		}
	}
	for _, w := range s.warnings {
		b.WriteString(st.Warn.Render(ansi.Wordwrap(" "+st.IconWarn+" "+w, max(s.w, 20), "")) + "\n")
	}
	b.WriteString("\n")
	if s.ready {
		b.WriteString(st.Muted.Render("Nothing has been changed on the router. Press enter to see the plan."))
	} else {
		b.WriteString(busy("Reading the router…"))
	}
	return b.String()
}

func pad(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return s + strings.Repeat(" ", w-len(s))
}
