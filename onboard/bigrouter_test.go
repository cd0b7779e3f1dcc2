package onboard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/simtest"
)

// bigRouterConfig is soho-defconf with an imported blocklist of n entries
// (single addresses, prefixes and a-b ranges, as the common drop lists
// are), a few small lists, and 200 filter rules of the variety a
// long-lived router collects: the blocklist dropped in raw, input and
// forward, per-host accepts, a management list, a port knock, a jump
// chain, rate limits, disabled leftovers and a long forward chain.
// Deterministic for a given n.
func bigRouterConfig(tb testing.TB, n int) string {
	tb.Helper()
	base, err := os.ReadFile("../examples/soho-defconf.rsc")
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	var b strings.Builder
	// The defconf filter goes: the generated rules are the whole filter.
	cfg := string(base)
	start := strings.Index(cfg, "/ip firewall filter\n")
	end := strings.Index(cfg, "/ip firewall nat\n")
	b.WriteString(cfg[:start])
	b.WriteString(cfg[end:])

	// public reports whether a is an address a blocklist would hold: not
	// private, not documentation (the tests' own WAN client and router
	// live there), not special.
	public := func(a netip.Addr) bool {
		for _, p := range []string{"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
			"192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3"} {
			if netip.MustParsePrefix(p).Contains(a) {
				return false
			}
		}
		return true
	}
	randAddr := func() netip.Addr {
		for {
			a := netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			if public(a) {
				return a
			}
		}
	}
	b.WriteString("/ip firewall address-list\n")
	seen := map[string]bool{}
	for len(seen) < n {
		a := randAddr()
		var e string
		switch k := rng.IntN(20); {
		case k < 14:
			e = a.String()
		case k < 19:
			bits := 16 + rng.IntN(9)
			p := netip.PrefixFrom(a, bits).Masked()
			if !public(p.Addr()) || !public(lastOf(p)) {
				continue
			}
			e = p.String()
		default:
			hi := a
			for range 1 + rng.IntN(40) {
				hi = hi.Next()
			}
			if !public(hi) {
				continue
			}
			e = a.String() + "-" + hi.String()
		}
		if seen[e] {
			continue
		}
		seen[e] = true
		fmt.Fprintf(&b, "add address=%s list=blocklist\n", e)
	}
	for i := range 8 {
		fmt.Fprintf(&b, "add address=198.18.%d.0/24 list=mgmt comment=office-%d\n", i, i)
	}
	for range 20 {
		fmt.Fprintf(&b, "add address=%s list=partners\n", randAddr())
	}
	fmt.Fprintf(&b, "add address=%s list=unused-old-list\n", randAddr())

	b.WriteString("/ip firewall raw\nadd action=drop chain=prerouting in-interface-list=WAN src-address-list=blocklist comment=\"blocklist\"\n")
	b.WriteString("/ip firewall filter\n")
	rules := []string{
		`add action=accept chain=input connection-state=established,related,untracked comment="defconf: accept established,related,untracked"`,
		`add action=drop chain=input connection-state=invalid comment="defconf: drop invalid"`,
		`add action=drop chain=input in-interface-list=WAN src-address-list=blocklist comment="drop blocklist"`,
		`add action=accept chain=input protocol=icmp comment="defconf: accept ICMP"`,
		`add action=accept chain=input dst-address=127.0.0.1 comment="defconf: accept to local loopback (for CAPsMAN)"`,
		`add action=accept chain=input src-address-list=mgmt protocol=tcp dst-port=22,8291 comment="office management"`,
		`add action=add-src-to-address-list address-list=knock1 address-list-timeout=30s chain=input protocol=tcp dst-port=7001 in-interface-list=WAN`,
		`add action=accept chain=input src-address-list=knock1 protocol=tcp dst-port=8291 in-interface-list=WAN`,
		`add action=drop chain=input protocol=tcp dst-port=53 in-interface-list=WAN`,
		`add action=drop chain=input protocol=udp dst-port=53 in-interface-list=WAN`,
		`add action=jump chain=input jump-target=services in-interface-list=WAN`,
		`add action=accept chain=services protocol=udp dst-port=500,4500`,
		`add action=accept chain=services protocol=ipsec-esp`,
		`add action=drop chain=services protocol=tcp tcp-flags=syn connection-limit=100,32`,
		`add action=return chain=services`,
		`add action=accept chain=input src-address-list=partners protocol=tcp dst-port=443 disabled=yes comment="old partner portal"`,
	}
	for i := 0; len(rules) < 60; i++ {
		src := netip.AddrFrom4([4]byte{198, 19, byte(i), 10})
		switch i % 4 {
		case 0:
			rules = append(rules, fmt.Sprintf(`add action=accept chain=input src-address=%s protocol=tcp dst-port=%d comment="host %d"`, src, 10000+i, i))
		case 1:
			rules = append(rules, fmt.Sprintf(`add action=drop chain=input src-address=%s/28 protocol=udp dst-port=%d`, src, 20000+i))
		case 2:
			rules = append(rules, fmt.Sprintf(`add action=accept chain=input src-address=%s-%s protocol=tcp dst-port=%d limit=10,5:packet`, src, src.Next().Next(), 30000+i))
		default:
			rules = append(rules, fmt.Sprintf(`add action=accept chain=input src-address=%s protocol=tcp dst-port=%d disabled=yes`, src, 40000+i))
		}
	}
	rules = append(rules, `add action=drop chain=input in-interface-list=!LAN comment="defconf: drop all not coming from LAN"`,
		`add action=accept chain=forward ipsec-policy=in,ipsec comment="defconf: accept in ipsec policy"`,
		`add action=accept chain=forward ipsec-policy=out,ipsec comment="defconf: accept out ipsec policy"`,
		`add action=fasttrack-connection chain=forward connection-state=established,related hw-offload=yes comment="defconf: fasttrack"`,
		`add action=accept chain=forward connection-state=established,related,untracked comment="defconf: accept established,related, untracked"`,
		`add action=drop chain=forward connection-state=invalid comment="defconf: drop invalid"`,
		`add action=drop chain=forward src-address-list=blocklist comment="blocklist in forward"`,
		`add action=drop chain=forward dst-address-list=blocklist comment="blocklist out"`)
	for i := 0; len(rules) < 199; i++ {
		host := netip.AddrFrom4([4]byte{192, 168, 88, byte(10 + i%200)})
		switch i % 3 {
		case 0:
			rules = append(rules, fmt.Sprintf(`add action=accept chain=forward dst-address=%s protocol=tcp dst-port=%d connection-nat-state=dstnat`, host, 1024+i))
		case 1:
			rules = append(rules, fmt.Sprintf(`add action=drop chain=forward src-address=%s out-interface-list=WAN protocol=tcp dst-port=25`, host))
		default:
			rules = append(rules, fmt.Sprintf(`add action=accept chain=forward src-address-list=partners dst-address=%s protocol=tcp dst-port=%d`, host, 2000+i))
		}
	}
	rules = append(rules, `add action=drop chain=forward connection-nat-state=!dstnat connection-state=new in-interface-list=WAN comment="defconf: drop all from WAN not DSTNATed"`)
	for _, r := range rules {
		b.WriteString(r + "\n")
	}
	return b.String()
}

