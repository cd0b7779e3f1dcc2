package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/wgboot/wgboot/onboard"
)

// Options configure the wizard.
type Options struct {
	// Router, Port, User, Plain and Password prefill the Connect screen.
	// Port 0 means the default of the chosen API mode. The password is never
	// shown; an empty one is a valid RouterOS password (the default admin).
	Router   string
	Port     int
	User     string
	Password string
	Plain    bool
	// PasswordSet says Password was given (WGBOOT_PASSWORD, even set to
	// ""): the accessible wizard then does not ask for one.
	PasswordSet bool

	// Settings are the first plan's settings (zero fields: the engine
	// chooses). The Plan screen edits what the engine returns.
	Settings onboard.Settings

	// StateDir is where the engine keeps its state and where the wizard
	// remembers recent routers (recent.json). Empty: nothing is remembered.
	StateDir string

	// NewEngine makes the engine once the Connect screen is submitted.
	NewEngine Factory

	// Accessible selects plain ASCII icons and no animation. RunAccessible
	// is the line-by-line front end; the full-screen model only uses this for
	// its rendering.
	Accessible bool

	// Banner is an optional line shown on the Connect screen (the demo
	// command says what it started).
	Banner string

	// ProveRemote proves the tunnel from outside before the Gate: the
	// Apply screen shows a QR code for a phone on mobile data and the
	// engine waits for its handshake (see onboard.ProveRemote). KeepPhone
	// keeps the phone's peer afterwards.
	ProveRemote, KeepPhone bool

	// Now is the clock for the auto-rollback countdown. Nil: time.Now.
	Now func() time.Time
	// Logf receives debug lines. Nil: discarded. It never gets secrets.
	Logf func(format string, args ...any)
}

// Timeouts for the calls the wizard makes on its own behalf.
const (
	rollbackTimeout = 60 * time.Second // undo on quit: several API calls
	opWaitTimeout   = 30 * time.Second // an engine call to notice cancellation
)

// Messages produced by the engine Cmds.
type (
	engineMsg struct {
		eng Engine
		err error
	}
	connectedMsg struct{ err error }
	inspectedMsg struct {
		facts []onboard.Fact
		err   error
	}
	plannedMsg struct {
		plan *onboard.Plan
		err  error
	}
	appliedMsg struct {
		sum *onboard.Summary
		err error
	}
	rolledBackMsg struct{ err error }
	tickMsg       struct{}
)

// Model is the wizard's root bubbletea model. Build it with New; run it with
// Run or tea.NewProgram. Its methods have pointer receivers: the model owns
// the engine and the goroutines of engine calls in flight.
type Model struct {
	o    Options
	st   Styles
	keys KeyMap
	br   *bridge
	now  func() time.Time
	logf func(string, ...any)

	eng    Engine
	ops    *sync.WaitGroup // engine calls in flight; shutdown waits for them
	opWait time.Duration   // how long Shutdown waits for them (opWaitTimeout)
	// cancelOp cancels the engine call in flight; it is nil when no call
	// is in flight (its result was delivered, or its engine abandoned).
	cancelOp context.CancelFunc
	gen      int // bumped when an engine is abandoned; older results are ignored

	w, h     int
	scr      screenID
	back     screenID // where the Trust screen returns to
	spin     spinner.Model
	help     help.Model
	showHelp bool   // the ? help covers the screen (an overlay: see state.go)
	phase    phase  // running, asking to quit, quitting (state.go)
	status   string // a busy line shown with the spinner

	safety   safetyNet // armed or not, fired or not (state.go)
	deadline time.Time // when the armed auto-rollback fires
	hardened bool      // the API is closed on the WAN (the engine's Event.State)
	ticking  bool      // a countdown tick is scheduled (see state.go)
	noted    []string

	connect  *connectScreen
	question *questionScreen
	inspect  *inspectScreen
	plan     *planScreen
	apply    *applyScreen
	gate     *questionScreen
	done     *doneScreen
	failure  *failureScreen

	summary *onboard.Summary
	err     error
}

