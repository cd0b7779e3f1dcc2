package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/wgboot/wgboot/onboard"
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
		f.info = onboard.FailureInfo{What: err.Error(), Diagnostics: err.Error(), Kind: onboard.KindOf(err)}
		if errors.Is(err, errClosed) {
			f.info.What = "the wizard closed while the engine waited for an answer"
		}
		if f.info.Kind == onboard.ErrorCertificateChanged {
			f.info = *onboard.Describe(err) // the engine's red stop
		}
	}
	if f.info.Kind == "" {
		f.info.Kind = onboard.KindOf(err)
	}
	f.info.What, f.info.Try, f.info.Diagnostics = wizardText(f.info.What), wizardTry(&f.info), wizardText(f.info.Diagnostics)
	if f.info.Kind == onboard.ErrorWrongCredentials {
		// The engine's hint names WGBOOT_PASSWORD; here the password is a field.
		if f.info.Diagnostics == "" {
			f.info.Diagnostics = wizardText(err.Error())
		}
		f.info.What = "The router refused the user name or the password."
		f.info.Try = "Check the User and Password fields on the Connect screen: press esc to go back to them (what you typed is kept)."
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
	f.danger = f.info.Kind == onboard.ErrorCertificateChanged
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
	f.vp.SetContent(clipRows(f.text(), f.w))
}

func (f *failureScreen) text() string {
	st := f.m.st
	wrap := func(s string) string { return wrapWords(s, f.w-3) }
	var b strings.Builder
	if f.danger {
		b.WriteString(st.Danger.Render(wrap(st.IconFail+" "+f.info.What)) + "\n\n")
	} else {
		b.WriteString(st.Err.Render(st.IconFail+" ") + st.Title.Render(wrap(f.info.What)) + "\n\n")
	}
	if len(f.info.Undone) > 0 {
		b.WriteString(st.Title.Render("What was undone") + "\n")
		for _, u := range f.info.Undone {
			b.WriteString(" " + st.OK.Render(st.IconOK) + " " + wrap(u) + "\n")
		}
		b.WriteString("\n")
	} else if f.canGoBack {
		b.WriteString(st.Muted.Render("Nothing was changed on the router.") + "\n\n")
	}
	if f.info.Try != "" {
		b.WriteString(st.Title.Render("What to try") + "\n" + wrap(f.info.Try) + "\n\n")
	}
	if f.info.Diagnostics != "" {
		// Wrapped at spaces, not clipped or split: every token must be
		// there whole to copy.
		b.WriteString(st.Title.Render("Diagnostics (copy into a ticket)") + "\n" + wrapWords(f.info.Diagnostics, f.w) + "\n")
	}
	return b.String()
}

// update: esc goes back to Connect when nothing was changed, enter quits,
// and the other keys scroll.
func (f *failureScreen) update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	if key.Matches(k, f.m.keys.Back) && f.canGoBack {
		return f.m.backToConnect()
	}
	if key.Matches(k, f.m.keys.Enter) {
		return f.m.quit()
	}
	var cmd tea.Cmd
	f.vp, cmd = f.vp.Update(k)
	return cmd
}

func (f *failureScreen) view(w, h int) string { return f.vp.View() }

func (f *failureScreen) typing() bool { return false }

func (f *failureScreen) shortHelp() []key.Binding {
	k := f.m.keys
	if f.canGoBack {
		return []key.Binding{as(k.Back, "back to Connect"), k.Up, as(k.Enter, "quit"), k.Help}
	}
	return []key.Binding{k.Up, as(k.Enter, "quit"), k.Help}
}
