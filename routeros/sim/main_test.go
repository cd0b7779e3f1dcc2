package sim

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when goroutines outlive the routers that
// started them (every goroutine has an owner whose Close waits for it).
func TestMain(m *testing.M) {
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base+2 {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			var ours []string
			for _, g := range strings.Split(string(buf), "\n\n") {
				if strings.Contains(g, "routeros/sim") || strings.Contains(g, "wireguard") {
					ours = append(ours, g)
				}
			}
			fmt.Fprintf(os.Stderr, "sim: %d goroutines leaked (%d at start):\n%s\n", n-base, base, strings.Join(ours, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}