// New returns the wizard model.
func New(o Options) *Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	st := NewStyles(o.Accessible)
	m := &Model{
		o: o, st: st, keys: NewKeyMap(), br: newBridge(), now: o.Now, logf: logf,
		ops: &sync.WaitGroup{}, opWait: opWaitTimeout, w: 80, h: 24,
		spin: spinner.New(spinner.WithSpinner(spinner.Line)),
		help: help.New(),
	}
	m.connect = newConnectScreen(m, loadRecentQuiet(o.StateDir, logf))
	m.inspect = &inspectScreen{m: m, w: 80}
	m.plan = newPlanScreen(m)
	m.apply = &applyScreen{m: m, state: map[onboard.Step]stepState{}}
	m.done = newDoneScreen(m)
	m.failure = newFailureScreen(m)
	return m
}

// Summary is the result of a finished onboarding, nil until Done.
func (m *Model) Summary() *onboard.Summary { return m.summary }

// Err is why the wizard ended without reaching Done (ErrAborted when the
// technician quit), nil after Done.
func (m *Model) Err() error { return m.err }

// RolledBack reports whether the wizard undid armed changes on quit.
func (m *Model) RolledBack() bool { return m.phase == phaseRolledBack }

// ErrAborted is returned when the technician quits before Done.
var ErrAborted = errors.New("tui: quit before the onboarding finished")

// Init starts the wait on the engine bridge and the first screen.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.br.wait(), m.connect.init(), m.spin.Tick)
}

// op runs one engine call in a Cmd with its own cancellable context. Calls
// are sequential; shutdown cancels the one in flight and waits for it. The
// result goes through the bridge behind the call's own events, so Update
// sees every event of a call before its result.
func (m *Model) op(f func(ctx context.Context) tea.Msg) tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancelOp = cancel
	m.ops.Add(1)
	br, gen := m.br, m.gen
	return func() tea.Msg {
		defer m.ops.Done()
		defer cancel()
		br.post(f(ctx), gen)
		return nil
	}
}

// Update is the root of the state machine: one case per message type,
// each handed to its handler or to the screen on show.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.help.Width = msg.Width
		return m, m.resize()
	case spinner.TickMsg:
		if m.o.Accessible {
			return m, nil // no animation
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case tickMsg:
		return m, m.onTick()
	case eventMsg:
		return m, tea.Batch(m.onEvent(onboard.Event(msg)), m.br.wait())
	case questionMsg:
		return m, tea.Batch(m.onQuestion(msg), m.br.wait())
	case bridged:
		// An engine call's result, in order behind its events.
		if msg.gen != m.gen {
			return m, m.br.wait() // from an engine abandoned by esc
		}
		m.cancelOp = nil
		if _, ok := msg.msg.(rolledBackMsg); m.phase.quitting() && !ok {
			// The call stopped after quit cancelled it; its events (an
			// undo the engine did itself) are in: finish quitting.
			return m, tea.Batch(m.finishQuit(), m.br.wait())
		}
		_, cmd := m.Update(msg.msg)
		return m, tea.Batch(cmd, m.br.wait())
	case engineMsg:
		return m, m.onEngine(msg)
	case connectedMsg:
		return m, m.onConnected(msg)
	case inspectedMsg:
		return m, m.onInspected(msg)
	case plannedMsg:
		return m, m.onPlanned(msg)
	case appliedMsg:
		return m, m.onApplied(msg)
	case rolledBackMsg:
		return m, m.onRolledBack(msg)
	case qrMsg:
		m.done.setQR(msg)
		return m, nil
	case peerAddedMsg:
		m.done.setPeer(msg)
		return m, nil
	case phoneMsg:
		m.apply.phone = &msg
		return m, m.br.wait()
	case submitConnectMsg:
		return m, m.startConnect()
	case tea.KeyMsg:
		return m, m.onKey(msg)
	}
	// Other messages (huh's internal ones, cursor blinks) are the
	// screen's: those with a form open use them.
	return m, m.current().update(msg)
}

