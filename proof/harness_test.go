package proof

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros/sim"
)

// full is true under WGBOOT_FAULTS=full (make faults): every example, every
// command, thousands of rulesets.
var full = os.Getenv("WGBOOT_FAULTS") == "full"

const password = "pr00f-S3cret-pw"

// wgboot is the wgboot binary, built once on first use (fuzz workers and
// tests that do not run it never build it).
var wgboot = simtest.Build{Pkg: "../cmd/wgboot"}

// TestMain builds nothing up front (see wgboot), removes the built
// binary at the end and fails the package when goroutines outlive the
// tests: every router, engine, local peer and process watcher a test
// starts must be gone.
func TestMain(m *testing.M) {
	flag.Parse()
	before := runtime.NumGoroutine()
	code := m.Run()
	wgboot.Remove()
	if code == 0 && flag.Lookup("test.bench").Value.String() == "" && flag.Lookup("test.fuzz").Value.String() == "" {
		deadline := time.Now().Add(15 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Fprintf(os.Stderr, "proof: %d goroutines leaked:\n%s\n", n-before, buf)
			code = 1
		}
	}
	os.Exit(code)
}

// wgbootBinary returns the path of the wgboot binary built from this tree.
func wgbootBinary(t testing.TB) string { return wgboot.Path(t) }

// startRouter starts rossim for ex (see simtest.Start); mod may adjust the
// simulator's options. Its log shows with WGBOOT_PROOF_SIMLOG set.
func startRouter(t testing.TB, ex simtest.Example, mod func(*sim.Options)) *simtest.Router {
	t.Helper()
	return simtest.Start(t, ex, simtest.Options{Password: password, Quiet: os.Getenv("WGBOOT_PROOF_SIMLOG") == "", Sim: mod})
}

// result is what one wgboot process left.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// brief is the failure lines of the output (FAILED, try, undone) and stderr.
func (r result) brief() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit %d\n", r.code)
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "FAILED") || strings.Contains(l, "try:") || strings.Contains(l, "undone:") || strings.Contains(l, "warning") {
			b.WriteString("  " + strings.TrimSpace(l) + "\n")
		}
	}
	b.WriteString("stderr: " + r.stderr)
	return b.String()
}

// cli runs the wgboot binary. env holds extra variables; HOME and
// XDG_CONFIG_HOME point into a fresh temporary directory so no state of the
// machine is read.
type cli struct {
	bin   string
	env   []string
	stdin string
}

func newCLI(t testing.TB) *cli {
	home := t.TempDir()
	return &cli{bin: wgbootBinary(t), env: []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "PATH=" + os.Getenv("PATH"),
		"WGBOOT_PASSWORD=" + password, "NO_COLOR=1", "TERM=dumb"}}
}

func (c *cli) setenv(k, v string) {
	for i, e := range c.env {
		if strings.HasPrefix(e, k+"=") {
			c.env[i] = k + "=" + v
			return
		}
	}
	c.env = append(c.env, k+"="+v)
}

func (c *cli) unsetenv(k string) {
	for i, e := range c.env {
		if strings.HasPrefix(e, k+"=") {
			c.env = append(c.env[:i], c.env[i+1:]...)
			return
		}
	}
}

func (c *cli) command(ctx context.Context, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(c.stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &lockedWriter{w: &out}, &lockedWriter{w: &errb}
	cmd.WaitDelay = 5 * time.Second
	return cmd, &out, &errb
}

// run runs wgboot to the end.
func (c *cli) run(ctx context.Context, args ...string) result {
	cmd, out, errb := c.command(ctx, args...)
	err := cmd.Run()
	return finish(err, out, errb)
}

func finish(err error, out, errb *bytes.Buffer) result {
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		code = -1
		errb.WriteString("\nproof: " + err.Error())
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// applyArgs are the arguments of a full headless apply of rt through addr.
func applyArgs(rt *simtest.Router, addr netip.Addr, stateDir string, extra ...string) []string {
	args := []string{"apply", "--yes", "--router", rt.APIAddr(addr, false), "--fingerprint", rt.Info.Fingerprint,
		"--state-dir", stateDir, "--local", "netstack"}
	return append(args, extra...)
}
