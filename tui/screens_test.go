package tui

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// connectAll submits the prefilled Connect form: enter moves through the
// five fields, one at a time (huh moves focus asynchronously).
func (h *harness) submitConnect() {
	h.t.Helper()
	for i := 0; i < 5; i++ {
		h.key("enter")
	}
}

func demoOptions(f Factory, clock *fakeClock) Options {
	return Options{Router: "192.168.88.1", User: "admin", NewEngine: f, Now: clock.Now, Accessible: false}
}

// TestScreens walks the whole wizard with the scripted engine and compares
// every screen with its golden file.
func TestScreens(t *testing.T) {
	clock := newFakeClock()
	fe := &fakeEngine{holdBeforeHarden: make(chan struct{})}
	factory, _ := fakeFactory(fe)
	h := start(t, demoOptions(factory, clock))

	goldenScreen(t, "connect", h.waitFor("Router", "Password", "api-ssl"))
	h.submitConnect()
	goldenScreen(t, "trust", h.waitFor("trust this certificate", "Trust and continue"))
	h.key("enter")
	goldenScreen(t, "inspect", h.waitFor("API exposure now", "Press enter"))
	h.key("enter")
	goldenScreen(t, "plan", h.waitFor("Commands (7)", "Subnet"))
	h.key("tab")
	goldenScreen(t, "plan-verdicts", h.waitFor("WAN → WireGuard 13231"))
	h.key("e")
	goldenScreen(t, "plan-settings", h.waitFor("VPN subnet", "Local WireGuard"))
	h.key("esc")
	h.waitFor("Commands (7)")
	h.key("enter")
	goldenScreen(t, "apply", h.waitFor("API reply", "Auto-rollback in 5:00"))
	close(fe.holdBeforeHarden)
	goldenScreen(t, "gate", h.waitFor("Yes, close it", "Auto-rollback in 5:00"))
	h.key("enter")
	goldenScreen(t, "done", h.waitFor("Reconnect next time", "wg-quick up"))
	h.key("tab")
	goldenScreen(t, "done-qr", h.waitFor("Scan with the WireGuard app"))

	if a, ok := fe.Answer("harden"); !ok || !a {
		t.Errorf("harden answer = %v (asked %v), want true", a, ok)
	}
	want := []string{"connect 192.168.88.1:8729 admin", "inspect", "plan", "apply"}
	if diff := cmp.Diff(want, fe.Calls()); diff != "" {
		t.Errorf("engine calls (-want +got):\n%s", diff)
	}
	h.key("q")
	h.waitFor("Quit?")
	h.key("y")
	h.tm.WaitFinished(t, teatestFinal)
	if h.m.Summary() == nil || h.m.Err() != nil {
		t.Errorf("after Done: summary %v, err %v; want a summary and no error", h.m.Summary(), h.m.Err())
	}
}
