package wgdev

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/device"
)

// TestIPv6 runs the UDP side over ::1 and the tunnel over IPv6 and IPv4 at
// once: the dual-stack listener must serve both, with unmapped addresses.
func TestIPv6(t *testing.T) {
	probe, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	probe.Close()
	routerV6 := netip.MustParsePrefix("fd77::1/64")
	clientV6 := netip.MustParseAddr("fd77::2")
	r := newRouter(t, Options{
		Listen:    []netip.AddrPort{netip.MustParseAddrPort("[::1]:0")},
		Addresses: []netip.Prefix{routerTunnel, routerV6},
	})

	key := newKey(t)
	tnet := newClientTUN(t, clientTunnel, clientV6)
	b := newBind(Options{Listen: []netip.AddrPort{netip.MustParseAddrPort("[::1]:0")}}, t.Logf)
	dev := device.NewDevice(tnet, b, device.NewLogger(device.LogLevelSilent, ""))
	t.Cleanup(dev.Close)
	pub := r.key.PublicKey()
	if err := dev.IpcSet(fmt.Sprintf("private_key=%s\npublic_key=%s\nendpoint=%s\nallowed_ip=10.77.0.0/24\nallowed_ip=fd77::/64\n",
		hex.EncodeToString(key[:]), hex.EncodeToString(pub[:]), r.listen)); err != nil {
		t.Fatal(err)
	}
	if err := dev.Up(); err != nil {
		t.Fatal(err)
	}
	c := &client{dev: dev, net: tnet, key: key, bind: b}
	p := r.peer(key)
	p.AllowedIPs = append(p.AllowedIPs, netip.PrefixFrom(clientV6, 128))
	if err := r.dev.SetPeers([]Peer{p}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		dst  netip.Addr
		want string
	}{
		{routerV6.Addr(), "[" + clientV6.String() + "]:"},
		{routerTunnel.Addr(), clientTunnel.String() + ":"},
	} {
		seen, err := c.hello(ctxLimit(t, waitLimit), tt.dst)
		if err != nil {
			t.Fatalf("to %v: %v", tt.dst, err)
		}
		if !strings.HasPrefix(seen, tt.want) {
			t.Errorf("to %v: router saw %q, want %s<port>", tt.dst, seen, tt.want)
		}
	}
	if st := r.dev.Stats(); len(st) != 1 || st[0].Endpoint != c.addr() {
		t.Errorf("Stats = %+v, want endpoint %v", st, c.addr())
	}
}
