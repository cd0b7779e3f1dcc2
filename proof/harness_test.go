package proof

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/sim"
)

// full is true under WGBOOT_FAULTS=full (make faults): every example, every
// command, thousands of rulesets.
var full = os.Getenv("WGBOOT_FAULTS") == "full"

const password = "pr00f-S3cret-pw"

// build holds the wgboot binary, built once on first use (fuzz workers and
// tests that do not run it never build it).
var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain builds nothing up front (see wgbootBinary), removes the built
// binary at the end and fails the package when goroutines outlive the
// tests: every router, engine, local peer and process watcher a test
// starts must be gone.
func TestMain(m *testing.M) {
	flag.Parse()
	before := runtime.NumGoroutine()
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
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
func wgbootBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "wgboot-proof-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "wgboot")
		out, err := exec.Command("go", "build", "-o", build.path, "../cmd/wgboot").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("proof: build wgboot: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// example is one examples/*.rsc file and its "# wgboot-example:" wiring.
type example struct {
	name, config string
	wan          []string
	lan          string
	dynamic      []sim.DynamicAddress
}

func loadExamples(t testing.TB) []example {
	t.Helper()
	paths, err := filepath.Glob("../examples/*.rsc")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	var out []example
	for _, p := range paths {
		out = append(out, loadExample(t, p))
	}
	return out
}

func loadExample(t testing.TB, path string) example {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseExample(strings.TrimSuffix(filepath.Base(path), ".rsc"), string(b))
}

func parseExample(name, config string) example {
	ex := example{name: name, config: config}
	// A malformed wiring line leaves the example unwired (fuzz inputs).
	if w, err := sim.ParseWiring(config); err == nil {
		ex.wan, ex.lan, ex.dynamic = w.WAN, w.LAN, w.Dynamic
	}
	return ex
}

func exampleNamed(t testing.TB, name string) example {
	t.Helper()
	return loadExample(t, filepath.Join("..", "examples", name+".rsc"))
}

// lanSource is a client address inside the LAN's subnet (sim.Wiring).
func (ex example) lanSource() netip.Addr { return sim.LANClient(ex.config, ex.lan) }

// loopback returns a random 127.x.y.z address so parallel tests and
// packages do not collide on ports.
func loopback() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(2 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(253))})
}

var wanClient = netip.MustParseAddr("203.0.113.99")

// router is a running rossim for one example.
type router struct {
	ex       example
	r        *sim.Router
	wan, lan netip.Addr // listen addresses (zero when absent)
	info     sim.Info
}

// startRouter starts rossim for ex; mod may adjust the options.
func startRouter(t testing.TB, ex example, mod func(*sim.Options)) *router {
	t.Helper()
	rt := &router{ex: ex}
	o := sim.Options{Config: ex.config, DynamicAddresses: ex.dynamic, Password: password}
	if os.Getenv("WGBOOT_PROOF_SIMLOG") != "" {
		o.Logf = t.Logf
	}
	if len(ex.wan) > 0 {
		rt.wan = loopback()
		o.Listen = append(o.Listen, sim.Listen{Iface: ex.wan[0], Addr: rt.wan, Src: wanClient})
	}
	if ex.lan != "" {
		rt.lan = loopback()
		o.Listen = append(o.Listen, sim.Listen{Iface: ex.lan, Addr: rt.lan, Src: ex.lanSource()})
	}
	if mod != nil {
		mod(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := sim.Start(ctx, o)
	if err != nil {
		t.Fatalf("%s: sim.Start: %v", ex.name, err)
	}
	t.Cleanup(func() { r.Close() })
	rt.r, rt.info = r, r.Info()
	return rt
}

// reach is the address the technician uses: the LAN side when there is one.
func (rt *router) reach() netip.Addr {
	if rt.lan.IsValid() {
		return rt.lan
	}
	return rt.wan
}

func (rt *router) port(addr netip.Addr, plain bool) uint16 {
	for _, l := range rt.info.Listen {
		if l.Addr == addr {
			if plain {
				return l.API
			}
			return l.APISSL
		}
	}
	return 0
}

// apiAddr is host:port of api-ssl (or api when plain) at addr.
func (rt *router) apiAddr(addr netip.Addr, plain bool) string {
	return netip.AddrPortFrom(addr, rt.port(addr, plain)).String()
}

// export is the router's export without its header comments (they hold the time).
func (rt *router) export() string { return exportBody(rt.r.Export()) }

func exportBody(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// apiAnswers reports whether a new api-ssl session at addr logs in.
func (rt *router) apiAnswers(ctx context.Context, addr netip.Addr) error {
	cl, err := routeros.Dial(ctx, routeros.Config{Addr: rt.apiAddr(addr, false), TLS: true, Fingerprint: rt.info.Fingerprint,
		User: "admin", Password: password, Timeout: 3 * time.Second})
	if err != nil {
		return err
	}
	return cl.Close()
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
func applyArgs(rt *router, addr netip.Addr, stateDir string, extra ...string) []string {
	args := []string{"apply", "--yes", "--router", rt.apiAddr(addr, false), "--fingerprint", rt.info.Fingerprint,
		"--state-dir", stateDir, "--local", "netstack"}
	return append(args, extra...)
}

// apiAnswersPlain reports whether a new plain API session at addr logs in.
func (rt *router) apiAnswersPlain(ctx context.Context, addr netip.Addr) error {
	cl, err := routeros.Dial(ctx, routeros.Config{Addr: rt.apiAddr(addr, true), User: "admin", Password: password, Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	return cl.Close()
}
