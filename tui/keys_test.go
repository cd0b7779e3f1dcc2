package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros"
)

// startFake starts the wizard on a scripted engine and walks it to the
// screen named by upTo.
func startFake(t *testing.T, fe *fakeEngine, clock *fakeClock, upTo string) *harness {
	t.Helper()
	factory, _ := fakeFactory(fe)
	h := start(t, demoOptions(factory, clock))
	steps := []struct {
		name string
		wait []string
		key  string
	}{
		{"connect", []string{"Router", "Password"}, ""},
		{"trust", []string{"Trust and continue"}, "enter"},
		{"inspect", []string{"Press enter to see the plan"}, "enter"},
		{"plan", []string{"Commands (7)"}, "enter"},
		{"apply", []string{"Close it on the WAN now?"}, "enter"},
	}
	for _, s := range steps {
		if s.name == "trust" {
			h.submitConnect()
		} else if s.key != "" {
			h.key(s.key)
		}
		h.waitFor(s.wait...)
		if s.name == upTo {
			return h
		}
	}
	return h
}

func TestHelpOverlay(t *testing.T) {
	fe := &fakeEngine{}
	h := startFake(t, fe, newFakeClock(), "inspect")
	h.key("?")
	goldenScreen(t, "help", h.waitFor("Keys", "Quitting while changes are armed"))
	h.key("esc")
	h.waitFor("Press enter to see the plan")
}

func TestQuitAsksFirst(t *testing.T) {
	tests := []struct {
		name, key string
	}{
		{"q", "q"},
		{"ctrl+c", "ctrl+c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := &fakeEngine{}
			h := startFake(t, fe, newFakeClock(), "inspect")
			h.key(tt.key)
			v := h.waitFor("Quit?")
			if strings.Contains(v, "rolled back") {
				t.Errorf("nothing is armed at Inspect, but the quit question talks of a rollback:\n%s", v)
			}
			h.key("n")
			h.waitFor("enter plan")
			h.key(tt.key)
			h.waitFor("Quit?")
			h.key("y")
			h.tm.WaitFinished(t, teatestFinal)
			if !errors.Is(h.m.Err(), ErrAborted) {
				t.Errorf("Err() = %v, want ErrAborted", h.m.Err())
			}
			if got := fe.Calls(); contains(got, "rollback") {
				t.Errorf("engine calls %q: a rollback with nothing armed", got)
			}
		})
	}
}

// eventually polls cond until it holds or waitLimit passes.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestQuitWhileArmedRollsBack quits at the Gate: the question says the
// armed changes will be rolled back, and the engine's Rollback runs.
func TestQuitWhileArmedRollsBack(t *testing.T) {
	fe := &fakeEngine{}
	h := startFake(t, fe, newFakeClock(), "apply")
	h.key("q")
	goldenScreen(t, "quit-armed", h.waitFor("will be rolled back"))
	h.key("y")
	h.tm.WaitFinished(t, teatestFinal)
	if !h.m.RolledBack() {
		t.Errorf("RolledBack() = false; engine calls %q", fe.Calls())
	}
	if diff := cmp.Diff([]string{"The armed changes were rolled back: the router is as it was."}, h.m.Notes()); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	if _, asked := fe.Answer("harden"); asked {
		t.Errorf("the harden question got an answer although the technician quit")
	}
}

func TestGateDecline(t *testing.T) {
	for _, k := range []string{"n", "esc"} {
		t.Run(k, func(t *testing.T) {
			fe := &fakeEngine{}
			h := startFake(t, fe, newFakeClock(), "apply")
			h.key(k)
			v := h.waitFor("every change was rolled back", "WireGuard interface wgboot")
			if a, ok := fe.Answer("harden"); !ok || a {
				t.Errorf("harden answer = %v (answered %v), want false", a, ok)
			}
			if k == "n" {
				goldenScreen(t, "declined", v)
			}
			h.key("q")
			h.waitFor("Quit?")
			h.key("y")
			h.tm.WaitFinished(t, teatestFinal)
			if !errors.Is(h.m.Err(), onboard.ErrDeclined) || h.m.Summary() != nil {
				t.Errorf("after declining: err %v, summary %v; want onboard.ErrDeclined, no summary", h.m.Err(), h.m.Summary())
			}
		})
	}
}

