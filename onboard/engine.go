// The Engine: its options, construction, event emission and questions. The run's phases live
// by concern in connect.go, inspect.go, planner.go, apply.go, safetynet.go, pipeline.go,
// tunnel.go and rollback.go.

package onboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Named deadlines. Each bounds one kind of wait; ctx may cut them shorter.
const (
	callTimeout      = 10 * time.Second // each API call
	handshakeTimeout = 20 * time.Second // first WireGuard handshake
	wanProbeTimeout  = 3 * time.Second  // "the WAN gets no answer" probe
)

// Options configure an Engine.
type Options struct {
	Router      string // host[:port]
	Plain       bool   // api 8728 instead of api-ssl 8729
	User        string
	Password    string // from WGBOOT_PASSWORD or a prompt, never a flag
	Fingerprint string // pinned api-ssl certificate (hex SHA-256)
	TOFU        bool   // trust the certificate on first use (recorded in StateDir)
	StateDir    string
	Settings    Settings
	Dial        routeros.DialFunc                      // nil: net.Dialer (tests: loopback)
	NewLocal    func(kind string) (vpn.Backend, error) // nil: vpn.New
	Prompter    Prompter                               // nil: every question gets its default
	Sink        Sink                                   // nil: events are dropped
	Now         func() time.Time                       // nil: time.Now
	Logf        func(format string, args ...any)       // nil: discard

	// WANProbe is the host:port of the API as seen from the WAN, dialled
	// after hardening to confirm it no longer answers. Empty: Router, when
	// the router address is one of its WAN addresses; otherwise no probe.
	WANProbe string
	// RunID names this run in every tag; empty: random.
	RunID string
	// NewKey makes the technician's WireGuard key; nil: a random key.
	NewKey func() (wgtypes.Key, error)
	// Timeout bounds each API call; zero means 10s.
	Timeout time.Duration
	// LocalRoutes lists the networks this computer already routes, which
	// the VPN subnet must avoid; nil: vpn.LocalRoutes (the routing table).
	LocalRoutes func() ([]netip.Prefix, error)
	// ProveRemote, when set, proves the tunnel from outside with a phone
	// before the Gate (see ProveRemote).
	ProveRemote *ProveRemote
	// Via is a wg-quick file: Connect brings its tunnel up in process and
	// reaches Router (the API inside the tunnel, see ViaRouter) through it.
	Via string
}

// session is the part of routeros.Client the engine uses; tests may wrap it.
type session interface {
	Run(ctx context.Context, words ...string) (*routeros.Reply, error)
	Batch(ctx context.Context, cmds ...[]string) ([]*routeros.Reply, []error)
	Close() error
}

var _ session = (*routeros.Client)(nil)

// Engine runs one onboarding against one router. Its methods are not safe
// for concurrent use: a front end drives it from one goroutine.
type Engine struct {
	o    Options
	addr string // host:port of the API
	host string
	logf func(string, ...any)
	now  func() time.Time

	fingerprint string
	pinFile     string // the known hosts file fingerprint came from ("" for --fingerprint)
	offered     bool   // the plain-API certificate creation was offered once
	cl          session
	orig        session // the session on the original path, once cl goes through the tunnel
	viaTunnel   bool    // cl goes through the tunnel
	router      *Router
	plan        *planned
	public      *Plan
	key         wgtypes.Key // technician's private key: never logged
	run         string
	local       vpn.Backend
	verifyEP    netip.AddrPort
	routerPub   wgtypes.Key
	provenFrom  string // where a phone proved the tunnel from outside
	// The router's clock as last read (clockRouter) and the local time of
	// that reading: the scheduler's times are estimated from them.
	clockRouter, clockLocal time.Time
	clockOld                bool // the clock printed mmm/dd/yyyy (before 7.10)
	// rollbackEnded: a final rollback event (done or failed) went out
	// since Rollback began; Rollback sends one itself when not.
	rollbackEnded bool
	// st is the run's state, updated as the run goes and carried by
	// every event (emit).
	st State

	mu     sync.Mutex // guards following
	closed bool
}

