package proof

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
)

// The fault matrix runs the router's clock this much faster than real time
// so the armed scheduler (confirmTimeout on the router's clock) fires within
// seconds. The onboarding itself takes well under a router-clock minute.
const (
	clockSpeed     = 15
	confirmTimeout = 60 * time.Second
)

// recording is the API commands of one clean onboarding, in order, as the
// router counts them (logins included).
type recording struct {
	ex    simtest.Example
	reach string // "wan" or "lan": the path the technician uses
	cmds  []string
}

// pathAddr is the listen address of the technician's path.
func (rc recording) pathAddr(rt *simtest.Router) netip.Addr {
	if rc.reach == "wan" {
		return rt.WAN
	}
	return rt.LAN
}

// startRecording starts rossim for ex and picks the technician's path:
// the WAN when the API answers there (the case that can lock out), else
// the LAN. o onboards in-process over the plain API, since only the plain
// API can be read on the wire. Where the path offers api-ssl only
// (tlsOnly), o goes over TLS and the commands can be counted, not named:
// the matrix then covers every position, and traps the usual
// router-changing commands.
func startRecording(t testing.TB, ctx context.Context, ex simtest.Example) (rt *simtest.Router, rc recording, o onboard.Options, tlsOnly bool) {
	t.Helper()
	rt = startRouter(t, ex, nil)
	rc = recording{ex: ex, reach: "lan"}
	if rt.WAN.IsValid() && rt.Answers(ctx, rt.WAN, false, 3*time.Second) == nil {
		rc.reach = "wan"
	}
	addr := rc.pathAddr(rt)
	o = onboard.Options{
		Router: rt.APIAddr(addr, true), Plain: true, User: "admin", Password: password, StateDir: t.TempDir(),
		Settings: onboard.Settings{LANKeepsAPI: true, ConfirmTimeout: 5 * time.Minute},
		NewLocal: func(string) (vpn.Backend, error) { return vpn.NewNetstack(nil), nil },
	}
	tlsOnly = rt.Port(addr, true) == 0 || rt.Answers(ctx, addr, true, 2*time.Second) != nil
	if tlsOnly {
		o.Router, o.Plain, o.Fingerprint = rt.APIAddr(addr, false), false, rt.Info.Fingerprint
	}
	return rt, rc, o, tlsOnly
}

// recordOnboarding runs one clean onboarding in-process over the plain API
// and records every command the engine sends (original path and tunnel).
// The technician comes from the WAN when the API answers there (the case
// that can lock out), else from the LAN.
func recordOnboarding(t testing.TB, ex simtest.Example) recording {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt, rc, o, tlsOnly := startRecording(t, ctx, ex)
	rec := &recorder{}
	if !tlsOnly {
		o.Dial = rec.dial
		o.NewLocal = func(string) (vpn.Backend, error) { return recBackend{Backend: vpn.NewNetstack(nil), r: rec}, nil }
	}
	e, p := simtest.Plan(t, ctx, onboard.New, o, o.Settings)
	defer e.Close()
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatalf("%s: apply: %v", ex.Name, err)
	}
	cmds, err := rec.commands()
	if err != nil {
		t.Fatalf("%s: recording: %v", ex.Name, err)
	}
	if tlsOnly {
		cmds = make([]string, rt.Sim.Stats().Commands)
		for i := range cmds {
			cmds[i] = unnamed
		}
		rc.cmds = cmds
		return rc
	}
	if got := rt.Sim.Stats().Commands; got != int64(len(cmds)) {
		t.Logf("%s: the router counted %d commands, the recording has %d", ex.Name, got, len(cmds))
	}
	rc.cmds = cmds
	return rc
}

// unnamed stands for a command of a TLS-only recording.
const unnamed = "(unnamed)"

// usualWrites are the router-changing commands of an onboarding, trapped
// when the recording could not name the commands.
var usualWrites = []string{"/export", "/file/remove", "/system/script/add", "/system/scheduler/add", "/interface/wireguard/add",
	"/ip/address/add", "/interface/wireguard/peers/add", "/ip/firewall/address-list/add", "/ip/firewall/filter/add",
	"/ip/firewall/filter/set", "/ip/firewall/filter/move", "/ip/service/set", "/system/scheduler/remove", "/system/script/remove"}

