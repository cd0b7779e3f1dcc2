// Apply: the run's top level (arm, pipeline, tunnel, verify, harden, commit), its state
// (applyRun) and the step error that carries what the technician can try.

package onboard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wgboot/wgboot/routeros"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// stepError is a failure at one step, with what the technician can try.
type stepError struct {
	step Step
	err  error
	try  string
	hint *Hint // instead of try, when it names a setting
}

func (s *stepError) Error() string { return s.err.Error() }
func (s *stepError) Unwrap() error { return s.err }

// FailedStep returns the step an Apply failed at, or "".
func FailedStep(err error) Step {
	var se *stepError
	if errors.As(err, &se) {
		return se.step
	}
	return ""
}

// applyRun is the state of one Apply.
type applyRun struct {
	j       *Journal
	ids     map[string]string // op key -> id on the router
	started time.Time
	// restarted is the firing time the last window restart announced.
	restarted time.Time
}

// Apply arms the safety net, applies the plan, proves the API through the
// tunnel, asks to harden, hardens, proves it again and commits. Any failure
// before the commit undoes every change in reverse order and returns an
// error whose FailureInfo (in the failed Event) says what to do.
func (e *Engine) Apply(ctx context.Context, p *Plan) (*Summary, error) {
	if p == nil || (e.plan == nil && !p.Noop) {
		return nil, errors.New("onboard: apply needs a plan from Plan")
	}
	if p.Noop {
		s := &Summary{Router: e.addr, Identity: e.router.Identity, Changes: 0, Undo: "wgboot rollback --router " + e.o.Router}
		e.st.Committed = true
		e.emit(Event{Step: StepCommit, Kind: KindDone, Message: "already onboarded: nothing changed", Summary: s})
		return s, nil
	}
	if e.cl == nil {
		return nil, errors.New("onboard: apply before connect")
	}
	a := &applyRun{ids: map[string]string{}, started: e.now()}
	a.j = &Journal{Router: e.addr, Identity: e.router.Identity, RunID: e.run, State: StateArmed, Started: e.now(), Settings: p.Settings}
	match, deps := opMeta(e.router, e.run, e.plan.Ops)
	for _, o := range e.plan.Ops {
		a.j.Ops = append(a.j.Ops, JournalOp{Key: o.Key, Step: o.Step, Menu: o.Menu, Verb: o.Verb, ID: o.ID, Name: o.Name,
			Args: o.Args, Before: o.Before, Old: o.Old, OldNext: o.OldNext, Command: oneLine(o.command(e.run)), Inverse: oneLine(o.inverse(e.run)), Desc: o.Desc,
			Match: match[o.Key], Deps: deps[o.Key]})
	}
	sum, err := e.apply(ctx, a, p)
	if err != nil {
		var se *stepError
		if !errors.As(err, &se) {
			se = &stepError{step: StepApply, err: err}
		}
		info := e.undoAfterFailure(ctx, a, se)
		a.j.Failure = info
		e.save(a)
		e.emit(Event{Step: se.step, Kind: KindFailed, Message: err.Error(), Err: info})
		e.closeLocal()
		return nil, err
	}
	return sum, nil
}

func (e *Engine) save(a *applyRun) {
	a.j.Updated = e.now()
	if err := writeJournal(e.o.StateDir, a.j); err != nil {
		e.emit(Event{Step: StepApply, Kind: KindWarning, Message: err.Error()})
	}
}

// closeLocal takes the local peer down. A session through it is dead with
// it: the original session (if any) becomes the engine's again.
func (e *Engine) closeLocal() {
	if e.local != nil {
		e.local.Close()
		e.local = nil
	}
	if e.viaTunnel {
		if e.cl != nil {
			e.cl.Close()
		}
		e.cl, e.orig, e.viaTunnel = e.orig, nil, false
	}
}

