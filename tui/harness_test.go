package tui

import (
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	// Goldens hold plain text: the ASCII profile drops every colour.
	lipgloss.SetColorProfile(termenv.Ascii)
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// snapMsg asks the running program for its current view.
type snapMsg struct{ reply chan string }

// snapModel wraps the wizard so a test can read the screen while the
// program runs, from the program's own goroutine (no race on the model).
type snapModel struct{ m *Model }

func (s snapModel) Init() tea.Cmd { return s.m.Init() }
func (s snapModel) View() string  { return s.m.View() }
func (s snapModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if sm, ok := msg.(snapMsg); ok {
		sm.reply <- s.m.View()
		return s, nil
	}
	_, cmd := s.m.Update(msg)
	return s, cmd
}

// waitLimit bounds every wait; it is a deadlock guard, not an assertion.
const waitLimit = 20 * time.Second

type harness struct {
	t  *testing.T
	tm *teatest.TestModel
	m  *Model
}

func start(t *testing.T, o Options) *harness {
	t.Helper()
	m := New(o)
	tm := teatest.NewTestModel(t, snapModel{m}, teatest.WithInitialTermSize(80, 24))
	h := &harness{t: t, tm: tm, m: m}
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(waitLimit))
		_ = m.Shutdown(t.Context())
	})
	return h
}

func (h *harness) view() string {
	reply := make(chan string, 1)
	h.tm.Send(snapMsg{reply: reply})
	select {
	case v := <-reply:
		return v
	case <-time.After(waitLimit):
		h.t.Fatal("the program did not answer a snapshot")
		return ""
	}
}

// waitFor polls the screen until it contains all of want.
func (h *harness) waitFor(want ...string) string {
	h.t.Helper()
	deadline := time.Now().Add(waitLimit)
	var v string
	for time.Now().Before(deadline) {
		v = h.view()
		ok := true
		for _, w := range want {
			if !strings.Contains(v, w) {
				ok = false
				break
			}
		}
		if ok {
			return v
		}
		time.Sleep(15 * time.Millisecond)
	}
	h.t.Fatalf("screen never showed %q; last screen:\n%s", want, v)
	return ""
}

// waitGone polls the screen until it no longer contains s.
func (h *harness) waitGone(s string) {
	h.t.Helper()
	if !eventually(func() bool { return !strings.Contains(h.view(), s) }) {
		h.t.Fatalf("screen still shows %q:\n%s", s, h.view())
	}
}

func (h *harness) key(k string) {
	switch k {
	case "enter":
		h.tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	case "esc":
		h.tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	case "tab":
		h.tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	case "shift+tab":
		h.tm.Send(tea.KeyMsg{Type: tea.KeyShiftTab})
	case "ctrl+c":
		h.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	case "down":
		h.tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	case "backspace":
		h.tm.Send(tea.KeyMsg{Type: tea.KeyBackspace})
	default:
		h.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
	}
}

// golden compares the current screen with testdata/<test name>.golden and
// checks it fits the terminal.
func (h *harness) golden(t *testing.T, v string) {
	t.Helper()
	checkFits(t, v, 80, 24)
	golden.RequireEqual(t, []byte(v))
}

func checkFits(t *testing.T, v string, w, hgt int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != hgt {
		t.Errorf("screen has %d lines, want %d", len(lines), hgt)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, lw, w, l)
		}
	}
}

var teatestFinal = teatest.WithFinalTimeout(waitLimit)

// golden compares a screen, waited for by the parent test, in a subtest
// named after the screen (testdata/<Test>/<name>.golden).
func goldenScreen(t *testing.T, name, screen string) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		checkFits(t, screen, 80, 24)
		golden.RequireEqual(t, []byte(screen))
	})
}
