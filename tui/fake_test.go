package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wgboot/wgboot/onboard"
)

// t0 is the fake clock's start: goldens show countdowns relative to it.
var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t0.UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fakeEngine is a scripted engine: each method emits the events the real
// engine emits, through the Sink and Prompter the wizard gave it. Func
// fields replace a step's script when set.
type fakeEngine struct {
	c   Connection
	now func() time.Time

	connect  func(ctx context.Context) error
	inspect  func(ctx context.Context) ([]onboard.Fact, error)
	plan     func(ctx context.Context, s onboard.Settings) (*onboard.Plan, error)
	apply    func(ctx context.Context, p *onboard.Plan) (*onboard.Summary, error)
	rollback func(ctx context.Context) error

	// holdBeforeHarden, when set, is received from before the Gate question.
	holdBeforeHarden chan struct{}
	// atGate, when set, is closed just before the Gate question.
	atGate chan struct{}
	danger bool // the fingerprint changed
	// summary, when set, is what the scripted Apply returns instead of
	// fakeSummary.
	summary *onboard.Summary

	mu       sync.Mutex // guards following
	calls    []string
	answers  map[string]bool
	settings []onboard.Settings
	closed   bool
	st       onboard.State // the run's state its events carry
}

func (f *fakeEngine) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeEngine) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeEngine) Answer(id string) (bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.answers[id]
	return a, ok
}

func (f *fakeEngine) emit(step onboard.Step, kind onboard.Kind, msg string, mod func(*onboard.Event)) {
	e := onboard.Event{Time: f.now(), Step: step, Kind: kind, Message: msg}
	if mod != nil {
		mod(&e)
	}
	f.mu.Lock()
	e.State = f.next(e)
	f.mu.Unlock()
	f.c.Sink(e)
}

// next is the State e carries, moved on as the real engine moves it at
// the same events.
func (f *fakeEngine) next(e onboard.Event) onboard.State {
	st := &f.st
	if e.Deadline != nil {
		d := *e.Deadline
		st.Armed, st.Deadline = true, &d
	}
	switch {
	case e.Kind != onboard.KindDone:
	case e.Step == onboard.StepConnect:
		st.Connected = true
	case e.Step == onboard.StepApply:
		st.Applied = true
	case e.Step == onboard.StepTunnel:
		st.ProvenVia = "wan"
	case e.Step == onboard.StepHarden:
		st.Hardened = true
	case e.Step == onboard.StepCommit:
		st.Armed, st.Deadline, st.Committed = false, nil, true
	case e.Step == onboard.StepRollback:
		*st = onboard.State{Connected: st.Connected, RolledBack: true}
	}
	return *st
}

func (f *fakeEngine) ask(ctx context.Context, q onboard.Question) (bool, error) {
	a, err := f.c.Prompter.Confirm(ctx, q)
	if err == nil || errors.Is(err, onboard.ErrDeclined) {
		f.mu.Lock()
		if f.answers == nil {
			f.answers = map[string]bool{}
		}
		f.answers[string(q.ID)] = a
		f.mu.Unlock()
	}
	return a, err
}

// errNoAnswer is the fake's: the question's deadline passed unanswered.
var errNoAnswer = errors.New("no answer before the deadline")