// apply runs the pipeline of one Apply: arm, apply, tunnel, verify, the
// Gate, harden, re-verify, commit, each a stepError when it fails. The
// steps share the run's state (the journal, the session that moves into
// the tunnel, the proof path) in a fixed order that is the safety argument
// itself: read top to bottom, nothing is dropped before the tunnel carries
// the API.
func (e *Engine) apply(ctx context.Context, a *applyRun, p *Plan) (*Summary, error) {
	// 1. Arm.
	if err := e.arm(ctx, a, p); err != nil {
		try := "check that the user may write /system script and /system scheduler (policy write, policy, test)"
		if errors.Is(err, errScript) {
			try = "nothing was changed; report this router's names and the message above to the wgboot developers"
		}
		return nil, &stepError{step: StepArm, err: err, try: try}
	}
	// 2. Router-side changes.
	if err := e.applyRouter(ctx, a); err != nil {
		return nil, err
	}
	// 3. Tunnel.
	via, err := e.tunnelUp(ctx, a)
	if err != nil {
		return nil, &stepError{step: StepTunnel, err: err, hint: ErrorNoHandshake.Hint()}
	}
	// 4. Verify, on the one new session through the tunnel that the rest
	// of the run then uses: hardening may cut the session this run came in
	// on (a WAN session with no accept for established connections dies
	// with the drop rule). The same round trip restarts the confirm window,
	// so the harden question gets all of it.
	if err := e.verify(ctx, a); err != nil {
		return nil, err
	}
	// The way back through the tunnel is on disk before anything closes
	// the original path: a rerun (or rollback) after a kill from here on
	// comes back through it.
	if err := e.recordTunnel(a); err != nil {
		return nil, &stepError{step: StepVerify, err: err}
	}
	if via, err = e.proveOutside(ctx, a, via); err != nil {
		return nil, &stepError{step: StepVerify, err: err, try: "the phone's handshake must reach the router from the internet (mobile data, Wi-Fi off); a modem in front, CGNAT or an ISP filter can stop UDP " + strconv.Itoa(e.plan.Decision.ListenPort) + "; the router was restored"}
	}
	// 5. The Gate.
	if err := e.gate(ctx, a, p, via); err != nil {
		return nil, err
	}
	// 6. Harden and re-verify.
	if err := e.harden(ctx, a, via); err != nil {
		return nil, err
	}
	// 7. Commit.
	sum, err := e.commit(ctx, a, p, via)
	if err != nil {
		var h *Hint
		if errors.Is(err, errFired) {
			h = longerWindow
		}
		return nil, &stepError{step: StepCommit, err: err, hint: h}
	}
	return sum, nil
}

// applyRouter sends the router-side changes, with the new interface's
// public key read in the same round trip.
func (e *Engine) applyRouter(ctx context.Context, a *applyRun) error {
	start := e.now()
	e.emit(Event{Step: StepApply, Kind: KindStarted, Message: "applying the router-side changes"})
	pubq := []string{"/interface/wireguard/print", "?name=" + e.plan.Decision.IfName, "=.proplist=public-key"}
	reps, errs, err := e.runOps(ctx, a, StepApply, [][]string{pubq}, false)
	if err != nil {
		return &stepError{step: StepApply, err: err, try: "read the router's message above; the router was restored"}
	}
	if len(reps) == 1 && errs[0] == nil && reps[0] != nil && len(reps[0].Re) > 0 {
		if k, err := wgtypes.ParseKey(reps[0].Re[0]["public-key"]); err == nil {
			e.routerPub = k
		}
	}
	a.j.State = StateApplied
	e.save(a)
	e.st.Applied = true
	e.emit(Event{Step: StepApply, Kind: KindDone, Message: "router side applied", Elapsed: e.now().Sub(start)})
	return nil
}

// gate asks the harden question. A no leaves the router as it was: the
// engine rolls every change back (ErrDeclined), whichever front end asked;
// no answer before the safety net's deadline is the same as the net
// firing.
func (e *Engine) gate(ctx context.Context, a *applyRun, p *Plan, via string) error {
	yes, err := e.confirmBy(ctx, Question{ID: QHarden, Title: "Close the API on the WAN?",
		Detail: e.hardenDetail(via), Default: true}, e.gateDeadline())
	if err == nil && !yes {
		err = ErrDeclined
	}
	if errors.Is(err, errNoAnswer) {
		// The safety net's deadline is the Gate's: unanswered by then, the
		// router has rolled itself back (or is about to); the undo
		// removes whatever is left.
		err = fmt.Errorf("onboard: no answer at the Gate before the confirm window (%s) ran out: %w", p.Settings.ConfirmTimeout, errFired)
		return &stepError{step: StepHarden, err: err, hint: gateInTime}
	}
	if err != nil {
		return &stepError{step: StepHarden, err: err}
	}
	if e.o.Prompter != nil {
		// The answer may have taken most of the window: restart it, which
		// also proves the rollback has not fired while the question was up.
		// The original path first: a rollback that fired took the tunnel
		// with it, and the tunnel session would only time out.
		if err := e.extend(ctx, a, StepHarden, e.orig, e.cl); err != nil {
			return &stepError{step: StepHarden, err: err, hint: longerWindow}
		}
	}
	return nil
}

