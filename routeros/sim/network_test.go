package sim

import (
	"context"
	"encoding/hex"
	"errors"
	"github.com/wgboot/wgboot/internal/gvtun"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-routeros/routeros/v3"
	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// waitFor polls cond; the deadline only bounds a hang, it asserts nothing about speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// silent reports whether a connection to addr is accepted but never answered:
// a login sent on it gets no byte back before the short read deadline.
func silent(t *testing.T, addr string) bool {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer nc.Close()
	c, _ := routeros.NewClient(nc)
	_ = nc.SetDeadline(time.Now().Add(300 * time.Millisecond))
	err = c.Login("admin", "")
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestAcceptanceDefconf is the acceptance check: defconf wired with
// ether1 (WAN) and bridge (LAN); the API answers on the LAN address only.
func TestAcceptanceDefconf(t *testing.T) {
	cfg, err := os.ReadFile("../../examples/soho-defconf.rsc")
	if err != nil {
		t.Skipf("examples/soho-defconf.rsc not there: %v", err)
	}
	wan, lan := testAddr(), testAddr()
	r := startRouter(t, Options{Config: string(cfg), Listen: []Listen{
		{Iface: "ether1", Addr: wan, Src: netip.MustParseAddr("203.0.113.50")},
		{Iface: "bridge", Addr: lan, Src: netip.MustParseAddr("192.168.88.10")},
	}})
	c := dial(t, apiAddr(r, 1), "admin", "")
	rep, err := c.Run("/system/identity/print")
	if err != nil || rep.Re[0].Map["name"] != "MikroTik" {
		t.Fatalf("identity on LAN: %v %v", rep, err)
	}
	before := r.Stats().Dropped
	if !silent(t, apiAddr(r, 0)) {
		t.Errorf("the WAN address answered; defconf drops input not from LAN")
	}
	if got := r.Stats().Dropped - before; got != 1 {
		t.Errorf("dropped connections = %d, want 1", got)
	}
	// The drop rule counted the packet.
	rep, err = c.Run("/ip/firewall/filter/print", "?comment=defconf: drop all not coming from LAN")
	if err != nil || len(rep.Re) != 1 || rep.Re[0].Map["packets"] != "1" {
		t.Errorf("drop rule counters: %v %v", rep, err)
	}
}

func TestEnforcement(t *testing.T) {
	r := startRouter(t, Options{Listen: []Listen{{Iface: "ether1", Addr: testAddr(), Src: netip.MustParseAddr("198.51.100.7")}, {Iface: "ether2", Addr: testAddr()}}})
	admin := dial(t, apiAddr(r, 1), "admin", "")
	run := func(words ...string) *routeros.Reply {
		t.Helper()
		rep, err := admin.RunArgs(words)
		if err != nil {
			t.Fatalf("%v: %v", words, err)
		}
		return rep
	}
	wan := rawDial(t, apiAddr(r, 0))
	wan.send(t, "/login", "=name=admin", "=password=")
	if got := wan.read(t); got != "!done" {
		t.Fatalf("WAN login: %s", got)
	}
	run("/ip/firewall/filter/add", "=chain=input", "=in-interface=ether1", "=action=jump", "=jump-target=wan")
	run("/ip/firewall/filter/add", "=chain=wan", "=src-address-list=blocked", "=action=log", "=log-prefix=BLK")
	run("/ip/firewall/filter/add", "=chain=wan", "=src-address-list=blocked", "=action=reject", "=reject-with=tcp-reset")
	run("/ip/firewall/filter/add", "=chain=wan", "=action=return")
	run("/ip/firewall/filter/add", "=chain=input", "=in-interface=ether1", "=protocol=tcp", "=dst-port=8728-8729", "=connection-state=new", "=action=drop")

	// The open WAN session survives only while established traffic is accepted:
	// no rule accepts it, but the drop is for new connections only.
	wan.send(t, "/system/identity/print", "=.proplist=name")
	if got := wan.read(t); got != "!re name=MikroTik" {
		t.Errorf("established WAN session cut by a new-only drop: %s", got)
	}
	wan.read(t) // !done
	if !silent(t, apiAddr(r, 0)) {
		t.Errorf("new WAN connection answered despite the drop rule")
	}
	// Reject: connection reset at once.
	run("/ip/firewall/address-list/add", "=list=blocked", "=address=198.51.100.0/24")
	c, err := dialErr(apiAddr(r, 0), "admin", "")
	if err == nil {
		c.Close()
		t.Errorf("login through a reject rule succeeded")
	} else if !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "EOF") {
		t.Errorf("reject gave %v, want a reset", err)
	}
	rep := run("/log/print", "?topics=firewall,info")
	if len(rep.Re) == 0 || !strings.HasPrefix(rep.Re[0].Map["message"], "BLK wan: in:ether1") {
		t.Errorf("log = %v, want a BLK line", rep.Re)
	}
	// A drop for every WAN packet cuts the established session too.
	run("/ip/firewall/filter/add", "=chain=input", "=in-interface=ether1", "=action=drop", "=place-before=*1")
	wan.send(t, "/system/identity/print")
	_ = wan.nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if s, err := wan.r.ReadSentence(); err == nil {
		t.Errorf("established WAN session still answered after drop-all: %v", s)
	}

	// /ip service: port change rebinds, disabled refuses, address hangs.
	run("/ip/service/set", "=numbers=api", "=port=18728")
	waitFor(t, "api on 18728", func() bool { return r.Info().Listen[1].API == 18728 })
	run("/ip/service/set", "=numbers=api", "=address=10.0.0.0/8")
	if !silent(t, apiAddr(r, 1)) {
		t.Errorf("api answered a source outside /ip service address")
	}
	run2, err := dialErr(netip.AddrPortFrom(r.Info().Listen[1].Addr, 8729).String(), "admin", "")
	if err == nil {
		run2.Close()
	}
	if _, err := admin.Run("/ip/service/disable", "=numbers=api"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "api closed", func() bool { return r.Info().Listen[1].API == 0 })
	if _, err := net.DialTimeout("tcp", netip.AddrPortFrom(r.Info().Listen[1].Addr, 18728).String(), 5*time.Second); err == nil {
		t.Errorf("disabled service still accepts connections")
	}
}

// wgClient is the technician's side: wireguard-go on a gVisor stack
// (gvtun, which closes safely: wireguard-go's netstack can race on close,
// finding 29).
type wgClient struct {
	dev *device.Device
	net *gvtun.Device
	key wgtypes.Key
}

func newWGClient(t *testing.T, addr netip.Addr) *wgClient {
	t.Helper()
	tnet, err := gvtun.New("wgclient", 1420)
	if err != nil {
		t.Fatal(err)
	}
	if err := tnet.SetAddresses([]netip.Prefix{netip.PrefixFrom(addr, addr.BitLen())}); err != nil {
		t.Fatal(err)
	}
	dev := device.NewDevice(tnet, conn.NewDefaultBind(), device.NewLogger(device.LogLevelSilent, ""))
	k, _ := wgtypes.GeneratePrivateKey()
	if err := dev.IpcSet("private_key=" + hex.EncodeToString(k[:]) + "\n"); err != nil {
		t.Fatal(err)
	}
	if err := dev.Up(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dev.Close)
	return &wgClient{dev: dev, net: tnet, key: k}
}

func (c *wgClient) peer(t *testing.T, pub string, endpoint netip.AddrPort, allowed string) {
	t.Helper()
	k, err := wgtypes.ParseKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.dev.IpcSet("public_key=" + hex.EncodeToString(k[:]) + "\nendpoint=" + endpoint.String() + "\nallowed_ip=" + allowed + "\npersistent_keepalive_interval=1\n"); err != nil {
		t.Fatal(err)
	}
}

func TestWireGuardTunnel(t *testing.T) {
	cfg := `/interface wireguard
add listen-port=13231 name=wg-tech
/ip address
add address=10.77.0.1/24 interface=wg-tech
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input protocol=udp dst-port=13231
add action=accept chain=input in-interface=wg-tech protocol=tcp dst-port=8728 comment=tunnel-api
add action=accept chain=input in-interface=bridge
add action=drop chain=input
`
	wan := testAddr()
	// The technician's packets come from the internet address Src, as the
	// router would see them.
	src := netip.MustParseAddr("198.51.100.23")
	r := startRouter(t, Options{Config: cfg, Listen: []Listen{{Iface: "ether1", Addr: wan, Src: src}, {Iface: "bridge", Addr: testAddr()}}})
	cl := newWGClient(t, netip.MustParseAddr("10.77.0.2"))

	// The LAN side configures the router's peer, as a technician on site would.
	lan := dial(t, apiAddr(r, 1), "admin", "")
	rep, err := lan.Run("/interface/wireguard/print", "?name=wg-tech")
	if err != nil {
		t.Fatal(err)
	}
	pub := rep.Re[0].Map["public-key"]
	if _, err := lan.Run("/interface/wireguard/peers/add", "=interface=wg-tech", "=public-key="+cl.key.PublicKey().String(), "=allowed-address=10.77.0.2/32"); err != nil {
		t.Fatal(err)
	}
	cl.peer(t, pub, netip.AddrPortFrom(wan, 13231), "10.77.0.0/24")

	nc, err := cl.net.DialContext(context.Background(), "tcp", "10.77.0.1:8728")
	if err != nil {
		t.Fatalf("dial through the tunnel: %v", err)
	}
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	c, _ := routeros.NewClient(nc)
	defer c.Close()
	if err := c.Login("admin", ""); err != nil {
		t.Fatalf("login through the tunnel: %v", err)
	}
	rep, err = c.Run("/interface/wireguard/peers/print")
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Re[0].Map
	if p["rx"] == "0" || p["last-handshake"] == "" || p["current-endpoint-address"] == "" {
		t.Errorf("peer stats not filled: %v", p)
	}
	if got := p["current-endpoint-address"]; got != src.String() {
		t.Errorf("current-endpoint-address %s, want the client's address as the router sees it, %s", got, src)
	}
	rep, err = c.Run("/ip/firewall/filter/print", "?comment=tunnel-api")
	if err != nil || rep.Re[0].Map["packets"] != "1" {
		t.Errorf("tunnel rule counters: %v %v", rep, err)
	}
	// Removing the interface while a session runs inside it cuts the session
	// and leaves the router responsive; then put it back for the peer test.
	wgID := func() string {
		rep, err := lan.Run("/interface/wireguard/print", "?name=wg-tech", "=.proplist=.id")
		if err != nil || len(rep.Re) != 1 {
			t.Fatalf("wg-tech: %v", err)
		}
		return rep.Re[0].Map[".id"]
	}()
	if _, err := lan.Run("/interface/wireguard/disable", "=numbers="+wgID); err != nil {
		t.Fatal(err)
	}
	// The router closed the session, but nothing can tell the client any
	// more: it sees silence.
	_ = nc.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Run("/system/identity/print"); err == nil {
		t.Errorf("a session inside a disabled interface still answers")
	}
	if _, err := lan.Run("/interface/wireguard/enable", "=numbers="+wgID); err != nil {
		t.Fatal(err)
	}
	// The device is back (a client's old session is gone with the old
	// device, as on a router; it re-handshakes in its own time).
	if _, ok := r.Info().WireGuard["wg-tech"]; !ok {
		t.Errorf("wg-tech did not come back after enable")
	}

	// Disabling the peer (from the LAN) takes effect at once: the tunnel
	// carries nothing more.
	if _, err := lan.Run("/interface/wireguard/peers/disable", "=numbers="+p[".id"]); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel2()
	if nc2, err := cl.net.DialContext(ctx2, "tcp", "10.77.0.1:8728"); err == nil {
		nc2.Close()
		t.Errorf("tunnel still carries new connections after the peer was disabled")
	}
}

// TestEstablishedDropSilentFromStart: a ruleset that accepts new API
// connections but drops established traffic never answers, from the first
// request on, as RouterOS does (finding 11: rossim answered until the next
// firewall change, then went silent mid-session).
func TestEstablishedDropSilentFromStart(t *testing.T) {
	tests := []struct {
		name   string
		config string
		silent bool
	}{
		{"established dropped", "/ip firewall filter\nadd action=drop chain=input connection-state=established,related in-interface=ether1\nadd action=accept chain=input in-interface=ether1\n", true},
		{"new dropped only", "/ip firewall filter\nadd action=drop chain=input connection-state=new in-interface=ether2\nadd action=accept chain=input in-interface=ether1\n", false},
		{"established accepted first", "/ip firewall filter\nadd action=accept chain=input connection-state=established,related\nadd action=drop chain=input connection-state=established in-interface=ether1\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRouter(t, Options{Config: tt.config, Listen: []Listen{{Iface: "ether1", Addr: testAddr(), Src: netip.MustParseAddr("192.168.88.10")}}})
			before := r.Stats().Dropped
			got := silent(t, apiAddr(r, 0))
			if diff := cmp.Diff(tt.silent, got); diff != "" {
				t.Errorf("silent (-want +got):\n%s", diff)
			}
			wantDropped := int64(0)
			if tt.silent {
				wantDropped = 1
			}
			if diff := cmp.Diff(wantDropped, r.Stats().Dropped-before); diff != "" {
				t.Errorf("dropped connections (-want +got):\n%s", diff)
			}
		})
	}
}
