package fleet

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vmHWM is the process's peak resident set size in bytes (Linux), 0 when
// unknown. The routers run in this process too, so it counts them.
func vmHWM() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// resetHWM starts a new peak measurement (Linux: clear_refs 5).
func resetHWM() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// BenchmarkFleet100 onboards 100 in-process rossim routers (all called
// MikroTik) with fleet.Run at several --parallel values. Reported: wall time
// of the run (routers already started), peak RSS of the process during the
// run (routers included), the resident set with only the routers running
// (before the run) and routers onboarded.
func BenchmarkFleet100(b *testing.B) {
	const n = 100
	for _, par := range []int{8, 32} {
		b.Run("parallel="+strconv.Itoa(par), func(b *testing.B) {
			var wall time.Duration
			var peak, base float64
			ok := 0
			for range b.N {
				b.StopTimer()
				inv, _ := startRouters(b, n)
				o := testOptions(b, b.TempDir())
				o.Parallel = par
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				runtime.GC()
				resetHWM()
				if r := vmHWM(); r > base {
					base = r
				}
				b.StartTimer()
				start := time.Now()
				res, err := Run(ctx, inv, o)
				wall += time.Since(start)
				b.StopTimer()
				cancel()
				if p := vmHWM(); p > peak {
					peak = p
				}
				if err != nil {
					for _, r := range res {
						if r.Err != nil {
							b.Logf("%s: %v", r.Router, r.Err)
							break
						}
					}
					b.Errorf("fleet run: %v", err)
				}
				for _, r := range res {
					if r.Err == nil {
						ok++
					}
				}
			}
			b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/op")
			b.ReportMetric(peak/(1<<20), "peak-rss-MB")
			b.ReportMetric(base/(1<<20), "rss-routers-only-MB")
			b.ReportMetric(float64(ok)/float64(b.N), "routers-onboarded/op")
		})
	}
}
