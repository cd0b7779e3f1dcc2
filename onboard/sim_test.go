package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// example is one examples/*.rsc file and how to wire rossim to it (its
// "# wgboot-example:" header line).
type example struct {
	name    string
	config  string
	wan     []string
	lan     string
	dynamic []sim.DynamicAddress
}

func loadExamples(t testing.TB) []example {
	t.Helper()
	paths, err := filepath.Glob("../examples/*.rsc")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	// Configs of our own for cases the examples lack (an API-only rule by
	// source address that must move).
	more, _ := filepath.Glob("testdata/configs/*.rsc")
	paths = append(paths, more...)
	var out []example
	for _, p := range paths {
		out = append(out, loadExample(t, p))
	}
	return out
}

func loadExample(t testing.TB, path string) example {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ex := example{name: strings.TrimSuffix(filepath.Base(path), ".rsc"), config: string(b)}
	w, err := sim.ParseWiring(ex.config)
	if err != nil {
		t.Fatalf("%s: %v", ex.name, err)
	}
	ex.wan, ex.lan, ex.dynamic = w.WAN, w.LAN, w.Dynamic
	return ex
}

// lanSource is a client address inside the LAN's subnet (sim.Wiring).
func (ex example) lanSource(t testing.TB) netip.Addr {
	w, err := sim.ParseWiring(ex.config)
	if err != nil {
		t.Fatalf("%s: %v", ex.name, err)
	}
	return w.LANClient
}

// loopback returns a random 127.x.y.z address so parallel tests (and
// packages) do not collide on ports.
func loopback() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(2 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(253))})
}

// simRouter is a running rossim for one example.
type simRouter struct {
	ex       example
	r        *sim.Router
	wan, lan netip.Addr // listen addresses
	info     sim.Info
}

var wanClient = netip.MustParseAddr("203.0.113.99")

