package onboard

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/vpn"
)

// onboarded runs a whole onboarding of soho-defconf from the LAN and
// returns the sim, the options and the closed engine's summary.
func onboardedSim(t *testing.T, ctx context.Context) (*simtest.Router, Options, *Summary, string) {
	t.Helper()
	s := startExample(t, simtest.Named(t, "soho-defconf"), nil)
	before := s.Export()
	o := simOptions(t, s, s.LAN, nil)
	o.Settings.VerifyEndpoint = s.LAN.String()
	e, p := simtest.Plan(t, ctx, New, o, o.Settings)
	defer e.Close()
	sum, err := e.Apply(ctx, p)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return s, o, sum, before
}

// connectedEngine is a new engine connected with o.
func connectedEngine(t *testing.T, ctx context.Context, o Options) *Engine {
	t.Helper()
	e := simtest.Connect(t, ctx, New, o)
	t.Cleanup(func() { e.Close() })
	return e
}

// handshakes reports whether the wg-quick config at path gets a handshake
// when its packets go to ep (the config's Endpoint names the router's
// real WAN address, which a test cannot reach).
func handshakes(t *testing.T, ctx context.Context, path string, ep netip.AddrPort, wait time.Duration) error {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := vpn.ParseQuick(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n := vpn.NewNetstack(t.Logf)
	defer n.Close()
	if err := n.Up(ctx, vpn.Config{PrivateKey: q.Interface.PrivateKey, Address: q.Interface.Address[0],
		Peer: vpn.Peer{PublicKey: q.Peer.PublicKey, PresharedKey: q.Peer.PresharedKey, Endpoint: ep, AllowedIPs: q.Peer.AllowedIPs}}); err != nil {
		t.Fatal(err)
	}
	hctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err = n.WaitHandshake(hctx); err != nil {
		return err
	}
	// The router counts the handshake once data follows it. UDP, not
	// TCP: a TCP connection still closing when the netstack goes down
	// trips a send on its closed channel inside wireguard-go.
	c, err := n.DialContext(hctx, "udp", netip.AddrPortFrom(q.Peer.AllowedIPs[0].Addr(), 9).String())
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		return err
	}
	// Until the router has the datagram (its peer's rx grows).
	time.Sleep(200 * time.Millisecond)
	return nil
}

