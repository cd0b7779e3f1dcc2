package proof

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
)

// The rollback column of the fault matrix: a committed onboarding is rolled
// back, and the rollback is severed, killed or trapped at each of its
// commands. Every case must end rolled back (by wgboot, or by the safety net
// the rollback armed first), or with the onboarding kept and the tunnel
// working; a rerun once the router lets go must then finish it. Zero
// lockouts: never the WAN closed and the tunnel gone.

// usualRollbackWrites are the router-changing commands of a post-commit
// rollback, trapped when the recording could not name the commands.
var usualRollbackWrites = []string{"/system/backup/save", "/export", "/system/script/add", "/system/scheduler/add",
	"/ip/firewall/filter/remove", "/ipv6/firewall/filter/remove", "/ip/firewall/address-list/remove", "/ip/firewall/filter/set",
	"/ip/firewall/filter/move", "/ip/service/set", "/interface/wireguard/peers/remove", "/ip/address/remove",
	"/interface/wireguard/remove", "/system/scheduler/remove", "/system/script/remove"}

// recordRollback onboards ex in-process (as recordOnboarding does, without
// recording) and records every command of the rollback that follows.
func recordRollback(t testing.TB, ex simtest.Example) recording {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt, rc, o, tlsOnly := startRecording(t, ctx, ex)
	o.Settings.Local = "netstack"
	rec := &recorder{}
	e, p := simtest.Plan(t, ctx, onboard.New, o, o.Settings)
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatalf("%s: apply: %v", ex.Name, err)
	}
	e.Close()
	base := rt.Sim.Stats().Commands
	if !tlsOnly {
		o.Dial = rec.dial
		o.NewLocal = func(string) (vpn.Backend, error) { return recBackend{Backend: vpn.NewNetstack(nil), r: rec}, nil }
	}
	o.RunID = ""
	e, err := onboard.New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Connect(ctx); err != nil {
		t.Fatalf("%s: connect for the rollback: %v", ex.Name, err)
	}
	if err := e.Rollback(ctx); err != nil {
		t.Fatalf("%s: rollback: %v", ex.Name, err)
	}
	n := rt.Sim.Stats().Commands - base
	if tlsOnly {
		rc.cmds = make([]string, n)
		for i := range rc.cmds {
			rc.cmds[i] = unnamed
		}
		return rc
	}
	if rc.cmds, err = rec.commands(); err != nil {
		t.Fatalf("%s: recording: %v", ex.Name, err)
	}
	if int64(len(rc.cmds)) != n {
		t.Logf("%s: the router counted %d rollback commands, the recording has %d", ex.Name, n, len(rc.cmds))
	}
	return rc
}

// rollbackFaultCases are the rollback column for one recording: the cells
// of faultCases, the trapped writes of a rollback where the commands have
// no names.
func rollbackFaultCases(rc recording) []faultCase {
	var out []faultCase
	for _, fc := range faultCases(rc) {
		if fc.kind == "trap" && rc.cmds[0] == unnamed {
			continue
		}
		fc.rollback = true
		out = append(out, fc)
	}
	if len(rc.cmds) > 0 && rc.cmds[0] == unnamed {
		for _, c := range usualRollbackWrites {
			out = append(out, faultCase{kind: "trap", path: c, rollback: true})
		}
	}
	return out
}

// sampleRollback keeps the whole column in the full mode; the fast mode
// (each case is an onboarding and a rollback) keeps every trap and, at
// each write, either the sever or the kill, in turn.
func sampleRollback(cases []faultCase) []faultCase {
	if full {
		return cases
	}
	var out []faultCase
	i := 0
	for _, fc := range cases {
		switch fc.kind {
		case "trap":
			out = append(out, fc)
		case "sever", "kill":
			if (fc.kind == "sever") == (i%2 == 0) {
				out = append(out, fc)
			}
			if fc.kind == "kill" {
				i++
			}
		}
	}
	return out
}