func startExample(t testing.TB, ex example, mod func(*sim.Options)) *simRouter {
	t.Helper()
	s := &simRouter{ex: ex}
	o := sim.Options{Config: ex.config, DynamicAddresses: ex.dynamic, Password: "s3cret-pw", Logf: t.Logf}
	if _, ok := t.(*testing.B); ok {
		o.Logf = nil
	}
	if len(ex.wan) > 0 {
		s.wan = loopback()
		o.Listen = append(o.Listen, sim.Listen{Iface: ex.wan[0], Addr: s.wan, Src: wanClient})
	}
	if ex.lan != "" {
		s.lan = loopback()
		o.Listen = append(o.Listen, sim.Listen{Iface: ex.lan, Addr: s.lan, Src: ex.lanSource(t)})
	}
	if mod != nil {
		mod(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := sim.Start(ctx, o)
	if err != nil {
		t.Fatalf("%s: sim.Start: %v", ex.name, err)
	}
	t.Cleanup(func() { r.Close() })
	s.r, s.info = r, r.Info()
	return s
}

func (s *simRouter) port(addr netip.Addr, plain bool) uint16 {
	for _, l := range s.info.Listen {
		if l.Addr == addr {
			if plain {
				return l.API
			}
			return l.APISSL
		}
	}
	return 0
}

// options are engine options for reaching s at addr (its LAN or WAN side).
func (s *simRouter) options(t testing.TB, addr netip.Addr, events *[]Event) Options {
	plain := s.port(addr, false) == 0
	o := Options{
		Router:      netip.AddrPortFrom(addr, s.port(addr, plain)).String(),
		Plain:       plain,
		User:        "admin",
		Password:    "s3cret-pw",
		Fingerprint: s.info.Fingerprint,
		StateDir:    t.TempDir(),
		RunID:       "e2e",
		Settings:    Settings{LANKeepsAPI: true, ConfirmTimeout: 5 * time.Minute},
		NewLocal:    func(string) (vpn.Backend, error) { return vpn.NewNetstack(t.Logf), nil },
		Logf:        t.Logf,
	}
	if plain {
		o.Fingerprint = ""
	}
	if events != nil {
		o.Sink = func(e Event) { *events = append(*events, e) }
	}
	return o
}

// exportBody is an export without its header comments (they hold the time).
func exportBody(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// readQuick reads the technician's wg-quick file back and checks its mode.
func readQuick(t testing.TB, path string) (key wgtypes.Key, addr netip.Prefix, peer wgtypes.Key, allowed netip.Prefix) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	q, err := vpn.ParseQuick(b)
	if err != nil || len(q.Interface.Address) == 0 || len(q.Peer.AllowedIPs) == 0 {
		t.Fatalf("%s: %v", path, err)
	}
	return q.Interface.PrivateKey, q.Interface.Address[0], q.Peer.PublicKey, q.Peer.AllowedIPs[0]
}

// tunnelDial brings up a fresh local peer from the config file and opens a
// new API session through it to the router's tunnel address.
func tunnelDial(t testing.TB, ctx context.Context, o Options, sum *Summary, endpoint netip.AddrPort) error {
	key, addr, peer, allowed := readQuick(t, sum.ConfigPath)
	b := vpn.NewNetstack(t.Logf)
	defer b.Close()
	if err := b.Up(ctx, vpn.Config{PrivateKey: key, Address: addr, Peer: vpn.Peer{PublicKey: peer, Endpoint: endpoint, AllowedIPs: []netip.Prefix{allowed}}}); err != nil {
		return err
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := b.WaitHandshake(hctx); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	_, port, _ := strings.Cut(o.Router, "]:")
	if !strings.Contains(o.Router, "]") {
		_, port, _ = strings.Cut(o.Router, ":")
	}
	cl, err := routeros.Dial(ctx, routeros.Config{Addr: sum.RouterTunnel + ":" + port, TLS: !o.Plain, Fingerprint: o.Fingerprint,
		User: o.User, Password: o.Password, Dial: b.DialContext, Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = cl.Run(ctx, "/system/identity/print")
	return err
}

// apiAnswers reports whether a new API session at addr logs in.
func apiAnswers(ctx context.Context, o Options, addr string) error {
	cl, err := routeros.Dial(ctx, routeros.Config{Addr: addr, TLS: !o.Plain, Fingerprint: o.Fingerprint,
		User: o.User, Password: o.Password, Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	return cl.Close()
}

// onboardExample runs the acceptance list for one example and one path.
func onboardExample(t *testing.T, ex example, viaWAN bool) {
	s := startExample(t, ex, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := exportBody(s.r.Export())
	reach := s.lan
	if !s.lan.IsValid() {
		reach = s.wan
	}
	var events []Event
	o := s.options(t, reach, &events)
	verifyAt := s.lan
	if viaWAN || !s.lan.IsValid() {
		verifyAt = s.wan
		o.WANProbe = netip.AddrPortFrom(s.wan, s.port(s.wan, o.Plain)).String()
	}
	o.Settings.VerifyEndpoint = verifyAt.String()
	lanAPI := s.lan.IsValid() && apiAnswers(ctx, o, netip.AddrPortFrom(s.lan, s.port(s.lan, o.Plain)).String()) == nil

	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(ctx, o.Settings)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	for _, w := range e.plan.Decision.WANs {
		if len(w.Addr6) > 0 && !slices.ContainsFunc(p.Changes, func(c Change) bool {
			return c.Step == StepHarden && strings.HasPrefix(c.Command, "/ipv6 firewall filter add") && strings.Contains(c.Command, "in-interface="+w.Name)
		}) {
			t.Errorf("WAN %s has %s but the plan does not close the API over IPv6", w.Name, w.Addr6[0])
		}
	}
	sum, err := e.Apply(ctx, p)
	if err != nil {
		for _, ev := range events {
			t.Logf("event %s %s %s", ev.Step, ev.Kind, ev.Message)
		}
		t.Fatalf("apply: %v", err)
	}
	wantVia := "lan"
	if viaWAN || !s.lan.IsValid() {
		wantVia = "wan"
	}
	if sum.ProvenVia != wantVia {
		t.Errorf("proven via %q, want %q", sum.ProvenVia, wantVia)
	}
	e.Close()

	// A new API connection through the tunnel works.
	_, lport, _ := strings.Cut(sum.Endpoint, ":")
	var ep netip.AddrPort
	fmt.Sscan(lport, new(int))
	ep = netip.AddrPortFrom(verifyAt, uint16(p.Settings.ListenPort))
	if err := tunnelDial(t, ctx, o, sum, ep); err != nil {
		t.Errorf("API through the tunnel after apply: %v", err)
	}
	// A new one from the WAN gets no answer.
	if s.wan.IsValid() {
		err := apiAnswers(ctx, o, netip.AddrPortFrom(s.wan, s.port(s.wan, o.Plain)).String())
		if err == nil || !(errors.Is(err, routeros.ErrFiltered) || errors.Is(err, routeros.ErrRefused)) {
			t.Errorf("API from the WAN after apply: %v, want no answer", err)
		}
	}
	// LAN access is what it was.
	if s.lan.IsValid() {
		got := apiAnswers(ctx, o, netip.AddrPortFrom(s.lan, s.port(s.lan, o.Plain)).String()) == nil
		if got != lanAPI {
			t.Errorf("API from the LAN: %v after apply, %v before", got, lanAPI)
		}
	}

	// A second apply changes nothing.
	e2, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if err := e2.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	after := exportBody(s.r.Export())
	p2, err := e2.Plan(ctx, o.Settings)
	if err != nil {
		t.Fatal(err)
	}
	if !p2.Noop || len(p2.Changes) != 0 {
		t.Errorf("second plan: noop=%v, %d changes", p2.Noop, len(p2.Changes))
	}
	if _, err := e2.Apply(ctx, p2); err != nil {
		t.Fatal(err)
	}
	if got := exportBody(s.r.Export()); got != after {
		t.Errorf("second apply changed the router:\n%s", cmp.Diff(after, got))
	}

	checkNoSecrets(t, o, events, e.key)

	// Rollback restores the export.
	if err := e2.Rollback(ctx); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if diff := cmp.Diff(before, exportBody(s.r.Export())); diff != "" {
		t.Errorf("export after rollback differs from before apply (-before +after):\n%s", diff)
	}
}

// checkNoSecrets fails when the password or the technician's private key
// appears in an event or in any state file but the wg-quick config.
func checkNoSecrets(t *testing.T, o Options, events []Event, key wgtypes.Key) {
	t.Helper()
	if key == (wgtypes.Key{}) {
		t.Fatal("checkNoSecrets: no key to look for")
	}
	var texts []string
	for _, ev := range events {
		b, _ := json.Marshal(ev)
		texts = append(texts, string(b))
	}
	filepath.WalkDir(o.StateDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, ".conf") {
			b, _ := os.ReadFile(path)
			texts = append(texts, string(b))
		}
		return nil
	})
	for _, txt := range texts {
		for _, sec := range []string{o.Password, key.String()} {
			if strings.Contains(txt, sec) {
				t.Errorf("a secret appears in output or state: %.80q...", txt)
			}
		}
	}
}

func TestSimOnboard(t *testing.T) {
	for _, ex := range loadExamples(t) {
		for _, viaWAN := range []bool{false, true} {
			name := ex.name + "/lan"
			if viaWAN {
				name = ex.name + "/wan"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				onboardExample(t, ex, viaWAN)
			})
		}
	}
}

// BenchmarkApplySim is one whole onboarding of soho-defconf through the LAN
// (connect, inspect, plan, arm, apply, tunnel, verify, harden, reverify,
// commit) followed by a rollback, against an in-process rossim.
func BenchmarkApplySim(b *testing.B) {
	ex := loadExample(b, "../examples/soho-defconf.rsc")
	s := startExample(b, ex, nil)
	o := s.options(b, s.lan, nil)
	o.Logf = nil
	o.Settings.VerifyEndpoint = s.lan.String()
	ctx := context.Background()
	for b.Loop() {
		o.StateDir = b.TempDir()
		e, err := New(o)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Connect(ctx); err != nil {
			b.Fatal(err)
		}
		p, err := e.Plan(ctx, o.Settings)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Apply(ctx, p); err != nil {
			b.Fatal(err)
		}
		if err := e.Rollback(ctx); err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}
