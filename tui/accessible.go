package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/cancelreader"
	"github.com/skip2/go-qrcode"

	"github.com/wgboot/wgboot/onboard"
)

// ErrInputEnded is returned by RunAccessible when the input ends before the
// wizard got its answer.
var ErrInputEnded = errors.New("tui: the input ended before the wizard finished")

// lineReader hands out at most one line per Read. huh's accessible prompts
// wrap the reader in a new bufio.Scanner for every prompt; reading ahead
// would swallow the answers to the next prompts when input is piped.
type lineReader struct {
	r   io.Reader
	mu  sync.Mutex // guards following
	eof bool
}

func (l *lineReader) Read(p []byte) (int, error) {
	n := 0
	var one [1]byte
	for n < len(p) {
		k, err := l.r.Read(one[:])
		if k == 1 {
			p[n] = one[0]
			n++
			if one[0] == '\n' {
				return n, nil
			}
		}
		if err != nil {
			l.mu.Lock()
			l.eof = true
			l.mu.Unlock()
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
	}
	return n, nil
}

func (l *lineReader) ended() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eof
}

// accessible is the line-by-line front end: the same engine and the same
// questions as the full-screen wizard, asked as plain prompts (huh's
// accessible forms) and reported as plain lines, with no animation and no
// cursor movement, for screen readers and dumb terminals.
type accessible struct {
	o     Options
	in    *lineReader
	raw   io.Reader // for passwords on a terminal
	out   io.Writer
	armed bool
	hard  bool // hardened
	fail  *onboard.FailureInfo
}

// RunAccessible runs the wizard as plain prompts on in and out. Cancelling
// ctx (ctrl+c) stops it; anything armed on the router is rolled back.
func RunAccessible(ctx context.Context, o Options, in io.Reader, out io.Writer) (*onboard.Summary, error) {
	raw := in
	if f, ok := in.(*os.File); ok {
		// A cancellable reader, so ctrl+c (ctx) ends a prompt that waits.
		if cr, err := cancelreader.NewReader(f); err == nil {
			stop := context.AfterFunc(ctx, func() { cr.Cancel() })
			defer stop()
			defer cr.Close()
			in = cr
		}
	}
	a := &accessible{o: o, in: &lineReader{r: in}, raw: raw, out: out}
	if a.o.Now == nil {
		a.o.Now = time.Now
	}
	return a.run(ctx)
}

// undoArmed rolls back what is still armed (ctrl+c, a failure the engine
// could not undo), before the engine is closed.
func (a *accessible) undoArmed(ctx context.Context, eng Engine) {
	if !a.armed {
		return
	}
	a.println("Rolling back the armed changes…")
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if err := eng.Rollback(rctx); err != nil {
		a.println("Rollback failed: " + err.Error() + ". The router's own safety net undoes the changes when its timer runs out.")
		return
	}
	a.armed = false
	a.println("The armed changes were rolled back: the router is as it was.")
}

// println writes one block of text; anything the router sent in it is
// escaped (see safe.go), line breaks kept.
func (a *accessible) println(s string) { fmt.Fprintln(a.out, text(s)) }

// form runs huh fields accessibly and reports input that ended.
func (a *accessible) form(ctx context.Context, fields ...huh.Field) error {
	f := huh.NewForm(huh.NewGroup(fields...)).WithAccessible(true).WithTheme(huh.ThemeBase()).
		WithInput(a.in).WithOutput(a.out)
	if err := f.Run(); err != nil {
		return fmt.Errorf("tui: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.in.ended() {
		return ErrInputEnded
	}
	return nil
}

// withDefault says what enter keeps: huh's accessible prompts do not show
// the current value.
func withDefault(title, cur string) string {
	if cur == "" {
		return title + ":"
	}
	return title + " [" + cur + "]:"
}

// keepOr validates a typed answer; an empty line keeps the current value
// (huh's accessible prompts validate the raw line before the default).
func keepOr(cur *string, validate func(string) error) func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" && *cur != "" {
			return nil
		}
		return validate(s)
	}
}