// runRollbackFault onboards a fresh router with the wgboot binary, then
// runs the rollback with the case's fault injected, and settles it.
func runRollbackFault(t *testing.T, rc recording, fc faultCase) outcome {
	var logMu sync.Mutex
	var severed []string
	rt := startRouter(t, rc.ex, func(o *sim.Options) {
		o.ClockSpeed = clockSpeed
		o.Logf = func(format string, args ...any) {
			if strings.Contains(format, "drop-after-commands") {
				logMu.Lock()
				severed = append(severed, fmt.Sprintf(format, args...))
				logMu.Unlock()
			}
		}
	})
	addr := rc.pathAddr(rt)
	before := rt.Export()
	state := t.TempDir()
	c := newCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if res := c.run(ctx, applyArgs(rt, addr, state, "--confirm-timeout", confirmTimeout.String())...); res.code != 0 {
		t.Fatalf("the onboarding before the rollback failed:\n%s", res.brief())
	}
	committed := rt.Export()
	args := []string{"rollback", "--yes", "--router", rt.APIAddr(addr, false), "--fingerprint", rt.Info.Fingerprint,
		"--state-dir", state, "--local", "netstack", "--confirm-timeout", confirmTimeout.String()}
	base := rt.Sim.Stats().Commands
	switch fc.kind {
	case "sever":
		rt.Sim.InjectFaults(fc.n, nil)
	case "trap":
		rt.Sim.InjectFaults(0, []string{fc.path})
	}
	var res result
	if fc.kind == "kill" {
		cmd, out, errb := c.command(ctx, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
	poll:
		for {
			select {
			case err := <-done:
				res = finish(err, out, errb)
				t.Logf("the rollback ended (exit %d) before the router served %d of its commands", res.code, fc.n)
				break poll
			default:
			}
			if rt.Sim.Stats().Commands >= base+int64(fc.n) {
				cmd.Process.Signal(syscall.SIGKILL)
				res = finish(<-done, out, errb)
				break poll
			}
			time.Sleep(200 * time.Microsecond)
		}
	} else {
		res = c.run(ctx, args...)
	}
	logMu.Lock()
	if fc.kind == "sever" && isWrite(fc.path) && len(severed) > 0 && !strings.Contains(severed[0], "("+fc.path+")") {
		t.Logf("the recorded rollback command %d was %s; the router severed at %s", fc.n, fc.path, severed[0])
	}
	logMu.Unlock()
	if testing.Verbose() {
		t.Logf("rollback: %s", res.brief())
	}
	return settleRollback(t, ctx, rt, rc, state, before, committed, res, c, args)
}

// settleRollback waits for the router's schedulers, checks for a lockout,
// and has a rerun (the fault gone) finish whatever is not rolled back.
func settleRollback(t *testing.T, ctx context.Context, rt *simtest.Router, rc recording, state, before, committed string, first result, c *cli, args []string) outcome {
	var out outcome
	addr := rc.pathAddr(rt)
	// A killed run's last batch may still be under way on the router:
	// settle on an export that holds still.
	now := rt.Export()
	for i := 0; i < 20; i++ {
		time.Sleep(50 * time.Millisecond)
		next := rt.Export()
		if next == now {
			break
		}
		now = next
	}
	byNet := false
	if strings.Contains(now, "wgboot-undo") {
		// The rollback's safety net is armed: it finishes the rollback.
		deadline := time.Now().Add(time.Duration(float64(confirmTimeout)/clockSpeed)*2 + 10*time.Second)
		for strings.Contains(now, "wgboot-undo") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			now = rt.Export()
		}
		byNet = true
	}
	switch {
	case now == before && first.code == 0 && !byNet:
		out.how = "rolled back by wgboot"
	case now == before && byNet:
		out.how = "rolled back by the net"
	case now == before:
		out.how = "rolled back, reported failed"
	case now == committed:
		out.how = "kept onboarded"
	}
	// Lockout: neither the original path nor the tunnel reaches the API,
	// once the router's schedulers have run. The fault goes first: a trap
	// on the check's own read (/system/identity/print) or a sever the
	// rollback never reached says nothing about the paths.
	rt.Sim.InjectFaults(0, nil)
	var errOrig, errTun error
	for try := 0; try < 2; try++ {
		if errOrig = rt.Answers(ctx, addr, false, 3*time.Second); errOrig == nil {
			break
		}
		if errTun = tunnelAPI(ctx, rt, addr, state); errTun == nil {
			break
		}
	}
	if errOrig != nil && errTun != nil {
		out.lockout = true
		t.Errorf("LOCKOUT (%s): API on the original path: %v; through the tunnel: %v\nrollback: %s", out.how, errOrig, errTun, first.brief())
	}
	if now == before && errOrig != nil {
		t.Errorf("rolled back, but the API does not answer on the original path: %v", errOrig)
	}
	if now != before {
		// Whatever the fault left, a rerun once the router lets go ends
		// it rolled back.
		re := c.run(ctx, args...)
		if re.code != 0 {
			t.Errorf("the router is neither rolled back nor armed, and a rerun of the rollback fails:\n%s\nrouter (-before +after):\n%s", re.brief(), cmp.Diff(before, rt.Export()))
			return outcome{lockout: out.lockout}
		}
		if diff := cmp.Diff(before, rt.Export()); diff != "" {
			t.Errorf("the rerun of the rollback did not restore the router (-before +after):\n%s", diff)
			return outcome{lockout: out.lockout}
		}
		if out.how == "" {
			out.how = "finished by a rerun"
		} else {
			out.how += ", then rolled back by a rerun"
		}
	}
	return out
}
