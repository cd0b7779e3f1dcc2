package tui

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// built is the real binary, built once for the tests that run it (the
// machine is small); TestMain removes its directory.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildWgboot builds the real binary (once per test process).
func buildWgboot(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		// go test puts its own GOROOT/bin first on the PATH.
		gobin, err := exec.LookPath("go")
		if err != nil {
			built.err = fmt.Errorf("no go on the PATH to build wgboot: %w", err)
			return
		}
		if built.dir, built.err = os.MkdirTemp("", "wgboot-test-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "wgboot")
		cmd := exec.Command(gobin, "build", "-o", built.bin, "github.com/wgboot/wgboot/cmd/wgboot")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, stderr.String())
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
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

// demoDirs lists the demo's temporary state dirs (they hold its private
// key) under tmp.
func demoDirs(t *testing.T, tmp string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(tmp, "wgboot-demo-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// paneChild is the pid of the command the pane's shell runs (wgboot).
func (s *tmuxSession) paneChild() int {
	s.t.Helper()
	shell := strings.TrimSpace(s.run("display-message", "-p", "-t", "wgboot", "#{pane_pid}"))
	var pid int
	if !eventually(func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%s/task/%s/children", shell, shell))
		f := strings.Fields(string(b))
		if err != nil || len(f) == 0 {
			return false
		}
		pid, err = strconv.Atoi(f[0])
		return err == nil
	}) {
		s.t.Fatalf("the pane's shell %s runs no command", shell)
	}
	return pid
}

// TestTmuxDemoCleansUp: `wgboot demo` removes its temporary state dir
// (it holds a private key) however it ends: quit (exit 0, so make demo
// does not report an error), the terminal closed (SIGHUP), or terminated
// (SIGTERM).
func TestTmuxDemoCleansUp(t *testing.T) {
	needtool.Tool(t, "the real-terminal test drives it", "tmux")
	bin := buildWgboot(t)
	for _, how := range []string{"quit", "SIGHUP", "SIGTERM"} {
		t.Run(how, func(t *testing.T) {
			tmp, home := t.TempDir(), t.TempDir()
			s := newTmux(t, fmt.Sprintf("env TMPDIR=%s HOME=%s TERM=xterm-256color %s demo; echo wgboot-exit=$?; sleep 600", tmp, home, bin))
			s.waitFor("Router", "Password", "Demo:")
			if d := demoDirs(t, tmp); len(d) != 1 {
				t.Fatalf("demo state dirs while it runs: %q, want one", d)
			}
			switch how {
			case "quit":
				s.keys("C-c")
				s.waitFor("Quit?")
				s.keys("y")
				if end := s.waitFor("wgboot-exit="); !strings.Contains(end, "wgboot-exit=0") {
					t.Errorf("quitting the demo did not exit 0:\n%s", end)
				}
			case "SIGHUP":
				pid := s.paneChild()
				// Closing the terminal: tmux hangs up the pane.
				s.run("kill-server")
				if !eventually(func() bool { return syscall.Kill(pid, 0) != nil }) {
					t.Fatalf("wgboot (pid %d) still runs after its terminal closed", pid)
				}
			case "SIGTERM":
				pid := s.paneChild()
				if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				s.waitFor("wgboot-exit=")
			}
			if !eventually(func() bool { return len(demoDirs(t, tmp)) == 0 }) {
				t.Errorf("after %s the demo left %q behind", how, demoDirs(t, tmp))
			}
		})
	}
}