// TestGateTabMovesFocus: tab moves the focus to No, enter then declines.
func TestGateTabMovesFocus(t *testing.T) {
	fe := &fakeEngine{}
	h := startFake(t, fe, newFakeClock(), "apply")
	h.key("tab")
	h.key("enter")
	h.waitFor("every change was rolled back")
	if a, _ := fe.Answer("harden"); a {
		t.Errorf("harden answer = true after tab and enter, want false")
	}
}

// TestGateSafetyNetRunsOut: the countdown reaches zero at the Gate; the
// engine (keeping the Gate's deadline) stops waiting and rolls back, and
// the wizard says the router rolled itself back. The wizard answers
// nothing itself.
func TestGateSafetyNetRunsOut(t *testing.T) {
	clock := newFakeClock()
	fe := &fakeEngine{}
	h := startFake(t, fe, clock, "apply")
	h.waitFor("Auto-rollback in 5:00")
	clock.Advance(5*time.Minute + time.Second)
	v := h.waitFor("safety net rolled every change back")
	if a, ok := fe.Answer("harden"); ok {
		t.Errorf("the wizard answered the Gate (%v) after the safety net ran out: the engine decides", a)
	}
	t.Run("fired", func(t *testing.T) { h.golden(t, v) })
}

func TestFailureScreen(t *testing.T) {
	fe := &fakeEngine{}
	fe.apply = func(ctx context.Context, p *onboard.Plan) (*onboard.Summary, error) {
		d := fe.now().Add(5 * time.Minute)
		fe.emit(onboard.StepArm, onboard.KindDone, "rollback armed", func(e *onboard.Event) { e.Deadline = &d })
		fe.emit(onboard.StepApply, onboard.KindDone, "6 changes applied", nil)
		fe.emit(onboard.StepTunnel, onboard.KindStarted, "local peer up", nil)
		fe.emit(onboard.StepTunnel, onboard.KindFailed, "no handshake within 20s", func(e *onboard.Event) {
			e.Err = &onboard.FailureInfo{
				What:   "No WireGuard handshake with the router within 20s.",
				Undone: []string{"firewall rule wgboot: wireguard", "WireGuard peer", "WireGuard interface wgboot", "rollback scheduler"},
				// As the engine sends it: the hint names a setting, which the
				// wizard says in its words (no --verify-endpoint).
				Try:         onboard.ErrorNoHandshake.Hint().Text(nil),
				Hint:        onboard.ErrorNoHandshake.Hint(),
				Kind:        onboard.ErrorNoHandshake,
				Diagnostics: "run 3f9a61 step tunnel: handshake timeout after 20s\nendpoint 203.0.113.50:13231 rx 0 tx 1184\nrouter 7.20.6 RB5009UG+S+",
			}
		})
		fe.emit(onboard.StepRollback, onboard.KindDone, "", nil)
		return nil, errors.New("onboard: tunnel: no handshake within 20s")
	}
	h := startFake(t, fe, newFakeClock(), "plan")
	h.key("enter")
	v := h.waitFor("What was undone", "Diagnostics")
	noCLIWords(t, v)
	goldenScreen(t, "failure", v)
	// The engine undid its changes: esc starts again at Connect (the issue:
	// Esc from Failure returns with everything typed kept); an undo that
	// did not finish keeps Failure (TestEscAfterApplyFailure).
	h.key("esc")
	h.waitFor("Router", "Password")
	h.key("ctrl+c")
	h.waitFor("Quit?")
	h.key("y")
	h.tm.WaitFinished(t, teatestFinal)
	if h.m.Summary() != nil {
		t.Errorf("after a failure: summary %v", h.m.Summary())
	}
}