// onEngine handles the engine the factory made: connect with it.
func (m *Model) onEngine(msg engineMsg) tea.Cmd {
	if m.phase.quitting() {
		if msg.eng != nil {
			eng := msg.eng
			return func() tea.Msg { _ = eng.Close(); return nil }
		}
		return nil
	}
	if msg.err != nil {
		return m.fail(fmt.Errorf("tui: start the engine: %w", msg.err), true)
	}
	m.eng = msg.eng
	eng := m.eng
	return m.op(func(ctx context.Context) tea.Msg { return connectedMsg{err: eng.Connect(ctx)} })
}

// onConnected handles Connect's result: remember the router and inspect it.
func (m *Model) onConnected(msg connectedMsg) tea.Cmd {
	if m.phase.quitting() {
		return nil
	}
	if msg.err != nil {
		return m.fail(msg.err, true)
	}
	m.status = ""
	m.scr = scrInspect
	eng := m.eng
	return tea.Batch(
		saveRecentCmd(m.o.StateDir, m.connect.recentEntry(), m.logf),
		m.op(func(ctx context.Context) tea.Msg {
			f, err := eng.Inspect(ctx)
			return inspectedMsg{facts: f, err: err}
		}))
}

// onInspected handles Inspect's result: the facts complete the checklist.
func (m *Model) onInspected(msg inspectedMsg) tea.Cmd {
	if m.phase.quitting() {
		return nil
	}
	if msg.err != nil {
		return m.fail(msg.err, true)
	}
	m.inspect.finish(wizardFacts(msg.facts))
	return nil
}

// onPlanned handles Plan's result: the plan, or the editor again when
// the settings were refused.
func (m *Model) onPlanned(msg plannedMsg) tea.Cmd {
	if m.phase.quitting() {
		return nil
	}
	if msg.err != nil && !m.safety.armed() && m.plan.refusal(msg.err) {
		// Refused settings: back in the editor with the message and
		// everything typed; nothing was changed on the router.
		m.scr = scrPlan
		return m.plan.reopen(msg.err)
	}
	if msg.err != nil {
		return m.fail(msg.err, !m.safety.armed())
	}
	m.plan.setPlan(msg.plan)
	return nil
}

// onRolledBack handles the result of the rollback on quit: say how it
// went, and end.
func (m *Model) onRolledBack(msg rolledBackMsg) tea.Cmd {
	if msg.err != nil {
		m.noted = append(m.noted, "Rollback failed: "+msg.err.Error()+". The router's own safety net still undoes the changes when its timer runs out.")
	} else if m.rolledBack() {
		m.noted = append(m.noted, "The armed changes were rolled back: the router is as it was.")
	}
	m.status = ""
	return tea.Quit
}

func (m *Model) resize() tea.Cmd {
	bw, bh := m.bodySize()
	m.inspect.w = bw
	return tea.Batch(m.connect.setSize(bw, bh), m.plan.setSize(bw, bh), m.done.setSize(bw, bh), m.failure.setSize(bw, bh))
}

// bodySize is the room between the header (2 lines) and the footer (1).
func (m *Model) bodySize() (int, int) {
	return max(m.w, 20), max(m.h-3, 6)
}

// helpKey reports whether ? opens the help: everywhere but in the
// password field, where ? can be part of the password (no other field
// of the wizard takes a ?).
func (m *Model) helpKey() bool {
	return m.scr != scrConnect || !m.connect.onPassword()
}