// faultCase is one cell of the matrix.
type faultCase struct {
	occ  int    // which occurrence of path this is (1 = first)
	kind string // "sever", "kill", "trap"
	n    int    // sever: after the nth counted command (logins not counted); kill: when the router has served n commands (logins counted)
	path string // the command at that point (trap: the command trapped)
	// rollback: the fault hits the rollback of a committed onboarding
	// (n and occ count the rollback's commands), not the onboarding.
	rollback bool
}

func (fc faultCase) String() string {
	pre := ""
	if fc.rollback {
		pre = "rollback "
	}
	if fc.kind == "trap" {
		return pre + "trap " + fc.path
	}
	return fmt.Sprintf("%s%s %02d %s", pre, fc.kind, fc.n, fc.path)
}

// column is the summary row a case counts in: its kind, and "rollback "
// before it in the rollback column.
func (fc faultCase) column() string {
	if fc.rollback {
		return "rollback " + fc.kind
	}
	return fc.kind
}

// faultCases lists the matrix for one recording: every command in the full
// mode, every router-changing one in the fast mode.
func faultCases(rc recording) []faultCase {
	var out []faultCase
	counted := 0
	seen := map[string]bool{}
	occ := map[string]int{}
	for i, c := range rc.cmds {
		if c != "/login" {
			counted++
		}
		occ[c]++
		if !full && !isWrite(c) {
			continue
		}
		if c != "/login" {
			out = append(out, faultCase{kind: "sever", n: counted, path: c, occ: occ[c]})
		}
		out = append(out, faultCase{kind: "kill", n: i + 1, path: c, occ: occ[c]})
		if c != "/login" && c != unnamed && !seen[c] {
			seen[c] = true
			out = append(out, faultCase{kind: "trap", path: c})
		}
	}
	if len(rc.cmds) > 0 && rc.cmds[0] == unnamed {
		for _, c := range usualWrites {
			out = append(out, faultCase{kind: "trap", path: c})
		}
	}
	return out
}

// knownIssue says which cases hit an engine bug written up in FINDINGS.md;
// the fast mode skips them, the full mode runs them.
func knownIssue(rc recording, fc faultCase) string {
	// Findings 6 and 7 are fixed; none is open in the matrix.
	return ""
}

// outcome is how a fault case ended.
type outcome struct {
	how     string // "restored by wgboot", "restored by the scheduler", "completed", "resumed by a rerun", "" (failed)
	lockout bool
}

