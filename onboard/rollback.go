// Rollback: undoing a failed step, rolling back a journal (or the router's tags when there is
// no journal), and re-arming the safety net for a rollback after commit.

package onboard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/wgboot/wgboot/routeros"
)

// undoAfterFailure undoes the run in reverse order through whatever path
// works: the session in use, a new session on the original path, or the
// armed script on the router.
func (e *Engine) undoAfterFailure(ctx context.Context, a *applyRun, se *stepError) *FailureInfo {
	info := &FailureInfo{What: fmt.Sprintf("%s failed: %v", se.step, se.err), Try: se.try, Kind: KindOf(se)}
	if se.hint != nil {
		info.Hint, info.Try = se.hint.with(""), se.hint.Text(nil)
	}
	// The caller's ctx may be what failed (interrupt): undo on our own clock.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*callTimeout)
	defer cancel()
	e.emit(Event{Step: StepRollback, Kind: KindStarted, Message: "undoing the changes"})
	undone, err := e.undo(uctx, a.j)
	info.Undone = undone
	if err != nil {
		info.Diagnostics = err.Error()
		if a.j.Net.Timer != "" && !a.j.Net.Disarmed {
			more := "; the router could not be reached to undo the changes: its armed scheduler restores it by itself at " + a.j.Net.Deadline + " (router clock)"
			info.Try = strings.TrimSpace(info.Try + more)
			if info.Hint != nil {
				info.Hint = info.Hint.with(more)
			}
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
// net. It tries the current session first, then the original one, then a
// new one; each try is one undoPass over what is not undone yet.
func (e *Engine) undo(ctx context.Context, j *Journal) ([]string, error) {
	u := &undoPass{e: e, j: j, hardened: slices.ContainsFunc(j.Ops, func(o JournalOp) bool { return hardenOp(&o) && o.Sent })}
	var all []string
	var errs []error
	for _, cl := range []session{e.cl, e.orig} {
		if cl == nil {
			continue
		}
		done, err := u.run(ctx, cl)
		all = append(all, done...)
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
	done, err := u.run(ctx, cl)
	all = append(all, done...)
	if err != nil {
		return all, errors.Join(append(errs, err)...)
	}
	return all, nil
}

// undoPass is one undo of a journal, over as many sessions as it takes.
// Best effort: an op the router refuses does not stop the others; the
// safety net then stays armed so the router finishes the job. Two
// exceptions keep the technician's ways in. The WAN drop goes first (the
// ops are undone in reverse and hardening came last): while any of it
// stays, or the original path does not answer once it is gone, nothing
// else is touched, the tunnel least of all (errStopped). And an item whose
// old values cannot be put back keeps what it depends on (the address-list
// entries a moved rule matches now, the old-values record). Each op's undo
// is also guarded by the row check of undoOp (a set or move is replayed
// only while the row reads as wgboot left it).
type undoPass struct {
	e        *Engine
	j        *Journal
	hardened bool // the run's WAN drop was sent
	reopened bool // the WAN path was proven open again (on any session)
}

// run undoes on cl what is not undone yet, then disarms the net.
func (u *undoPass) run(ctx context.Context, cl session) ([]string, error) {
	e, j := u.e, u.j
	var undone []string
	var errs []error
	held := map[string]string{}
	for i := len(j.Ops) - 1; i >= 0; i-- {
		jo := &j.Ops[i]
		if !jo.Sent || jo.Undone {
			continue
		}
		if u.hardened && !u.reopened && !hardenOp(jo) {
			if len(errs) > 0 {
				return undone, fmt.Errorf("onboard: %w: the WAN drop could not be removed, so the tunnel stays the way in: %w", errStopped, errors.Join(errs...))
			}
			var err error
			if cl, err = u.reopen(ctx, cl); err != nil {
				return undone, err
			}
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

// reopen is called once the WAN drop is undone, before anything else is:
// on a session through the tunnel it proves the WAN path open again with a
// new session on it, which then carries the rest (removing the tunnel
// through the tunnel loses the reply). It returns the session to go on with.
func (u *undoPass) reopen(ctx context.Context, cl session) (session, error) {
	e := u.e
	if cl == e.cl && e.viaTunnel {
		ocl, err := e.dialQuick(ctx)
		if err != nil {
			return cl, fmt.Errorf("onboard: %w: the WAN drop is gone but %s gives no answer (%w), so the tunnel stays the way in: run wgboot rollback again from where %s answers", errStopped, e.addr, err, e.addr)
		}
		e.cl.Close()
		e.cl, e.viaTunnel, cl = ocl, false, ocl
	}
	u.reopened = true
	return cl, nil
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
		e.emit(Event{Step: StepRollback, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{Kind: KindOf(err), What: "rollback failed", Diagnostics: err.Error(),
			Try: "run wgboot rollback again; the router's own safety net, if armed, still rolls back at its deadline"}})
	}
	return err
}

// rollback is Rollback's body, in the order its doc gives: find what to
// undo (the journal, or the router's tags), make sure a safety net is armed
// for it, undo (the WAN drop first, then the rest), and record the end.
// Every early return leaves the router reachable.
func (e *Engine) rollback(ctx context.Context) error {
	start := e.now()
	e.emit(Event{Step: StepRollback, Kind: KindStarted, Message: "rolling back wgboot's changes on " + e.addr})
	j, jpath, fromTags, err := e.rollbackJournal(ctx)
	if err != nil || j == nil {
		return err
	}
	// Peers added after the onboarding (wgboot peer add) are not in its
	// journal: they carry its tag and go first.
	j.Ops = append(j.Ops, addedPeerOps(e.router, j.RunID, j.Ops)...)
	var later []JournalOp
	j.Ops, later = e.viaSplit(j.Ops)
	for i := range j.Ops {
		j.Ops[i].Sent, j.Ops[i].Undone = true, false
	}
	if err := e.rollbackNet(ctx, j); err != nil {
		return err
	}
	undone, err := e.undo(ctx, j)
	if err == nil {
		undone, err = e.finishVia(ctx, j, later, undone)
	}
	if err != nil {
		return e.rollbackFailed(ctx, j, undone, err)
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

// rollbackFailure emits the rollback's failed event and returns err.
func (e *Engine) rollbackFailure(err error, what, try string, undone []string) error {
	e.emit(Event{Step: StepRollback, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{Kind: KindOf(err), What: what, Undone: undone, Diagnostics: err.Error(), Try: try}})
	return err
}

// rollbackJournal reads the router and finds what to undo there: this
// router's journal of the run tagged on it, or a journal rebuilt from the
// tags. It returns a nil journal (after a done event) when nothing of
// wgboot's is on the router, and refuses a journal of another router.
func (e *Engine) rollbackJournal(ctx context.Context) (j *Journal, jpath string, fromTags bool, err error) {
	j, err = ReadJournal(e.o.StateDir, e.addr)
	if err != nil {
		return nil, "", false, err
	}
	r, err := e.inspectOrRedial(ctx, j)
	if err != nil {
		return nil, "", false, err
	}
	e.router = r
	jpath = journalPath(e.o.StateDir, e.addr)
	if j != nil && !e.owns(j, r) {
		err := fmt.Errorf("onboard: the journal in %s (run %s) was written for %s (%s), not this router %s (%s): remove it or use the right --state-dir",
			jpath, j.RunID, j.Router, j.Identity, e.addr, r.Identity)
		e.emit(Event{Step: StepRollback, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{Kind: KindOf(err), What: err.Error(), Try: "nothing was changed on the router"}})
		return nil, "", false, err
	}
	run := r.taggedRun()
	if run == "" {
		e.emit(Event{Step: StepRollback, Kind: KindDone, Message: "nothing of wgboot's on this router"})
		return nil, "", false, nil
	}
	if j == nil || j.RunID != run {
		j = nil
		if jj, p, err := findJournal(e.o.StateDir, run, func(x *Journal) bool { return e.owns(x, r) }); err == nil && jj != nil {
			j, jpath = jj, p
		}
	}
	if j != nil {
		return j, jpath, false, nil
	}
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
	return j, jpath, true, nil
}

// rollbackNet makes sure a safety net guards the rollback: a net of this
// run already armed on the router (an earlier rollback or apply cut off)
// finishes the job if this one is cut off too, and is removed at the end
// like any net; without one, a fresh one is armed first.
func (e *Engine) rollbackNet(ctx context.Context, j *Journal) error {
	run := j.RunID
	timer, script, boot := e.router.netOf(run)
	if timer != "" {
		j.Net.Timer, j.Net.Script, j.Net.Boot, j.Net.Disarmed = timer, script, boot, false
		return nil
	}
	// No net on the router, whatever the journal says (it fired, or the
	// commit removed it).
	if script != "" || boot != "" {
		// What an arm cut short left: it would clash with the new net's
		// names, and without its timer it guards nothing.
		stray := &Journal{RunID: run, Net: SafetyNet{Script: script, Boot: boot}}
		if err := e.disarm(ctx, e.cl, stray, false); err != nil {
			return e.rollbackFailure(err, "rollback not started", "nothing of the onboarding was undone; run wgboot rollback again", nil)
		}
	}
	if err := e.armRollback(ctx, j); err != nil {
		return e.rollbackFailure(err, "rollback not started",
			"nothing of the onboarding was undone; check that the user may write /system script and /system scheduler, then run wgboot rollback again", nil)
	}
	return nil
}

// rollbackFailed records an undo that did not finish: the journal keeps
// what is undone, and the failed event says what to try. A refusal on what
// the router holds disarms the net, which would otherwise do what wgboot
// just refused to.
func (e *Engine) rollbackFailed(ctx context.Context, j *Journal, undone []string, err error) error {
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
	return e.rollbackFailure(err, "rollback failed", try, undone)
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