// onKey handles a key press: quit and help here, the rest on the screen
// on show.
func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	if m.phase.quitting() {
		if key.Matches(k, m.keys.Interrupt) {
			// Impatient: leave now; Shutdown still rolls back what is armed.
			return tea.Quit
		}
		return nil
	}
	if m.phase == phaseAskQuit {
		switch {
		case key.Matches(k, m.keys.Yes, m.keys.Interrupt):
			return m.quit()
		case key.Matches(k, m.keys.No, m.keys.Back, m.keys.Enter, m.keys.Quit):
			m.stay()
		}
		return nil
	}
	if m.showHelp {
		if key.Matches(k, m.keys.Help) || key.Matches(k, m.keys.Back) || key.Matches(k, m.keys.Enter) {
			m.showHelp = false
			return nil
		}
		if !key.Matches(k, m.keys.Interrupt, m.keys.Quit) {
			return nil
		}
	}
	if key.Matches(k, m.keys.Interrupt) || (!m.current().typing() && key.Matches(k, m.keys.Quit)) {
		m.askQuit()
		return nil
	}
	if key.Matches(k, m.keys.Help) && m.helpKey() {
		m.showHelp = true
		return nil
	}
	return m.current().update(k)
}

// startConnect makes the engine from the Connect form and connects.
func (m *Model) startConnect() tea.Cmd {
	v := m.connect.values()
	m.status = fmt.Sprintf("Connecting to %s…", v.addr())
	eb := m.br.forEngine(m.gen)
	o := Connection{
		Router:   v.addr(),
		Plain:    v.plain(),
		User:     v.User,
		Password: v.Password,
		StateDir: m.o.StateDir,
		Prompter: eb,
		Sink:     eb.sink,
		Now:      m.o.Now,
	}
	if m.o.ProveRemote {
		o.ProveRemote = &onboard.ProveRemote{Keep: m.o.KeepPhone, Show: eb.phone}
	}
	factory := m.o.NewEngine
	m.logf("tui: connecting to %s as %s", o.Router, o.User)
	return func() tea.Msg {
		if factory == nil {
			return engineMsg{err: errors.New("tui: no engine factory configured")}
		}
		eng, err := factory(o)
		return engineMsg{eng: eng, err: err}
	}
}

// backToConnect closes the engine (nothing was changed yet) and shows the
// Connect form again.
func (m *Model) backToConnect() tea.Cmd {
	if m.safety.armed() {
		return nil
	}
	if m.cancelOp != nil {
		m.cancelOp()
		m.cancelOp = nil
	}
	eng := m.eng
	m.eng = nil
	m.gen++
	m.br.gen.Store(int64(m.gen))
	m.scr = scrConnect
	m.status = ""
	m.inspect.reset()
	m.plan.reset()
	var closeCmd tea.Cmd
	if eng != nil {
		closeCmd = func() tea.Msg { _ = eng.Close(); return nil }
	}
	return tea.Batch(closeCmd, m.connect.restart())
}

func (m *Model) toPlan() tea.Cmd {
	m.scr = scrPlan
	if m.plan.plan != nil || m.plan.loading || m.plan.editing() {
		return nil
	}
	if m.plan.edited {
		// The technician's own settings survive going back to Connect.
		return m.replan(m.plan.want)
	}
	return m.replan(m.o.Settings)
}

func (m *Model) replan(s onboard.Settings) tea.Cmd {
	m.plan.loading = true
	m.plan.refused = false
	m.plan.asked = s
	eng := m.eng
	return m.op(func(ctx context.Context) tea.Msg {
		p, err := eng.Plan(ctx, s)
		return plannedMsg{plan: p, err: err}
	})
}

func (m *Model) startApply() tea.Cmd {
	if pa, ok := m.eng.(PeerAdder); ok && m.plan.plan.Noop {
		// Already onboarded: manage its devices instead.
		m.scr = scrDone
		m.done.adder = pa
		return m.done.setManage()
	}
	if m.plan.plan.Noop {
		// Nothing to change: the router is already onboarded.
		m.noted = append(m.noted, "The router was already onboarded; nothing was changed.")
		return m.quit()
	}
	m.scr = scrApply
	eng, p := m.eng, m.plan.plan
	m.apply.reset()
	return m.op(func(ctx context.Context) tea.Msg {
		s, err := eng.Apply(ctx, p)
		return appliedMsg{sum: s, err: err}
	})
}

