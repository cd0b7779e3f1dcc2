package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros"
)

// failureScreen says what failed in plain words, what was undone, what to
// try, and shows the diagnostics to copy into a ticket (scrollable).
type failureScreen struct {
	m         *Model
	info      onboard.FailureInfo
	canGoBack bool // nothing was changed: esc returns to Connect
	danger    bool // a changed certificate: a red stop
	vp        viewport.Model
	w, h      int
}

func newFailureScreen(m *Model) *failureScreen {
	return &failureScreen{m: m, vp: viewport.New(80, 18), w: 80, h: 20}
}

// set fills the screen from the engine's FailureInfo when it sent one, else
// from the error alone.
func (f *failureScreen) set(err error, info *onboard.FailureInfo, back, fired bool) {
	if info != nil {
		f.info = *info
	} else {
		f.info = onboard.FailureInfo{What: err.Error(), Diagnostics: err.Error()}
		if errors.Is(err, errClosed) {
			f.info.What = "the wizard closed while the engine waited for an answer"
		}
	}
	if f.info.Try == "" && back {
		f.info.Try = "Check the address, port, user and password, then press esc to try again."
	}
	if fired {
		// The engine only saw a "no" at the Gate; the technician must learn
		// that the router reverted itself.
		if f.info.Diagnostics == "" {
			f.info.Diagnostics = f.info.What
		}
		f.info.What = "The safety net ran out while waiting at the Gate: the router rolled itself back to how it was."
		f.info.Undone = append(f.info.Undone, "the router's own safety net rolled every change back")
		if f.info.Try == "" {
			f.info.Try = "Run wgboot again and answer the Gate within the confirm timeout (the Plan screen sets it)."
		}
	}
	var fe *routeros.FingerprintError
	f.danger = errors.As(err, &fe) && fe.Changed
	if f.danger {
		f.info.What = "STOP: the certificate of " + fe.Addr + " changed since it was first trusted."
		f.info.Try = "Someone may be intercepting the connection, or the router's certificate was replaced. " +
			"On the router's console run /certificate print detail; only if its fingerprint is " + fe.Got +
			", remove the line for " + fe.Addr + " from " + fe.File + " and connect again."
		f.info.Diagnostics = err.Error()
	}
	f.canGoBack = back
	f.layout()
}

func (f *failureScreen) setSize(w, h int) tea.Cmd {
	f.w, f.h = w, h
	f.layout()
	return nil
}

func (f *failureScreen) layout() {
	f.vp.Width, f.vp.Height = f.w, max(3, f.h)
	f.vp.SetContent(f.text())
}

func (f *failureScreen) text() string {
	st := f.m.st
	wrap := lipgloss.NewStyle().Width(max(f.w-3, 20))
	var b strings.Builder
	if f.danger {
		b.WriteString(st.Danger.Render(wrap.Render(st.IconFail+" "+f.info.What)) + "\n\n")
	} else {
		b.WriteString(st.Err.Render(st.IconFail+" ") + st.Title.Render(wrap.Render(f.info.What)) + "\n\n")
	}
	if len(f.info.Undone) > 0 {
		b.WriteString(st.Title.Render("What was undone") + "\n")
		for _, u := range f.info.Undone {
			b.WriteString(" " + st.OK.Render(st.IconOK) + " " + u + "\n")
		}
		b.WriteString("\n")
	} else if f.canGoBack {
		b.WriteString(st.Muted.Render("Nothing was changed on the router.") + "\n\n")
	}
	if f.info.Try != "" {
		b.WriteString(st.Title.Render("What to try") + "\n" + wrap.Render(f.info.Try) + "\n\n")
	}
	if f.info.Diagnostics != "" {
		// Wrapped, not clipped: every character must be there to copy.
		b.WriteString(st.Title.Render("Diagnostics (copy into a ticket)") + "\n" + lipgloss.NewStyle().Width(f.w).Render(f.info.Diagnostics) + "\n")
	}
	return b.String()
}

func (f *failureScreen) update(k tea.KeyMsg) tea.Cmd {
	var cmd tea.Cmd
	f.vp, cmd = f.vp.Update(k)
	return cmd
}

func (f *failureScreen) view(w, h int) string { return f.vp.View() }
