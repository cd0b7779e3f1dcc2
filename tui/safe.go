package tui

import (
	"github.com/wgboot/wgboot/internal/safetext"
	"github.com/wgboot/wgboot/onboard"
)

// The engine's events, questions, results and errors quote the router
// (identity, names, comments, trap text), and a router is not trusted to
// send only text. They are escaped where they enter the wizard (the bridge,
// and the accessible front end's Sink and Prompter), so that no screen can
// pass a control character, escape sequence or bidi override from the
// router to the terminal. The plan is escaped where it is drawn instead:
// the same *Plan goes back to the engine's Apply.

var line, text = safetext.Line, safetext.Text

func safeFacts(fs []onboard.Fact) []onboard.Fact {
	if fs == nil {
		return nil
	}
	out := make([]onboard.Fact, len(fs))
	for i, f := range fs {
		out[i] = onboard.Fact{Name: line(f.Name), Value: line(f.Value), Warning: line(f.Warning)}
	}
	return out
}

func safeFailure(fi *onboard.FailureInfo) *onboard.FailureInfo {
	if fi == nil {
		return nil
	}
	out := &onboard.FailureInfo{What: line(fi.What), Try: line(fi.Try), Diagnostics: text(fi.Diagnostics), Kind: fi.Kind}
	if fi.Hint != nil {
		h := onboard.Hint{Settings: fi.Hint.Settings, Parts: make([]string, len(fi.Hint.Parts))}
		for i, p := range fi.Hint.Parts {
			h.Parts[i] = line(p)
		}
		out.Hint = &h
	}
	if fi.Undone != nil {
		out.Undone = make([]string, len(fi.Undone))
		for i, u := range fi.Undone {
			out.Undone[i] = line(u)
		}
	}
	return out
}

func safeSummary(s *onboard.Summary) *onboard.Summary {
	if s == nil {
		return nil
	}
	c := *s
	for _, f := range []*string{&c.Router, &c.Identity, &c.RouterTunnel, &c.LocalTunnel, &c.Endpoint,
		&c.ConfigPath, &c.ProvenVia, &c.ProvenFrom, &c.Reconnect, &c.Undo} {
		*f = line(*f)
	}
	c.QR = text(c.QR)
	return &c
}

func safeEvent(e onboard.Event) onboard.Event {
	e.Message = line(e.Message)
	e.Facts = safeFacts(e.Facts)
	e.Err = safeFailure(e.Err)
	e.Summary = safeSummary(e.Summary)
	if e.Handshake != nil {
		h := *e.Handshake
		h.Endpoint = line(h.Endpoint)
		e.Handshake = &h
	}
	return e
}

func safeQuestion(q onboard.Question) onboard.Question {
	q.Title, q.Detail = line(q.Title), text(q.Detail)
	return q
}

// shownError is an error whose text is escaped for the screen; errors.Is
// and errors.As still see the engine's error.
type shownError struct {
	err  error
	text string
}

func (e shownError) Error() string { return e.text }
func (e shownError) Unwrap() error { return e.err }

func safeErr(err error) error {
	if err == nil {
		return nil
	}
	if t := text(err.Error()); t != err.Error() {
		return shownError{err: err, text: t}
	}
	return err
}

// safeResult escapes an engine call's result on its way to Update.
func safeResult(msg any) any {
	switch m := msg.(type) {
	case engineMsg:
		m.err = safeErr(m.err)
		return m
	case connectedMsg:
		m.err = safeErr(m.err)
		return m
	case inspectedMsg:
		m.facts, m.err = safeFacts(m.facts), safeErr(m.err)
		return m
	case plannedMsg:
		m.err = safeErr(m.err)
		return m
	case appliedMsg:
		m.sum, m.err = safeSummary(m.sum), safeErr(m.err)
		return m
	case rolledBackMsg:
		m.err = safeErr(m.err)
		return m
	}
	return msg
}