// peakHeap samples the live heap while f runs and returns its peak (bytes).
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// BenchmarkBigRouter is inspect and plan (Connect, Inspect, Plan) against
// rossim holding an imported blocklist of 1k, 10k and 50k entries that raw,
// input and forward drop rules name, and 200 filter rules. Figures:
// ns/op, B/op, allocs/op, and peak-heap-MB (the live heap's peak while the
// engine works, rossim included: it runs in-process).
func BenchmarkBigRouter(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			ex := simtest.Named(b, "soho-defconf")
			ex.Config = bigRouterConfig(b, n)
			s := startExample(b, ex, nil)
			o := simOptions(b, s, s.LAN, nil)
			o.Logf = nil
			ctx := context.Background()
			var probes int
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				peak = max(peak, peakHeap(func() {
					e, _ := simtest.Plan(b, ctx, New, o, o.Settings)
					defer e.Close()
					probes = len(e.plan.Decision.probes(e.router))
				}))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(probes), "probes")
		})
	}
}

// BenchmarkBigRouterApply is a whole onboarding (connect, inspect, plan,
// arm, apply, tunnel, verify, harden, reverify, commit) of the 50k-entry
// router, then a rollback.
func BenchmarkBigRouterApply(b *testing.B) {
	ex := simtest.Named(b, "soho-defconf")
	ex.Config = bigRouterConfig(b, 50000)
	s := startExample(b, ex, nil)
	o := simOptions(b, s, s.LAN, nil)
	o.Logf = nil
	o.Settings.VerifyEndpoint = s.LAN.String()
	ctx := context.Background()
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		o.StateDir = b.TempDir()
		peak = max(peak, peakHeap(func() {
			e, p := simtest.Plan(b, ctx, New, o, o.Settings)
			defer e.Close()
			if _, err := e.Apply(ctx, p); err != nil {
				b.Fatal(err)
			}
			if err := e.Rollback(ctx); err != nil {
				b.Fatal(err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// TestInspectReadsNamedLists: inspect reads the entries of the address
// lists that enabled rules name (and wgboot's own), with the properties it
// uses, and not the lists no rule names: a router may hold hundreds of
// thousands of entries the firewall never consults.
func TestInspectReadsNamedLists(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	ex.Config += strings.Join([]string{"",
		"/ip firewall address-list",
		"add list=blocklist address=198.18.0.0/24",
		"add list=blocklist address=198.18.1.9 comment=manual",
		"add list=allowed address=198.18.2.0-198.18.2.9",
		"add list=old address=198.18.3.3",
		"add list=unused address=198.18.4.4",
		"add list=wgboot-vpn address=10.212.0.0/24 comment=\"wgboot:r0 vpn-list\" disabled=yes",
		"/ip firewall raw",
		"add chain=prerouting action=drop src-address-list=blocklist",
		"/ip firewall filter",
		"add chain=input action=accept dst-address-list=!allowed protocol=icmp",
		"add chain=input action=drop src-address-list=old disabled=yes",
		""}, "\n")
	s := startExample(t, ex, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := simOptions(t, s, s.LAN, nil)
	e := simtest.Connect(t, ctx, New, o)
	defer e.Close()
	rec := &recordSession{session: e.cl}
	e.cl = rec
	if _, err := e.Inspect(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range e.Router().AddressLists {
		got = append(got, a["list"]+" "+a["address"])
		for k := range a {
			if !slices.Contains(strings.Split(addressListProps, ","), k) {
				t.Errorf("address-list row has %s, which inspect does not use", k)
			}
		}
	}
	slices.Sort(got)
	want := []string{"allowed 198.18.2.0-198.18.2.9", "blocklist 198.18.0.0/24", "blocklist 198.18.1.9", "wgboot-vpn 10.212.0.0/24"}
	if !slices.Equal(got, want) {
		t.Errorf("address lists read = %q, want %q", got, want)
	}
	for _, w := range rec.replies {
		if strings.Contains(w, "198.18.3.3") || strings.Contains(w, "198.18.4.4") {
			t.Errorf("inspect read an entry of a list no enabled rule names: %s", w)
		}
	}
}