func (m *Model) onApplied(msg appliedMsg) tea.Cmd {
	if m.phase.quitting() {
		return nil
	}
	if onboard.KindOf(msg.err) == onboard.ErrorWindowRanOut || m.apply.failure != nil && m.apply.failure.Kind == onboard.ErrorWindowRanOut {
		m.ranOut() // the engine says the safety net ran out
	}
	if errors.Is(msg.err, onboard.ErrDeclined) && !m.safety.fired() && m.apply.undoneOK {
		// Declined at the Gate and the engine's undo went through: a final
		// screen, not a failure (when the undo failed, Failure says what is left).
		m.disarm()
		m.err = msg.err
		m.scr = scrDone
		m.noted = append(m.noted, declinedNote)
		return m.done.setDeclined(m.apply.failure)
	}
	if msg.err != nil {
		if m.apply.undoneOK && !m.safety.fired() {
			// The engine undid what it had changed: esc may start again
			// at Connect, with everything typed kept (a new session, as
			// the router changed since Inspect). An undo that did not
			// finish keeps the technician on Failure, which says what
			// is left.
			m.disarm()
			return m.fail(msg.err, true)
		}
		return m.fail(msg.err, false)
	}
	m.disarm()
	m.summary = msg.sum
	m.err = nil
	m.scr = scrDone
	if pa, ok := m.eng.(PeerAdder); ok {
		m.done.adder = pa // the Done screen offers "add a device"
	}
	return m.done.set(msg.sum, m.hardened)
}

// fail shows the Failure screen. back says whether esc may return to Connect
// (only when nothing was changed on the router).
func (m *Model) fail(err error, back bool) tea.Cmd {
	m.err = err
	m.status = ""
	m.failure.set(err, m.apply.failure, back && !m.safety.armed(), m.safety.fired())
	m.scr = scrFailure
	return nil
}

// onEvent renders one engine event.
func (m *Model) onEvent(e onboard.Event) tea.Cmd {
	m.logf("tui: event %s %s %s", e.Step, e.Kind, e.Message)
	var cmds []tea.Cmd
	// What is armed or hardened is the engine's word, carried by every event.
	wasArmed := m.safety.armed()
	m.hardened = e.State.Hardened
	if e.State.Deadline != nil {
		m.deadline = *e.State.Deadline
	}
	if e.State.Armed {
		m.arm()
	} else {
		m.disarm()
	}
	if m.safety.armed() && !m.ticking {
		m.ticking = true
		cmds = append(cmds, tickCmd())
	}
	switch {
	case e.Step == onboard.StepConnect:
		if e.Message != "" && e.Kind != onboard.KindDone {
			m.status = e.Message
		}
	case e.Step == onboard.StepInspect:
		m.inspect.add(e)
	case e.Step == onboard.StepPlan:
		if e.Kind == onboard.KindFailed {
			m.plan.refused = true // the engine refused the settings (not the network)
		}
		if e.Plan != nil && m.plan.loading && e.Kind != onboard.KindFailed {
			m.plan.setPlan(e.Plan)
		}
	case e.Step == onboard.StepRollback && e.Kind == onboard.KindDone:
		if wasArmed && m.phase.quitting() && m.rolledBack() {
			m.noted = append(m.noted, "The armed changes were rolled back: the router is as it was.")
		}
	}
	m.apply.add(e)
	return tea.Batch(cmds...)
}

// onQuestion turns an engine question into a screen.
func (m *Model) onQuestion(q questionMsg) tea.Cmd {
	switch q.q.ID {
	case onboard.QApplyPlan:
		// The technician already said yes by pressing enter on the Plan.
		q.reply <- true
		return nil
	case onboard.QHarden:
		// The Gate's deadline is the engine's to keep (q.Deadline): the
		// wizard only shows the countdown.
		m.gate = newQuestionScreen(m, q, true)
		m.scr = scrGate
		return nil
	}
	if m.scr != scrTrust {
		m.back = m.scr
	}
	m.question = newQuestionScreen(m, q, false)
	m.scr = scrTrust
	return nil
}