func TestTrustDeclinedGoesBack(t *testing.T) {
	fe := &fakeEngine{}
	factory, made := fakeFactory(fe)
	h := start(t, demoOptions(factory, newFakeClock()))
	h.waitFor("Router")
	h.submitConnect()
	h.waitFor("Trust and continue")
	h.key("n")
	v := h.waitFor("was not trusted", "esc back to Connect")
	if !strings.Contains(v, "Check the fingerprint") {
		t.Errorf("failure screen lacks the engine's advice:\n%s", v)
	}
	h.key("esc")
	h.waitFor("Router", "Password")
	<-made
	if !eventually(func() bool { return contains(fe.Calls(), "close") }) {
		t.Errorf("going back to Connect left the engine open")
	}
}

// TestTrustChanged: a changed certificate is a question in red with only
// Stop (the scripted engine), or the engine's FingerprintError on the
// Failure screen in red (the real engine): both goldens.
func TestTrustChanged(t *testing.T) {
	t.Run("question", func(t *testing.T) {
		fe := &fakeEngine{danger: true}
		factory, _ := fakeFactory(fe)
		h := start(t, demoOptions(factory, newFakeClock()))
		h.waitFor("Router")
		h.submitConnect()
		v := h.waitFor("CHANGED", "[ Stop ]")
		if strings.Contains(v, "Trust and continue") {
			t.Errorf("a changed certificate offers to trust it:\n%s", v)
		}
		h.golden(t, v)
		h.key("y") // no way to say yes
		h.key("enter")
		h.waitFor("was not trusted")
		if a, _ := fe.Answer("trust-fingerprint"); a {
			t.Errorf("a changed certificate was trusted")
		}
	})
	t.Run("failure", func(t *testing.T) {
		fe := &fakeEngine{}
		fe.connect = func(ctx context.Context) error {
			return &routeros.FingerprintError{Addr: "192.168.88.1:8729", Want: "3f9a610c2bd47e88115ac0de42976b13a80ef1229c357d64b019e35f8ac7204d",
				Got: "c4027be9aa0b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a391aa", Changed: true, File: "/home/tech/.config/wgboot/known_hosts"}
		}
		factory, _ := fakeFactory(fe)
		h := start(t, demoOptions(factory, newFakeClock()))
		h.waitFor("Router")
		h.submitConnect()
		h.golden(t, h.waitFor("STOP", "Someone may be intercepting"))
	})
}

func TestEscBackFromInspect(t *testing.T) {
	fe := &fakeEngine{}
	h := startFake(t, fe, newFakeClock(), "inspect")
	h.key("esc")
	h.waitFor("Router", "Password")
	if !eventually(func() bool { return contains(fe.Calls(), "close") }) {
		t.Errorf("engine calls %q: esc back to Connect did not close the engine", fe.Calls())
	}
}

// TestPlanSettingsReplan edits the subnet and timeout in the settings
// form; the engine gets them and the Plan shows the new values.
func TestPlanSettingsReplan(t *testing.T) {
	fe := &fakeEngine{}
	h := startFake(t, fe, newFakeClock(), "plan")
	h.key("e")
	h.waitFor("VPN subnet")
	for range len("10.77.0.0/24") {
		h.key("backspace")
	}
	h.waitGone("10.77.0.0/24")
	h.tm.Type("10.99.0.0/24")
	h.waitFor("10.99.0.0/24")
	for i := 0; i < 4; i++ { // subnet, port, endpoint, local
		h.key("enter")
	}
	h.waitFor("LAN keeps API access?")
	h.key("enter")
	h.key("enter")
	h.waitFor("┃ Confirm timeout") // focused
	for range len("5m") {
		h.key("backspace")
	}
	h.waitGone("> 5m")
	h.tm.Type("10m")
	h.waitFor("10m")
	h.key("enter")
	h.waitFor("Subnet 10.99.0.0/24", "Confirm 10m")
	fe.mu.Lock()
	got := fe.settings[len(fe.settings)-1]
	fe.mu.Unlock()
	if got.Subnet != "10.99.0.0/24" || got.ConfirmTimeout != 10*time.Minute {
		t.Errorf("replanned with %+v, want subnet 10.99.0.0/24 and 10m", got)
	}
}

