package leakcheck

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	settle = 200 * time.Millisecond
	base := runtime.NumGoroutine()
	if got := check(&bytes.Buffer{}, "x", base); got != 0 {
		t.Fatalf("check with no leak = %d, want 0", got)
	}
	stop := make(chan struct{})
	go func() { <-stop }() // a leak until stop is closed
	var out bytes.Buffer
	if got := check(&out, "x", base); got != 1 {
		close(stop)
		t.Fatalf("check with a leaked goroutine = %d, want 1", got)
	}
	close(stop)
	if !strings.Contains(out.String(), "x: 1 goroutines leaked") || !strings.Contains(out.String(), "TestCheck") {
		t.Errorf("report does not name the leak:\n%s", out.String())
	}
}