// Confirm implements onboard.Prompter for the accessible front end.
func (a *accessible) Confirm(ctx context.Context, q onboard.Question) (bool, error) {
	if q.ID == onboard.QApplyPlan {
		return true, nil // the technician just confirmed the plan
	}
	q = safeQuestion(q)
	title := q.Title
	// The same defaults as the full-screen wizard: the Gate and first
	// contact default to yes; a changed certificate never does.
	v := (q.Default || q.ID == onboard.QHarden || q.ID == onboard.QTrustFingerprint) && !q.Danger
	switch {
	case q.Danger:
		title = "STOP: " + title
	case q.ID == onboard.QHarden:
		title = "The API answers through the tunnel. Close it on the WAN now?"
	}
	a.println("")
	if q.Detail != "" {
		a.println(q.Detail)
	}
	if err := a.form(ctx, huh.NewConfirm().Title(title).Value(&v)); err != nil {
		return false, err
	}
	if !v && q.ID == onboard.QHarden {
		// As at the full-screen Gate: "no" leaves the router as it was
		// (the engine rolls every change back).
		a.println("Rolling every change back…")
	}
	return v, nil
}

func (a *accessible) sink(e onboard.Event) {
	e = wizardEvent(safeEvent(e))
	a.armed, a.hard = e.State.Armed, e.State.Hardened
	if e.Deadline != nil {
		left := e.Deadline.Sub(a.o.Now()).Round(time.Second)
		a.println(fmt.Sprintf("Safety net armed: unless wgboot confirms, the router undoes everything at %s (in %s).",
			e.Deadline.Format("15:04:05"), left))
	}
	if e.Err != nil {
		a.fail = e.Err
	}
	for _, f := range e.Facts {
		line := "  " + f.Name + ": " + f.Value
		if f.Warning != "" {
			line += " (warning: " + f.Warning + ")"
		}
		a.println(line)
	}
	if e.Handshake != nil && e.Handshake.Done {
		a.println("  handshake " + handshakeText(e.Handshake))
	}
	if e.Message == "" || e.Step == onboard.StepPlan && e.Kind == onboard.KindDone {
		return
	}
	word := map[onboard.Kind]string{onboard.KindStarted: "…", onboard.KindDone: "ok", onboard.KindFailed: "FAILED",
		onboard.KindWarning: "warning", onboard.KindInfo: "info", onboard.KindProgress: "…"}[e.Kind]
	a.println(fmt.Sprintf("[%s] %s: %s", e.Step, word, e.Message))
}