func TestSimPeers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, o, sum, before := onboardedSim(t, ctx)
	_, port, _ := strings.Cut(sum.Endpoint, ":")
	wanEP := netip.MustParseAddrPort(s.WAN.String() + ":" + port)

	e := connectedEngine(t, ctx, o)
	alice, err := e.AddPeer(ctx, "alice", false)
	if err != nil {
		t.Fatalf("add alice: %v", err)
	}
	bob, err := e.AddPeer(ctx, "bob", true)
	if err != nil {
		t.Fatalf("add bob: %v", err)
	}
	if _, err := e.AddPeer(ctx, "alice", false); err == nil {
		t.Error("a second peer named alice was added")
	}
	for _, bad := range []string{"", "../x", "a b", `a"b`, strings.Repeat("a", 33), "-x"} {
		if _, err := e.AddPeer(ctx, bad, false); err == nil {
			t.Errorf("peer name %q accepted", bad)
		}
	}
	// Next free addresses after the router (.1) and the technician (.2).
	if alice.Address != "10.77.0.3/32" || bob.Address != "10.77.0.4/32" {
		t.Errorf("addresses %s, %s; want 10.77.0.3/32, 10.77.0.4/32", alice.Address, bob.Address)
	}
	for _, np := range []*NewPeer{alice, bob} {
		st, err := os.Stat(np.ConfigPath)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", np.ConfigPath, err, st)
		}
		if err := handshakes(t, ctx, np.ConfigPath, wanEP, 10*time.Second); err != nil {
			t.Errorf("%s: no handshake from the WAN: %v", np.Name, err)
		}
	}
	b, _ := os.ReadFile(bob.ConfigPath)
	if !strings.Contains(string(b), "PresharedKey = ") {
		t.Errorf("bob's config has no preshared key:\n%s", b)
	}
	export := s.Sim.Export()
	if !strings.Contains(export, `comment="wgboot:e2e peer:alice"`) && !strings.Contains(export, "comment=wgboot:e2e peer:alice") {
		t.Errorf("alice's router peer is not tagged:\n%s", export)
	}

	peers, err := e.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]PeerInfo{}
	for _, p := range peers {
		got[p.Name] = p
	}
	if !got["technician"].Technician || !got["alice"].Added || !got["bob"].Added || len(peers) != 3 {
		t.Errorf("peers: %+v", peers)
	}
	if a := got["alice"]; a.LastHandshake == "" || !strings.HasPrefix(a.Endpoint, simtest.WANClient.String()+":") || a.Rx == 0 {
		t.Errorf("alice after a handshake from the WAN: %+v", a)
	}

	// Rotate: the old config stops, the new one works.
	oldConf, _ := os.ReadFile(alice.ConfigPath)
	oldPath := alice.ConfigPath + ".old"
	if err := os.WriteFile(oldPath, oldConf, 0o600); err != nil {
		t.Fatal(err)
	}
	rot, err := e.RotatePeer(ctx, "alice", false)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if nb, _ := os.ReadFile(rot.ConfigPath); rot.ConfigPath != alice.ConfigPath || string(nb) == string(oldConf) {
		t.Errorf("rotate did not replace %s with the new config (%s)", alice.ConfigPath, rot.ConfigPath)
	}
	if rot.PublicKey == alice.PublicKey || rot.Address != alice.Address {
		t.Errorf("rotated: %+v, was %+v", rot.PeerInfo, alice.PeerInfo)
	}
	if err := handshakes(t, ctx, oldPath, wanEP, 3*time.Second); err == nil {
		t.Error("alice's old config still handshakes after rotate")
	}
	if err := handshakes(t, ctx, rot.ConfigPath, wanEP, 10*time.Second); err != nil {
		t.Errorf("alice's new config: %v", err)
	}

	// Remove by name, with the config lost.
	os.Remove(rot.ConfigPath)
	if err := e.RemovePeer(ctx, "alice"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if err := e.RemovePeer(ctx, "alice"); err == nil {
		t.Error("removing alice twice is not an error")
	}
	if err := e.RemovePeer(ctx, "technician"); err == nil {
		t.Error("the technician's own peer was removed as a team peer")
	}
	if _, err := e.AddPeer(ctx, "carol", false); err != nil {
		t.Fatal(err)
	}
	e.Close()

	// Rollback removes every added peer (carol, bob) with the rest, from
	// the journal and from the tags alone.
	for _, journal := range []bool{true, false} {
		o := o
		if !journal {
			o.StateDir = t.TempDir()
			s2, o2, _, before2 := onboardedSim(t, ctx)
			s, o, before = s2, o2, before2
			o.StateDir = t.TempDir() // no journal
			e := connectedEngine(t, ctx, o)
			if _, err := e.AddPeer(ctx, "dave", false); err != nil {
				t.Fatal(err)
			}
		}
		e := connectedEngine(t, ctx, o)
		if err := e.Rollback(ctx); err != nil {
			t.Fatalf("rollback (journal %v): %v", journal, err)
		}
		if journal {
			if _, err := os.Stat(bob.ConfigPath); err == nil {
				t.Errorf("bob's config %s is left after the rollback removed bob", bob.ConfigPath)
			}
		}
		if !journal {
			// Without a journal, modified rules keep their values: every
			// tagged object (the added peer among them) is gone.
			if ex := s.Sim.Export(); strings.Contains(ex, "wgboot:") {
				t.Errorf("tagged objects left after a rollback without journal:\n%s", ex)
			}
			continue
		}
		if diff := cmp.Diff(before, s.Export()); diff != "" {
			t.Errorf("journal %v: export after rollback differs (-before +after):\n%s", journal, diff)
		}
	}
}

