package proof

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wgboot/wgboot/fleet"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros/sim"
)

// fleetInventory starts n soho-defconf routers (all called MikroTik) and
// writes an inventory reaching each on its LAN side.
func fleetInventory(tb testing.TB, n int) (string, []*simtest.Router) {
	tb.Helper()
	ex := simtest.Named(tb, "soho-defconf")
	var b strings.Builder
	b.WriteString("pool: 10.80.0.0/16\ndefaults:\n  local: netstack\n  password_env: FLEET_PW\nrouters:\n")
	var rts []*simtest.Router
	for range n {
		rt := startRouter(tb, ex, func(o *sim.Options) { o.Password = "fleet-" + password })
		rts = append(rts, rt)
		fmt.Fprintf(&b, "  - address: %s\n    fingerprint: %s\n", rt.APIAddr(rt.LAN, false), rt.Info.Fingerprint)
	}
	path := filepath.Join(tb.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, rts
}

// TestFleetCLI runs `wgboot fleet apply` on three routers that share one
// identity: three config files named by identity and address, 0600, and a
// second run that refuses to overwrite nothing because nothing changes.
func TestFleetCLI(t *testing.T) {
	inv, rts := fleetInventory(t, 3)
	c := newCLI(t)
	c.setenv("FLEET_PW", "fleet-"+password)
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res := c.run(ctx, "fleet", "apply", inv, "--parallel", "2", "--state-dir", state)
	if res.code != 0 {
		t.Fatalf("fleet apply: %s", res)
	}
	if !strings.Contains(res.stdout, "3 routers, 3 onboarded, 0 failed") {
		t.Errorf("no summary line:\n%s", res.stdout)
	}
	for _, rt := range rts {
		name := fleet.ConfigName("MikroTik", rt.APIAddr(rt.LAN, false))
		p := filepath.Join(state, "fleet", name)
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("config for %s: %v", rt.APIAddr(rt.LAN, false), err)
			continue
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", p, st.Mode().Perm())
		}
		if !strings.Contains(rt.Export(), "wgboot") {
			t.Errorf("%s not onboarded", rt.APIAddr(rt.LAN, false))
		}
	}
	if strings.Contains(res.stdout+res.stderr, "fleet-"+password) {
		t.Error("the password appears in the output")
	}
	// --json gives one object per line.
	res = c.run(ctx, "fleet", "apply", inv, "--json", "--state-dir", state)
	if res.code != 0 {
		t.Fatalf("second fleet apply: %s", res)
	}
	for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		if !strings.HasPrefix(l, "{") {
			t.Errorf("--json line is not JSON: %q", l)
		}
	}
	// A bad inventory is bad input: exit 2, the field named.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("routers:\n  - address: 192.0.2.1\n    password: hunter2\n"), 0o600)
	res = c.run(ctx, "fleet", "apply", bad, "--state-dir", state)
	if res.code != 2 || !strings.Contains(res.stderr, "password") {
		t.Errorf("bad inventory: %s", res)
	}
}

// BenchmarkFleetCLI onboards 100 in-process rossim routers with the wgboot
// binary (`fleet apply --parallel 16`). Reported: wall time and the wgboot
// process's own peak RSS (routers excluded: they run in the test process).
func BenchmarkFleetCLI(b *testing.B) {
	const n = 100
	var wall time.Duration
	var peak int64
	for range b.N {
		b.StopTimer()
		inv, _ := fleetInventory(b, n)
		c := newCLI(b)
		c.setenv("FLEET_PW", "fleet-"+password)
		if v := os.Getenv("WGBOOT_BENCH_GOMEMLIMIT"); v != "" {
			c.setenv("GOMEMLIMIT", v)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd, out, errb := c.command(ctx, "fleet", "apply", inv, "--parallel", "16", "--state-dir", b.TempDir())
		b.StartTimer()
		start := time.Now()
		err := cmd.Run()
		wall += time.Since(start)
		b.StopTimer()
		cancel()
		if r := finish(err, out, errb); r.code != 0 {
			b.Fatalf("fleet apply: %s", r.brief())
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > peak {
			peak = ru.Maxrss
		}
	}
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/op")
	b.ReportMetric(float64(peak)/1024, "wgboot-peak-rss-MB")
	b.ReportMetric(n, "routers")
}
