package fleet

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
)

const password = "fl33t-pw"

// startRouters starts n rossim routers with the soho defconf (all called
// MikroTik), reached on their LAN side, and returns an inventory for them.
func startRouters(tb testing.TB, n int) (*Inventory, []*sim.Router) {
	tb.Helper()
	return startRoutersWith(tb, n, "")
}

// startRoutersWith is startRouters with extra export lines after the
// defconf.
func startRoutersWith(tb testing.TB, n int, extra string) (*Inventory, []*sim.Router) {
	tb.Helper()
	ex := simtest.Named(tb, "soho-defconf")
	ex.Config += extra
	inv := &Inventory{Pool: netip.MustParsePrefix("10.77.0.0/16"), SubnetBits: 24}
	var routers []*sim.Router
	for range n {
		rt := simtest.Start(tb, ex, simtest.Options{Password: password, Quiet: true})
		routers = append(routers, rt.Sim)
		inv.Routers = append(inv.Routers, Router{Address: rt.APIAddr(rt.LAN, false), Fingerprint: rt.Info.Fingerprint,
			User: "admin", PasswordEnv: "WGBOOT_PASSWORD", ConfirmTimeout: 5 * time.Minute, Local: "netstack"})
	}
	return inv, routers
}

func testOptions(tb testing.TB, state string) Options {
	return Options{
		StateDir: state,
		Getenv:   func(k string) string { return map[string]string{"WGBOOT_PASSWORD": password}[k] },
		Engine: func(r Router, o *onboard.Options) {
			o.NewLocal = func(string) (vpn.Backend, error) { return vpn.NewNetstack(nil), nil }
		},
	}
}

func TestRunAgainstRossim(t *testing.T) {
	inv, _ := startRouters(t, 3)
	state := t.TempDir()
	o := testOptions(t, state)
	o.Parallel = 2
	var mu sync.Mutex
	final := map[int]Event{}
	o.Sink = func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Final {
			if _, dup := final[ev.Index]; dup {
				t.Errorf("router %d: two final events", ev.Index)
			}
			final[ev.Index] = ev
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, inv, o)
	if err != nil {
		for _, r := range res {
			t.Logf("%s: %v", r.Router, r.Err)
		}
		t.Fatal(err)
	}
	var subnets, configs []string
	for i, r := range res {
		if r.Identity != "MikroTik" {
			t.Errorf("router %d identity %q", i, r.Identity)
		}
		subnets = append(subnets, r.Subnet)
		configs = append(configs, filepath.Base(r.Config))
		want := ConfigName("MikroTik", inv.Routers[i].Address)
		if filepath.Base(r.Config) != want || !ValidConfigName(want) {
			t.Errorf("router %d config %s, want %s", i, r.Config, want)
		}
		b, err := os.ReadFile(r.Config)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "PrivateKey = ") {
			t.Errorf("%s is not a wg-quick file", r.Config)
		}
		if st, _ := os.Stat(r.Config); st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", r.Config, st.Mode().Perm())
		}
		if !final[i].Final || final[i].Kind != onboard.KindDone {
			t.Errorf("router %d final event %+v", i, final[i])
		}
	}
	sort.Strings(subnets)
	if diff := cmp.Diff([]string{"10.77.0.0/24", "10.77.1.0/24", "10.77.2.0/24"}, subnets); diff != "" {
		t.Errorf("subnets (-want +got):\n%s", diff)
	}
	// Each router has its own key.
	keys := map[string]bool{}
	for _, r := range res {
		b, _ := os.ReadFile(r.Config)
		for _, l := range strings.Split(string(b), "\n") {
			if k, ok := strings.CutPrefix(l, "PrivateKey = "); ok {
				keys[k] = true
			}
		}
	}
	if len(keys) != 3 {
		t.Errorf("%d distinct keys for 3 routers", len(keys))
	}
	// Each router has its own config file.
	slices.Sort(configs)
	if len(slices.Compact(configs)) != 3 {
		t.Errorf("config files %v: want 3 distinct", configs)
	}
	// The index maps each file to its router's identity and address.
	var want []string
	for _, r := range res {
		want = append(want, filepath.Base(r.Config)+"\tMikroTik\t"+r.Router+"\t"+r.Subnet)
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, indexLines(t, filepath.Join(state, "fleet"))); diff != "" {
		t.Errorf("index (-want +got):\n%s", diff)
	}
	if wgq, err := exec.LookPath("wg-quick"); err == nil && os.Geteuid() == 0 {
		for _, r := range res {
			if out, err := exec.Command(wgq, "strip", r.Config).CombinedOutput(); err != nil {
				t.Errorf("wg-quick strip %s: %v\n%s", r.Config, err, out)
			}
		}
	} else {
		t.Log("wg-quick missing or not root: the files were checked against its name rule only")
	}

	// A second run changes nothing and writes no config.
	o.Sink = nil
	res2, err := Run(ctx, inv, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res2 {
		if !r.Noop || r.Config != "" {
			t.Errorf("second run on %s: noop %v, config %q", r.Router, r.Noop, r.Config)
		}
	}
}

