package tui

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/needtool"
)

// tmuxSession drives a real terminal: a private tmux server (its own
// socket in a temp dir, so it never touches anyone's sessions) running one
// command in an 80x24 window.
type tmuxSession struct {
	t    *testing.T
	sock string
}

func newTmux(t *testing.T, command string) *tmuxSession {
	t.Helper()
	needtool.Tool(t, "the real-terminal test drives it", "tmux")
	s := &tmuxSession{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	s.run("new-session", "-d", "-x", "80", "-y", "24", "-s", "wgboot", command)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (s *tmuxSession) capture() string { return s.run("capture-pane", "-p", "-t", "wgboot") }

func (s *tmuxSession) keys(k ...string) {
	s.run(append([]string{"send-keys", "-t", "wgboot"}, k...)...)
}

// waitFor polls the pane until it shows all of want.
func (s *tmuxSession) waitFor(want ...string) string {
	s.t.Helper()
	var v string
	ok := eventually(func() bool {
		v = s.capture()
		for _, w := range want {
			if !strings.Contains(v, w) {
				return false
			}
		}
		return true
	})
	if !ok {
		s.t.Fatalf("the terminal never showed %q; it shows:\n%s", want, v)
	}
	return v
}

// buildWgboot builds the real binary into a temp dir.
func buildWgboot(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "wgboot")
	cmd := exec.Command(gobin, "build", "-o", bin, "github.com/wgboot/wgboot/cmd/wgboot")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v\n%s", err, stderr.String())
	}
	return bin
}

// TestTmuxDemo runs `wgboot demo` in a real terminal (tmux, 80x24) and
// presses enter at every default, as a new user would, up to Done with
// the API closed on the simulated WAN; q then ends the program cleanly.
// With WGBOOT_SCREENS set to a directory, each screen is saved there as
// text (that is how docs/screens is made).
func TestTmuxDemo(t *testing.T) {
	needtool.Tool(t, "the real-terminal test drives it", "tmux")
	bin := buildWgboot(t)
	home := t.TempDir()
	command := fmt.Sprintf("env -u NO_COLOR HOME=%s XDG_CONFIG_HOME=%s TERM=xterm-256color %s demo; echo wgboot-exit=$?; sleep 600",
		home, filepath.Join(home, ".config"), bin)
	s := newTmux(t, command)
	save := func(name, screen string) {
		if dir := os.Getenv("WGBOOT_SCREENS"); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(screen), 0o644); err != nil {
				t.Errorf("save screen: %v", err)
			}
		}
	}

	save("1-connect", s.waitFor("Router", "Password", "Demo:"))
	for i := 0; i < 5; i++ { // router, port, user, password, API mode
		s.keys("Enter")
		time.Sleep(50 * time.Millisecond) // huh moves focus asynchronously; not an assertion
	}
	save("2-trust", s.waitFor("Trust the router's certificate?", "Trust and continue"))
	s.keys("Enter")
	save("3-inspect", s.waitFor("Press enter to see the plan"))
	s.keys("Enter")
	save("4-plan", s.waitFor("Commands (", "Subnet 10.77.0.0/24"))
	s.keys("Tab")
	save("4-plan-verdicts", s.waitFor("Probe", "Before"))
	s.keys("BTab")
	s.waitFor("Now (auto-rollback armed)")
	s.keys("Enter")
	save("6-gate", s.waitFor("Close it on the WAN now?", "Auto-rollback in"))
	s.keys("Enter")
	done := s.waitFor("Reconnect next time", "its API is closed on the WAN", "Proven via  wan")
	save("7-done", done)
	s.keys("Tab")
	save("7-done-qr", s.waitFor("Scan with the WireGuard app"))
	s.keys("q")
	s.waitFor("Quit?")
	s.keys("y")
	end := s.waitFor("wgboot-exit=")
	if !strings.Contains(end, "wgboot-exit=0") {
		t.Errorf("wgboot demo did not exit 0 after Done:\n%s", end)
	}
	if !strings.Contains(end, "wgboot: done:") {
		t.Errorf("no summary printed after the wizard ended:\n%s", end)
	}
}

// TestTmuxNotATerminal: with stdout not a terminal, wgboot says to use
// wgboot apply and exits 2.
func TestTmuxNotATerminal(t *testing.T) {
	bin := buildWgboot(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("exit: %v, want code 2", err)
	}
	if !strings.Contains(out.String(), "wgboot apply") {
		t.Errorf("output does not point to wgboot apply:\n%s", out.String())
	}
}

// TestTmuxColour: the wizard draws in colour on a colour terminal, and in
// none at all with NO_COLOR set (no-color.org), huh's form included.
func TestTmuxColour(t *testing.T) {
	needtool.Tool(t, "the real-terminal test drives it", "tmux")
	bin := buildWgboot(t)
	sgrColour := regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7]|38;|48;)[0-9;]*m`)
	for _, tt := range []struct {
		name   string
		env    string
		colour bool
	}{
		// termenv draws no colour when CI is set (as on the CI machine that
		// runs this test), so both cases unset it: a technician's terminal.
		{"colour", "-u NO_COLOR -u CI", true},
		{"NO_COLOR", "-u CI NO_COLOR=1", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			s := newTmux(t, fmt.Sprintf("env %s HOME=%s TERM=xterm-256color COLORTERM=truecolor %s demo; sleep 600", tt.env, home, bin))
			s.waitFor("Router", "Password")
			screen := s.run("capture-pane", "-e", "-p", "-t", "wgboot")
			if got := sgrColour.MatchString(screen); got != tt.colour {
				t.Errorf("colour codes on screen: %v, want %v:\n%q", got, tt.colour, screen)
			}
			s.keys("C-c")
			s.waitFor("Quit?")
			s.keys("y")
		})
	}
}

// TestTmuxAccessible: `wgboot demo --accessible` is plain prompts; enter
// at each one reaches Done.
func TestTmuxAccessible(t *testing.T) {
	needtool.Tool(t, "the real-terminal test drives it", "tmux")
	bin := buildWgboot(t)
	s := newTmux(t, fmt.Sprintf("env HOME=%s TERM=xterm-256color %s demo --accessible; echo wgboot-exit=$?; sleep 600", t.TempDir(), bin))
	prompts := []string{"Router address [", "Port", "User [admin]:", "Enter a number", "Password", "certificate? [Y/n]", "Edit the settings first?", "Apply this plan now", "Close it on the WAN now?"}
	for _, p := range prompts {
		s.waitFor(p)
		s.keys("Enter")
	}
	s.run("resize-window", "-t", "wgboot", "-y", "200") // room for the whole transcript
	end := s.waitFor("wgboot-exit=")
	for _, want := range []string{"its API is closed on the WAN", "wgboot-exit=0"} {
		if !strings.Contains(s.run("capture-pane", "-p", "-J", "-S", "-", "-t", "wgboot"), want) {
			t.Errorf("no %q in the accessible run:\n%s", want, end)
		}
	}
}
