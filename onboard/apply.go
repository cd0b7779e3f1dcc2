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
	for _, o := range e.plan.Ops {
		a.j.Ops = append(a.j.Ops, JournalOp{Key: o.Key, Step: o.Step, Menu: o.Menu, Verb: o.Verb, ID: o.ID, Name: o.Name,
			Args: o.Args, Before: o.Before, Old: o.Old, OldNext: o.OldNext, Command: o.command(e.run), Inverse: o.inverse(e.run), Desc: o.Desc})
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

func (e *Engine) closeLocal() {
	if e.local != nil {
		e.local.Close()
		e.local = nil
	}
}

func (e *Engine) apply(ctx context.Context, a *applyRun, p *Plan) (*Summary, error) {
	d := e.plan.Decision
	// 1. Arm.
	if err := e.arm(ctx, a, p); err != nil {
		return nil, &stepError{step: StepArm, err: err, try: "check that the user may write /system script and /system scheduler (policy write, policy, test)"}
	}
	// 2. Router-side changes.
	start := e.now()
	e.emit(Event{Step: StepApply, Kind: KindStarted, Message: "applying the router-side changes"})
	if err := e.runOps(ctx, a, StepApply); err != nil {
		return nil, &stepError{step: StepApply, err: err, try: "read the router's message above; the router was restored"}
	}
	a.j.State = StateApplied
	e.save(a)
	e.emit(Event{Step: StepApply, Kind: KindDone, Message: "router side applied", Elapsed: e.now().Sub(start)})

	// 3. Tunnel.
	via, err := e.tunnelUp(ctx, a)
	if err != nil {
		return nil, &stepError{step: StepTunnel, err: err, try: "no WireGuard handshake usually means the UDP port is blocked or forwarded elsewhere on the way (CGNAT, a router in front): try --verify-endpoint with an address on the router's LAN"}
	}
	// 4. Verify.
	if err := e.verify(ctx, StepVerify); err != nil {
		return nil, &stepError{step: StepVerify, err: err, try: "the API did not answer through the tunnel: check /ip service address and the user's allowed address"}
	}
	// From here on the router is driven through the tunnel: hardening may
	// cut the session this run came in on (a WAN session with no accept
	// for established connections dies with the drop rule).
	if err := e.useTunnel(ctx); err != nil {
		return nil, &stepError{step: StepVerify, err: err}
	}
	// 5. Harden.
	hardened := false
	yes, err := e.confirm(ctx, Question{ID: "harden", Title: "Close the API on the WAN?",
		Detail: "The API answered through the tunnel. wgboot will now drop every API port arriving on the WAN.", Default: true})
	if err != nil {
		return nil, &stepError{step: StepHarden, err: err}
	}
	if yes {
		if err := e.checkArmed(ctx, a); err != nil {
			return nil, &stepError{step: StepHarden, err: err, try: "rerun with a longer --confirm-timeout"}
		}
		start := e.now()
		e.emit(Event{Step: StepHarden, Kind: KindStarted, Message: "closing the API on the WAN"})
		if err := e.runOps(ctx, a, StepHarden); err != nil {
			return nil, &stepError{step: StepHarden, err: err}
		}
		a.j.State = StateHardened
		e.save(a)
		e.emit(Event{Step: StepHarden, Kind: KindDone, Message: "API dropped on " + strings.Join(wanNames(d.WANs), ", "), Elapsed: e.now().Sub(start)})
		hardened = true
		// 6. Reverify.
		if err := e.verify(ctx, StepReverify); err != nil {
			return nil, &stepError{step: StepReverify, err: err}
		}
		if err := e.wanProbe(ctx); err != nil {
			return nil, &stepError{step: StepReverify, err: err, try: "a rule before wgboot's drop still accepts the API from the WAN; review /ip firewall filter"}
		}
	} else {
		e.emit(Event{Step: StepHarden, Kind: KindWarning, Message: "not hardened: the API stays open on the WAN as it was"})
	}
	// 7. Commit.
	if err := e.checkArmed(ctx, a); err != nil {
		return nil, &stepError{step: StepCommit, err: err, try: "rerun with a longer --confirm-timeout"}
	}
	sum, err := e.commit(ctx, a, p, via, hardened)
	if err != nil {
		return nil, &stepError{step: StepCommit, err: err}
	}
	return sum, nil
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

// undoScript is the RouterOS script that undoes the run: every inverse in
// reverse order, then it removes its schedulers and itself. It must run on
// a real router and in rossim's interpreter.
func undoScript(run string, ops []op) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":log warning \"wgboot: rolling back run %s\"\n", run)
	for i := len(ops) - 1; i >= 0; i-- {
		for _, line := range strings.Split(ops[i].inverse(run), "; ") {
			b.WriteString(line + "\n")
		}
	}
	fmt.Fprintf(&b, "/system scheduler remove %s\n", findTag(run, "undo-timer"))
	fmt.Fprintf(&b, "/system scheduler remove %s\n", findTag(run, "undo-boot"))
	fmt.Fprintf(&b, "/system script remove %s\n", findTag(run, "undo"))
	return b.String()
}

