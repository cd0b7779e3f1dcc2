package onboard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// stepError is a failure at one step, with what the technician can try.
type stepError struct {
	step Step
	err  error
	try  string
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
// Gate, harden, re-verify, commit, each a stepError when it fails.
//
// Long because: the steps share the run's state (the journal, the session
// that moves into the tunnel, the proof path) in a fixed order that is
// the safety argument itself; read top to bottom it is the order in which
// nothing is dropped before the tunnel carries the API. The house issue
// splits it into a step helper.
func (e *Engine) apply(ctx context.Context, a *applyRun, p *Plan) (*Summary, error) {
	d := e.plan.Decision
	// 1. Arm.
	if err := e.arm(ctx, a, p); err != nil {
		try := "check that the user may write /system script and /system scheduler (policy write, policy, test)"
		if errors.Is(err, errScript) {
			try = "nothing was changed; report this router's names and the message above to the wgboot developers"
		}
		return nil, &stepError{step: StepArm, err: err, try: try}
	}
	// 2. Router-side changes, with the new interface's public key read in
	// the same round trip.
	start := e.now()
	e.emit(Event{Step: StepApply, Kind: KindStarted, Message: "applying the router-side changes"})
	pubq := []string{"/interface/wireguard/print", "?name=" + d.IfName, "=.proplist=public-key"}
	reps, errs, err := e.runOps(ctx, a, StepApply, [][]string{pubq}, false)
	if err != nil {
		return nil, &stepError{step: StepApply, err: err, try: "read the router's message above; the router was restored"}
	}
	if len(reps) == 1 && errs[0] == nil && reps[0] != nil && len(reps[0].Re) > 0 {
		if k, err := wgtypes.ParseKey(reps[0].Re[0]["public-key"]); err == nil {
			e.routerPub = k
		}
	}
	a.j.State = StateApplied
	e.save(a)
	e.emit(Event{Step: StepApply, Kind: KindDone, Message: "router side applied", Elapsed: e.now().Sub(start)})

	// 3. Tunnel.
	via, err := e.tunnelUp(ctx, a)
	if err != nil {
		return nil, &stepError{step: StepTunnel, err: err, try: "no WireGuard handshake usually means the UDP port is blocked or forwarded elsewhere on the way (CGNAT, a router in front): try --verify-endpoint with an address on the router's LAN"}
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
		return nil, &stepError{step: StepVerify, err: err, try: "the phone's handshake must reach the router from the internet (mobile data, Wi-Fi off); a modem in front, CGNAT or an ISP filter can stop UDP " + strconv.Itoa(d.ListenPort) + "; the router was restored"}
	}
	// 5. Harden.
	hardened := false
	yes, err := e.confirm(ctx, Question{ID: QHarden, Title: "Close the API on the WAN?",
		Detail: e.hardenDetail(via), Default: true})
	if err != nil {
		return nil, &stepError{step: StepHarden, err: err}
	}
	if e.o.Prompter != nil {
		// The answer may have taken most of the window: restart it, which
		// also proves the rollback has not fired while the question was up.
		// The original path first: a rollback that fired took the tunnel
		// with it, and the tunnel session would only time out.
		if err := e.extend(ctx, a, StepHarden, e.orig, e.cl); err != nil {
			return nil, &stepError{step: StepHarden, err: err, try: "rerun with a longer --confirm-timeout"}
		}
	}
	if yes {
		start := e.now()
		e.emit(Event{Step: StepHarden, Kind: KindStarted, Message: "closing the API on the WAN"})
		// The reverify read rides behind the drop rules on the tunnel
		// session: its answer proves the session outlived them.
		reps, errs, err := e.runOps(ctx, a, StepHarden, [][]string{{"/system/identity/print"}}, true)
		if err != nil {
			return nil, &stepError{step: StepHarden, err: err}
		}
		a.j.State = StateHardened
		e.save(a)
		e.emit(Event{Step: StepHarden, Kind: KindDone, Message: "API dropped on " + strings.Join(wanNames(d.WANs), ", "), Elapsed: e.now().Sub(start)})
		hardened = true
		// 6. Reverify.
		e.emit(Event{Step: StepReverify, Kind: KindStarted, Message: "the API through the tunnel again"})
		if errs[0] != nil {
			return nil, &stepError{step: StepReverify, err: fmt.Errorf("onboard: the API through the tunnel after hardening: %w", errs[0])}
		}
		e.emit(Event{Step: StepReverify, Kind: KindDone, Message: "the API answered through the tunnel (" + first(rowsOf(reps[0]))["name"] + ")", Elapsed: e.now().Sub(start)})
		if err := e.wanProbe(ctx, via); err != nil {
			return nil, &stepError{step: StepReverify, err: err, try: "a rule before wgboot's drop still accepts the API from the WAN; review /ip firewall filter"}
		}
	} else {
		e.emit(Event{Step: StepHarden, Kind: KindWarning, Message: "not hardened: the API stays open on the WAN as it was"})
	}
	// 7. Commit.
	sum, err := e.commit(ctx, a, p, via, hardened)
	if err != nil {
		try := ""
		if errors.Is(err, errFired) {
			try = "rerun with a longer --confirm-timeout"
		}
		return nil, &stepError{step: StepCommit, err: err, try: try}
	}
	return sum, nil
}

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

// clock reads the router's clock: date and time, as the scheduler wants them.
func routerClock(row Row) (time.Time, error) {
	date, tm := row["date"], row["time"]
	for _, layout := range []string{"2006-01-02 15:04:05", "Jan/02/2006 15:04:05", "jan/02/2006 15:04:05"} {
		if t, err := time.Parse(layout, date+" "+tm); err == nil {
			return t, nil
		}
	}
	// Old format with lowercase month: capitalise.
	if len(date) > 3 {
		if t, err := time.Parse("Jan/02/2006 15:04:05", strings.ToUpper(date[:1])+date[1:]+" "+tm); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("onboard: cannot read the router's clock %q %q", date, tm)
}

// errFired says the one-shot rollback ran before wgboot confirmed.
var errFired = errors.New("onboard: the router has already rolled the changes back")

// routerNow estimates the router's clock: the last reading plus the local
// time since. It reads the clock when no reading is known.
func (e *Engine) routerNow(ctx context.Context) (time.Time, error) {
	if e.clockRouter.IsZero() {
		rep, err := e.cl.Run(ctx, "/system/clock/print")
		if err != nil || len(rep.Re) == 0 {
			return time.Time{}, fmt.Errorf("onboard: read the router's clock: %w", err)
		}
		if err := e.noteClock(Row(rep.Re[0])); err != nil {
			return time.Time{}, err
		}
	}
	return e.clockRouter.Add(e.now().Sub(e.clockLocal)), nil
}

// noteClock records a reading of /system/clock taken just now.
func (e *Engine) noteClock(row Row) error {
	t, err := routerClock(row)
	if err != nil {
		return err
	}
	e.clockRouter, e.clockLocal = t, e.now()
	// RouterOS before 7.10 prints dec/06/2026 and may refuse an ISO date:
	// the timer's date is written back in the form the clock printed.
	e.clockOld = strings.Contains(row["date"], "/")
	return nil
}

// fireWords are the scheduler's start-date and start-time for fire, the
// date in the router's own form: old (mmm/dd/yyyy, before 7.10) or ISO.
func fireWords(fire time.Time, old bool) []string {
	date := fire.Format("2006-01-02")
	if old {
		date = strings.ToLower(fire.Format("Jan")) + fire.Format("/02/2006")
	}
	return []string{"=start-date=" + date, "=start-time=" + fire.Format("15:04:05")}
}

// arm puts the safety net on the router in one round trip: an export, the
// one-shot timer carrying the whole undo, the undo script and the boot
// scheduler, in that order, with a clock reading behind them. The timer's
// start comes from the clock read at inspect plus the time since.
//
// No binary backup is saved: the undo script is the safety net, and a
// backup could only be restored by hand (/system backup load, which
// reboots and also reverts whatever else changed meanwhile). Unencrypted
// it holds every secret of the router, on flash for anyone who can list
// files; encrypted, its password would be a secret on the technician's
// machine that the journal promises not to hold. The export holds no
// secret (RouterOS 7 leaves them out without show-sensitive) and shows
// the configuration before the run; it is removed at commit and at
// rollback.
func (e *Engine) arm(ctx context.Context, a *applyRun, p *Plan) error {
	start := e.now()
	e.emit(Event{Step: StepArm, Kind: KindStarted, Message: "arming the automatic rollback"})
	name := "wgboot-undo-" + e.run
	a.j.Net.Name = name
	a.j.Net.Export = exportFile(e.run)
	src, err := undoScript(e.run, e.plan.Ops)
	if err != nil {
		// Checked before anything is sent: a script the router cannot run
		// would leave a timer that does nothing while wgboot says armed.
		return fmt.Errorf("onboard: arm: nothing was changed on the router: %w", err)
	}
	a.j.Net.UndoLines = strings.Count(src, "\n")
	now, err := e.routerNow(ctx)
	if err != nil {
		return fmt.Errorf("onboard: arm: %w", err)
	}
	fire := now.Add(p.Settings.ConfirmTimeout)
	a.j.Net.Deadline = fire.Format("2006-01-02 15:04:05")
	// Journalled before it leaves: a lost reply is found again by tag.
	e.save(a)
	// The one-shot timer goes first of the three and carries the whole
	// undo inline: if wgboot loses the router right after it, nothing else
	// is left behind, and whatever follows it is undone by it. At boot the
	// scheduler runs the script by name (most boards have no battery
	// clock, so the timer alone could miss a reboot). A router that
	// refuses the export (no disk space, missing policy) is told to the
	// technician but does not stop the run: the undo script is the safety
	// net.
	timer := append([]string{"/system/scheduler/add", "=name=" + name}, fireWords(fire, e.clockOld)...)
	timer = append(timer, "=interval=0s", "=on-event="+src, "=comment="+tag(e.run, "undo-timer"))
	reps, errs := e.cl.Batch(ctx,
		[]string{"/export", "=file=" + strings.TrimSuffix(a.j.Net.Export, ".rsc")},
		timer,
		[]string{"/system/script/add", "=name=" + name, "=source=" + src, "=comment=" + tag(e.run, "undo")},
		[]string{"/system/scheduler/add", "=name=" + name + "-boot", "=start-time=startup", "=interval=0s",
			"=on-event=" + name, "=comment=" + tag(e.run, "undo-boot")},
		[]string{"/system/clock/print"},
	)
	ret := func(i int) string {
		if errs[i] == nil && reps[i] != nil {
			return reps[i].Done["ret"]
		}
		return ""
	}
	a.j.Net.Timer, a.j.Net.Script, a.j.Net.Boot = ret(1), ret(2), ret(3)
	e.save(a)
	var de *routeros.DeviceError
	if errs[0] != nil && errors.As(errs[0], &de) {
		e.emit(Event{Step: StepArm, Kind: KindWarning, Message: "export not saved: " + errs[0].Error()})
	}
	for _, x := range []struct {
		i    int
		what string
	}{{1, "add the rollback scheduler"}, {2, "add the undo script"}, {3, "add the boot rollback scheduler"}} {
		if errs[x.i] != nil {
			return fmt.Errorf("onboard: arm: %s: %w", x.what, errs[x.i])
		}
	}
	if errs[4] == nil && reps[4] != nil && len(reps[4].Re) > 0 {
		if err := e.noteClock(Row(reps[4].Re[0])); err == nil {
			// The estimate was off (the clock was set meanwhile, NTP): a
			// timer too close to now would fire before the technician
			// could answer, one in the past never fires.
			if rnow, _ := e.routerNow(ctx); fire.Before(rnow.Add(p.Settings.ConfirmTimeout / 2)) {
				if err := e.extend(ctx, a, StepArm); err != nil {
					return err
				}
			}
		}
	}
	deadline := e.now().Add(p.Settings.ConfirmTimeout)
	e.emit(Event{Step: StepArm, Kind: KindDone, Message: "armed: the router undoes everything at " + a.j.Net.Deadline + " (router clock) unless wgboot confirms",
		Deadline: &deadline, Elapsed: e.now().Sub(start)})
	return nil
}

// extendWords are the commands that restart the confirm window: the
// timer's new start and a clock reading. They fail with "no such item"
// when the timer has already fired.
func (e *Engine) extendWords(ctx context.Context, a *applyRun) ([][]string, time.Time, error) {
	now, err := e.routerNow(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	fire := now.Add(e.plan.settings.ConfirmTimeout)
	set := append([]string{"/system/scheduler/set", "=numbers=" + a.j.Net.Timer}, fireWords(fire, e.clockOld)...)
	return [][]string{set, {"/system/clock/print"}}, fire, nil
}

// extended handles the replies of extendWords: it records the new deadline
// and tells the front end, whose countdown restarts.
func (e *Engine) extended(a *applyRun, step Step, fire time.Time, reps []*routeros.Reply, errs []error) error {
	if errs[0] != nil {
		if routeros.IsNotFound(errs[0]) {
			return fmt.Errorf("onboard: the confirm window (%s) ran out before wgboot finished: %w", e.plan.settings.ConfirmTimeout, errFired)
		}
		return fmt.Errorf("onboard: restart the confirm window: %w", errs[0])
	}
	a.j.Net.Deadline = fire.Format("2006-01-02 15:04:05")
	e.save(a)
	if errs[1] == nil && reps[1] != nil && len(reps[1].Re) > 0 {
		e.noteClock(Row(reps[1].Re[0]))
	}
	if step == StepHarden && !a.restarted.IsZero() && fire.Sub(a.restarted) < 2*time.Second {
		// Restarted again at once (the harden answer came from --yes):
		// the time just announced still holds, saying it twice is noise.
		return nil
	}
	a.restarted = fire
	deadline := e.now().Add(e.plan.settings.ConfirmTimeout)
	if rnow, err := e.routerNow(context.Background()); err == nil {
		deadline = e.now().Add(fire.Sub(rnow))
	}
	e.emit(Event{Step: step, Kind: KindInfo, Message: "the automatic rollback now fires at " + a.j.Net.Deadline + " (router clock): the full confirm window of " + e.plan.settings.ConfirmTimeout.String(),
		Deadline: &deadline})
	return nil
}

// extend restarts the confirm window in a round trip of its own, on the
// first of sessions (nil ones skipped) that answers (default: the engine's).
func (e *Engine) extend(ctx context.Context, a *applyRun, step Step, sessions ...session) error {
	if len(sessions) == 0 {
		sessions = []session{e.cl}
	}
	var err error
	for _, cl := range sessions {
		if cl == nil {
			continue
		}
		var cmds [][]string
		var fire time.Time
		if cmds, fire, err = e.extendWords(ctx, a); err != nil {
			return err
		}
		reps, errs := cl.Batch(ctx, cmds...)
		var de *routeros.DeviceError
		if errs[0] != nil && !errors.As(errs[0], &de) && ctx.Err() == nil {
			err = fmt.Errorf("onboard: restart the confirm window: %w", errs[0])
			continue
		}
		return e.extended(a, step, fire, reps, errs)
	}
	return err
}

// resolve maps a place-before reference to a router id.
func (a *applyRun) resolve(r string) (string, error) {
	if k, ok := strings.CutPrefix(r, "@"); ok {
		id, ok := a.ids[k]
		if !ok {
			return "", fmt.Errorf("onboard: internal: %s placed before %s, which was not added", r, k)
		}
		return id, nil
	}
	return r, nil
}

// opWords turns an op into the API commands that carry it out.
func (a *applyRun) opWords(run string, o op) ([][]string, error) {
	path := func(verb string) string { return apiPath(o.Menu, verb) }
	switch o.Verb {
	case "add":
		w := []string{path("add")}
		for _, x := range o.Args {
			w = append(w, "="+x.K+"="+x.V)
		}
		w = append(w, "=comment="+tag(run, o.Key))
		if o.Before != "" {
			id, err := a.resolve(o.Before)
			if err != nil {
				return nil, err
			}
			w = append(w, "=place-before="+id)
		}
		return [][]string{w}, nil
	case "set":
		return setWords(o.Menu, o.ID, o.Args), nil
	case "move":
		w := []string{path("move"), "=numbers=" + o.ID}
		if o.Before != "" {
			id, err := a.resolve(o.Before)
			if err != nil {
				return nil, err
			}
			w = append(w, "=destination="+id)
		}
		return [][]string{w}, nil
	}
	return nil, fmt.Errorf("onboard: internal: unknown verb %s", o.Verb)
}

func setWords(menu, id string, args []kv) [][]string {
	var cmds [][]string
	set := []string{apiPath(menu, "set"), "=numbers=" + id}
	for _, x := range args {
		if x.V != "" {
			set = append(set, "="+x.K+"="+x.V)
		}
	}
	if len(set) > 2 {
		cmds = append(cmds, set)
	}
	for _, x := range args {
		if x.V == "" {
			cmds = append(cmds, []string{apiPath(menu, "unset"), "=numbers=" + id, "=value-name=" + x.K})
		}
	}
	return cmds
}

// runOps sends the ops of one step in as few round trips as their
// dependencies allow, each journalled as sent before it leaves. The router
// may run the commands of one batch in any order (tagged commands run at
// once), so an op goes in a later wave than the adds it names (the new
// interface, the new address list) and than an add placed at the same spot
// of the same ordered table. extra are reads that ride along (after the ops
// they name, or after every op with extraLast); their replies come back.
// When the plan's placements need ids only the router can give, the ops go
// one at a time instead.
func (e *Engine) runOps(ctx context.Context, a *applyRun, step Step, extra [][]string, extraLast bool) ([]*routeros.Reply, []error, error) {
	var idx []int
	var ops []op
	for i := range a.j.Ops {
		if jo := &a.j.Ops[i]; jo.Step == step && !jo.Done {
			idx = append(idx, i)
			ops = append(ops, jo.op())
		}
	}
	order, ok := e.pipelineOrder(a, ops)
	if !ok {
		if err := e.runOpsSequential(ctx, a, step); err != nil {
			return nil, nil, err
		}
		if len(extra) == 0 {
			return nil, nil, nil
		}
		reps, errs := e.cl.Batch(ctx, extra...)
		return reps, errs, nil
	}
	wave := opWaves(order)
	extraWave := 0
	for k, o := range order {
		if extraLast || namesAny(extra, o) {
			extraWave = max(extraWave, wave[k]+1)
		}
	}
	var extraReps []*routeros.Reply
	var extraErrs []error
	for w := 0; w <= max(slices.Max(append(wave, 0)), extraWave); w++ {
		var cmds [][]string
		var owner []int // cmds[k] carries a.j.Ops[owner[k]], -1 for extra
		for k, o := range order {
			if wave[k] != w {
				continue
			}
			i := idx[slices.IndexFunc(ops, func(x op) bool { return x.Key == o.Key })]
			words, err := a.opWords(e.run, o)
			if err != nil {
				return nil, nil, err
			}
			a.j.Ops[i].Sent = true
			for _, w := range words {
				cmds = append(cmds, w)
				owner = append(owner, i)
			}
		}
		if w == extraWave {
			for _, x := range extra {
				cmds = append(cmds, x)
				owner = append(owner, -1)
			}
		}
		if len(cmds) == 0 {
			continue
		}
		e.save(a)
		reps, errs := e.cl.Batch(ctx, cmds...)
		failed := map[int]error{}
		var sent []int
		for k, i := range owner {
			if i < 0 {
				extraReps, extraErrs = append(extraReps, reps[k]), append(extraErrs, errs[k])
				continue
			}
			if !slices.Contains(sent, i) {
				sent = append(sent, i)
			}
			jo := &a.j.Ops[i]
			if errs[k] != nil {
				if failed[i] == nil {
					failed[i] = fmt.Errorf("onboard: %s (%s): %w", jo.Desc, jo.Command, errs[k])
				}
				continue
			}
			if jo.Verb == "add" && reps[k] != nil {
				a.ids[jo.Key] = reps[k].Done["ret"]
				jo.NewID = reps[k].Done["ret"]
			}
		}
		var firstErr error
		for _, i := range sent {
			if err := failed[i]; err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			a.j.Ops[i].Done = true
		}
		e.save(a)
		if firstErr != nil {
			return nil, nil, firstErr
		}
		for _, i := range sent {
			e.emit(Event{Step: step, Kind: KindProgress, Message: a.j.Ops[i].Desc})
		}
	}
	return extraReps, extraErrs, nil
}

// opWaves numbers the round trip each op of order goes in (0 first): after
// every earlier add it names by value (an interface or list name), after an
// earlier add or move of the same ordered table placed at the same spot,
// and a move after everything before it in its table.
func opWaves(order []op) []int {
	wave := make([]int, len(order))
	for k, o := range order {
		for j := range k {
			p := order[j]
			dep := p.Verb == "add" && namesOp(o, p)
			if orderedMenu(o.Menu) && p.Menu == o.Menu && (o.Verb == "move" || p.Verb == "move" ||
				o.Verb == "add" && p.Verb == "add" && o.Before == p.Before) {
				dep = true
			}
			if dep {
				wave[k] = max(wave[k], wave[j]+1)
			}
		}
	}
	return wave
}

// orderedMenu reports whether the order of a menu's items matters.
func orderedMenu(menu string) bool {
	return menu == "/ip firewall filter" || menu == "/ipv6 firewall filter"
}

// names are the values an add creates that other commands refer to.
func (o op) names() []string {
	var out []string
	for _, x := range o.Args {
		if x.K == "name" || x.K == "list" {
			out = append(out, x.V)
		}
	}
	return out
}

// namesOp reports whether o refers to something p creates.
func namesOp(o, p op) bool {
	for _, n := range p.names() {
		for _, x := range o.Args {
			if x.K != "name" && x.K != "list" && strings.TrimPrefix(x.V, "!") == n {
				return true
			}
		}
	}
	return false
}

// namesAny reports whether any of cmds refers to something p creates.
func namesAny(cmds [][]string, p op) bool {
	for _, n := range p.names() {
		for _, c := range cmds {
			for _, w := range c[1:] {
				if i := strings.LastIndex(w, "="); i >= 0 && w[i+1:] == n {
					return true
				}
			}
		}
	}
	return false
}

// pipelineOrder returns ops in an order that can go in one batch: every
// place-before and destination names an item that exists before the batch
// (an id from inspect, or an add of an earlier step), checked by simulating
// both on the snapshot. ok is false when no such order gives the same
// tables.
func (e *Engine) pipelineOrder(a *applyRun, ops []op) ([]op, bool) {
	if e.router == nil {
		return nil, false
	}
	inBatch := map[string]bool{}
	for _, o := range ops {
		if o.Verb == "add" {
			inBatch["@"+o.Key] = true
		}
	}
	// The snapshot as this batch finds it: earlier steps' adds are in it
	// under their "@key" ids.
	var earlier []op
	for _, jo := range a.j.Ops {
		if jo.Done && jo.Verb != "" {
			earlier = append(earlier, jo.op())
		}
	}
	base, err := simulate(e.router, e.run, earlier)
	if err != nil {
		return nil, false
	}
	want, err := simulate(base, e.run, ops)
	if err != nil {
		return nil, false
	}
	out := slices.Clone(ops)
	// Within each menu, adds go in the order they have in the final table,
	// each placed before the first item after it that is not new.
	menus := map[string][]int{}
	for i, o := range out {
		if o.Verb == "add" {
			menus[o.Menu] = append(menus[o.Menu], i)
		}
	}
	for menu, slots := range menus {
		rows := want.rowsFor(menu)
		if rows == nil {
			return nil, false
		}
		pos := func(key string) int { return indexOfID(*rows, "@"+key) }
		group := make([]op, len(slots))
		for j, i := range slots {
			group[j] = out[i]
		}
		slices.SortStableFunc(group, func(x, y op) int { return pos(x.Key) - pos(y.Key) })
		for j, i := range slots {
			o := group[j]
			if o.Before != "" || inBatch["@"+o.Key] {
				o.Before = ""
				for _, row := range (*rows)[pos(o.Key)+1:] {
					if !inBatch[row[".id"]] {
						o.Before = row[".id"]
						break
					}
				}
			}
			out[i] = o
		}
	}
	for i, o := range out {
		if o.Verb == "move" && inBatch[o.Before] {
			rows := want.rowsFor(o.Menu)
			if rows == nil {
				return nil, false
			}
			o.Before = ""
			for _, row := range (*rows)[indexOfID(*rows, o.ID)+1:] {
				if !inBatch[row[".id"]] {
					o.Before = row[".id"]
					break
				}
			}
			out[i] = o
		}
	}
	got, err := simulate(base, e.run, out)
	if err != nil {
		return nil, false
	}
	for _, menu := range []string{"/ip firewall filter", "/ipv6 firewall filter", "/ip firewall address-list", "/interface wireguard", "/interface wireguard peers", "/ip address"} {
		if !slices.Equal(ids(*want.rowsFor(menu)), ids(*got.rowsFor(menu))) {
			return nil, false
		}
	}
	return out, true
}

func ids(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[".id"]
	}
	return out
}

// runOpsSequential sends the ops of one step in order, journalling each
// before it leaves and waiting for each reply: the fallback when the plan's
// placements need ids only the router can give.
func (e *Engine) runOpsSequential(ctx context.Context, a *applyRun, step Step) error {
	for i := range a.j.Ops {
		jo := &a.j.Ops[i]
		if jo.Step != step || jo.Done {
			continue
		}
		o := jo.op()
		cmds, err := a.opWords(e.run, o)
		if err != nil {
			return err
		}
		jo.Sent = true
		e.save(a)
		for _, w := range cmds {
			rep, err := e.cl.Run(ctx, w...)
			if err != nil {
				return fmt.Errorf("onboard: %s (%s): %w", o.Desc, jo.Command, err)
			}
			if o.Verb == "add" {
				a.ids[o.Key] = rep.Done["ret"]
				jo.NewID = rep.Done["ret"]
			}
		}
		jo.Done = true
		e.save(a)
		e.emit(Event{Step: step, Kind: KindProgress, Message: o.Desc})
	}
	return nil
}

// verifyEndpoint is where this run sends WireGuard packets.
func (e *Engine) verifyEndpoint(ctx context.Context) (netip.AddrPort, string, error) {
	d := e.plan.Decision
	v := e.o.Settings.VerifyEndpoint
	if v == "" {
		v = e.host
	}
	host, port := v, strconv.Itoa(d.ListenPort)
	if h, p, err := net.SplitHostPort(v); err == nil {
		host, port = h, p
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, host, fmt.Errorf("onboard: --verify-endpoint %q: bad port", v)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return netip.AddrPort{}, host, fmt.Errorf("onboard: resolve %s: %w", host, err)
		}
		addr = ips[0]
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(pn)), host, nil
}

// tunnelUp brings up the technician's peer and waits for the handshake. It
// returns how the tunnel was reached: "wan" or "lan".
func (e *Engine) tunnelUp(ctx context.Context, a *applyRun) (string, error) {
	d := e.plan.Decision
	start := e.now()
	e.emit(Event{Step: StepTunnel, Kind: KindStarted, Message: "bringing up the local WireGuard peer"})
	pub := e.routerPub
	if pub == (wgtypes.Key{}) {
		// The read that rode with the changes came back empty.
		rep, err := e.cl.Run(ctx, "/interface/wireguard/print", "?name="+d.IfName, "=.proplist=public-key")
		if err != nil || len(rep.Re) == 0 {
			return "", fmt.Errorf("onboard: read the router's WireGuard public key: %w", err)
		}
		if pub, err = wgtypes.ParseKey(rep.Re[0]["public-key"]); err != nil {
			return "", fmt.Errorf("onboard: the router's WireGuard public key %q: %w", rep.Re[0]["public-key"], err)
		}
		e.routerPub = pub
	}
	ep, host, err := e.verifyEndpoint(ctx)
	if err != nil {
		return "", err
	}
	e.verifyEP = ep
	newLocal := e.o.NewLocal
	if newLocal == nil {
		newLocal = func(kind string) (vpn.Backend, error) { return vpn.New(kind, e.logf) }
	}
	b, err := newLocal(e.o.Settings.Local)
	if err != nil {
		return "", fmt.Errorf("onboard: local WireGuard (%s): %w", e.o.Settings.Local, err)
	}
	e.local = b
	cfg := vpn.Config{PrivateKey: e.key, Address: d.LocalAddr, Peer: vpn.Peer{PublicKey: pub, Endpoint: ep,
		AllowedIPs: []netip.Prefix{netip.PrefixFrom(d.RouterAddr.Addr(), 32)}, Keepalive: defaultKeepSec * time.Second}}
	if err := b.Up(ctx, cfg); err != nil {
		return "", fmt.Errorf("onboard: bring up the local WireGuard peer: %w", err)
	}
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	st, err := b.WaitHandshake(hctx)
	if err != nil {
		return "", fmt.Errorf("onboard: no WireGuard handshake with %s within %s: %w", ep, handshakeTimeout, err)
	}
	via := e.provenVia(ctx, host)
	e.emit(Event{Step: StepTunnel, Kind: KindDone, Message: "handshake with " + ep.String() + " (" + via + ")",
		Handshake: &Handshake{Done: true, Age: st.Age(e.now()), Rx: st.Rx, Tx: st.Tx, Endpoint: ep.String()}, Elapsed: e.now().Sub(start)})
	return via, nil
}

// isWANHost reports whether host is reached over the WAN: one of the
// router's WAN addresses, or the host of Options.WANProbe.
func (e *Engine) isWANHost(host string) bool {
	if e.o.WANProbe != "" {
		if h, _, err := net.SplitHostPort(e.o.WANProbe); err == nil && h == host {
			return true
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, w := range e.plan.Decision.WANs {
		for _, p := range w.Addrs {
			if p.Addr() == a {
				return true
			}
		}
	}
	return false
}

// verify opens the run's one new API session through the tunnel (TLS
// pinned to the same certificate), logs in and reads the identity; the
// same round trip restarts the confirm window for the harden question.
// The session then becomes the engine's; the original one stays open as a
// fallback until Close.
func (e *Engine) verify(ctx context.Context, a *applyRun) error {
	d := e.plan.Decision
	start := e.now()
	addr := net.JoinHostPort(d.RouterAddr.Addr().String(), strconv.Itoa(int(d.UsePort)))
	e.emit(Event{Step: StepVerify, Kind: KindStarted, Message: "new API session through the tunnel to " + addr})
	cl, err := e.dial(ctx, addr, e.local.DialContext)
	if err != nil {
		return &stepError{step: StepVerify, err: fmt.Errorf("onboard: API through the tunnel (%s): %w", addr, err),
			try: "the API did not answer through the tunnel: check /ip service address and the user's allowed address"}
	}
	ext, fire, err := e.extendWords(ctx, a)
	if err != nil {
		cl.Close()
		return &stepError{step: StepVerify, err: err}
	}
	reps, errs := cl.Batch(ctx, append([][]string{{"/system/identity/print"}}, ext...)...)
	if errs[0] != nil {
		cl.Close()
		return &stepError{step: StepVerify, err: fmt.Errorf("onboard: read through the tunnel: %w", errs[0]),
			try: "the API did not answer through the tunnel: check /ip service address and the user's allowed address"}
	}
	if e.orig == nil {
		e.orig = e.cl
	} else if e.cl != nil {
		e.cl.Close()
	}
	e.cl, e.viaTunnel = cl, true
	e.emit(Event{Step: StepVerify, Kind: KindDone, Message: "the API answered through the tunnel (" + first(rowsOf(reps[0]))["name"] + ")", Elapsed: e.now().Sub(start)})
	if err := e.extended(a, StepHarden, fire, reps[1:], errs[1:]); err != nil {
		return &stepError{step: StepHarden, err: err, try: "rerun with a longer --confirm-timeout"}
	}
	return nil
}

// tunnelAddr is the API address inside the tunnel.
func (e *Engine) tunnelAddr() string {
	d := e.plan.Decision
	return net.JoinHostPort(d.RouterAddr.Addr().String(), strconv.Itoa(int(d.UsePort)))
}

// wanProbe confirms a new WAN connection gets no answer, when this run can
// reach the router over the WAN: its own address is a WAN address, or the
// handshake sent to it came in on the WAN (via).
func (e *Engine) wanProbe(ctx context.Context, via string) error {
	target := e.o.WANProbe
	if target == "" && (e.isWANHost(e.host) || via == "wan" && e.verifiedAtHost()) {
		target = e.addr
	}
	if target == "" {
		e.emit(Event{Step: StepReverify, Kind: KindInfo, Message: "this run reached the router from the LAN: the WAN drop rests on the firewall evaluator"})
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, wanProbeTimeout)
	defer cancel()
	cl, err := routeros.Dial(pctx, routeros.Config{Addr: target, TLS: !e.o.Plain, Fingerprint: e.fingerprint,
		User: e.o.User, Password: e.o.Password, Dial: e.o.Dial, Timeout: wanProbeTimeout, Logf: e.logf})
	if err == nil {
		cl.Close()
		return fmt.Errorf("onboard: the API still answers a new connection from the WAN at %s", target)
	}
	e.emit(Event{Step: StepReverify, Kind: KindDone, Message: "a new WAN connection to " + target + " gets no answer"})
	return nil
}

// configPath is where the technician's wg-quick file goes: next to the
// journal, named so that `wg-quick up FILE` takes it (an interface name of
// at most 15 characters: the interface's name and the start of the run id,
// which is 32 hex digits whole).
func (e *Engine) configPath(ifName string) string {
	run := e.run
	if len(run) > 8 {
		run = run[:8]
	}
	return filepath.Join(filepath.Dir(journalPath(e.o.StateDir, e.addr)), vpn.QuickFileName(ifName+"-"+run))
}

// recordTunnel writes the technician's wg-quick file and records the
// tunnel in the journal, so a later run can come back through it when the
// original path is closed.
func (e *Engine) recordTunnel(a *applyRun) error {
	d := e.plan.Decision
	endpoint := net.JoinHostPort(d.Endpoint, strconv.Itoa(d.ListenPort))
	qc := vpn.QuickFromConfig(vpn.Config{PrivateKey: e.key, Address: d.LocalAddr, Peer: vpn.Peer{PublicKey: e.routerPub,
		AllowedIPs: []netip.Prefix{netip.PrefixFrom(d.RouterAddr.Addr(), 32)}, Keepalive: defaultKeepSec * time.Second}}, endpoint)
	path := ""
	if e.o.StateDir != "" {
		path = e.configPath(d.IfName)
		if err := vpn.WriteQuick(path, qc); err != nil {
			return fmt.Errorf("onboard: write the technician's config: %w", err)
		}
	}
	a.j.Tunnel = &TunnelInfo{RouterAddr: e.tunnelAddr(), VerifyEndpoint: e.verifyEP.String(), ConfigPath: path}
	e.save(a)
	return nil
}

// commit disarms the safety net and writes the summary.
func (e *Engine) commit(ctx context.Context, a *applyRun, p *Plan, via string, hardened bool) (*Summary, error) {
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
	if !hardened {
		sum.Changes = 0
		for _, o := range a.j.Ops {
			if o.Done {
				sum.Changes++
			}
		}
	}
	a.j.Summary = sum
	e.save(a)
	if e.o.StateDir != "" {
		b := summaryText(sum, hardened)
		if err := writeFileAtomic(filepath.Join(filepath.Dir(journalPath(e.o.StateDir, e.addr)), "summary.txt"), []byte(b)); err != nil {
			return nil, err
		}
	}
	e.emit(Event{Step: StepCommit, Kind: KindDone, Message: "onboarded: " + sum.Identity + " through " + sum.RouterTunnel, Summary: sum, Elapsed: e.now().Sub(a.started)})
	return sum, nil
}

// disarm removes the boot scheduler, the script and last the timer, in one
// round trip. An id the journal lacks (its reply was lost) is found by its
// tag first. With strict, a timer already gone means it fired: errFired.
func (e *Engine) disarm(ctx context.Context, cl session, j *Journal, strict bool) error {
	items := []struct {
		menu, key string
		id        *string
	}{{"/system/scheduler", "undo-boot", &j.Net.Boot}, {"/system/script", "undo", &j.Net.Script}, {"/system/scheduler", "undo-timer", &j.Net.Timer}}
	var finds [][]string
	var which []int
	for i, x := range items {
		if *x.id == "" {
			finds = append(finds, []string{x.menu + "/print", "?comment=" + tag(j.RunID, x.key), "=.proplist=.id"})
			which = append(which, i)
		}
	}
	if len(finds) > 0 {
		reps, errs := cl.Batch(ctx, finds...)
		for k, i := range which {
			if errs[k] != nil {
				return fmt.Errorf("onboard: disarm: find %s %s: %w", items[i].menu, tag(j.RunID, items[i].key), errs[k])
			}
			var found []string
			for _, r := range reps[k].Re {
				found = append(found, r[".id"])
			}
			*items[i].id = strings.Join(found, ",")
		}
	}
	if strict && j.Net.Timer == "" {
		return fmt.Errorf("onboard: the confirm window ran out before wgboot finished: %w", errFired)
	}
	// The one-shot timer goes last, in a round trip of its own (the router
	// may run one batch's commands in any order): until it is gone, a lost
	// connection still ends in a full rollback rather than a half-disarmed
	// router.
	for _, wave := range [][]int{{0, 1}, {2}} {
		var cmds [][]string
		var sent []int
		for _, i := range wave {
			if id := *items[i].id; id != "" {
				cmds = append(cmds, []string{items[i].menu + "/remove", "=numbers=" + id})
				sent = append(sent, i)
			}
		}
		if len(cmds) == 0 {
			continue
		}
		_, errs := cl.Batch(ctx, cmds...)
		for k, i := range sent {
			err := errs[k]
			if err == nil {
				continue
			}
			if routeros.IsNotFound(err) {
				if strict && items[i].key == "undo-timer" {
					return fmt.Errorf("onboard: the confirm window ran out before wgboot finished: %w", errFired)
				}
				continue
			}
			return fmt.Errorf("onboard: disarm: remove %s %s: %w", items[i].menu, *items[i].id, err)
		}
	}
	step := StepRollback
	if strict {
		step = StepCommit
	}
	e.removeRunFiles(ctx, cl, step, j.RunID)
	j.Net.Disarmed = true
	return nil
}

func summaryText(s *Summary, hardened bool) string {
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
	if !hardened {
		b.WriteString("not hardened: the API is still open on the WAN as it was\n")
	}
	fmt.Fprintf(&b, "reconnect: %s\nundo: %s\n", s.Reconnect, s.Undo)
	return b.String()
}

// undoAfterFailure undoes the run in reverse order through whatever path
// works: the session in use, a new session on the original path, or the
// armed script on the router.
func (e *Engine) undoAfterFailure(ctx context.Context, a *applyRun, se *stepError) *FailureInfo {
	info := &FailureInfo{What: fmt.Sprintf("%s failed: %v", se.step, se.err), Try: se.try}
	// The caller's ctx may be what failed (interrupt): undo on our own clock.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*callTimeout)
	defer cancel()
	e.emit(Event{Step: StepRollback, Kind: KindStarted, Message: "undoing the changes"})
	undone, err := e.undo(uctx, a.j)
	info.Undone = undone
	if err != nil {
		info.Diagnostics = err.Error()
		if a.j.Net.Timer != "" && !a.j.Net.Disarmed {
			info.Try = strings.TrimSpace(info.Try + "; the router could not be reached to undo the changes: its armed scheduler restores it by itself at " + a.j.Net.Deadline + " (router clock)")
		}
		e.emit(Event{Step: StepRollback, Kind: KindFailed, Message: err.Error()})
		return info
	}
	a.j.State = StateRolledBack
	if a.j.Tunnel != nil {
		// The peer is gone from the router: the key file is useless, and
		// the original path is open again.
		if a.j.Tunnel.ConfigPath != "" {
			os.Remove(a.j.Tunnel.ConfigPath)
		}
		a.j.Tunnel = nil
	}
	e.emit(Event{Step: StepRollback, Kind: KindDone, Message: fmt.Sprintf("undid %d changes", len(undone))})
	return info
}

// undo reverts the journal's ops in reverse order, then removes the safety
// net. It tries the current session first, then a new one.
//
// Long because: each op's undo is guarded by the row check (a set or move
// is replayed only while the row reads as wgboot left it) and by the
// session fallback, and the order of those checks is what keeps an undo
// from rewriting a row that someone changed since; splitting it would
// spread one invariant over several functions.
func (e *Engine) undo(ctx context.Context, j *Journal) ([]string, error) {
	// reopened: the WAN path was proven open again (on any session).
	hardened := slices.ContainsFunc(j.Ops, func(o JournalOp) bool { return hardenOp(&o) && o.Sent })
	reopened := false
	try := func(cl session) ([]string, error) {
		// Best effort: an op the router refuses does not stop the others;
		// the safety net then stays armed so the router finishes the job.
		// Two exceptions keep the technician's ways in. The WAN drop goes
		// first (the ops are undone in reverse and hardening came last):
		// while any of it stays, or the original path does not answer once
		// it is gone, nothing else is touched, the tunnel least of all
		// (errStopped). And an item whose old values cannot be put back
		// keeps what it depends on (the address-list entries a moved rule
		// matches now, the old-values record).
		var undone []string
		var errs []error
		held := map[string]string{}
		for i := len(j.Ops) - 1; i >= 0; i-- {
			jo := &j.Ops[i]
			if !jo.Sent || jo.Undone {
				continue
			}
			if hardened && !reopened && !hardenOp(jo) {
				if len(errs) > 0 {
					return undone, fmt.Errorf("onboard: %w: the WAN drop could not be removed, so the tunnel stays the way in: %w", errStopped, errors.Join(errs...))
				}
				if cl == e.cl && e.viaTunnel {
					// Proof that the WAN path is open again: a new session
					// on it, which also carries the rest (removing the
					// tunnel through the tunnel loses the reply).
					ocl, err := e.dialQuick(ctx)
					if err != nil {
						return undone, fmt.Errorf("onboard: %w: the WAN drop is gone but %s gives no answer (%w), so the tunnel stays the way in: run wgboot rollback again from where %s answers", errStopped, e.addr, err, e.addr)
					}
					e.cl.Close()
					e.cl, e.viaTunnel, cl = ocl, false, ocl
				}
				reopened = true
			}
			if tunnelOp(jo) && cl == e.cl && e.viaTunnel {
				// Removing the tunnel through the tunnel loses the reply:
				// the WAN drop is gone by now, so finish on the original path.
				if ocl, err := e.dialQuick(ctx); err == nil {
					e.cl.Close()
					e.cl, e.viaTunnel, cl = ocl, false, ocl
				}
			}
			if why, ok := held[jo.Key]; ok && jo.Verb == "add" {
				errs = append(errs, fmt.Errorf("onboard: kept %s: %s", jo.Desc, why))
				continue
			}
			if err := undoOp(ctx, cl, j.RunID, jo); err != nil {
				errs = append(errs, err)
				if errors.Is(err, routeros.ErrBroken) || errors.Is(err, routeros.ErrClosed) {
					break
				}
				for _, d := range jo.Deps {
					held[d] = jo.Desc + " was not restored and still depends on it"
				}
				continue
			}
			jo.Undone = true
			undone = append(undone, jo.Desc)
		}
		if len(errs) > 0 {
			return undone, errors.Join(errs...)
		}
		if !j.Net.Disarmed {
			if err := e.disarm(ctx, cl, j, false); err != nil {
				return undone, err
			}
		}
		return undone, nil
	}
	var all []string
	var errs []error
	for _, cl := range []session{e.cl, e.orig} {
		if cl == nil {
			continue
		}
		u, err := try(cl)
		all = append(all, u...)
		if err == nil {
			return all, nil
		}
		if permanentUndo(err) {
			// Another session gets the same answer.
			return all, err
		}
		errs = append(errs, err)
	}
	cl, err := e.reconnect(ctx)
	if err != nil {
		return all, errors.Join(append(errs, err)...)
	}
	if e.cl != nil {
		e.cl.Close()
	}
	e.cl = cl
	u, err := try(cl)
	all = append(all, u...)
	if err != nil {
		return all, errors.Join(append(errs, err)...)
	}
	return all, nil
}

// permanentUndo reports whether an undo failed on what the router holds
// rather than on the way to it.
func permanentUndo(err error) bool {
	return errors.Is(err, errStopped) || errors.Is(err, errRowChanged)
}

// hardenOp reports whether jo is part of the WAN drop (a journal rebuilt
// from tags knows it by its key only).
func hardenOp(jo *JournalOp) bool {
	return jo.Step == StepHarden || jo.Verb == "add" && strings.HasPrefix(jo.Key, "harden")
}

// tunnelOp reports whether undoing jo cuts the tunnel.
func tunnelOp(jo *JournalOp) bool {
	return jo.Verb == "add" && (jo.Key == "wg-interface" || jo.Key == "wg-peer" || jo.Key == "wg-address")
}

// dialQuick opens a session on the original path with a short deadline.
func (e *Engine) dialQuick(ctx context.Context) (session, error) {
	qctx, cancel := context.WithTimeout(ctx, wanProbeTimeout)
	defer cancel()
	return e.dial(qctx, e.addr, e.o.Dial)
}

// reconnect opens a new session on the original path, else through the
// tunnel when the local peer is up.
func (e *Engine) reconnect(ctx context.Context) (session, error) {
	cl, err := e.dial(ctx, e.addr, e.o.Dial)
	if err == nil {
		return cl, nil
	}
	if e.local != nil && e.plan != nil {
		d := e.plan.Decision
		addr := net.JoinHostPort(d.RouterAddr.Addr().String(), strconv.Itoa(int(d.UsePort)))
		tcl, terr := e.dial(ctx, addr, e.local.DialContext)
		if terr == nil {
			return tcl, nil
		}
		err = errors.Join(err, terr)
	}
	return nil, err
}

// undoOp reverts one op: an add is removed by its id (or its tag when the
// reply was lost), a set gets its old values back, a move goes back.
func undoOp(ctx context.Context, cl session, run string, jo *JournalOp) error {
	menu := jo.Menu
	switch jo.Verb {
	case "add":
		ids := []string{}
		rep, err := cl.Run(ctx, apiPath(menu, "print"), "?comment="+tag(run, jo.Key), "=.proplist=.id")
		if err != nil {
			return fmt.Errorf("onboard: undo %s: %w", jo.Desc, err)
		}
		for _, r := range rep.Re {
			ids = append(ids, r[".id"])
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := cl.Run(ctx, apiPath(menu, "remove"), "=numbers="+strings.Join(ids, ",")); err != nil {
			return fmt.Errorf("onboard: undo %s: %w", jo.Desc, err)
		}
	case "set":
		if err := rowStill(ctx, cl, jo); errors.Is(err, errRestored) {
			return nil
		} else if err != nil {
			return err
		}
		for _, w := range setWords(menu, jo.ID, jo.Old) {
			if _, err := cl.Run(ctx, w...); err != nil {
				return fmt.Errorf("onboard: undo %s: %w", jo.Desc, err)
			}
		}
	case "move":
		if err := rowStill(ctx, cl, jo); err != nil {
			return err
		}
		w := []string{apiPath(menu, "move"), "=numbers=" + jo.ID}
		if jo.OldNext != "" {
			w = append(w, "=destination="+jo.OldNext)
		}
		if _, err := cl.Run(ctx, w...); err != nil {
			return fmt.Errorf("onboard: undo %s: %w", jo.Desc, err)
		}
	}
	return nil
}

// Rollback removes what wgboot created on the router and restores what it
// modified, from the journal when there is one of this router (else from
// the tags and the old values kept on the router).
//
// A rollback is itself a change that can be cut off midway, so it runs
// like an Apply: when no safety net of the run is armed (the run was
// committed), it first arms a fresh one, built by the same code from the
// ops left to undo, whose one-shot timer finishes the rollback if wgboot
// disappears. Then it reopens the WAN path (removes the drop rules) and
// proves it with a new session on the original path; only then does it
// touch the rest, the tunnel last. If the drop cannot be removed or the
// path stays closed, it stops with the tunnel in place, disarms the net
// (which would otherwise remove the tunnel later) and fails: the router
// never ends with the WAN closed and the tunnel gone.
func (e *Engine) Rollback(ctx context.Context) error {
	if e.cl == nil && e.orig == nil && e.router == nil {
		return errors.New("onboard: rollback before connect")
	}
	// Every rollback that started ends with a final event: the paths
	// below that return an error without one (a journal that does not
	// read, a router that does not answer) get it here.
	e.rollbackEnded = false
	err := e.rollback(ctx)
	if err != nil && !e.rollbackEnded {
		e.emit(Event{Step: StepRollback, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: "rollback failed", Diagnostics: err.Error(),
			Try: "run wgboot rollback again; the router's own safety net, if armed, still rolls back at its deadline"}})
	}
	return err
}

// rollback is Rollback's body, in the order its doc gives.
//
// Long because: the doc of Rollback is the order, and every early return
// in it is a point where the router must be left reachable; the phases
// (find the journal, arm, reopen and prove the WAN, undo the rest) are
// kept in one place so that order can be checked by reading it.
func (e *Engine) rollback(ctx context.Context) error {
	start := e.now()
	e.emit(Event{Step: StepRollback, Kind: KindStarted, Message: "rolling back wgboot's changes on " + e.addr})
	j, err := ReadJournal(e.o.StateDir, e.addr)
	if err != nil {
		return err
	}
	r, err := e.inspectOrRedial(ctx, j)
	if err != nil {
		return err
	}
	e.router = r
	jpath := journalPath(e.o.StateDir, e.addr)
	if j != nil && !e.owns(j, r) {
		err := fmt.Errorf("onboard: the journal in %s (run %s) was written for %s (%s), not this router %s (%s): remove it or use the right --state-dir",
			jpath, j.RunID, j.Router, j.Identity, e.addr, r.Identity)
		e.emit(Event{Step: StepRollback, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: err.Error(), Try: "nothing was changed on the router"}})
		return err
	}
	run := r.taggedRun()
	if run == "" {
		e.emit(Event{Step: StepRollback, Kind: KindDone, Message: "nothing of wgboot's on this router"})
		return nil
	}
	if j == nil || j.RunID != run {
		j = nil
		if jj, p, err := findJournal(e.o.StateDir, run, func(x *Journal) bool { return e.owns(x, r) }); err == nil && jj != nil {
			j, jpath = jj, p
		}
	}
	fromTags := j == nil
	if fromTags {
		if err := e.readOldValuesSource(ctx, run); err != nil {
			e.emit(Event{Step: StepRollback, Kind: KindWarning, Message: err.Error()})
		}
		j = e.journalFromTags(run)
		msg := "no journal of this router for run " + run + " in the state dir: removing its tagged objects"
		switch {
		case slices.ContainsFunc(j.Ops, func(o JournalOp) bool { return o.Verb == "set" || o.Verb == "move" }):
			msg += " and restoring what it modified from the old values kept on the router"
		case slices.ContainsFunc(j.Ops, func(o JournalOp) bool { return strings.HasPrefix(o.Key, "src-") }):
			// A rule was moved to the address list by a run older than
			// the old-values record: its old sources are in that list only.
			msg += "; the run kept no old values on the router: API rules it moved to the address list " + vpnList + " keep matching it"
		}
		e.emit(Event{Step: StepRollback, Kind: KindWarning, Message: msg})
	}
	// Peers added after the onboarding (wgboot peer add) are not in its
	// journal: they carry its tag and go first.
	j.Ops = append(j.Ops, addedPeerOps(e.router, j.RunID, j.Ops)...)
	var later []JournalOp
	j.Ops, later = e.viaSplit(j.Ops)
	for i := range j.Ops {
		j.Ops[i].Sent, j.Ops[i].Undone = true, false
	}
	if timer, script, boot := r.netOf(run); timer != "" {
		// A net of this run is armed on the router (an earlier rollback
		// or apply cut off): it finishes the job if this one is cut off
		// too, and is removed at the end like any net.
		j.Net.Timer, j.Net.Script, j.Net.Boot, j.Net.Disarmed = timer, script, boot, false
	} else {
		// No net on the router, whatever the journal says (it fired, or
		// the commit removed it): a fresh one first.
		if script != "" || boot != "" {
			// What an arm cut short left: it would clash with the new
			// net's names, and without its timer it guards nothing.
			stray := &Journal{RunID: run, Net: SafetyNet{Script: script, Boot: boot}}
			if err := e.disarm(ctx, e.cl, stray, false); err != nil {
				e.emit(Event{Step: StepRollback, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: "rollback not started", Diagnostics: err.Error(), Try: "nothing of the onboarding was undone; run wgboot rollback again"}})
				return err
			}
		}
		if err := e.armRollback(ctx, j); err != nil {
			e.emit(Event{Step: StepRollback, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: "rollback not started", Diagnostics: err.Error(),
				Try: "nothing of the onboarding was undone; check that the user may write /system script and /system scheduler, then run wgboot rollback again"}})
			return err
		}
	}
	undone, err := e.undo(ctx, j)
	if err == nil {
		undone, err = e.finishVia(ctx, j, later, undone)
	}
	if err != nil {
		try := "run wgboot rollback again, through the tunnel if the WAN is closed"
		if permanentUndo(err) {
			// Left armed, the net would do what wgboot just refused to:
			// remove the tunnel, or replay old values over a changed rule.
			if derr := e.disarm(ctx, e.cl, j, false); derr != nil {
				err = errors.Join(err, fmt.Errorf("onboard: the safety net of the rollback is still armed and finishes the rollback at %s (router clock): %w", j.Net.Deadline, derr))
			}
			try = "the router keeps what could not be undone, and the tunnel if it was not removed: fix the cause named above, then run wgboot rollback again"
		} else if !j.Net.Disarmed && j.Net.Deadline != "" {
			try = "the router finishes the rollback by itself at " + j.Net.Deadline + " (router clock), or run wgboot rollback again"
		}
		j.Updated = e.now()
		if werr := writeJournal(e.o.StateDir, j); werr != nil {
			e.emit(Event{Step: StepRollback, Kind: KindWarning, Message: werr.Error()})
		}
		e.emit(Event{Step: StepRollback, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: "rollback failed", Undone: undone, Diagnostics: err.Error(), Try: try}})
		return err
	}
	// A committed run's files went at its commit, unless an older wgboot
	// left them (its unencrypted backup among them).
	e.removeRunFiles(ctx, e.cl, StepRollback, j.RunID)
	j.State = StateRolledBack
	j.Updated = e.now()
	if err := writeJournal(e.o.StateDir, j); err != nil {
		return err
	}
	if !fromTags && j.Tunnel != nil && j.Tunnel.ConfigPath != "" && filepath.Dir(j.Tunnel.ConfigPath) == filepath.Dir(jpath) {
		// The key is useless once the peer is gone from the router. Only
		// the file beside this router's journal: a path in a journal is
		// not trusted to name this router's file.
		os.Remove(j.Tunnel.ConfigPath)
	}
	e.removePeerConfigs(j.Ops)
	e.emit(Event{Step: StepRollback, Kind: KindDone, Message: fmt.Sprintf("rolled back run %s (%d changes)", j.RunID, len(undone)), Elapsed: e.now().Sub(start)})
	return nil
}