// run walks the accessible wizard: connect, inspect, plan, apply, done,
// one prompt at a time.
//
// Long because: it is the whole line-by-line conversation in order, the
// same steps as the full-screen wizard without its screens; each step is
// a few prompts and reads best in sequence.
func (a *accessible) run(ctx context.Context) (*onboard.Summary, error) {
	a.println("wgboot: onboard a MikroTik router onto WireGuard (accessible mode).")
	if a.o.Banner != "" {
		a.println(a.o.Banner)
	}
	c := &connectValues{Host: a.o.Router, User: a.o.User, Mode: modeSSL, Password: a.o.Password}
	if a.o.Port != 0 {
		c.Port = strconv.Itoa(a.o.Port)
	}
	if c.User == "" {
		c.User = "admin"
	}
	if a.o.Plain {
		c.Mode = modePlain
	}
	if err := a.form(ctx,
		huh.NewInput().Title(withDefault("Router address", c.Host)).Value(&c.Host).Validate(keepOr(&c.Host, validateHost)),
		huh.NewInput().Title(withDefault("Port (empty: the API mode's default)", c.Port)).Value(&c.Port).Validate(validatePort),
		huh.NewInput().Title(withDefault("User", c.User)).Value(&c.User),
		huh.NewSelect[string]().Title("API mode (plain sends the password unencrypted):").Options(
			huh.NewOption("api-ssl (8729, certificate pinned)", modeSSL), huh.NewOption("plain api (8728)", modePlain)).Value(&c.Mode),
	); err != nil {
		return nil, err
	}
	if c.Password == "" && !a.o.PasswordSet {
		pw, err := a.password(ctx)
		if err != nil {
			return nil, err
		}
		c.Password = pw
	}
	if a.o.NewEngine == nil {
		return nil, errors.New("tui: no engine factory configured")
	}
	conn := Connection{Router: c.addr(), Plain: c.plain(), User: c.User, Password: c.Password,
		StateDir: a.o.StateDir, Prompter: a, Sink: a.sink, Now: a.o.Now}
	if a.o.ProveRemote {
		// A screen reader cannot show a QR code: the phone imports the
		// config file instead.
		conn.ProveRemote = &onboard.ProveRemote{Keep: a.o.KeepPhone, Show: func(np *onboard.NewPeer) {
			a.println("Prove the tunnel from outside: on a phone with Wi-Fi off (mobile data), import " + np.ConfigPath +
				" into the WireGuard app and activate " + np.Name + ".")
		}}
	}
	eng, err := a.o.NewEngine(conn)
	if err != nil {
		return nil, a.failed(err)
	}
	defer func() {
		a.undoArmed(ctx, eng)
		eng.Close()
	}()
	if err := eng.Connect(ctx); err != nil {
		return nil, a.failed(err)
	}
	_ = SaveRecent(a.o.StateDir, Recent{Host: strings.TrimSpace(c.Host), Port: c.port(), User: c.User, Plain: c.plain()})
	a.println("Inspecting the router:")
	if _, err := eng.Inspect(ctx); err != nil {
		return nil, a.failed(err)
	}
	settings := a.o.Settings
	for {
		p, err := eng.Plan(ctx, settings)
		if err != nil {
			return nil, a.failed(err)
		}
		a.printPlan(p)
		if p.Noop {
			a.println("The router is already onboarded: nothing to change.")
			return nil, nil
		}
		apply, edit := true, false
		if err := a.form(ctx, huh.NewConfirm().Title("Edit the settings first?").Value(&edit)); err != nil {
			return nil, err
		}
		if edit {
			if settings, err = a.editSettings(ctx, p.Settings); err != nil {
				return nil, err
			}
			continue
		}
		if err := a.form(ctx, huh.NewConfirm().Title("Apply this plan now (auto-rollback armed)?").Value(&apply)); err != nil {
			return nil, err
		}
		if !apply {
			a.println("Nothing was changed on the router.")
			return nil, ErrAborted
		}
		sum, err := eng.Apply(ctx, p)
		if errors.Is(err, onboard.ErrDeclined) && !a.armed {
			a.println(declinedNote)
			return nil, err
		}
		if err != nil {
			return nil, a.failed(err)
		}
		a.armed = false
		a.printDone(sum)
		return sum, nil
	}
}

// password asks without echo on a terminal.
func (a *accessible) password(ctx context.Context) (string, error) {
	if f, ok := a.raw.(*os.File); ok && term.IsTerminal(f.Fd()) {
		fmt.Fprint(a.out, "Password (not shown; empty for none): ")
		b, err := term.ReadPassword(f.Fd())
		fmt.Fprintln(a.out)
		if err != nil {
			return "", fmt.Errorf("tui: read the password: %w", err)
		}
		return string(b), nil
	}
	// Not a terminal: the password is a line of the input, never echoed back.
	pw := ""
	if err := a.form(ctx, huh.NewInput().Title("Password (empty for none):").Value(&pw)); err != nil {
		return "", err
	}
	return pw, nil
}