func (e *Engine) arm(ctx context.Context, a *applyRun, p *Plan) error {
	start := e.now()
	e.emit(Event{Step: StepArm, Kind: KindStarted, Message: "arming the automatic rollback"})
	name := "wgboot-undo-" + e.run
	a.j.Net.Name = name
	a.j.Net.Backup, a.j.Net.Export = "wgboot-"+e.run, "wgboot-"+e.run
	e.save(a)
	// Backup and export first; a router that refuses them (no disk space,
	// missing policy) is told to the technician but does not stop the run:
	// the undo script is the safety net.
	if _, err := e.cl.Run(ctx, "/system/backup/save", "=name="+a.j.Net.Backup, "=dont-encrypt=yes"); err != nil {
		e.emit(Event{Step: StepArm, Kind: KindWarning, Message: "backup not saved: " + err.Error()})
	}
	if _, err := e.cl.Run(ctx, "/export", "=file="+a.j.Net.Export); err != nil {
		e.emit(Event{Step: StepArm, Kind: KindWarning, Message: "export not saved: " + err.Error()})
	}
	src := undoScript(e.run, e.plan.Ops)
	a.j.Net.UndoLines = strings.Count(src, "\n")
	rep, err := e.cl.Run(ctx, "/system/clock/print")
	if err != nil || len(rep.Re) == 0 {
		return fmt.Errorf("onboard: arm: read the router's clock: %w", err)
	}
	now, err := routerClock(Row(rep.Re[0]))
	if err != nil {
		return err
	}
	fire := now.Add(p.Settings.ConfirmTimeout)
	a.j.Net.Deadline = fire.Format("2006-01-02 15:04:05")
	// The one-shot timer goes first and carries the whole undo inline: if
	// wgboot loses the router right after it, nothing else is left behind,
	// and whatever follows it is undone by it.
	rep, err = e.cl.Run(ctx, "/system/scheduler/add", "=name="+name, "=start-date="+fire.Format("2006-01-02"),
		"=start-time="+fire.Format("15:04:05"), "=interval=0s", "=on-event="+src, "=comment="+tag(e.run, "undo-timer"))
	if err != nil {
		return fmt.Errorf("onboard: arm: add the rollback scheduler: %w", err)
	}
	a.j.Net.Timer = rep.Done["ret"]
	e.save(a)
	rep, err = e.cl.Run(ctx, "/system/script/add", "=name="+name, "=source="+src, "=comment="+tag(e.run, "undo"))
	if err != nil {
		return fmt.Errorf("onboard: arm: add the undo script: %w", err)
	}
	a.j.Net.Script = rep.Done["ret"]
	e.save(a)
	// At boot the scheduler runs the script by name (most boards have no
	// battery clock, so the timer alone could miss a reboot).
	rep, err = e.cl.Run(ctx, "/system/scheduler/add", "=name="+name+"-boot", "=start-time=startup", "=interval=0s",
		"=on-event="+name, "=comment="+tag(e.run, "undo-boot"))
	if err != nil {
		return fmt.Errorf("onboard: arm: add the boot rollback scheduler: %w", err)
	}
	a.j.Net.Boot = rep.Done["ret"]
	e.save(a)
	deadline := e.now().Add(p.Settings.ConfirmTimeout)
	e.emit(Event{Step: StepArm, Kind: KindDone, Message: "armed: the router undoes everything at " + a.j.Net.Deadline + " (router clock) unless wgboot confirms",
		Deadline: &deadline, Elapsed: e.now().Sub(start)})
	return nil
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

// runOps sends the ops of one step in order, journalling each before it
// leaves. Adds that a later op places itself before return the id it needs,
// so commands go one at a time.
func (e *Engine) runOps(ctx context.Context, a *applyRun, step Step) error {
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
	rep, err := e.cl.Run(ctx, "/interface/wireguard/print", "?name="+d.IfName)
	if err != nil || len(rep.Re) == 0 {
		return "", fmt.Errorf("onboard: read the router's WireGuard public key: %w", err)
	}
	pub, err := wgtypes.ParseKey(rep.Re[0]["public-key"])
	if err != nil {
		return "", fmt.Errorf("onboard: the router's WireGuard public key %q: %w", rep.Re[0]["public-key"], err)
	}
	e.routerPub = pub
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
	via := "lan"
	if e.isWANHost(host) {
		via = "wan"
	}
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

// verify opens a new API session through the tunnel (TLS pinned to the same
// certificate), logs in and reads the identity.
func (e *Engine) verify(ctx context.Context, step Step) error {
	d := e.plan.Decision
	start := e.now()
	addr := net.JoinHostPort(d.RouterAddr.Addr().String(), strconv.Itoa(int(d.UsePort)))
	e.emit(Event{Step: step, Kind: KindStarted, Message: "new API session through the tunnel to " + addr})
	cl, err := e.dial(ctx, addr, e.local.DialContext)
	if err != nil {
		return fmt.Errorf("onboard: API through the tunnel (%s): %w", addr, err)
	}
	defer cl.Close()
	rep, err := cl.Run(ctx, "/system/identity/print")
	if err != nil {
		return fmt.Errorf("onboard: read through the tunnel: %w", err)
	}
	name := ""
	if len(rep.Re) > 0 {
		name = rep.Re[0]["name"]
	}
	e.emit(Event{Step: step, Kind: KindDone, Message: "the API answered through the tunnel (" + name + ")", Elapsed: e.now().Sub(start)})
	return nil
}

// checkArmed confirms the one-shot rollback has not fired yet: if the
// confirm window ran out while wgboot was still working (a slow link, a
// long handshake), the router has already undone the run and going on
// would leave changes without a safety net.
func (e *Engine) checkArmed(ctx context.Context, a *applyRun) error {
	rep, err := e.cl.Run(ctx, "/system/scheduler/print", "?comment="+tag(e.run, "undo-timer"), "=.proplist=.id")
	if err != nil {
		return fmt.Errorf("onboard: check the automatic rollback is still armed: %w", err)
	}
	if len(rep.Re) == 0 {
		return fmt.Errorf("onboard: the confirm window (%s) ran out before wgboot finished: the router has already rolled the changes back", e.plan.settings.ConfirmTimeout)
	}
	return nil
}

// useTunnel opens a session through the tunnel and makes it the engine's
// session; the original one stays open as a fallback until Close.
func (e *Engine) useTunnel(ctx context.Context) error {
	d := e.plan.Decision
	addr := net.JoinHostPort(d.RouterAddr.Addr().String(), strconv.Itoa(int(d.UsePort)))
	cl, err := e.dial(ctx, addr, e.local.DialContext)
	if err != nil {
		return fmt.Errorf("onboard: API session through the tunnel (%s): %w", addr, err)
	}
	if e.orig == nil {
		e.orig = e.cl
	} else if e.cl != nil {
		e.cl.Close()
	}
	e.cl, e.viaTunnel = cl, true
	return nil
}

// wanProbe confirms a new WAN connection gets no answer, when this run can
// reach the router over the WAN.
func (e *Engine) wanProbe(ctx context.Context) error {
	target := e.o.WANProbe
	if target == "" && e.isWANHost(e.host) {
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

// commit disarms the safety net and writes the technician's files.
func (e *Engine) commit(ctx context.Context, a *applyRun, p *Plan, via string, hardened bool) (*Summary, error) {
	d := e.plan.Decision
	e.emit(Event{Step: StepCommit, Kind: KindStarted, Message: "disarming the automatic rollback"})
	// The config file first: once disarmed, nothing may fail any more.
	endpoint := net.JoinHostPort(d.Endpoint, strconv.Itoa(d.ListenPort))
	qc := vpn.QuickFromConfig(vpn.Config{PrivateKey: e.key, Address: d.LocalAddr, Peer: vpn.Peer{PublicKey: e.routerPub,
		AllowedIPs: []netip.Prefix{netip.PrefixFrom(d.RouterAddr.Addr(), 32)}, Keepalive: defaultKeepSec * time.Second}}, endpoint)
	path := ""
	if e.o.StateDir != "" {
		path = filepath.Join(filepath.Dir(journalPath(e.o.StateDir, e.addr)), d.IfName+"-"+e.run+".conf")
		if err := vpn.WriteQuick(path, qc); err != nil {
			return nil, fmt.Errorf("onboard: write the technician's config: %w", err)
		}
	}
	if err := e.disarm(ctx, e.cl, a.j); err != nil {
		// The reply may be what was lost: come back (original path or
		// tunnel) and finish; removing what is already gone is not an error.
		cl, rerr := e.reconnect(ctx)
		if rerr != nil {
			return nil, fmt.Errorf("%w; reconnect: %w", err, rerr)
		}
		e.cl.Close()
		e.cl = cl
		if err := e.disarm(ctx, cl, a.j); err != nil {
			return nil, err
		}
	}
	a.j.State = StateCommitted
	sum := &Summary{
		Router: e.addr, Identity: e.router.Identity, RouterTunnel: d.RouterAddr.Addr().String(), LocalTunnel: d.LocalAddr.String(),
		Endpoint: endpoint, ConfigPath: path, ProvenVia: via, Changes: len(e.plan.Ops),
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
	a.j.Tunnel = &TunnelInfo{RouterAddr: net.JoinHostPort(d.RouterAddr.Addr().String(), strconv.Itoa(int(d.UsePort))),
		VerifyEndpoint: e.verifyEP.String(), ConfigPath: path}
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

// disarm removes the schedulers, then the script, by the ids recorded.
func (e *Engine) disarm(ctx context.Context, cl session, j *Journal) error {
	// The one-shot timer goes last: until it is gone, a lost connection
	// still ends in a full rollback rather than a half-disarmed router.
	for _, x := range []struct{ menu, id string }{{"/system/scheduler", j.Net.Boot}, {"/system/script", j.Net.Script}, {"/system/scheduler", j.Net.Timer}} {
		if x.id == "" {
			continue
		}
		if _, err := cl.Run(ctx, x.menu+"/remove", "=numbers="+x.id); err != nil && !routeros.IsNotFound(err) {
			return fmt.Errorf("onboard: disarm: remove %s %s: %w", x.menu, x.id, err)
		}
	}
	j.Net.Disarmed = true
	return nil
}

func summaryText(s *Summary, hardened bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router %s (%s)\ntunnel: router %s, technician %s\nendpoint: %s\nconfig: %s\n", s.Router, s.Identity, s.RouterTunnel, s.LocalTunnel, s.Endpoint, s.ConfigPath)
	switch s.ProvenVia {
	case "wan":
		b.WriteString("proven: the tunnel was proven over the WAN address\n")
	default:
		b.WriteString("proven: the tunnel was proven from the LAN only; that the WireGuard port is reachable from the WAN rests on the firewall evaluator\n")
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
	e.emit(Event{Step: StepRollback, Kind: KindDone, Message: fmt.Sprintf("undid %d changes", len(undone))})
	return info
}

// undo reverts the journal's ops in reverse order, then removes the safety
// net. It tries the current session first, then a new one.
func (e *Engine) undo(ctx context.Context, j *Journal) ([]string, error) {
	try := func(cl session) ([]string, error) {
		// Best effort: an op the router refuses does not stop the others;
		// the safety net then stays armed so the router finishes the job.
		var undone []string
		var errs []error
		for i := len(j.Ops) - 1; i >= 0; i-- {
			jo := &j.Ops[i]
			if !jo.Sent || jo.Undone {
				continue
			}
			if tunnelOp(jo) && cl == e.cl && e.viaTunnel {
				// Removing the tunnel through the tunnel loses the reply:
				// the WAN drop is gone by now, so finish on the original path.
				if ocl, err := e.dialQuick(ctx); err == nil {
					e.cl.Close()
					e.cl, e.viaTunnel, cl = ocl, false, ocl
				}
			}
			if err := undoOp(ctx, cl, j.RunID, jo); err != nil {
				errs = append(errs, err)
				if errors.Is(err, routeros.ErrBroken) || errors.Is(err, routeros.ErrClosed) {
					break
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
			if err := e.disarm(ctx, cl, j); err != nil {
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
		for _, w := range setWords(menu, jo.ID, jo.Old) {
			if _, err := cl.Run(ctx, w...); err != nil {
				return fmt.Errorf("onboard: undo %s: %w", jo.Desc, err)
			}
		}
	case "move":
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
// modified, from the journal when there is one (else from the tags).
func (e *Engine) Rollback(ctx context.Context) error {
	if e.cl == nil {
		return errors.New("onboard: rollback before connect")
	}
	start := e.now()
	e.emit(Event{Step: StepRollback, Kind: KindStarted, Message: "rolling back wgboot's changes on " + e.addr})
	j, err := ReadJournal(e.o.StateDir, e.addr)
	if err != nil {
		return err
	}
	if e.router, err = inspect(ctx, e.cl); err != nil {
		return err
	}
	run := e.router.onboardedRun()
	if run == "" {
		run = e.router.armedRun()
	}
	if run != "" && (j == nil || j.RunID != run) {
		if jj, err := findJournal(e.o.StateDir, run); err == nil && jj != nil {
			j = jj
		}
	}
	if j == nil || (run != "" && j.RunID != run) {
		if run == "" {
			e.emit(Event{Step: StepRollback, Kind: KindDone, Message: "nothing of wgboot's on this router"})
			return nil
		}
		// No journal for this run: remove what carries its tags; modified
		// rules cannot be restored without their old values.
		j = e.journalFromTags(run)
		e.emit(Event{Step: StepRollback, Kind: KindWarning, Message: "no journal for run " + run + " in the state dir: removing tagged objects only; rules wgboot modified keep their new values"})
	}
	for i := range j.Ops {
		j.Ops[i].Sent, j.Ops[i].Undone = true, false
	}
	undone, err := e.undo(ctx, j)
	if err != nil {
		e.emit(Event{Step: StepRollback, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: "rollback failed", Undone: undone, Diagnostics: err.Error(), Try: "run wgboot rollback again, through the tunnel if the WAN is closed"}})
		return err
	}
	j.State = StateRolledBack
	j.Updated = e.now()
	if err := writeJournal(e.o.StateDir, j); err != nil {
		return err
	}
	if j.Tunnel != nil && j.Tunnel.ConfigPath != "" {
		// The key is useless once the peer is gone from the router.
		os.Remove(j.Tunnel.ConfigPath)
	}
	e.emit(Event{Step: StepRollback, Kind: KindDone, Message: fmt.Sprintf("rolled back run %s (%d changes)", j.RunID, len(undone)), Elapsed: e.now().Sub(start)})
	return nil
}

// journalFromTags rebuilds a journal from the router's tagged objects.
func (e *Engine) journalFromTags(run string) *Journal {
	j := &Journal{Router: e.addr, RunID: run, State: StateCommitted}
	menus := []struct {
		menu string
		rows []Row
	}{
		{"/interface wireguard", e.router.WireGuard}, {"/ip address", e.router.Addresses}, {"/interface wireguard peers", e.router.Peers},
		{"/ip firewall address-list", e.router.AddressLists}, {"/ip firewall filter", e.router.Filter}, {"/ipv6 firewall filter", e.router.Filter6},
	}
	for _, m := range menus {
		for _, r := range m.rows {
			key, ok := strings.CutPrefix(r["comment"], tagPrefix+run+" ")
			if !ok || slices.ContainsFunc(j.Ops, func(o JournalOp) bool { return o.Menu == m.menu && o.Key == key }) {
				continue
			}
			j.Ops = append(j.Ops, JournalOp{Key: key, Menu: m.menu, Verb: "add", Desc: m.menu + " " + key})
		}
	}
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