// TestResize: every screen fits the terminal at several sizes.
func TestResize(t *testing.T) {
	fe := &fakeEngine{holdBeforeHarden: make(chan struct{})}
	h := startFake(t, fe, newFakeClock(), "plan")
	for _, sz := range []struct{ w, h int }{{100, 30}, {80, 24}, {60, 20}, {120, 40}} {
		h.tm.Send(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		v := h.waitFor("Commands (7)")
		for h.view() != v { // wait for the resize to settle
			v = h.view()
		}
		checkFits(t, h.view(), sz.w, sz.h)
	}
	close(fe.holdBeforeHarden)
}

func TestRecentRouters(t *testing.T) {
	dir := t.TempDir()
	for _, r := range []Recent{{Host: "10.0.0.1", Port: 8729, User: "admin"}, {Host: "gw.example.net", Port: 8728, User: "tech", Plain: true}} {
		if err := SaveRecent(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	fe := &fakeEngine{}
	factory, _ := fakeFactory(fe)
	h := start(t, Options{NewEngine: factory, StateDir: dir, Now: newFakeClock().Now})
	goldenScreen(t, "pick", h.waitFor("Recent routers", "Another router"))
	h.key("enter") // the first entry: the last saved, gw.example.net as tech, plain
	v := h.waitFor("┃ Router")
	for _, want := range []string{"> gw.example.net", "> 8728", "> tech", "> plain api"} {
		if !strings.Contains(v, want) {
			t.Errorf("the chosen router's %q is not filled in:\n%s", want, v)
		}
	}
	h.submitConnect()
	h.waitFor("Trust and continue")
	if got := fe.Calls(); len(got) == 0 || got[0] != "connect gw.example.net:8728 tech" {
		t.Errorf("engine calls %q, want a connect to gw.example.net:8728 as tech", got)
	}
}

func TestRecentFile(t *testing.T) {
	dir := t.TempDir()
	rs, err := LoadRecent(dir)
	if err != nil || rs != nil {
		t.Fatalf("LoadRecent on an empty dir = %v, %v; want nothing", rs, err)
	}
	for i := 0; i < maxRecent+3; i++ {
		if err := SaveRecent(dir, Recent{Host: "10.0.0." + string(rune('1'+i%9)), Port: 8729 + i, User: "admin"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := SaveRecent(dir, Recent{Host: "10.0.0.1", Port: 8729, User: "again"}); err != nil {
		t.Fatal(err)
	}
	rs, err = LoadRecent(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != maxRecent || rs[0].User != "again" {
		t.Errorf("after %d saves: %d routers, first %+v; want %d, the last saved first", maxRecent+4, len(rs), rs[0], maxRecent)
	}
	seen := map[Recent]bool{}
	for _, r := range rs {
		k := Recent{Host: r.Host, Port: r.Port}
		if seen[k] {
			t.Errorf("duplicate router %v", k)
		}
		seen[k] = true
	}
	st, err := os.Stat(filepath.Join(dir, recentFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		t.Errorf("recent.json mode %v: readable by others", st.Mode().Perm())
	}
}

func TestParseRecent(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Recent
		wantErr string
	}{
		{"empty list", `{"routers":[]}`, []Recent{}, ""},
		{"one", `{"routers":[{"host":"10.0.0.1","port":8729,"user":"admin"}]}`, []Recent{{Host: "10.0.0.1", Port: 8729, User: "admin"}}, ""},
		{"plain", `{"routers":[{"host":"r1","port":8728,"user":"u","plain":true}]}`, []Recent{{Host: "r1", Port: 8728, User: "u", Plain: true}}, ""},
		{"not json", `routers`, nil, "read recent routers"},
		{"no host", `{"routers":[{"port":8729,"user":"admin"}]}`, nil, "recent router 1"},
		{"bad port", `{"routers":[{"host":"a","port":70000,"user":"admin"}]}`, nil, "port 70000"},
		{"no user", `{"routers":[{"host":"a","port":1}]}`, nil, "no user"},
		{"control chars", `{"routers":[{"host":"a","port":1,"user":"x\u001b[2J"}]}`, nil, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRecent([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseRecent(f *testing.F) {
	f.Add([]byte(`{"routers":[{"host":"10.0.0.1","port":8729,"user":"admin"}]}`))
	f.Add([]byte(`{"routers":[{"host":"r","port":8728,"user":"u","plain":true},{"host":"s","port":1,"user":"v"}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"routers":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseRecent(b)
		if err != nil {
			return
		}
		// What parses round-trips and stays within the limits.
		if len(rs) > maxRecent {
			t.Fatalf("%d routers, more than %d", len(rs), maxRecent)
		}
		again, err := ParseRecent(FormatRecent(rs))
		if err != nil {
			t.Fatalf("formatted list does not parse: %v", err)
		}
		if len(rs) == 0 && len(again) == 0 {
			return
		}
		if diff := cmp.Diff(rs, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func TestValidators(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) error
		in   string
		ok   bool
	}{
		{"host", validateHost, "192.168.88.1", true},
		{"host name", validateHost, "gw.example.net", true},
		{"host empty", validateHost, " ", false},
		{"host with path", validateHost, "http://x/", false},
		{"port empty", validatePort, "", true},
		{"port", validatePort, "8729", true},
		{"port zero", validatePort, "0", false},
		{"port big", validatePort, "65536", false},
		{"port text", validatePort, "api", false},
		{"subnet", validateSubnet, "10.77.0.0/24", true},
		{"subnet v6", validateSubnet, "fd00::/64", false},
		{"subnet /31", validateSubnet, "10.0.0.0/31", false},
		{"subnet junk", validateSubnet, "10.77.0.0", false},
		{"timeout", validateTimeout, "5m", true},
		{"timeout short", validateTimeout, "30s", false},
		{"timeout long", validateTimeout, "2h", false},
		{"timeout junk", validateTimeout, "soon", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fn(tt.in); (err == nil) != tt.ok {
				t.Errorf("%q: error %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestFmtDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{5 * time.Minute, "5m"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{time.Hour + 30*time.Minute, "1h30m"},
		{45 * time.Second, "45s"},
		{0, "0s"},
	}
	for _, tt := range tests {
		if got := fmtDuration(tt.in); got != tt.want {
			t.Errorf("fmtDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestQuitDuringApply quits while Apply still runs: the call is cancelled
// and waited for, then the armed changes are rolled back.
func TestQuitDuringApply(t *testing.T) {
	fe := &fakeEngine{holdBeforeHarden: make(chan struct{})}
	h := startFake(t, fe, newFakeClock(), "plan")
	h.key("enter")
	h.waitFor("API reply", "Auto-rollback in")
	h.key("ctrl+c")
	h.waitFor("will be rolled back")
	h.key("y")
	h.tm.WaitFinished(t, teatestFinal)
	want := []string{"connect 192.168.88.1:8729 admin", "inspect", "plan", "apply", "rollback"}
	if diff := cmp.Diff(want, fe.Calls()); diff != "" {
		t.Errorf("engine calls (-want +got):\n%s", diff)
	}
	if !h.m.RolledBack() {
		t.Errorf("RolledBack() = false")
	}
}

// TestRunCancelledRollsBack: a cancelled context (SIGTERM in wgboot) ends
// Run without the quit dialog; Run still rolls back what is armed, closes
// the engine and says so.
func TestRunCancelledRollsBack(t *testing.T) {
	fe := &fakeEngine{atGate: make(chan struct{})}
	factory, _ := fakeFactory(fe)
	o := demoOptions(factory, newFakeClock())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in, keys := io.Pipe()
	defer keys.Close()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, o, in, &out)
		done <- err
	}()
	// Walk to the Gate with keys on the pipe, as a terminal would send them.
	go func() {
		for _, k := range []string{"\r", "\r", "\r", "\r", "\r"} { // connect form
			keys.Write([]byte(k))
			time.Sleep(20 * time.Millisecond) // huh moves focus asynchronously; not an assertion
		}
	}()
	if !eventually(func() bool { return strings.Contains(out.String(), "Trust and continue") }) {
		t.Fatalf("never reached Trust:\n%s", out.String())
	}
	for _, wait := range []string{"Press enter to see the plan", "Commands (7)", "Close it on the WAN now?"} {
		keys.Write([]byte("\r"))
		if !eventually(func() bool { return strings.Contains(out.String(), wait) }) {
			t.Fatalf("never showed %q", wait)
		}
	}
	<-fe.atGate
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrAborted) {
			t.Errorf("Run: %v, want ErrAborted", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not return after its context was cancelled")
	}
	calls := fe.Calls()
	if !contains(calls, "rollback") || calls[len(calls)-1] != "close" {
		t.Errorf("engine calls %q: want a rollback, then close", calls)
	}
	if !strings.Contains(out.String(), "wgboot: The armed changes were rolled back") {
		t.Errorf("Run did not say it rolled back:\n%s", out.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the program's writer goroutine and
// the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoGoroutineLeak walks to Done through Run and quits: every
// goroutine the wizard started (engine calls, the bridge's wait, ticks)
// has ended once Run returned and the input is closed.
func TestNoGoroutineLeak(t *testing.T) {
	before := ownGoroutines()
	fe := &fakeEngine{}
	factory, _ := fakeFactory(fe)
	in, keys := io.Pipe()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		_, err := Run(t.Context(), demoOptions(factory, newFakeClock()), in, &out)
		done <- err
	}()
	for range 5 {
		keys.Write([]byte("\r"))
		time.Sleep(20 * time.Millisecond) // huh moves focus asynchronously; not an assertion
	}
	for _, wait := range []string{"Trust and continue", "Press enter to see the plan", "Commands (7)", "Close it on the WAN now?", "Reconnect next time"} {
		if !eventually(func() bool { return strings.Contains(out.String(), wait) }) {
			t.Fatalf("never showed %q", wait)
		}
		if wait != "Reconnect next time" {
			keys.Write([]byte("\r"))
		}
	}
	keys.Write([]byte("q"))
	if !eventually(func() bool { return strings.Contains(out.String(), "Quit?") }) {
		t.Fatal("q did not ask before quitting")
	}
	keys.Write([]byte("y"))
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	keys.Close()
	if !eventually(func() bool { return ownGoroutines() <= before }) {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", before, ownGoroutines(), buf[:runtime.Stack(buf, true)])
	}
}

// ownGoroutines counts goroutines but the runtime's signal loop, which
// the first signal.Notify (bubbletea's) starts for the whole process.
func ownGoroutines() int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "os/signal.signal_recv") {
			n++
		}
	}
	return n
}

// BenchmarkView is the cost of drawing the busiest screen (the Plan with
// its commands) at 80x24.
func BenchmarkView(b *testing.B) {
	m := New(Options{Now: newFakeClock().Now})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.scr = scrPlan
	m.plan.setPlan(fakePlan(onboard.Settings{}))
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// TestWarnings: inspect warnings come with their sentence under the fact;
// plan warnings get their own tab.
func TestWarnings(t *testing.T) {
	fe := &fakeEngine{}
	facts := []onboard.Fact{
		{Name: "RouterOS", Value: "6.49.10 (long-term)", Warning: "RouterOS 6 has no WireGuard: upgrade to RouterOS 7 first."},
		{Name: "WAN", Value: "ether1 100.64.12.7/10 (DHCP)"},
		{Name: "Public endpoint", Value: "100.64.12.7", Warning: "This is a carrier-grade NAT address: the internet cannot reach the router; use a VPS relay or ask the ISP for a public address."},
	}
	fe.inspect = func(ctx context.Context) ([]onboard.Fact, error) {
		for _, f := range facts {
			fe.emit(onboard.StepInspect, onboard.KindProgress, "", func(e *onboard.Event) { e.Facts = []onboard.Fact{f} })
		}
		return facts, nil
	}
	fe.plan = func(ctx context.Context, s onboard.Settings) (*onboard.Plan, error) {
		p := fakePlan(s)
		p.Warnings = []string{"The published endpoint 100.64.12.7 is behind carrier-grade NAT: the config will not reach the router from outside."}
		return p, nil
	}
	h := startFake(t, fe, newFakeClock(), "inspect")
	goldenScreen(t, "inspect", h.waitFor("carrier-grade NAT address"))
	h.key("enter")
	h.waitFor("Warnings (1)")
	h.key("shift+tab")
	goldenScreen(t, "plan", h.waitFor("from outside"))
}

// TestLiveCountdown: while armed, the countdown and the handshake's age
// follow the clock (one tick a second).
func TestLiveCountdown(t *testing.T) {
	clock := newFakeClock()
	fe := &fakeEngine{holdBeforeHarden: make(chan struct{})}
	h := startFake(t, fe, clock, "plan")
	h.key("enter")
	h.waitFor("Auto-rollback in 5:00", "1s ago")
	clock.Advance(75 * time.Second)
	h.waitFor("Auto-rollback in 3:45", "1m16s ago")
	close(fe.holdBeforeHarden)
}

// TestEscWhileInspecting goes back to Connect while Inspect still runs:
// the cancelled call's late event and error must not leave Connect.
func TestEscWhileInspecting(t *testing.T) {
	fe := &fakeEngine{}
	returned := make(chan struct{})
	fe.inspect = func(ctx context.Context) ([]onboard.Fact, error) {
		defer close(returned)
		fe.emit(onboard.StepInspect, onboard.KindStarted, "reading", nil)
		<-ctx.Done()
		fe.emit(onboard.StepInspect, onboard.KindProgress, "", func(e *onboard.Event) {
			e.Facts = []onboard.Fact{{Name: "Late", Value: "from an abandoned engine"}}
		})
		return nil, ctx.Err()
	}
	h := startFake(t, fe, newFakeClock(), "trust")
	h.key("enter")
	h.waitFor("Reading the router…")
	h.key("esc")
	h.waitFor("Router", "Password")
	<-returned
	h.key("tab") // a round trip through Update after the late messages
	v := h.waitFor("Router", "Password")
	if strings.Contains(v, "Failure") || strings.Contains(v, "context canceled") {
		t.Errorf("the abandoned call's error reached the screen:\n%s", v)
	}
}

// TestCreateCertificateNeedsExplicitYes: the question that sends the
// password over the plain API is a danger question. No single key says
// yes: y and a bare enter decline; only moving onto its button and
// pressing enter accepts (the technician's explicit choice).
func TestCreateCertificateNeedsExplicitYes(t *testing.T) {
	for _, tt := range []struct {
		name string
		keys []string
		want bool
	}{
		{"y does not accept", []string{"y", "enter"}, false},
		{"enter declines", []string{"enter"}, false},
		{"move to yes and enter", []string{"right", "enter"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fe := &fakeEngine{}
			fe.connect = func(ctx context.Context) error {
				ok, err := fe.ask(ctx, onboard.Question{ID: "create-certificate", Danger: true,
					Title: "Send the password unencrypted to create a certificate?", Detail: "The password crosses the network unencrypted."})
				if err != nil || !ok {
					return errNotTrusted
				}
				return nil
			}
			factory, _ := fakeFactory(fe)
			h := start(t, demoOptions(factory, newFakeClock()))
			h.waitFor("Router")
			h.submitConnect()
			h.waitFor("unencrypted", "[ No ]", "Yes, send it unencrypted")
			for _, k := range tt.keys {
				h.key(k)
			}
			if !eventually(func() bool { _, ok := fe.Answer("create-certificate"); return ok }) {
				t.Fatalf("the question was never answered")
			}
			if a, _ := fe.Answer("create-certificate"); a != tt.want {
				t.Errorf("answer = %v, want %v", a, tt.want)
			}
		})
	}
}