// answered is called by a question screen once the reply is sent.
func (m *Model) answered(gate bool) {
	if gate {
		m.scr = scrApply
		return
	}
	m.scr = m.back
}

func tickCmd() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{} })
}

// onTick advances the countdown. When the safety net runs out, the router
// has rolled itself back: the wizard says so (the engine, which keeps the
// Gate's deadline, stops waiting for an answer and rolls back).
func (m *Model) onTick() tea.Cmd {
	if !m.safety.armed() {
		m.ticking = false
		return nil
	}
	if !m.deadline.IsZero() && !m.now().Before(m.deadline) && !m.safety.fired() {
		m.fire()
		m.apply.note = "The safety net ran out: the router rolled itself back to how it was."
	}
	return tickCmd()
}

// quit ends the wizard. An engine call in flight is cancelled first and
// its result awaited (finishQuit runs then, once its events are in); with
// changes still armed after that, they are rolled back and the final
// screen says so.
func (m *Model) quit() tea.Cmd {
	m.startQuit()
	if m.err == nil && m.summary == nil {
		m.err = ErrAborted
	}
	if m.cancelOp != nil {
		m.cancelOp()
		m.status = "Stopping…"
		if m.safety.armed() {
			m.status = "Rolling back the armed changes…"
		}
		return nil
	}
	return m.finishQuit()
}

func (m *Model) finishQuit() tea.Cmd {
	if !m.safety.armed() || m.eng == nil {
		return tea.Quit
	}
	m.status = "Rolling back the armed changes…"
	eng := m.eng
	return m.op(func(context.Context) tea.Msg {
		// Its own deadline: the quit must not hang on a dead router.
		ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
		defer cancel()
		return rolledBackMsg{err: eng.Rollback(ctx)}
	})
}