// indexLines is dir's index without its comment.
func indexLines(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// Retire removes exactly the router's files and index lines, in the
// default output directory and in an --out one, and nothing it did not
// write.
func TestRetire(t *testing.T) {
	state, out := t.TempDir(), t.TempDir()
	def := filepath.Join(state, "fleet")
	write := func(dir, identity, addr string) string {
		n := newNames(dir)
		name := ConfigName(identity, addr)
		if _, err := n.write(name, addr, []byte("[Interface]\n")); err != nil {
			t.Fatal(err)
		}
		if err := n.record(name, identity, addr, "10.77.0.0/24"); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, name)
	}
	if err := rememberDir(state, out); err != nil {
		t.Fatal(err)
	}
	a1 := write(def, "MikroTik", "127.0.0.5:8729")
	b := write(def, "MikroTik", "127.0.0.6:8729")
	a2 := write(out, "Shop\t1\n", "127.0.0.5:8729")
	stranger := filepath.Join(def, "other.conf")
	os.WriteFile(stranger, []byte("not ours"), 0o600)

	removed, err := Retire(state, "127.0.0.5:8729")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(removed)
	want := []string{a1, a2}
	sort.Strings(want)
	if diff := cmp.Diff(want, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	for _, p := range []string{a1, a2} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s still there", p)
		}
	}
	for _, p := range []string{b, stranger} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if diff := cmp.Diff([]string{filepath.Base(b) + "\tMikroTik\t127.0.0.6:8729\t10.77.0.0/24"}, indexLines(t, def)); diff != "" {
		t.Errorf("index (-want +got):\n%s", diff)
	}
	// An index line naming a file outside the directory is never followed.
	os.WriteFile(filepath.Join(def, IndexFile), []byte("../../victim.conf\tX\t127.0.0.6:8729\t\n"), 0o600)
	victim := filepath.Join(state, "..", "victim.conf")
	if removed, _ := Retire(state, "127.0.0.6:8729"); len(removed) != 0 {
		t.Errorf("retired %v from a forged index (%s)", removed, victim)
	}
	// A hostile identity stays one field on one line.
	write(out, "a\tb\nc\x1b[2J", "127.0.0.7:8729")
	for _, l := range indexLines(t, out) {
		if strings.Count(l, "\t") != 3 || strings.ContainsRune(l, 0x1b) {
			t.Errorf("index line %q", l)
		}
	}
}

