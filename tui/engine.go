package tui

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/wgboot/wgboot/onboard"
)

// Engine is what the wizard needs from an onboarding engine. *onboard.Engine
// satisfies it; tests use a fake. Calls come one at a time, each from its own
// tea.Cmd goroutine, except that Rollback and Close may follow an Apply whose
// context was cancelled.
type Engine interface {
	Connect(ctx context.Context) error
	Inspect(ctx context.Context) ([]onboard.Fact, error)
	Plan(ctx context.Context, s onboard.Settings) (*onboard.Plan, error)
	Apply(ctx context.Context, p *onboard.Plan) (*onboard.Summary, error)
	Rollback(ctx context.Context) error
	Close() error
}

// Connection is what the wizard knows when it asks for an engine: the
// Connect screen's answers and the wizard's own Prompter and Sink.
type Connection struct {
	Router   string // host:port
	Plain    bool   // api 8728 instead of api-ssl 8729
	User     string
	Password string // never logged
	StateDir string
	Prompter onboard.Prompter
	Sink     onboard.Sink
	Now      func() time.Time
	// ProveRemote, when set, is handed to the engine: its Show puts the
	// phone's QR code on the Apply screen.
	ProveRemote *onboard.ProveRemote
}

// phoneMsg is the QR code of the phone's config for the proof from
// outside, rendered in the engine's goroutine (the config itself, with
// its private key, never enters the model).
type phoneMsg struct {
	name, qr string
	err      error
}

// phone is ProveRemote.Show: it queues the phone's QR code in order with
// the engine's events.
func (e engineBridge) phone(np *onboard.NewPeer) {
	if e.b.gen.Load() != e.gen {
		return
	}
	msg := phoneMsg{name: np.Name}
	text, err := np.Config.Marshal()
	if err == nil {
		var q *qrcode.QRCode
		if q, err = qrcode.New(string(text), qrcode.Low); err == nil {
			msg.qr = q.ToSmallString(false)
		}
	}
	msg.err = err
	select {
	case e.b.ch <- msg:
	case <-e.b.done:
	}
}

// Factory makes an Engine for a connection. The real one (cmd/wgboot) copies
// the fields into onboard.Options, sets TOFU (the Trust screen asks) and
// adds what the wizard does not know (Dial, NewLocal, ...).
type Factory func(Connection) (Engine, error)

// errClosed is returned to an engine still waiting on a question when the
// wizard has gone away.
var errClosed = errors.New("tui: the wizard was closed before the question was answered")

// eventMsg carries one engine event into Update.
type eventMsg onboard.Event

// questionMsg carries one engine question into Update; the answer goes back
// on reply (buffered, so Update never blocks on it).
type questionMsg struct {
	q     onboard.Question
	reply chan bool
}

// bridge joins the engine's goroutines to the bubbletea loop: the Sink and
// the Prompter write to one channel (so events and questions keep their
// order) and wait() is the Cmd that reads it, re-armed after each message.
type bridge struct {
	ch        chan tea.Msg
	done      chan struct{}
	closeOnce sync.Once

	// gen is the generation of the engine in use; an abandoned engine's
	// events and questions are dropped (see forEngine).
	gen atomic.Int64

	// armed is the engine's own word on whether changes are armed on the
	// router, kept as events pass (also when nobody renders them any more).
	armed atomic.Bool
}

func newBridge() *bridge {
	return &bridge{ch: make(chan tea.Msg, 64), done: make(chan struct{})}
}

// sink is the onboard.Sink. It blocks only while the channel is full, and
// never after the wizard closed.
func (b *bridge) sink(e onboard.Event) {
	b.armed.Store(e.State.Armed)
	select {
	case b.ch <- eventMsg(wizardEvent(safeEvent(e))):
	case <-b.done:
	}
}

// Confirm implements onboard.Prompter.
func (b *bridge) Confirm(ctx context.Context, q onboard.Question) (bool, error) {
	reply := make(chan bool, 1)
	select {
	case b.ch <- questionMsg{q: safeQuestion(q), reply: reply}:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-b.done:
		return false, errClosed
	}
	select {
	case a := <-reply:
		// The Gate's "no" leaves the router as it was: the engine rolls
		// everything back itself (see onboard.ErrDeclined).
		return a, nil
	case <-ctx.Done():
		return false, ctx.Err()
	case <-b.done:
		return false, errClosed
	}
}

// bridged wraps an engine call's result on its way through the bridge;
// gen tells results of an abandoned engine (esc back to Connect) apart.
type bridged struct {
	msg tea.Msg
	gen int
}

// post queues an engine call's result behind the events it emitted.
func (b *bridge) post(msg tea.Msg, gen int) {
	select {
	case b.ch <- bridged{msg: safeResult(msg), gen: gen}:
	case <-b.done:
	}
}

// wait returns the Cmd that delivers the next event or question. It returns
// nil (no message) once the bridge is closed, so no goroutine outlives it.
func (b *bridge) wait() tea.Cmd {
	return func() tea.Msg {
		select {
		case m := <-b.ch:
			return m
		case <-b.done:
			return nil
		}
	}
}

func (b *bridge) close() { b.closeOnce.Do(func() { close(b.done) }) }

var _ onboard.Prompter = (*bridge)(nil)

// engineBridge is the Sink and Prompter handed to one engine: once the
// wizard abandons that engine (esc back to Connect), what it still emits is
// dropped and its questions are refused.
type engineBridge struct {
	b   *bridge
	gen int64
}

func (b *bridge) forEngine(gen int) *engineBridge {
	b.gen.Store(int64(gen))
	return &engineBridge{b: b, gen: int64(gen)}
}

func (e *engineBridge) current() bool { return e.b.gen.Load() == e.gen }

func (e *engineBridge) sink(ev onboard.Event) {
	if e.current() {
		e.b.sink(ev)
	}
}

// Confirm implements onboard.Prompter.
func (e *engineBridge) Confirm(ctx context.Context, q onboard.Question) (bool, error) {
	if !e.current() {
		return false, errClosed
	}
	return e.b.Confirm(ctx, q)
}

var _ onboard.Prompter = (*engineBridge)(nil)
