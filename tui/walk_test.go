package tui

import (
	"context"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/internal/demo"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/rsc"
)

// simWizard is the wizard on a real engine against an in-process rossim
// (the demo router: soho-defconf, WAN and LAN on random loopback addresses).
type simWizard struct {
	*harness
	r        *demo.Router
	stateDir string
	before   string
}

func startSimWizard(t *testing.T, adjust ...func(*Options)) *simWizard {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	r, err := demo.Start(ctx, demo.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	base := r.Engine(t.Logf)
	stateDir := t.TempDir()
	o := Options{
		Router: r.LAN.Addr().String(), Port: int(r.LAN.Port()), User: "admin",
		StateDir: stateDir, Settings: base.Settings, NewEngine: OnboardFactory(base), Logf: t.Logf,
	}
	for _, f := range adjust {
		f(&o)
	}
	w := &simWizard{r: r, stateDir: stateDir, before: simtest.ExportBody(r.Sim.Export())}
	w.harness = start(t, o)
	return w
}

// toGate presses enter at every default up to the Gate.
func (w *simWizard) toGate() {
	w.t.Helper()
	w.waitFor("Router", "Password")
	w.submitConnect()
	w.waitFor("Trust and continue")
	w.key("enter")
	w.waitFor("Press enter to see the plan")
	w.key("enter")
	w.waitFor("Commands (")
	w.key("enter")
	w.waitFor("Close it on the WAN now?", "Auto-rollback in")
}

// exportHas reports whether menu in the export has an add whose args all
// pass their checks.
func exportHas(t *testing.T, export, menu string, args map[string]func(string, bool) bool) bool {
	t.Helper()
	f, err := rsc.ParseString(export)
	if err != nil {
		t.Fatalf("parse the export: %v", err)
	}
	for _, b := range f.Blocks {
		if b.Menu != menu {
			continue
		}
	next:
		for _, c := range b.Commands {
			if c.Verb != "add" {
				continue
			}
			for k, ok := range args {
				if !ok(c.Get(k)) {
					continue next
				}
			}
			return true
		}
	}
	return false
}

func keys(m map[string]func(string, bool) bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// wanAnswers reports whether a new API session from the WAN side logs in.
func (w *simWizard) wanAnswers(ctx context.Context) error {
	cl, err := routeros.Dial(ctx, routeros.Config{Addr: w.r.WAN.String(), TLS: true, Fingerprint: w.r.Fingerprint,
		User: "admin", Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	return cl.Close()
}

// TestWalkSim walks the whole wizard against rossim by pressing enter at
// each default, then checks the router: WireGuard and the tunnel API rule
// are there, the API is dropped on the WAN, the safety net is disarmed, and
// the technician's config is written with mode 0600.
func TestWalkSim(t *testing.T) {
	w := startSimWizard(t)
	w.toGate()
	w.key("enter")
	v := w.waitFor("Reconnect next time", "its API is closed on the WAN")
	checkFits(t, v, 80, 24)
	w.key("q")
	w.waitFor("Quit?")
	w.key("y")
	w.tm.WaitFinished(t, teatestFinal)

	sum := w.m.Summary()
	if sum == nil {
		t.Fatalf("no summary after Done; err %v", w.m.Err())
	}
	if sum.ProvenVia != "wan" {
		t.Errorf("proven via %q, want wan (the demo verifies from the WAN side)", sum.ProvenVia)
	}
	exp := w.r.Sim.Export()
	has := func(v string) func(string, bool) bool {
		return func(got string, ok bool) bool { return ok && got == v }
	}
	contains := func(v string) func(string, bool) bool {
		return func(got string, ok bool) bool { return ok && strings.Contains(got, v) }
	}
	for _, want := range []struct {
		menu string
		args map[string]func(string, bool) bool
	}{
		{"/interface wireguard", map[string]func(string, bool) bool{"name": has("wgboot")}},
		{"/ip address", map[string]func(string, bool) bool{"address": has("10.77.0.1/24"), "interface": has("wgboot")}},
		{"/interface wireguard peers", map[string]func(string, bool) bool{"allowed-address": has("10.77.0.2/32")}},
		{"/ip firewall filter", map[string]func(string, bool) bool{"action": has("drop"), "chain": has("input"),
			"dst-port": contains("8729"), "in-interface-list": has("WAN"), "comment": contains("wgboot:")}},
	} {
		if !exportHas(t, exp, want.menu, want.args) {
			t.Errorf("export after Done has no %s entry with %v:\n%s", want.menu, keys(want.args), exp)
		}
	}
	if exportHas(t, exp, "/system scheduler", map[string]func(string, bool) bool{"comment": contains("undo-timer")}) {
		t.Errorf("the undo scheduler is still armed after Done:\n%s", exp)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := w.wanAnswers(ctx); !errors.Is(err, routeros.ErrFiltered) && !errors.Is(err, routeros.ErrRefused) {
		t.Errorf("API from the WAN after Done: %v, want no answer", err)
	}
	st, err := os.Stat(sum.ConfigPath)
	if err != nil {
		t.Fatalf("config file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config %s has mode %v, want 0600", sum.ConfigPath, st.Mode().Perm())
	}
	rs, err := LoadRecent(w.stateDir)
	if err != nil || len(rs) != 1 || rs[0].Host != w.r.LAN.Addr().String() {
		t.Errorf("recent routers after Done = %+v, %v; want the demo router", rs, err)
	}
}

// TestWalkSimQuitRollsBack quits at the Gate: the wizard asks, rolls the
// armed changes back and the router's export is what it was.
func TestWalkSimQuitRollsBack(t *testing.T) {
	w := startSimWizard(t)
	w.toGate()
	w.key("q")
	w.waitFor("changes armed on the router will be rolled back")
	w.key("y")
	w.tm.WaitFinished(t, teatestFinal)
	if !w.m.RolledBack() {
		t.Errorf("RolledBack() = false after quitting with changes armed; notes %q", w.m.Notes())
	}
	if !errors.Is(w.m.Err(), ErrAborted) {
		t.Errorf("Err() = %v, want ErrAborted", w.m.Err())
	}
	if err := w.m.Shutdown(t.Context()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if diff := cmp.Diff(w.before, simtest.ExportBody(w.r.Sim.Export())); diff != "" {
		t.Errorf("router after quit differs from before (-before +after):\n%s", diff)
	}
}

// TestWalkSimDecline answers no at the Gate: the spec's "n or esc declines
// and leaves the router as it was": every change is rolled back (the export
// is as before) and the final screen says so.
func TestWalkSimDecline(t *testing.T) {
	for _, k := range []string{"n", "esc"} {
		t.Run(k, func(t *testing.T) {
			w := startSimWizard(t)
			w.toGate()
			w.key(k)
			w.waitFor("every change was rolled back", "What was undone")
			if diff := cmp.Diff(w.before, simtest.ExportBody(w.r.Sim.Export())); diff != "" {
				t.Errorf("router after declining at the Gate differs from before (-before +after):\n%s", diff)
			}
			if !errors.Is(w.m.Err(), onboard.ErrDeclined) {
				t.Errorf("Err() = %v, want onboard.ErrDeclined", w.m.Err())
			}
		})
	}
}

// TestWalkSimWizardWords: the real engine's refusals reach the wizard in
// its own words: a wrong password points to the Password field (not
// WGBOOT_PASSWORD), and a subnet on the router's LAN (only known after
// Inspect) is refused inside the settings editor, naming the field.
func TestWalkSimWizardWords(t *testing.T) {
	w := startSimWizard(t, func(o *Options) {
		o.Password = "wrong"
		o.Settings.Subnet = "192.168.88.0/24" // defconf's LAN
	})
	w.waitFor("Router", "Password")
	w.submitConnect()
	w.waitFor("Trust and continue")
	w.key("enter")
	v := w.waitFor("refused the user name", "Password field", "esc back to Connect")
	noCLIWords(t, v)
	w.key("esc")
	w.waitFor("┃ Router")
	for range 3 { // router, port, user
		w.key("enter")
	}
	w.waitFor("┃ Password")
	w.typeInto(len("wrong"), "")
	w.key("enter")
	w.key("enter")
	w.waitFor("Press enter to see the plan")
	w.key("enter")
	v = w.waitFor("VPN subnet 192.168.88.0/24 overlaps", "> 192.168.88.0/24")
	noCLIWords(t, v)
	if strings.Contains(v, "Failure") {
		t.Errorf("the refused subnet ended on the Failure screen:\n%s", v)
	}
}