// owns reports whether j was written for the router at hand: the same
// identity, reached at the same address or at the tunnel address the
// journal recorded.
func (e *Engine) owns(j *Journal, r *Router) bool {
	if j.Identity != r.Identity {
		return false
	}
	return j.Router == e.addr || j.Tunnel != nil && j.Tunnel.RouterAddr == e.addr
}

// armRollback arms a fresh safety net for a rollback, with the same code
// (and so the same undo script) as an Apply: the run's id and the ops left
// to undo stand in for the plan while it runs.
func (e *Engine) armRollback(ctx context.Context, j *Journal) error {
	var ops []op
	for _, jo := range j.Ops {
		if jo.Sent && !jo.Undone {
			ops = append(ops, jo.op())
		}
	}
	if len(ops) == 0 {
		return nil
	}
	ct := e.o.Settings.ConfirmTimeout
	run, plan := e.run, e.plan
	e.run, e.plan = j.RunID, &planned{Ops: ops, settings: Settings{ConfirmTimeout: ct}}
	defer func() { e.run, e.plan = run, plan }()
	j.Net = SafetyNet{}
	a := &applyRun{j: j, ids: map[string]string{}, started: e.now()}
	if err := e.arm(ctx, a, &Plan{Settings: Settings{ConfirmTimeout: ct}}); err != nil {
		// Whatever part of the net did land goes again.
		if derr := e.disarm(ctx, e.cl, j, false); derr != nil {
			err = errors.Join(err, derr)
		}
		return fmt.Errorf("onboard: rollback: arm the safety net first: %w", err)
	}
	return nil
}

