package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/go-routeros/routeros/v3"
)

// pinnedTLS dials api-ssl and accepts only the certificate whose DER has
// the given SHA-256, as wgboot --fingerprint does.
func pinnedTLS(t *testing.T, addr, fp string) *routeros.Client {
	t.Helper()
	want, _ := hex.DecodeString(fp)
	cfg := &tls.Config{InsecureSkipVerify: true, VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
		sum := sha256.Sum256(raw[0])
		if !bytes.Equal(sum[:], want) {
			return fmt.Errorf("certificate fingerprint %x does not match", sum)
		}
		return nil
	}}
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("api-ssl %s: %v", addr, err)
	}
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	c, _ := routeros.NewClient(nc)
	c.SetLogHandler(slog.NewTextHandler(io.Discard, nil))
	if err := c.Login("admin", ""); err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestConformanceOnboarding drives, with go-routeros v3 as the client, the
// sequence wgboot runs against a defconf router: pinned api-ssl login on
// the LAN, rollback armed, WireGuard interface, peer and rules added with
// place-before, the API reached through the tunnel from the WAN side, the
// API allowed only from the VPN address list, then the rollback disarmed.
func TestConformanceOnboarding(t *testing.T) {
	cfg, err := os.ReadFile("../../examples/soho-defconf.rsc")
	if err != nil {
		t.Skipf("no defconf example: %v", err)
	}
	wan := testAddr()
	r := startRouter(t, Options{Config: string(cfg), ClockSpeed: 60, Listen: []Listen{
		{Iface: "ether1", Addr: wan, Src: netip.MustParseAddr("203.0.113.50")},
		{Iface: "bridge", Addr: testAddr(), Src: netip.MustParseAddr("192.168.88.10")},
	}})
	lan := r.Info().Listen[1]
	c := pinnedTLS(t, netip.AddrPortFrom(lan.Addr, lan.APISSL).String(), r.Info().Fingerprint)
	run := func(words ...string) *routeros.Reply {
		t.Helper()
		rep, err := c.RunArgs(words)
		if err != nil {
			t.Fatalf("%v: %v", words, err)
		}
		return rep
	}
	clk := run("/system/clock/print").Re[0].Map
	now, _ := time.Parse("2006-01-02 15:04:05", clk["date"]+" "+clk["time"])
	at := now.Add(10 * time.Minute)
	run("/system/scheduler/add", "=name=wgboot-rollback", "=comment=wgboot: rollback", "=start-date="+at.Format("2006-01-02"),
		"=start-time="+at.Format("15:04:05"), "=interval=0s",
		`=on-event=/interface wireguard remove [find where comment~"^wgboot:"]; /ip firewall filter remove [find where comment~"^wgboot:"]; /system scheduler remove [find name="wgboot-rollback"]`)

	cl := newWGClient(t, netip.MustParseAddr("10.66.0.2"))
	run("/interface/wireguard/add", "=name=wgboot", "=listen-port=13999", "=comment=wgboot: tunnel")
	pub := run("/interface/wireguard/print", "?name=wgboot", "=.proplist=public-key").Re[0].Map["public-key"]
	run("/ip/address/add", "=address=10.66.0.1/24", "=interface=wgboot", "=comment=wgboot: address")
	run("/interface/wireguard/peers/add", "=interface=wgboot", "=public-key="+cl.key.PublicKey().String(), "=allowed-address=10.66.0.2/32", "=comment=wgboot: technician")
	run("/ip/firewall/address-list/add", "=list=wgboot-vpn", "=address=10.66.0.0/24", "=comment=wgboot: vpn")
	drop := run("/ip/firewall/filter/print", "?comment=defconf: drop all not coming from LAN", "=.proplist=.id").Re[0].Map[".id"]
	run("/ip/firewall/filter/add", "=chain=input", "=action=accept", "=protocol=udp", "=dst-port=13999", "=comment=wgboot: wireguard", "=place-before="+drop)
	run("/ip/firewall/filter/add", "=chain=input", "=action=accept", "=protocol=tcp", "=dst-port=8728,8729", "=src-address-list=wgboot-vpn", "=in-interface=wgboot", "=comment=wgboot: api via vpn", "=place-before="+drop)

	// The technician's peer reaches the router's WAN address and the API inside the tunnel.
	cl.peer(t, pub, netip.AddrPortFrom(wan, 13999), "10.66.0.0/24")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nc, err := cl.net.DialContext(ctx, "tcp", "10.66.0.1:8728")
	if err != nil {
		t.Fatalf("API through the tunnel: %v", err)
	}
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	tc, _ := routeros.NewClient(nc)
	tc.SetLogHandler(slog.NewTextHandler(io.Discard, nil))
	defer tc.Close()
	if err := tc.Login("admin", ""); err != nil {
		t.Fatalf("login through the tunnel: %v", err)
	}
	if rep, err := tc.Run("/system/identity/print"); err != nil || rep.Re[0].Map["name"] != "MikroTik" {
		t.Fatalf("identity through the tunnel: %v %v", rep, err)
	}
	// The WAN API stays closed.
	if !silent(t, apiAddr(r, 0)) {
		t.Errorf("the WAN API answered")
	}
	// Commit: the rollback is disarmed from inside the tunnel.
	if _, err := tc.Run("/system/scheduler/remove", "=numbers=wgboot-rollback"); err != nil {
		t.Fatal(err)
	}
	rep := run("/ip/firewall/filter/print", "?comment=wgboot: api via vpn", "=.proplist=packets")
	if rep.Re[0].Map["packets"] != "1" {
		t.Errorf("api via vpn counters = %v", rep.Re[0].Map)
	}
	peers := run("/interface/wireguard/peers/print", "=.proplist=last-handshake,current-endpoint-address").Re[0].Map
	if peers["last-handshake"] == "" || peers["current-endpoint-address"] == "" {
		t.Errorf("peer figures: %v", peers)
	}
	if s := r.Stats(); s.Accepted < 3 || s.Dropped < 1 || s.Commands < 10 {
		t.Errorf("stats = %+v", s)
	}
}
