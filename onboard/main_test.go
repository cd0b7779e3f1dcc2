package onboard

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when goroutines outlive the tests: every
// engine, simulator and local peer must have been closed.
func TestMain(m *testing.M) {
	base := runtime.NumGoroutine()
	code := m.Run()
	// The fuzzing engine keeps its own workers: check only plain test runs.
	if f := flag.Lookup("test.fuzz"); code == 0 && (f == nil || f.Value.String() == "") {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Fprintf(os.Stderr, "onboard: %d goroutines leaked (%d at start):\n%s\n", n-base, base, leaked(string(buf)))
			code = 1
		}
	}
	os.Exit(code)
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
