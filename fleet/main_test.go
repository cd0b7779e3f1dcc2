package fleet

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when goroutines outlive the tests: every
// router, engine and local peer a test starts must be gone by the end.
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 && !benchOrFuzz() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Fprintf(os.Stderr, "fleet: %d goroutines leaked:\n%s\n", n-before, buf)
			code = 1
		}
	}
	os.Exit(code)
}

func benchOrFuzz() bool {
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.bench") || strings.HasPrefix(a, "-test.fuzz") {
			return true
		}
	}
	return false
}