// harden drops the API on the WAN and re-verifies: the API through the
// tunnel (a read that rides behind the drop rules on the tunnel session,
// so its answer proves the session outlived them), then the WAN probe.
func (e *Engine) harden(ctx context.Context, a *applyRun, via string) error {
	start := e.now()
	e.emit(Event{Step: StepHarden, Kind: KindStarted, Message: "closing the API on the WAN"})
	reps, errs, err := e.runOps(ctx, a, StepHarden, [][]string{{"/system/identity/print"}}, true)
	if err != nil {
		return &stepError{step: StepHarden, err: err}
	}
	a.j.State = StateHardened
	e.save(a)
	e.st.Hardened = true
	e.emit(Event{Step: StepHarden, Kind: KindDone, Message: "API dropped on " + strings.Join(wanNames(e.plan.Decision.WANs), ", "), Elapsed: e.now().Sub(start)})
	e.emit(Event{Step: StepReverify, Kind: KindStarted, Message: "the API through the tunnel again"})
	if errs[0] != nil {
		return &stepError{step: StepReverify, err: fmt.Errorf("onboard: the API through the tunnel after hardening: %w", errs[0])}
	}
	e.emit(Event{Step: StepReverify, Kind: KindDone, Message: "the API answered through the tunnel (" + first(rowsOf(reps[0]))["name"] + ")", Elapsed: e.now().Sub(start)})
	if err := e.wanProbe(ctx, via); err != nil {
		return &stepError{step: StepReverify, err: err, try: "a rule before wgboot's drop still accepts the API from the WAN; review /ip firewall filter"}
	}
	return nil
}

// gateDeadline is when the Gate stops waiting: the safety net's deadline
// (as last announced), or a full window from now when none is known.
func (e *Engine) gateDeadline() time.Time {
	if d := e.st.Deadline; d != nil {
		return *d
	}
	return e.now().Add(e.plan.settings.ConfirmTimeout)
}

// longerWindow is the hint when the confirm window ran out; gateInTime
// when it ran out at the Gate.
var (
	longerWindow = hint("rerun with a longer ", SettingConfirmTimeout)
	gateInTime   = hint("run wgboot again and answer the Gate in time, or give a longer ", SettingConfirmTimeout)
)

func rowsOf(rep *routeros.Reply) []Row {
	if rep == nil {
		return nil
	}
	out := make([]Row, len(rep.Re))
	for i, m := range rep.Re {
		out[i] = Row(m)
	}
	return out
}

// commit disarms the safety net and writes the summary.
func (e *Engine) commit(ctx context.Context, a *applyRun, p *Plan, via string) (*Summary, error) {
	d := e.plan.Decision
	e.emit(Event{Step: StepCommit, Kind: KindStarted, Message: "disarming the automatic rollback"})
	endpoint := net.JoinHostPort(d.Endpoint, strconv.Itoa(d.ListenPort))
	path := a.j.Tunnel.ConfigPath
	if err := e.disarm(ctx, e.cl, a.j, true); err != nil {
		if errors.Is(err, errFired) {
			return nil, err
		}
		// The reply may be what was lost: come back (original path or
		// tunnel) and finish; removing what is already gone is not an error.
		cl, rerr := e.reconnect(ctx)
		if rerr != nil {
			return nil, fmt.Errorf("%w; reconnect: %w", err, rerr)
		}
		e.cl.Close()
		e.cl = cl
		if err := e.disarm(ctx, cl, a.j, false); err != nil {
			return nil, err
		}
	}
	a.j.State = StateCommitted
	sum := &Summary{
		Router: e.addr, Identity: e.router.Identity, RouterTunnel: d.RouterAddr.Addr().String(), LocalTunnel: d.LocalAddr.String(),
		Endpoint: endpoint, ConfigPath: path, ProvenVia: via, ProvenFrom: e.provenFrom, OutsideUnproven: e.outsideUnproven(via), Changes: len(e.plan.Ops),
		Reconnect: "wg-quick up " + path, Undo: "wgboot rollback --router " + e.o.Router,
	}
	a.j.Summary = sum
	e.save(a)
	if e.o.StateDir != "" {
		b := summaryText(sum)
		if err := writeFileAtomic(filepath.Join(filepath.Dir(journalPath(e.o.StateDir, e.addr)), "summary.txt"), []byte(b)); err != nil {
			return nil, err
		}
	}
	e.st.Armed, e.st.Deadline, e.st.Committed = false, nil, true
	e.emit(Event{Step: StepCommit, Kind: KindDone, Message: "onboarded: " + sum.Identity + " through " + sum.RouterTunnel, Summary: sum, Elapsed: e.now().Sub(a.started)})
	return sum, nil
}

func summaryText(s *Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router %s (%s)\ntunnel: router %s, technician %s\nendpoint: %s\nconfig: %s\n", s.Router, s.Identity, s.RouterTunnel, s.LocalTunnel, s.Endpoint, s.ConfigPath)
	switch s.ProvenVia {
	case "outside":
		b.WriteString("proven: the tunnel was proven from outside: a phone's handshake came from " + s.ProvenFrom + "\n")
	case "wan":
		b.WriteString("proven: the tunnel was proven over the WAN (the router saw the handshake arrive on its WAN side)\n")
	default:
		b.WriteString("proven: the tunnel was proven from the LAN only; that the WireGuard port is reachable from the WAN rests on the firewall evaluator\n")
	}
	if s.OutsideUnproven {
		b.WriteString("warning: " + notReachedText + ", and the API answered on the WAN before this run: check the tunnel from outside before relying on it\n")
	}
	fmt.Fprintf(&b, "reconnect: %s\nundo: %s\n", s.Reconnect, s.Undo)
	return b.String()
}
