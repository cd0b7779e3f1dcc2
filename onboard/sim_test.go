package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// simPassword is the admin password of every router these tests start.
const simPassword = "s3cret-pw"

// startExample starts rossim for ex (see simtest.Start); mod may change the
// simulator's options.
func startExample(t testing.TB, ex simtest.Example, mod func(*sim.Options)) *simtest.Router {
	t.Helper()
	return simtest.Start(t, ex, simtest.Options{Password: simPassword, Sim: mod})
}

// simOptions are engine options for reaching s at addr (its LAN or WAN side).
func simOptions(t testing.TB, s *simtest.Router, addr netip.Addr, events *[]Event) Options {
	plain := s.Port(addr, false) == 0
	o := Options{
		Router:      s.APIAddr(addr, plain),
		Plain:       plain,
		User:        "admin",
		Password:    simPassword,
		Fingerprint: s.Info.Fingerprint,
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

// onboardExample runs the acceptance list for one example and one path.
func onboardExample(t *testing.T, ex simtest.Example, viaWAN bool) {
	s := startExample(t, ex, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := s.Export()
	reach := s.LAN
	if !s.LAN.IsValid() {
		reach = s.WAN
	}
	var events []Event
	o := simOptions(t, s, reach, &events)
	verifyAt := s.LAN
	if viaWAN || !s.LAN.IsValid() {
		verifyAt = s.WAN
		o.WANProbe = s.APIAddr(s.WAN, o.Plain)
	}
	o.Settings.VerifyEndpoint = verifyAt.String()
	lanAPI := s.LAN.IsValid() && s.Answers(ctx, s.LAN, o.Plain, 2*time.Second) == nil

	e, p := simtest.Plan(t, ctx, New, o, o.Settings)
	defer e.Close()
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
	if viaWAN || !s.LAN.IsValid() {
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
	if s.WAN.IsValid() {
		err := s.Answers(ctx, s.WAN, o.Plain, 2*time.Second)
		if err == nil || !(errors.Is(err, routeros.ErrFiltered) || errors.Is(err, routeros.ErrRefused)) {
			t.Errorf("API from the WAN after apply: %v, want no answer", err)
		}
	}
	// LAN access is what it was.
	if s.LAN.IsValid() {
		got := s.Answers(ctx, s.LAN, o.Plain, 2*time.Second) == nil
		if got != lanAPI {
			t.Errorf("API from the LAN: %v after apply, %v before", got, lanAPI)
		}
	}

	// A second apply changes nothing.
	e2 := simtest.Connect(t, ctx, New, o)
	defer e2.Close()
	after := s.Export()
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
	if got := s.Export(); got != after {
		t.Errorf("second apply changed the router:\n%s", cmp.Diff(after, got))
	}

	checkNoSecrets(t, o, events, e.key)

	// Rollback restores the export.
	if err := e2.Rollback(ctx); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if diff := cmp.Diff(before, s.Export()); diff != "" {
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
	// Configs of our own for cases the examples lack (an API-only rule by
	// source address that must move).
	for _, ex := range simtest.Examples(t, "../examples/*.rsc", "testdata/configs/*.rsc") {
		for _, viaWAN := range []bool{false, true} {
			name := ex.Name + "/lan"
			if viaWAN {
				name = ex.Name + "/wan"
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
	ex := simtest.Named(b, "soho-defconf")
	s := startExample(b, ex, nil)
	o := simOptions(b, s, s.LAN, nil)
	o.Logf = nil
	o.Settings.VerifyEndpoint = s.LAN.String()
	ctx := context.Background()
	for b.Loop() {
		o.StateDir = b.TempDir()
		e, p := simtest.Plan(b, ctx, New, o, o.Settings)
		if _, err := e.Apply(ctx, p); err != nil {
			b.Fatal(err)
		}
		if err := e.Rollback(ctx); err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}
