package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/fleet"
	"github.com/wgboot/wgboot/internal/simtest"
)

// fleetRouters starts n soho-defconf routers (all called MikroTik) and
// writes an inventory reaching each on its LAN side. It returns the
// inventory's path, the routers and their API addresses.
func fleetRouters(t *testing.T, n int) (string, []*simtest.Router, []string) {
	t.Helper()
	ex := simtest.Named(t, "soho-defconf")
	var b strings.Builder
	b.WriteString("pool: 10.80.0.0/16\ndefaults:\n  local: netstack\n  password_env: FLEET_PW\nrouters:\n")
	var rs []*simtest.Router
	var addrs []string
	for range n {
		r, addr := startSim(t, ex)
		rs, addrs = append(rs, r), append(addrs, addr)
		fmt.Fprintf(&b, "  - address: %s\n    fingerprint: %s\n", addr, r.Info.Fingerprint)
	}
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, rs, addrs
}

// fleetIndex reads dir's index: file -> address.
func fleetIndex(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, fleet.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, "\t")
		if strings.HasPrefix(l, "#") || len(f) != 4 {
			continue
		}
		out[f[0]] = f[2]
	}
	return out
}

// Three routers onboarded by `fleet apply`, each rolled back with
// `wgboot rollback`, then `fleet apply` again: the rollback retires each
// router's fleet file, so the rerun is a clean onboarding (exit 0), and
// every file written is one wg-quick accepts as it is.
func TestFleetRerunAfterRollback(t *testing.T) {
	inv, rs, addrs := fleetRouters(t, 3)
	state := t.TempDir()
	env := map[string]string{"FLEET_PW": "pw-golden", "WGBOOT_PASSWORD": "pw-golden"}
	dir := filepath.Join(state, "fleet")

	checkFiles := func(when string) map[string]string {
		idx := fleetIndex(t, dir)
		if len(idx) != 3 {
			t.Fatalf("%s: index has %d lines, want 3: %v", when, len(idx), idx)
		}
		for name, addr := range idx {
			if !fleet.ValidConfigName(name) || name != fleet.ConfigName("MikroTik", addr) {
				t.Errorf("%s: %s (%s) is not a valid, stable name", when, name, addr)
			}
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s: %v", when, p, err)
				continue
			}
			if wgq, err := exec.LookPath("wg-quick"); err == nil && os.Geteuid() == 0 {
				if out, err := exec.Command(wgq, "strip", p).CombinedOutput(); err != nil {
					t.Errorf("%s: wg-quick strip %s: %v\n%s", when, p, err, out)
				}
			}
		}
		return idx
	}

	res := runBin(t, env, "fleet", "apply", inv, "--state-dir", state)
	if res.code != 0 || !strings.Contains(res.stdout, "3 routers, 3 onboarded, 0 failed") {
		t.Fatalf("fleet apply: %s", res)
	}
	first := checkFiles("first run")
	// stdout is a pipe here: plain lines, no cursor movement.
	if strings.ContainsRune(res.stdout, 0x1b) {
		t.Errorf("escape sequences in the output to a pipe:\n%q", res.stdout)
	}

	for i, addr := range addrs {
		res := runBin(t, env, "rollback", "--yes", "--router", addr, "--fingerprint", rs[i].Info.Fingerprint, "--state-dir", state, "--local", "netstack")
		if res.code != 0 || !strings.Contains(res.stdout, "removed the fleet config") {
			t.Fatalf("rollback %s: %s", addr, res)
		}
	}
	if idx := fleetIndex(t, dir); len(idx) != 0 {
		t.Errorf("index after rolling every router back: %v", idx)
	}
	for name := range first {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s (private key of a removed peer) is still there", name)
		}
	}

	res = runBin(t, env, "fleet", "apply", inv, "--state-dir", state)
	if res.code != 0 || !strings.Contains(res.stdout, "3 routers, 3 onboarded, 0 failed") {
		t.Fatalf("fleet apply after rollback: %s", res)
	}
	second := checkFiles("rerun")
	for name := range first {
		if _, ok := second[name]; !ok {
			t.Errorf("%s: the rerun named the router's file differently", name)
		}
	}
}

// A router that cannot be reached: the fleet run exits 1 and says why
// once, in words (the summary), not again at exit.
func TestFleetErrorOnce(t *testing.T) {
	addr := refusingAddr(t)
	inv := filepath.Join(t.TempDir(), "inv.yaml")
	os.WriteFile(inv, []byte("routers:\n  - address: "+addr+"\n    tofu: true\n"), 0o600)
	res := runBin(t, map[string]string{"WGBOOT_PASSWORD": "x"}, "fleet", "apply", inv, "--state-dir", t.TempDir())
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res)
	}
	all := res.stdout + res.stderr
	if n := strings.Count(all, "nothing listens"); n != 1 {
		t.Errorf("the reason is printed %d times, want once:\n%s", n, res)
	}
	if !strings.Contains(res.stdout, "FAILED  "+addr+": ") || !strings.Contains(res.stdout, "1 routers, 0 onboarded, 1 failed") {
		t.Errorf("no summary:\n%s", res)
	}
	for _, p := range goPrefixes {
		if strings.Contains(all, p) {
			t.Errorf("output shows %q:\n%s", p, res)
		}
	}
}