// waitOps waits for engine calls in flight, but not forever: an engine that
// ignores cancellation must not keep the technician's terminal hostage.
func waitOps(ops *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { ops.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// Shutdown releases everything after the program ended, however it ended
// (a signal skips the quit dialog): it stops the engine call in flight,
// rolls back if changes are still armed, and closes the engine. Run calls it.
// The error is the rollback's, if one was needed and failed.
func (m *Model) Shutdown(ctx context.Context) error {
	// Nobody renders any more: keep the engine's events flowing (they are
	// dropped; the bridge tracks what is armed) so a call that is winding
	// down never blocks on a full channel.
	stopDrain := make(chan struct{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			select {
			case msg := <-m.br.ch:
				if q, ok := msg.(questionMsg); ok {
					q.reply <- false
				}
			case <-stopDrain:
				return
			}
		}
	}()
	if m.cancelOp != nil {
		m.cancelOp()
	}
	ended := waitOps(m.ops, m.opWait)
	close(stopDrain)
	<-drained
	m.br.close()
	var err error
	if m.eng != nil && !ended {
		// The call in flight did not end: an Engine is not safe for
		// concurrent use, so neither a rollback nor a close may start
		// beside it. What is armed stays armed, and the router's own
		// safety net rolls it back at its deadline.
		if m.br.armed.Load() && m.phase != phaseRolledBack {
			err = errors.New("a step of the run did not stop in time: wgboot did not roll back beside it; " +
				"the router's safety net rolls everything back at its deadline (" + m.deadline.Format("15:04:05") + " on this computer)")
			m.noted = append(m.noted, "The router's safety net rolls the armed changes back at its deadline.")
		}
		m.eng = nil
		return err
	}
	if m.eng != nil {
		if m.br.armed.Load() && m.phase != phaseRolledBack {
			ctx, cancel := context.WithTimeout(ctx, rollbackTimeout)
			if err = m.eng.Rollback(ctx); err == nil {
				m.rolledBack()
				m.noted = append(m.noted, "The armed changes were rolled back: the router is as it was.")
			}
			cancel()
		}
		// A close error (a TLS alert on a torn-down tunnel) changes nothing
		// for the technician: log it only.
		if cerr := m.eng.Close(); cerr != nil {
			m.logf("tui: close the engine: %v", cerr)
		}
		m.eng = nil
	}
	return err
}

// Notes are the lines worth printing after the program ends (rollbacks).
func (m *Model) Notes() []string { return m.noted }

// View renders the current screen at the terminal size.
func (m *Model) View() string {
	bw, bh := m.bodySize()
	title, n := m.scr.title()
	right := ""
	if n > 0 {
		right = fmt.Sprintf("step %d/%d", n, totalSteps)
	}
	left := m.st.Header.Render("wgboot") + m.st.Muted.Render(" · ") + m.st.Title.Render(title)
	gap := max(1, bw-lipgloss.Width(left)-lipgloss.Width(right))
	header := left + strings.Repeat(" ", gap) + m.st.HeaderStep.Render(right)

	var body string
	switch {
	case m.showHelp:
		body = m.helpView()
	case m.phase.quitting() && m.status != "":
		body = m.busyLine(m.status)
	default:
		body = m.screenView(bw, bh)
	}
	body = fit(body, bw, bh)

	footer := m.footer(bw)
	return header + "\n\n" + body + "\n" + footer
}

func (m *Model) busyLine(s string) string {
	if m.o.Accessible {
		return "… " + s
	}
	return m.spin.View() + " " + s
}

func (m *Model) screenView(w, h int) string { return m.current().view(w, h) }

// countdown is the line about the armed safety net.
func (m *Model) countdown() string {
	if m.safety.fired() {
		return m.st.Err.Render("The safety net ran out: the router rolled itself back.")
	}
	if !m.safety.armed() || m.deadline.IsZero() {
		return ""
	}
	left := m.deadline.Sub(m.now()).Round(time.Second)
	if left < 0 {
		left = 0
	}
	return m.st.Countdown.Render(fmt.Sprintf("Auto-rollback in %d:%02d", int(left.Minutes()), int(left.Seconds())%60)) +
		m.st.Muted.Render(": unless wgboot confirms, the router undoes it all.")
}

func (m *Model) footer(w int) string {
	if m.phase == phaseAskQuit {
		msg := "Quit? "
		if m.safety.armed() {
			msg += "The changes armed on the router will be rolled back. "
		}
		return m.st.Warn.Render(msg) + m.st.Help.Render(m.keys.Yes.Help().Key+" quit · "+m.keys.No.Help().Key+" stay")
	}
	return m.help.ShortHelpView(m.current().shortHelp())
}

func (m *Model) helpView() string {
	k := m.keys
	quit := k.Quit
	quit.SetHelp("q/ctrl+c", "quit (asks first)")
	groups := [][]key.Binding{
		{k.Next, k.Prev, k.Enter, k.Back},
		{k.Yes, k.No, k.Left, k.Edit},
		{k.Up, k.PageUp, k.Help, quit},
	}
	text := m.st.Title.Render("Keys") + "\n\n" + m.help.FullHelpView(groups) + "\n\n" +
		m.st.Muted.Render("esc goes back only where nothing has changed on the router yet.\n"+
			"Quitting while changes are armed rolls them back first.\n"+
			"Press ? or esc to close this help.")
	return text
}

// fit clips or pads s to exactly h lines of at most w cells, so every screen
// fills the terminal and nothing scrolls it.
func fit(s string, w, h int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = clipRow(l, w)
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// truncate shortens a row that does not fit to w cells, ending it with an
// ellipsis so a cut row never passes for a whole one.
func truncate(s string, w int) string { return ansi.Truncate(s, w, "…") }
