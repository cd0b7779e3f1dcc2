// Package leakcheck fails a test binary whose goroutines outlive its tests.
//
// Every engine, simulated router and local peer a test opens must be closed
// by it; this is the check, shared by the packages' TestMain functions. It
// does nothing for benchmark and fuzzing runs, whose engines keep workers.
package leakcheck

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// settle is how long goroutines get to finish after the last test (a
// variable so that the package's own test can shorten it).
var settle = 10 * time.Second

// Main runs the tests and exits; it fails the binary when more than slack
// goroutines are left after settle, printing their stacks prefixed by pkg.
// Call it as the whole body of TestMain: leakcheck.Main(m, "onboard", 0).
func Main(m *testing.M, pkg string, slack int) {
	os.Exit(Run(m, pkg, slack))
}

// Run is Main without the exit, for a TestMain that cleans up after the
// check: it returns the exit code.
func Run(m *testing.M, pkg string, slack int) int {
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 && !benchOrFuzz() {
		code = check(os.Stderr, pkg, base+slack)
	}
	return code
}

func check(w io.Writer, pkg string, limit int) int {
	deadline := time.Now().Add(settle)
	for runtime.NumGoroutine() > limit && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	n := runtime.NumGoroutine()
	if n <= limit {
		return 0
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	fmt.Fprintf(w, "%s: %d goroutines leaked:\n%s\n", pkg, n-limit, leaked(string(buf)))
	return 1
}

// leaked keeps the stacks that are not the test runtime's own.
func leaked(all string) string {
	var out []string
	for _, g := range strings.Split(all, "\n\n") {
		if strings.Contains(g, "testing.(*M).Run") || strings.Contains(g, "runtime.goexit") && strings.Contains(g, "signal") {
			continue
		}
		out = append(out, g)
	}
	return strings.Join(out, "\n\n")
}

func benchOrFuzz() bool {
	for _, name := range []string{"test.bench", "test.fuzz"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return true
		}
	}
	return false
}
