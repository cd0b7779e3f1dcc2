// The safety net: the router-side rollback scheduler armed before any risky change, extended
// while the run makes progress, and disarmed at commit; the router's clock in its own form.

package onboard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wgboot/wgboot/routeros"
)

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
	e.armedUntil(deadline)
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
	e.armedUntil(deadline)
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
