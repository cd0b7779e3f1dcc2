package tui

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/internal/demo"
	"github.com/wgboot/wgboot/internal/simtest"
)

// startOwnWizard is startSimWizard on the demo router loaded from a real
// export (wgboot demo --config): the wizard connects where the technician
// stands (the LAN, or the WAN side when the export has no LAN).
func startOwnWizard(t *testing.T, file string) *simWizard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "real", file))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	r, err := demo.Start(ctx, demo.Options{Config: string(b), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	base := r.Engine(t.Logf)
	stateDir := t.TempDir()
	o := Options{
		Router: r.LAN.Addr().String(), Port: int(r.LAN.Port()), User: "admin",
		StateDir: stateDir, Settings: base.Settings, NewEngine: OnboardFactory(base), Logf: t.Logf,
		Banner: "Demo: a simulated copy of " + file + ". " + r.Describe(),
	}
	w := &simWizard{r: r, stateDir: stateDir, before: simtest.ExportBody(r.Sim.Export())}
	w.harness = start(t, o)
	// A tall terminal: a real router's inspect screen (its API exposure
	// warnings) runs past 24 rows, and the test waits for its last line.
	w.tm.Send(tea.WindowSizeMsg{Width: 100, Height: 60})
	return w
}

// ownToGate presses enter at every default up to the Gate, waiting for
// each screen to be ready.
func (w *simWizard) ownToGate() {
	w.t.Helper()
	w.waitFor("Router", "Password")
	w.submitConnect()
	w.waitFor("Trust and continue")
	w.key("enter")
	w.waitFor("What the router looks like now", "Press enter to see the plan")
	w.key("enter")
	w.waitFor("Commands (")
	w.key("enter")
	w.waitFor("Close it on the WAN now?", "Auto-rollback in")
}

// TestWalkOwnExport rehearses on copies of real routers: the whole
// onboarding to Done on a PPPoE router (the API then gets no answer on the
// WAN), and a quit at the Gate on a DHCP one (everything rolled back).
func TestWalkOwnExport(t *testing.T) {
	t.Run("done/rb941-7.2.1-pppoe", func(t *testing.T) {
		w := startOwnWizard(t, "rb941-7.2.1-pppoe.rsc")
		w.waitFor("simulated copy of")
		w.ownToGate()
		w.key("enter")
		w.waitFor("its API is closed on the WAN")
		w.key("q")
		w.waitFor("Quit?")
		w.key("y")
		w.tm.WaitFinished(t, teatestFinal)
		if sum := w.m.Summary(); sum == nil || sum.ProvenVia != "wan" {
			t.Fatalf("summary %+v; err %v", sum, w.m.Err())
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := w.wanAnswers(ctx); err == nil {
			t.Errorf("the API answers on the WAN after Done")
		}
	})
	t.Run("quit/chr-7.19.1-dhcp", func(t *testing.T) {
		w := startOwnWizard(t, "chr-7.19.1-dhcp.rsc")
		w.ownToGate()
		w.key("q")
		w.waitFor("changes armed on the router will be rolled back")
		w.key("y")
		w.tm.WaitFinished(t, teatestFinal)
		if err := w.m.Shutdown(t.Context()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if diff := cmp.Diff(w.before, simtest.ExportBody(w.r.Sim.Export())); diff != "" {
			t.Errorf("router after quit differs from before (-before +after):\n%s", diff)
		}
	})
}