// inspectOrRedial reads the router on the engine's session, or on a new
// one when that session is gone (a cancelled Apply leaves a tunnel session
// whose local peer is down): through the tunnel first when the journal
// says the WAN is closed, else on the original path, then the other way.
func (e *Engine) inspectOrRedial(ctx context.Context, j *Journal) (*Router, error) {
	if e.cl != nil {
		r, err := inspect(ctx, e.cl)
		var de *routeros.DeviceError
		if err == nil || errors.As(err, &de) || ctx.Err() != nil {
			return r, err
		}
		e.logf("onboard: rollback: the session is gone (%v): dialling again", err)
		e.cl.Close()
		e.cl, e.viaTunnel = nil, false
	}
	closed := j != nil && j.Tunnel != nil && (j.State == StateHardened ||
		j.State == StateCommitted && slices.ContainsFunc(j.Ops, func(o JournalOp) bool { return o.Step == StepHarden && o.Done }))
	viaTunnel := func() error {
		if e.local != nil {
			cl, err := e.dial(ctx, j.Tunnel.RouterAddr, e.local.DialContext)
			if err == nil {
				e.cl, e.viaTunnel = cl, true
				return nil
			}
			e.closeLocal()
		}
		return e.connectViaTunnel(ctx)
	}
	direct := func() error {
		cl, err := e.dial(ctx, e.addr, e.o.Dial)
		if err != nil {
			return fmt.Errorf("onboard: connect to %s: %w", e.addr, err)
		}
		if e.orig != nil {
			e.orig.Close()
			e.orig = nil
		}
		e.cl, e.viaTunnel = cl, false
		return nil
	}
	ways := []func() error{direct}
	if j != nil && j.Tunnel != nil {
		ways = append(ways, viaTunnel)
		if closed {
			ways[0], ways[1] = viaTunnel, direct
		}
	}
	var errs []error
	for _, way := range ways {
		err := way()
		if err == nil {
			return inspect(ctx, e.cl)
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// journalFromTags rebuilds a journal from the router's tagged objects and
// the old-values record: the adds first, then the record, then the sets
// and moves it describes, the WAN drop last (the undo goes in reverse).
func (e *Engine) journalFromTags(run string) *Journal {
	j := &Journal{Router: e.addr, Identity: e.router.Identity, RunID: run, State: StateCommitted}
	menus := []struct {
		menu string
		rows []Row
	}{
		{"/interface wireguard", e.router.WireGuard}, {"/ip address", e.router.Addresses}, {"/interface wireguard peers", e.router.Peers},
		{"/ip firewall address-list", e.router.AddressLists}, {"/ip firewall filter", e.router.Filter}, {"/ipv6 firewall filter", e.router.Filter6},
	}
	var harden []JournalOp
	for _, m := range menus {
		for _, r := range m.rows {
			key, ok := strings.CutPrefix(r["comment"], tagPrefix+run+" ")
			if !ok || slices.ContainsFunc(append(j.Ops, harden...), func(o JournalOp) bool { return o.Menu == m.menu && o.Key == key }) {
				continue
			}
			jo := JournalOp{Key: key, Step: StepApply, Menu: m.menu, Verb: "add", Desc: m.menu + " " + key}
			if hardenOp(&jo) {
				jo.Step = StepHarden
				harden = append(harden, jo)
				continue
			}
			j.Ops = append(j.Ops, jo)
		}
	}
	for _, s := range e.router.Scripts {
		if s["comment"] == tag(run, oldValuesKey) {
			j.Ops = append(j.Ops, JournalOp{Key: oldValuesKey, Step: StepApply, Menu: "/system script", Verb: "add", Desc: "the old values of what run " + run + " modified"})
			j.Ops = append(j.Ops, readOldValues(s["source"])...)
			break
		}
	}
	j.Ops = append(j.Ops, harden...)
	for _, s := range e.router.Schedulers {
		switch s["comment"] {
		case tag(run, "undo-timer"):
			j.Net.Timer = s[".id"]
		case tag(run, "undo-boot"):
			j.Net.Boot = s[".id"]
		}
	}
	for _, s := range e.router.Scripts {
		if s["comment"] == tag(run, "undo") {
			j.Net.Script = s[".id"]
		}
	}
	return j
}