// A team member's config alone reaches the router from the WAN, in
// process: status and peer management through it; a removed peer's
// config no longer does.
func TestSimVia(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, o, sum, _ := onboardedSim(t, ctx)
	_, port, _ := strings.Cut(sum.Endpoint, ":")
	e := connectedEngine(t, ctx, o)
	alice, err := e.AddPeer(ctx, "alice", true)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()

	router, err := ViaRouter(alice.ConfigPath)
	if err != nil || router != sum.RouterTunnel {
		t.Fatalf("ViaRouter = %q, %v; want %s", router, err, sum.RouterTunnel)
	}
	vo := o
	vo.StateDir = t.TempDir() // nothing but the config
	vo.Router = router
	vo.Via = alice.ConfigPath
	vo.Settings.VerifyEndpoint = s.WAN.String() + ":" + port
	v := connectedEngine(t, ctx, vo)
	st, err := v.Status(ctx)
	if err != nil {
		t.Fatalf("status --via: %v", err)
	}
	if st.RunID != "e2e" || !st.APIClosed {
		t.Errorf("status --via: run %q, API closed %v", st.RunID, st.APIClosed)
	}
	peers, err := v.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if p.Name == "alice" && !strings.HasPrefix(p.Endpoint, simtest.WANClient.String()+":") {
			t.Errorf("alice's session came from %q, want the WAN client %s", p.Endpoint, simtest.WANClient)
		}
	}
	if _, err := v.AddPeer(ctx, "bob", false); err != nil {
		t.Errorf("peer add --via: %v", err)
	}
	v.Close()

	// The router's API is closed on the WAN: only the tunnel reaches it.
	if err := s.Answers(ctx, s.WAN, o.Plain, 2*time.Second); err == nil {
		t.Fatal("the API answers on the WAN: the test proves nothing")
	}
	kept, _ := os.ReadFile(alice.ConfigPath)
	vo.Via = filepath.Join(t.TempDir(), "alice.conf")
	if err := os.WriteFile(vo.Via, kept, 0o600); err != nil {
		t.Fatal(err)
	}
	e = connectedEngine(t, ctx, o)
	if err := e.RemovePeer(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	vo.StateDir = t.TempDir()
	v2, err := New(vo)
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	short, cancel2 := context.WithTimeout(ctx, 4*time.Second)
	defer cancel2()
	if err := v2.Connect(short); err == nil || !strings.Contains(err.Error(), "no WireGuard handshake") {
		t.Errorf("connect through a removed peer's config: %v, want no handshake", err)
	}
}

// rollback --via a team member's config, from the WAN, with no journal:
// every tagged object goes, the tunnel it came through last.
func TestSimRollbackVia(t *testing.T) {
	for _, name := range []string{"soho-defconf", "open-cpe"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			ex := simtest.LoadExample(t, "../examples/"+name+".rsc")
			s := startExample(t, ex, nil)
			reach := s.LAN
			if !reach.IsValid() {
				reach = s.WAN
			}
			o := simOptions(t, s, reach, nil)
			o.Settings.VerifyEndpoint = reach.String()
			e := connectedEngine(t, ctx, o)
			p, err := e.Plan(ctx, o.Settings)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := e.Apply(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			e.Close()
			e = connectedEngine(t, ctx, o)
			alice, err := e.AddPeer(ctx, "alice", false)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.AddPeer(ctx, "bob", false); err != nil {
				t.Fatal(err)
			}
			e.Close()
			_, port, _ := strings.Cut(sum.Endpoint, ":")
			vo := o
			vo.StateDir, vo.Router, vo.Via = t.TempDir(), sum.RouterTunnel, alice.ConfigPath
			vo.Settings.VerifyEndpoint = s.WAN.String() + ":" + port
			v := connectedEngine(t, ctx, vo)
			if err := v.Rollback(ctx); err != nil {
				t.Errorf("rollback --via: %v", err)
			}
			v.Close()
			// The router removes the tunnel by itself, seconds later.
			left := ""
			for i := 0; i < 100; i++ {
				if left = s.Sim.Export(); !strings.Contains(left, "wgboot:") {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if strings.Contains(left, "wgboot:") {
				t.Errorf("tagged objects left after rollback --via:\n%s", left)
			}
		})
	}
}

// The technician's and every added peer's wg-quick file is named so that
// `wg-quick up FILE` takes it as it is: with a 128-bit run id and a
// 32-character peer name, the plain "IFNAME-RUN.conf" and
// "peer-NAME.conf" were too long for an interface name.
func TestConfigNamesWGQuickTakes(t *testing.T) {
	e, err := New(Options{Router: "192.0.2.1", StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{filepath.Base(e.configPath("wgboot"))}
	for _, p := range []string{"alice", "a-very-long-device-name-for-bob1", "phone"} {
		names = append(names, filepath.Base(e.peerPath(p)))
	}
	for _, n := range names {
		if !vpn.ValidQuickFileName(n) {
			t.Errorf("wg-quick refuses %q", n)
		}
	}
	if a, b := e.peerPath("a-very-long-device-name-for-bob1"), e.peerPath("a-very-long-device-name-for-bob2"); a == b {
		t.Errorf("two peers share %s", a)
	}
}