// New checks o and returns an engine. It does no I/O.
func New(o Options) (*Engine, error) {
	if o.Router == "" {
		return nil, errors.New("onboard: no router given: use --router HOST[:PORT]")
	}
	if o.User == "" {
		o.User = "admin"
	}
	e := &Engine{o: o, logf: o.Logf, now: o.Now}
	if e.logf == nil {
		e.logf = func(string, ...any) {}
	}
	if e.now == nil {
		e.now = time.Now
	}
	host, addr, err := RouterAddr(o.Router, o.Plain)
	if err != nil {
		return nil, fmt.Errorf("onboard: router %q: %w", clip(o.Router), err)
	}
	e.host, e.addr = host, addr
	if o.Settings.ConfirmTimeout == 0 {
		e.o.Settings.ConfirmTimeout = 5 * time.Minute
	}
	if o.Settings.Local == "" {
		e.o.Settings.Local = "auto"
	}
	e.run = o.RunID
	if e.run == "" {
		// 128 bits: no two runs anywhere share an id, so a journal or a
		// tag found by run id is this run's.
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("onboard: run id: %w", err)
		}
		e.run = hex.EncodeToString(b[:])
	}
	return e, nil
}

// armedUntil notes that the safety net is armed and fires at deadline.
func (e *Engine) armedUntil(deadline time.Time) {
	e.st.Armed, e.st.Deadline = true, &deadline
}

// RunID is the id this run tags its objects with.
func (e *Engine) RunID() string { return e.run }

// Addr is the API address (host:port) the engine talks to.
func (e *Engine) Addr() string { return e.addr }

func (e *Engine) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	if ev.Step == StepRollback && (ev.Kind == KindDone || ev.Kind == KindFailed) {
		e.rollbackEnded = true
	}
	if ev.Step == StepRollback && ev.Kind == KindDone {
		// Every rollback that went through says so in its done event:
		// the router is as it was before the run.
		e.st = State{Connected: e.st.Connected, RolledBack: true}
	}
	ev.State = e.st
	if d := e.st.Deadline; d != nil {
		t := *d // each event its own copy: a sink may keep it
		ev.State.Deadline = &t
	}
	if e.o.Sink != nil {
		e.o.Sink(ev)
	}
}

func (e *Engine) confirm(ctx context.Context, q Question) (bool, error) {
	if e.o.Prompter == nil {
		return q.Default, nil
	}
	return e.o.Prompter.Confirm(ctx, q)
}

// errNoAnswer ends a question whose deadline passed unanswered.
var errNoAnswer = errors.New("onboard: no answer before the deadline")

// confirmBy asks q and waits for its answer until deadline on the engine's
// clock (Options.Now): then the Prompter's ctx ends and confirmBy returns
// an error wrapping errNoAnswer. An answer that came is kept.
func (e *Engine) confirmBy(ctx context.Context, q Question, deadline time.Time) (bool, error) {
	q.Deadline = &deadline
	qctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		// The engine's clock, not a timer: it may run apart from the
		// system's (tests), and the deadline is on it.
		for {
			left := deadline.Sub(e.now())
			if left <= 0 {
				cancel(errNoAnswer)
				return
			}
			select {
			case <-qctx.Done():
				return
			case <-time.After(min(left, 250*time.Millisecond)):
			}
		}
	}()
	yes, err := e.confirm(qctx, q)
	if err != nil && errors.Is(context.Cause(qctx), errNoAnswer) && ctx.Err() == nil {
		// The Prompter's error is only the ctx it was given ending.
		return false, fmt.Errorf("%w (%s)", errNoAnswer, deadline.Format("15:04:05"))
	}
	return yes, err
}

func (e *Engine) timeout() time.Duration {
	if e.o.Timeout > 0 {
		return e.o.Timeout
	}
	return callTimeout
}

// Close ends the API session and the local peer.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	if e.cl != nil {
		errs = append(errs, e.cl.Close())
	}
	if e.orig != nil {
		errs = append(errs, e.orig.Close())
	}
	if e.local != nil {
		errs = append(errs, e.local.Close())
	}
	return errors.Join(errs...)
}
