package main

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
)

// The team cycle headless against rossim: apply, peer add (config, QR),
// peer list --json, status --via the added peer's config from the WAN,
// rotate, remove, and a rollback that removes every added peer.
func TestCLIPeers(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	r, addr := startSim(t, ex)
	before := r.Export()
	wan := r.WAN
	env := map[string]string{"WGBOOT_PASSWORD": "pw-golden"}
	hook := func(o *onboard.Options) { o.RunID = "cli" }
	state := t.TempDir()
	common := []string{"--fingerprint", r.Info.Fingerprint, "--state-dir", state, "--local", "netstack"}
	run := func(args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runCLI(t, env, hook, append(args, common...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
		return out, errOut
	}
	run("apply", "--yes", "--router", addr)

	png := filepath.Join(t.TempDir(), "alice.png")
	out, _ := run("peer", "add", "alice", "--qr", "--qr-png", png, "--router", addr)
	if !strings.Contains(out, "added peer alice: tunnel address 10.77.0.3/32") || !strings.Contains(out, "▀") {
		t.Errorf("peer add output:\n%s", out)
	}
	if st, err := os.Stat(png); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("QR PNG: %v", err)
	}
	conf := ""
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "config: "); ok {
			conf, _, _ = strings.Cut(p, " ")
		}
	}
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatalf("config %q: %v", conf, err)
	}
	q, err := vpn.ParseQuick(b)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, q.Interface.PrivateKey.String()) {
		t.Error("the private key is printed as text")
	}
	// Without --qr, a non-terminal gets no QR code (it holds the key).
	out, _ = run("peer", "add", "bob", "--router", addr)
	if strings.Contains(out, "▀") {
		t.Errorf("QR printed to a non-terminal without --qr:\n%s", out)
	}

	// status --via alice's config, from the WAN (where the API is closed),
	// with no --router: the tunnel's own address.
	_, port, _ := strings.Cut(q.Peer.Endpoint, ":")
	out, _ = run("status", "--via", conf, "--verify-endpoint", wan.String()+":"+port, "--state-dir", t.TempDir())
	if !strings.Contains(out, "run cli: interface") || !strings.Contains(out, "API on the WAN (from the ruleset): closed") {
		t.Errorf("status --via:\n%s", out)
	}
	// status names each peer as peer list does (before: by address only).
	for _, want := range []string{"  peer technician 10.77.0.2/32 ", "  peer alice ", "  peer bob "} {
		if !strings.Contains(out, want) {
			t.Errorf("status --via does not list %q:\n%s", want, out)
		}
	}
	out, _ = run("peer", "list", "--json", "--router", addr)
	var peers []onboard.PeerInfo
	if err := json.Unmarshal([]byte(out), &peers); err != nil {
		t.Fatalf("peer list --json: %v\n%s", err, out)
	}
	names := map[string]onboard.PeerInfo{}
	for _, p := range peers {
		names[p.Name] = p
	}
	if a := names["alice"]; a.Address != "10.77.0.3/32" || a.LastHandshake == "" || !strings.HasPrefix(a.Endpoint, "203.0.113.99:") {
		t.Errorf("alice in peer list after status --via from the WAN: %+v", a)
	}
	out, _ = run("peer", "list", "--router", addr)
	if !strings.Contains(out, "alice") || !strings.Contains(out, "(technician)") {
		t.Errorf("peer list:\n%s", out)
	}

	out, _ = run("peer", "rotate", "alice", "--router", addr)
	if !strings.Contains(out, "the old config no longer connects") {
		t.Errorf("rotate:\n%s", out)
	}
	if code, o2, e2 := runCLI(t, env, hook, append([]string{"status", "--via", conf + ".missing"}, common...)...); code != exitBadInput {
		t.Errorf("status --via a missing file: exit %d\n%s%s", code, o2, e2)
	}
	run("peer", "remove", "bob", "--yes", "--router", addr)
	if code, _, errOut := runCLI(t, env, hook, append([]string{"peer", "remove", "bob", "--yes", "--router", addr}, common...)...); code == 0 || !strings.Contains(errOut, "no peer named bob") {
		t.Errorf("removing bob twice: exit %d: %s", code, errOut)
	}
	run("peer", "add", "carol", "--router", addr)
	run("rollback", "--yes", "--router", addr)
	if diff := cmp.Diff(before, r.Export()); diff != "" {
		t.Errorf("export after rollback (-before +after):\n%s", diff)
	}
}

// apply --prove-remote: the QR code for the phone is shown, the simulated
// phone connects from an outside WAN address, and the summary and --json
// say the tunnel was proven from outside by the phone at that address.
func TestCLIProveRemote(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	// The WAN listener is where the phone comes from (outside).
	r := simtest.Start(t, ex, simtest.Options{Password: "pw-golden", Sim: func(o *sim.Options) { o.Listen[0].Src = netip.MustParseAddr("198.51.100.23") }})
	phoneAt, lan := r.WAN, r.LAN
	addr := r.APIAddr(lan, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var phones []*vpn.Netstack
	defer func() {
		for _, p := range phones {
			p.Close()
		}
	}()
	hook := func(o *onboard.Options) {
		o.RunID = "cli"
		if o.ProveRemote == nil {
			return
		}
		show := o.ProveRemote.Show
		o.ProveRemote.Show = func(np *onboard.NewPeer) {
			show(np)
			q := np.Config
			_, port, _ := strings.Cut(q.Peer.Endpoint, ":")
			n := vpn.NewNetstack(t.Logf)
			phones = append(phones, n)
			if err := n.Up(ctx, vpn.Config{PrivateKey: q.Interface.PrivateKey, Address: q.Interface.Address[0], Peer: vpn.Peer{PublicKey: q.Peer.PublicKey,
				Endpoint: netip.MustParseAddrPort(phoneAt.String() + ":" + port), AllowedIPs: q.Peer.AllowedIPs, Keepalive: time.Second}}); err != nil {
				t.Error(err)
			}
		}
	}
	env := map[string]string{"WGBOOT_PASSWORD": "pw-golden"}
	args := []string{"apply", "--yes", "--json", "--prove-remote", "--prove-remote-wait", "30s", "--router", addr, "--fingerprint", r.Info.Fingerprint,
		"--state-dir", t.TempDir(), "--local", "netstack", "--verify-endpoint", lan.String()}
	code, out, errOut := runCLI(t, env, hook, args...)
	if code != 0 {
		t.Fatalf("apply --prove-remote: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "scan from QR code") || !strings.Contains(errOut, "▀") {
		t.Errorf("no QR code for the phone on stderr:\n%s", errOut)
	}
	var sum *onboard.Summary
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev onboard.Event
		if err := json.Unmarshal([]byte(line), &ev); err == nil && ev.Summary != nil {
			sum = ev.Summary
		}
	}
	if sum == nil || sum.ProvenVia != "outside" || sum.ProvenFrom != "198.51.100.23" {
		t.Fatalf("summary: %+v", sum)
	}
	if !strings.Contains(out, `"proven_via":"outside"`) || !strings.Contains(out, `"proven_from":"198.51.100.23"`) {
		t.Errorf("--json does not say how the tunnel was proven:\n%s", out)
	}
	if strings.Contains(r.Sim.Export(), "peer:phone") {
		t.Error("the phone's peer stayed without --keep-phone")
	}
}