func (a *accessible) editSettings(ctx context.Context, s onboard.Settings) (onboard.Settings, error) {
	v := &settingsValues{Subnet: s.Subnet, Port: strconv.Itoa(s.ListenPort), Endpoint: s.Endpoint, Local: s.Local,
		Timeout: fmtDuration(s.ConfirmTimeout), LANKeepsAPI: s.LANKeepsAPI, LogRefused: s.LogRefused}
	if v.Local == "" {
		v.Local = "auto"
	}
	if err := a.form(ctx,
		huh.NewInput().Title(withDefault("VPN subnet", v.Subnet)).Value(&v.Subnet).Validate(keepOr(&v.Subnet, validateSubnet)),
		huh.NewInput().Title(withDefault("WireGuard listen port", v.Port)).Value(&v.Port).Validate(validatePort),
		huh.NewInput().Title(withDefault("Published endpoint", v.Endpoint)).Value(&v.Endpoint).Validate(validateEndpoint),
		huh.NewSelect[string]().Title("Local WireGuard:").Options(
			huh.NewOption("auto", "auto"), huh.NewOption("kernel (needs root)", "kernel"), huh.NewOption("netstack (no root)", "netstack")).Value(&v.Local),
		huh.NewConfirm().Title("LAN keeps API access?").Value(&v.LANKeepsAPI),
		huh.NewConfirm().Title("Log refused API attempts on the WAN?").Value(&v.LogRefused),
		huh.NewInput().Title(withDefault("Confirm timeout (e.g. 5m)", v.Timeout)).Value(&v.Timeout).Validate(keepOr(&v.Timeout, validateTimeout)),
	); err != nil {
		return s, err
	}
	return v.settings(s)
}

func (a *accessible) printPlan(p *onboard.Plan) {
	s := p.Settings
	a.println("")
	a.println("Plan settings:")
	a.println(fmt.Sprintf("  subnet %s, listen port %d, endpoint %s, local %s, LAN keeps API %v, log refused %v, confirm timeout %s",
		line(s.Subnet), s.ListenPort, line(s.Endpoint), line(s.Local), s.LANKeepsAPI, s.LogRefused, fmtDuration(s.ConfirmTimeout)))
	a.println("RouterOS commands:")
	for _, c := range p.Changes {
		a.println("  # " + line(c.Description))
		a.println("  " + line(c.Command))
	}
	a.println("Before and after:")
	for _, v := range p.Verdicts {
		a.println(fmt.Sprintf("  %s: %s, then %s", line(v.Probe), line(v.Before), line(v.After)))
	}
	for _, w := range p.Warnings {
		a.println("Warning: " + line(w))
	}
}

func (a *accessible) printDone(s *onboard.Summary) {
	a.println("")
	if a.hard {
		a.println("Done: " + s.Router + " is reachable through WireGuard; its API is closed on the WAN.")
	} else {
		a.println("Done: " + s.Router + " is reachable through WireGuard. The API on the WAN was left as it was.")
	}
	if note := s.OutsideNote(); note != "" {
		a.println("Warning: " + note)
	}
	a.println("  tunnel: router " + s.RouterTunnel + ", you " + s.LocalTunnel + "; endpoint " + s.Endpoint)
	if s.ConfigPath != "" {
		a.println("  config: " + s.ConfigPath)
	}
	a.println("  reconnect next time: " + s.Reconnect)
	a.println("  undo: " + s.Undo)
	qr := s.QR
	if qr == "" && s.ConfigPath != "" {
		if b, err := os.ReadFile(s.ConfigPath); err == nil {
			if q, err := qrcode.New(string(b), qrcode.Low); err == nil {
				qr = q.ToSmallString(false)
			}
		}
	}
	if qr != "" {
		a.println("QR code of your config (for the WireGuard app):")
		fmt.Fprint(a.out, qr)
	}
}

// failed prints the Failure screen as lines and returns err.
func (a *accessible) failed(err error) error {
	info := a.fail
	if info == nil {
		info = &onboard.FailureInfo{What: err.Error()}
	}
	a.println("")
	a.println("FAILED: " + info.What)
	for _, u := range info.Undone {
		a.println("  undone: " + u)
	}
	if info.Try != "" {
		a.println("What to try: " + info.Try)
	}
	if info.Diagnostics != "" {
		a.println("Diagnostics (copy into a ticket):")
		a.println(info.Diagnostics)
	}
	return err
}