// askBy is ask with the engine's policy for a deadline: on the fake clock,
// the Prompter's ctx ends then and askBy returns errNoAnswer.
func (f *fakeEngine) askBy(ctx context.Context, q onboard.Question, deadline time.Time) (bool, error) {
	q.Deadline = &deadline
	qctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		for f.now().Before(deadline) {
			select {
			case <-qctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		cancel(errNoAnswer)
	}()
	a, err := f.ask(qctx, q)
	if err != nil && errors.Is(context.Cause(qctx), errNoAnswer) && ctx.Err() == nil {
		return false, errNoAnswer
	}
	return a, err
}

var errNotTrusted = errors.New("onboard: connect: the certificate fingerprint was not trusted")

func (f *fakeEngine) Connect(ctx context.Context) error {
	f.record("connect " + f.c.Router + " " + f.c.User)
	if f.connect != nil {
		return f.connect(ctx)
	}
	f.emit(onboard.StepConnect, onboard.KindStarted, "Connecting to "+f.c.Router+"…", nil)
	q := onboard.Question{
		ID:      "trust-fingerprint",
		Title:   "First contact with " + f.c.Router + ": trust this certificate?",
		Detail:  "SHA-256 fingerprint\n3f:9a:61:0c:2b:d4:7e:88:11:5a:c0:de:42:97:6b:13:\na8:0e:f1:22:9c:35:7d:64:b0:19:e3:5f:8a:c7:20:4d\nCompare it with /certificate print detail on the router's console.",
		Default: true,
	}
	if f.danger {
		q.Title = "The certificate of " + f.c.Router + " CHANGED since last time"
		q.Detail = "Pinned:  3f:9a:61:0c:…:20:4d\nNow:     c4:02:7b:e9:…:91:aa\nSomeone may be in the middle, or the router was reset. wgboot stops here."
		q.Default, q.Danger = false, true
	}
	ok, err := f.ask(ctx, q)
	if err != nil {
		return err
	}
	if !ok {
		f.emit(onboard.StepConnect, onboard.KindFailed, "certificate not trusted", func(e *onboard.Event) {
			e.Err = &onboard.FailureInfo{
				What:        "The router's certificate was not trusted, so wgboot did not log in.",
				Try:         "Check the fingerprint on the router's console (/certificate print detail), then connect again.",
				Diagnostics: "connect " + f.c.Router + ": fingerprint c4:02:7b:e9 not trusted (pinned 3f:9a:61:0c)",
			}
		})
		return errNotTrusted
	}
	f.emit(onboard.StepConnect, onboard.KindDone, "Logged in as "+f.c.User, nil)
	return nil
}

var fakeFacts = []onboard.Fact{
	{Name: "RouterOS", Value: "7.20.6 (stable)"},
	{Name: "Model", Value: "RB5009UG+S+ \"MikroTik\""},
	{Name: "WAN", Value: "ether1 203.0.113.50/24 (default route)"},
	{Name: "Public endpoint", Value: "203.0.113.50", Warning: ""},
	{Name: "WireGuard", Value: "none yet"},
	{Name: "API exposure now", Value: "api-ssl 8729: LAN only (defconf drops WAN)"},
}

func (f *fakeEngine) Inspect(ctx context.Context) ([]onboard.Fact, error) {
	f.record("inspect")
	if f.inspect != nil {
		return f.inspect(ctx)
	}
	f.emit(onboard.StepInspect, onboard.KindStarted, "Reading the router", nil)
	for _, fact := range fakeFacts {
		f.emit(onboard.StepInspect, onboard.KindProgress, "", func(e *onboard.Event) { e.Facts = []onboard.Fact{fact} })
	}
	f.emit(onboard.StepInspect, onboard.KindDone, "", nil)
	return fakeFacts, nil
}

func fakePlan(s onboard.Settings) *onboard.Plan {
	if s.Subnet == "" {
		s = onboard.Settings{Subnet: "10.77.0.0/24", ListenPort: 13231, Endpoint: "203.0.113.50", Local: "netstack",
			LANKeepsAPI: true, LogRefused: false, ConfirmTimeout: 5 * time.Minute}
	}
	return &onboard.Plan{
		Settings: s,
		Changes: []onboard.Change{
			{Step: onboard.StepApply, Description: "WireGuard interface for wgboot", Command: `/interface wireguard add listen-port=13231 name=wgboot comment="wgboot: interface"`},
			{Step: onboard.StepApply, Description: "router tunnel address", Command: `/ip address add address=10.77.0.1/24 interface=wgboot comment="wgboot: address"`},
			{Step: onboard.StepApply, Description: "technician peer", Command: `/interface wireguard peers add allowed-address=10.77.0.2/32 interface=wgboot public-key="q8Zb5v0vC3pDk6f9Qq1WmJb5i2yqk1XyG3T0Wl9uV2s=" comment="wgboot: peer"`},
			{Step: onboard.StepApply, Description: "allow WireGuard from the WAN", Command: `/ip firewall filter add action=accept chain=input dst-port=13231 protocol=udp place-before=*5 comment="wgboot: wireguard"`},
			{Step: onboard.StepApply, Description: "VPN address list", Command: `/ip firewall address-list add address=10.77.0.0/24 list=wgboot-vpn comment="wgboot: vpn"`},
			{Step: onboard.StepApply, Description: "API from the VPN", Command: `/ip firewall filter add action=accept chain=input dst-port=8728,8729 protocol=tcp src-address-list=wgboot-vpn place-before=*5 comment="wgboot: api via vpn"`},
			{Step: onboard.StepHarden, Description: "drop the API on the WAN", Command: `/ip firewall filter add action=drop chain=input dst-port=8728,8729 in-interface-list=WAN protocol=tcp place-before=*5 comment="wgboot: harden"`},
		},
		Verdicts: []onboard.VerdictRow{
			{Probe: "WAN → API 8729", Before: "drop", After: "drop"},
			{Probe: "WAN → WireGuard 13231", Before: "drop", After: "accept"},
			{Probe: "VPN → API 8729", Before: "-", After: "accept"},
			{Probe: "LAN → API 8729", Before: "accept", After: "accept"},
		},
	}
}

func (f *fakeEngine) Plan(ctx context.Context, s onboard.Settings) (*onboard.Plan, error) {
	f.mu.Lock()
	f.settings = append(f.settings, s)
	f.mu.Unlock()
	f.record("plan")
	if f.plan != nil {
		return f.plan(ctx, s)
	}
	p := fakePlan(s)
	f.emit(onboard.StepPlan, onboard.KindDone, "plan checked", func(e *onboard.Event) { e.Plan = p })
	return p, nil
}

// fakeSummary is what the scripted Apply returns.
var fakeSummary = &onboard.Summary{
	Router: "192.168.88.1:8729", Identity: "MikroTik", RouterTunnel: "10.77.0.1", LocalTunnel: "10.77.0.2/24",
	Endpoint: "203.0.113.50:13231", ConfigPath: "/home/tech/.local/state/wgboot/MikroTik.conf",
	QR:        "█▀▀▀▀▀█ ▄▀▄ █▀▀▀▀▀█\n█ ███ █ ▀█▀ █ ███ █\n█ ▀▀▀ █ ▄ ▄ █ ▀▀▀ █\n▀▀▀▀▀▀▀ ▀ ▀ ▀▀▀▀▀▀▀\n",
	ProvenVia: "wan", Reconnect: "sudo wg-quick up /home/tech/.local/state/wgboot/MikroTik.conf",
	Undo: "wgboot rollback --router 192.168.88.1", Changes: 7,
}

func (f *fakeEngine) Apply(ctx context.Context, p *onboard.Plan) (*onboard.Summary, error) {
	f.record("apply")
	if f.apply != nil {
		return f.apply(ctx, p)
	}
	deadline := f.now().Add(p.Settings.ConfirmTimeout)
	f.emit(onboard.StepArm, onboard.KindStarted, "backup and rollback scheduler", nil)
	f.emit(onboard.StepArm, onboard.KindDone, "rollback armed", func(e *onboard.Event) { e.Deadline = &deadline })
	f.emit(onboard.StepApply, onboard.KindStarted, "", nil)
	f.emit(onboard.StepApply, onboard.KindDone, "6 changes applied", nil)
	f.emit(onboard.StepTunnel, onboard.KindStarted, "local peer up (netstack)", nil)
	f.emit(onboard.StepTunnel, onboard.KindDone, "handshake", func(e *onboard.Event) {
		e.Handshake = &onboard.Handshake{Done: true, Age: time.Second, Rx: 1480, Tx: 920, Endpoint: "203.0.113.50:13231"}
	})
	f.emit(onboard.StepVerify, onboard.KindStarted, "", nil)
	f.emit(onboard.StepVerify, onboard.KindDone, "/system/identity via 10.77.0.1:8729 → MikroTik", nil)
	if f.holdBeforeHarden != nil {
		select {
		case <-f.holdBeforeHarden:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.atGate != nil {
		close(f.atGate)
	}
	full := f.now().Add(p.Settings.ConfirmTimeout)
	f.emit(onboard.StepHarden, onboard.KindInfo, "safety net extended", func(e *onboard.Event) { e.Deadline = &full })
	ok, err := f.askBy(ctx, onboard.Question{ID: "harden", Title: "The API answers through the tunnel. Close it on the WAN now?",
		Detail: "This adds one drop rule for TCP 8728,8729 on the WAN list. The LAN keeps API access.", Default: true}, full)
	if errors.Is(err, errNoAnswer) {
		// What the real engine does when the Gate's deadline passes: stop
		// waiting, undo, say the window ran out.
		err = fmt.Errorf("onboard: no answer at the Gate before the confirm window (%s) ran out: onboard: the router has already rolled the changes back", p.Settings.ConfirmTimeout)
		f.emit(onboard.StepRollback, onboard.KindDone, "undid 6 changes", nil)
		f.emit(onboard.StepHarden, onboard.KindFailed, err.Error(), func(e *onboard.Event) {
			e.Err = &onboard.FailureInfo{What: "harden failed: " + err.Error(),
				Undone: []string{"firewall rule wgboot: api-allow", "WireGuard peer", "WireGuard interface wgboot", "rollback scheduler"},
				Kind:   onboard.ErrorWindowRanOut, Try: "run wgboot again and answer the Gate in time, or give a longer the confirm timeout setting",
				Hint: &onboard.Hint{Parts: []string{"run wgboot again and answer the Gate in time, or give a longer ", ""}, Settings: []onboard.Setting{onboard.SettingConfirmTimeout}}}
		})
		return nil, fmt.Errorf("harden: %w", err)
	}
	if err == nil && !ok {
		err = onboard.ErrDeclined // the engine's policy: no at the Gate rolls back
	}
	if errors.Is(err, onboard.ErrDeclined) {
		// What the real engine does: fail the harden step, undo everything.
		f.emit(onboard.StepHarden, onboard.KindFailed, err.Error(), func(e *onboard.Event) {
			e.Err = &onboard.FailureInfo{What: "harden failed: " + err.Error(),
				Undone: []string{"firewall rule wgboot: api-allow", "WireGuard peer", "WireGuard interface wgboot", "rollback scheduler"}}
		})
		f.emit(onboard.StepRollback, onboard.KindDone, "undid 6 changes", nil)
		return nil, fmt.Errorf("harden: %w", err)
	}
	if err != nil {
		return nil, err
	}
	f.emit(onboard.StepHarden, onboard.KindDone, "API dropped on the WAN", nil)
	f.emit(onboard.StepReverify, onboard.KindDone, "tunnel API ok, WAN probe refused", nil)
	sum := fakeSummary
	if f.summary != nil {
		sum = f.summary
	}
	f.emit(onboard.StepCommit, onboard.KindDone, "safety net disarmed, config written", func(e *onboard.Event) { e.Summary = sum })
	return sum, nil
}

func (f *fakeEngine) Rollback(ctx context.Context) error {
	f.record("rollback")
	if f.rollback != nil {
		return f.rollback(ctx)
	}
	f.emit(onboard.StepRollback, onboard.KindDone, "rolled back", nil)
	return nil
}

func (f *fakeEngine) Close() error {
	f.record("close")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

var _ Engine = (*fakeEngine)(nil)

// fakeFactory returns a Factory making f (configured by the test) and a
// channel yielding it once made.
func fakeFactory(f *fakeEngine) (Factory, <-chan *fakeEngine) {
	made := make(chan *fakeEngine, 1)
	return func(c Connection) (Engine, error) {
		f.c = c
		if f.now == nil {
			f.now = c.Now
		}
		made <- f
		return f, nil
	}, made
}