func TestRunRefusesNameCollision(t *testing.T) {
	inv, routers := startRouters(t, 2)
	state := t.TempDir()
	o := testOptions(t, state)
	out := filepath.Join(state, "fleet")
	os.MkdirAll(out, 0o700)
	taken := filepath.Join(out, ConfigName("MikroTik", inv.Routers[1].Address))
	if err := os.WriteFile(taken, []byte("someone else's config"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, inv, o)
	if err == nil || !strings.Contains(err.Error(), "1 of 2") {
		t.Fatalf("Run: %v, want one failure", err)
	}
	if res[0].Err != nil {
		t.Errorf("router 0: %v", res[0].Err)
	}
	if res[1].Err == nil || !strings.Contains(res[1].Err.Error(), "not overwritten") || !strings.Contains(res[1].Err.Error(), "stays in") {
		t.Errorf("router 1: %v, want a refusal that says where the config is", res[1].Err)
	}
	if b, _ := os.ReadFile(taken); string(b) != "someone else's config" {
		t.Errorf("the existing file was overwritten: %q", b)
	}
	_ = routers
}

func TestRunMissingPassword(t *testing.T) {
	inv := &Inventory{Pool: netip.MustParsePrefix("10.77.0.0/16"), SubnetBits: 24,
		Routers: []Router{{Address: "127.0.0.1:1", TOFU: true, User: "admin", PasswordEnv: "PW_NOWHERE", ConfirmTimeout: time.Minute}}}
	res, err := Run(context.Background(), inv, Options{StateDir: t.TempDir(), Getenv: func(string) string { return "" }})
	if err == nil || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "set PW_NOWHERE") {
		t.Fatalf("got %v / %v, want a missing-password error naming the variable", err, res[0].Err)
	}
}

// Fleet events in JSON carry durations as Go duration strings.
func TestEventJSON(t *testing.T) {
	ev := Event{Index: 2, Router: "192.0.2.1", Step: onboard.StepCommit, Kind: onboard.KindDone, Message: "onboarded", Final: true, Elapsed: 1500 * time.Millisecond}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"elapsed":"1.5s"`) {
		t.Errorf("%s: want elapsed as a duration string", b)
	}
	var got Event
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ev, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// Whatever the index says, Retire removes only config files in the
// output directory, and only for the address asked.
func FuzzRetire(f *testing.F) {
	f.Add("MikroTi-abcdefg.conf\tMikroTik\t127.0.0.5:8729\t10.77.0.0/24\n", "127.0.0.5:8729")
	f.Add("../x.conf\tX\t127.0.0.5:8729\t\n", "127.0.0.5:8729")
	f.Add("index.tsv\tX\ta:1\t\n.conf\t\ta:1\n", "a:1")
	f.Add("/etc/x.conf\t\tA:1\n", "a:1")
	f.Fuzz(func(t *testing.T, index, addr string) {
		state := t.TempDir()
		dir := filepath.Join(state, "fleet")
		os.MkdirAll(dir, 0o700)
		os.WriteFile(filepath.Join(dir, IndexFile), []byte(index), 0o600)
		outside := filepath.Join(state, "x.conf")
		os.WriteFile(outside, nil, 0o600)
		removed, _ := Retire(state, addr)
		for _, p := range removed {
			if filepath.Dir(p) != dir || !ValidConfigName(filepath.Base(p)) {
				t.Fatalf("removed %s", p)
			}
		}
		if _, err := os.Stat(outside); err != nil {
			t.Fatalf("a file outside the output directory went: %v", err)
		}
	})
}

// A router that already uses the pool's first subnet gets the next one:
// the engine refuses the overlap (onboard.ErrSubnetOverlap) before it
// changes anything, and fleet tries the next pool subnet.
func TestRunSkipsSubnetInUse(t *testing.T) {
	inv, _ := startRoutersWith(t, 1, "/ip address\nadd address=10.77.0.1/24 interface=ether2\n")
	o := testOptions(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, inv, o)
	if err != nil {
		for _, r := range res {
			t.Logf("%s: %v", r.Router, r.Err)
		}
		t.Fatal(err)
	}
	t.Logf("onboarded with %s (%s)", res[0].Subnet, res[0].Config)
	if got := res[0].Subnet; got == "" || got == "10.77.0.0/24" {
		t.Errorf("subnet %q: want the next free one of the pool", got)
	}
}