// runFault runs one case with the wgboot binary and settles it.
func runFault(t *testing.T, rc recording, fc faultCase) outcome {
	var logMu sync.Mutex
	var severed []string
	rt := startRouter(t, rc.ex, func(o *sim.Options) {
		o.ClockSpeed = clockSpeed
		switch fc.kind {
		case "sever":
			o.DropAfterCommands = fc.n
		case "trap":
			o.TrapOn = []string{fc.path}
		}
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
	args := applyArgs(rt, addr, state, "--confirm-timeout", confirmTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var res result
	if fc.kind == "kill" {
		cmd, out, errb := c.command(ctx, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		killed := false
	poll:
		for {
			select {
			case err := <-done:
				res = finish(err, out, errb)
				break poll
			default:
			}
			if rt.Sim.Stats().Commands >= int64(fc.n) {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
				res = finish(<-done, out, errb)
				break poll
			}
			time.Sleep(200 * time.Microsecond)
		}
		if !killed {
			t.Logf("the run ended (exit %d) before the router served %d commands", res.code, fc.n)
		}
	} else {
		res = c.run(ctx, args...)
	}
	logMu.Lock()
	// Within a pipelined batch (the inspect reads) the router may count
	// commands in another order than they were sent; writes go one by one.
	if fc.kind == "sever" && isWrite(fc.path) && len(severed) > 0 && !strings.Contains(severed[0], "("+fc.path+")") {
		t.Logf("the recorded command %d was %s; the router severed at %s", fc.n, fc.path, severed[0])
	}
	logMu.Unlock()
	if testing.Verbose() {
		t.Logf("first run: %s", res.brief())
	}
	if fc.kind == "trap" && strings.HasSuffix(fc.path, "/remove") {
		// The router refuses every removal of that kind: nothing can take
		// the safety net away, so the end state may keep it (and only it).
		before = withTrapped(before, rt.Export(), fc.path)
	}
	return settle(t, ctx, rt, addr, state, before, res, c, args)
}

// withTrapped returns after when the only difference between before and
// after is in the menu whose remove is trapped; else before.
func withTrapped(before, after, path string) string {
	menu := "/" + strings.ReplaceAll(strings.Trim(strings.TrimSuffix(path, "/remove"), "/"), "/", " ")
	strip := func(s string) string {
		var out []string
		in := false
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "/") {
				in = l == menu
			}
			if !in {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if strip(before) == strip(after) {
		return after
	}
	return before
}

// settle waits for the end state of a case and checks it: the export as
// before (by wgboot, or by the armed scheduler on the accelerated clock), or
// a completed onboarding (first run, or a rerun); never a lockout.
func settle(t *testing.T, ctx context.Context, rt *simtest.Router, addr netip.Addr, state, before string, first result, c *cli, args []string) outcome {
	var out outcome
	now := rt.Export()
	switch {
	case now == before:
		out.how = "restored by wgboot"
	case strings.Contains(now, "wgboot-undo"):
		// Armed and not confirmed: the router's scheduler must restore it.
		deadline := time.Now().Add(time.Duration(float64(confirmTimeout)/clockSpeed)*2 + 10*time.Second)
		for now != before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			now = rt.Export()
		}
		if now != before {
			t.Errorf("the armed scheduler did not restore the router (-before +after):\n%s", cmp.Diff(before, now))
			break
		}
		out.how = "restored by the scheduler"
	case first.code == 0:
		out.how = "completed"
	default:
		re := c.run(ctx, args...)
		if re.code != 0 {
			t.Errorf("the router is changed, not armed, and a rerun fails:\n%s\nrouter (-before +after):\n%s", re.brief(), cmp.Diff(before, now))
			break
		}
		out.how = "resumed by a rerun"
	}
	if out.how == "completed" || out.how == "resumed by a rerun" {
		if a := rt.Export(); strings.Contains(a, "wgboot-undo") {
			t.Errorf("onboarded but still armed: the router will undo it")
		}
	}
	// Lockout: neither the original path nor the tunnel reaches the API.
	// Two tries: a sever case whose position the run never reached cuts
	// this check's own session once (the router counts every command).
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
		t.Errorf("LOCKOUT (%s): API on the original path: %v; through the tunnel: %v", out.how, errOrig, errTun)
	}
	if out.how == "restored by wgboot" || out.how == "restored by the scheduler" {
		if errOrig != nil && errTun != nil {
			t.Errorf("restored, but the API does not answer on the original path: %v", errOrig)
		}
	}
	return out
}

// tunnelAPI brings up a fresh local peer from the wg-quick file wgboot
// wrote in state and logs in to the API through it.
func tunnelAPI(ctx context.Context, rt *simtest.Router, addr netip.Addr, state string) error {
	var conf string
	filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".conf") {
			conf = p
		}
		return nil
	})
	if conf == "" {
		return fmt.Errorf("no wg-quick file in the state dir")
	}
	q, err := readQuick(conf)
	if err != nil {
		return err
	}
	b := vpn.NewNetstack(nil)
	defer b.Close()
	ep := netip.AddrPortFrom(addr, q.endpoint.Port()) // the run sent WireGuard to the path's address
	if err := b.Up(ctx, vpn.Config{PrivateKey: q.key, Address: q.addr, Peer: vpn.Peer{PublicKey: q.peer, Endpoint: ep, AllowedIPs: []netip.Prefix{q.allowed}}}); err != nil {
		return err
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := b.WaitHandshake(hctx); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	cl, err := routeros.Dial(ctx, routeros.Config{Addr: netip.AddrPortFrom(q.allowed.Addr(), rt.Port(addr, false)).String(), TLS: true,
		Fingerprint: rt.Info.Fingerprint, User: "admin", Password: password, Dial: b.DialContext, Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = cl.Run(ctx, "/system/identity/print")
	return err
}

// quick is a parsed wg-quick file.
type quick struct {
	key, peer wgtypes.Key
	addr      netip.Prefix
	allowed   netip.Prefix
	endpoint  netip.AddrPort
}

func readQuick(path string) (quick, error) {
	var q quick
	b, err := os.ReadFile(path)
	if err != nil {
		return q, err
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm() != 0o600 {
		return q, fmt.Errorf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	return parseQuick(string(b))
}

func parseQuick(text string) (quick, error) {
	var q quick
	var err error
	for _, l := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(l, " = ")
		if !ok {
			continue
		}
		switch k {
		case "PrivateKey":
			q.key, err = wgtypes.ParseKey(v)
		case "Address":
			q.addr, err = netip.ParsePrefix(v)
		case "PublicKey":
			q.peer, err = wgtypes.ParseKey(v)
		case "AllowedIPs":
			q.allowed, err = netip.ParsePrefix(v)
		case "Endpoint":
			i := strings.LastIndex(v, ":")
			if i < 0 {
				return q, fmt.Errorf("endpoint %q has no port", v)
			}
			var port uint16
			if _, err := fmt.Sscan(v[i+1:], &port); err != nil {
				return q, fmt.Errorf("endpoint %q: %w", v, err)
			}
			q.endpoint = netip.AddrPortFrom(netip.IPv4Unspecified(), port)
		}
		if err != nil {
			return q, fmt.Errorf("%s: %w", l, err)
		}
	}
	if q.key == (wgtypes.Key{}) || !q.allowed.IsValid() || q.endpoint.Port() == 0 {
		return q, fmt.Errorf("incomplete wg-quick file")
	}
	return q, nil
}

// matrixExamples are the examples the matrix runs: all in the full mode,
// one reached over the WAN (where a mistake locks out) in the fast mode.
func matrixExamples(t testing.TB) []simtest.Example {
	if full {
		return simtest.Examples(t, "../examples/*.rsc")
	}
	return []simtest.Example{simtest.Named(t, "open-cpe")}
}

// TestFaultMatrix severs the technician's link after, kills wgboot at, and
// traps each command of a full onboarding; every case must end restored
// exactly or completed, with zero lockouts.
func TestFaultMatrix(t *testing.T) {
	type tally struct{ run, recovered, lockouts int }
	var mu sync.Mutex
	totals := map[string]*tally{}
	hows := map[string]int{}
	for _, ex := range matrixExamples(t) {
		t.Run(ex.Name, func(t *testing.T) {
			rc := recordOnboarding(t, ex)
			t.Logf("%s (technician on the %s): %d commands: %s", ex.Name, rc.reach, len(rc.cmds), strings.Join(rc.cmds, " "))
			cases := faultCases(rc)
			rb := recordRollback(t, ex)
			t.Logf("%s rollback (technician on the %s): %d commands: %s", ex.Name, rb.reach, len(rb.cmds), strings.Join(rb.cmds, " "))
			cases = append(cases, sampleRollback(rollbackFaultCases(rb))...)
			// The cases wait on the router's scheduler, not on the CPU:
			// run several at once whatever -parallel says.
			sem := make(chan struct{}, 6)
			var wg sync.WaitGroup
			for _, fc := range cases {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					t.Run(fc.String(), func(t *testing.T) {
						if k := knownIssue(rc, fc); k != "" && !full {
							t.Skip("known issue: " + k + ", see proof/FINDINGS.md")
						}
						var o outcome
						if fc.rollback {
							o = runRollbackFault(t, rb, fc)
						} else {
							o = runFault(t, rc, fc)
						}
						mu.Lock()
						defer mu.Unlock()
						k := totals[fc.column()]
						if k == nil {
							k = &tally{}
							totals[fc.column()] = k
						}
						k.run++
						if o.how != "" && !t.Failed() {
							k.recovered++
							hows[o.how]++
						}
						if o.lockout {
							k.lockouts++
						}
					})
				}()
			}
			wg.Wait()
		})
	}
	var kinds []string
	for k := range totals {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	all := tally{}
	var b strings.Builder
	for _, k := range kinds {
		x := totals[k]
		fmt.Fprintf(&b, "  %-5s run %3d  recovered %3d  lockouts %d\n", k, x.run, x.recovered, x.lockouts)
		all.run += x.run
		all.recovered += x.recovered
		all.lockouts += x.lockouts
	}
	var hs []string
	for h, n := range hows {
		hs = append(hs, fmt.Sprintf("%s %d", h, n))
	}
	sort.Strings(hs)
	mode := "fast"
	if full {
		mode = "full"
	}
	t.Logf("fault matrix summary (%s): cases run %d, recovered %d, lockouts %d\n%s  how: %s", mode, all.run, all.recovered, all.lockouts, b.String(), strings.Join(hs, ", "))
	if all.lockouts != 0 {
		t.Errorf("%d lockouts", all.lockouts)
	}
}
