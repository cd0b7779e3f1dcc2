package vpn

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/internal/needtool"
)

// needRootIP skips tests that need a namespace and a TUN device but not
// wireguard-tools.
func needRootIP(t *testing.T) {
	t.Helper()
	needtool.Root(t, "create network namespaces and TUN devices")
	needtool.File(t, "/dev/net/tun")
	needtool.Tool(t, "iproute2", "ip")
}

// routesIn lists a namespace's routes (every table but local), one per line.
func routesIn(t *testing.T, ns string) []string {
	t.Helper()
	var out []string
	for _, fam := range []string{"-4", "-6"} {
		for _, l := range strings.Split(strings.TrimSpace(run(t, "ip", "-n", ns, fam, "route", "show", "table", "all")), "\n") {
			if l != "" && !strings.HasPrefix(l, "local ") && !strings.HasPrefix(l, "broadcast ") && !strings.HasPrefix(l, "multicast ") {
				out = append(out, l)
			}
		}
	}
	return out
}

// TestKernelRoutesInNamespace: the kernel backend adds the tunnel address
// as a single address and a route to each single allowed address, and
// nothing else; it refuses a default route, a wider prefix, and anything
// that overlaps a route the machine already has. The namespace, with a LAN
// 192.168.77.0/24, a default route and a route to 10.66.0.0/16, is made by
// the test.
func TestKernelRoutesInNamespace(t *testing.T) {
	needRootIP(t)
	id := fmt.Sprintf("%06x", rand.IntN(1<<24))
	ns := "wgbt-" + id + "r"
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	run(t, "ip", "-n", ns, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1")
	run(t, "ip", "-n", ns, "addr", "add", "192.168.77.1/24", "dev", "lan0")
	run(t, "ip", "-n", ns, "link", "set", "lan0", "up")
	run(t, "ip", "-n", ns, "link", "set", "lan1", "up")
	run(t, "ip", "-n", ns, "route", "add", "default", "via", "192.168.77.254")
	run(t, "ip", "-n", ns, "route", "add", "10.66.0.0/16", "via", "192.168.77.253")
	before := routesIn(t, ns)

	tk, rk := mustKey(t), mustKey(t)
	cfg := func(addr string, allowed ...string) Config {
		c := Config{PrivateKey: tk, Address: netip.MustParsePrefix(addr),
			Peer: Peer{PublicKey: rk.PublicKey(), Endpoint: netip.MustParseAddrPort("192.168.77.250:13231")}}
		for _, a := range allowed {
			c.Peer.AllowedIPs = append(c.Peer.AllowedIPs, netip.MustParsePrefix(a))
		}
		return c
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string // substrings of the error; nil: Up succeeds
		added   []string // routes Up adds, as `ip route` shows them
	}{
		{name: "router address only", cfg: cfg("10.88.0.2/24", "10.88.0.1/32"),
			added: []string{"10.88.0.1 dev IFACE scope link src 10.88.0.2"}},
		{name: "default route", cfg: cfg("10.88.0.2/24", "0.0.0.0/0"), wantErr: []string{"0.0.0.0/0", "default route"}},
		{name: "IPv6 default route", cfg: cfg("10.88.0.2/24", "10.88.0.1/32", "::/0"), wantErr: []string{"::/0", "default route"}},
		{name: "a subnet", cfg: cfg("10.88.0.2/24", "10.88.0.0/24"), wantErr: []string{"10.88.0.0/24", "single address"}},
		{name: "inside a local route", cfg: cfg("10.88.0.2/24", "10.66.0.1/32"), wantErr: []string{"10.66.0.1/32", "10.66.0.0/16", "lan0"}},
		{name: "on the LAN", cfg: cfg("10.88.0.2/24", "192.168.77.9/32"), wantErr: []string{"192.168.77.0/24", "lan0"}},
		{name: "address inside a local route", cfg: cfg("10.66.0.2/24", "10.88.0.1/32"), wantErr: []string{"10.66.0.2", "10.66.0.0/16"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("wgbt%s%d", id, i)
			h := startHelper(t, ns, "up", helperSpec{Config: tt.cfg, Name: name})
			line := h.next(t)
			var rep helperReport
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "READY ")), &rep); err != nil {
				t.Fatalf("helper said %q: %v", line, err)
			}
			after := routesIn(t, ns)
			addrs := run(t, "ip", "-n", ns, "-o", "addr", "show")
			h.stop(t)
			if tt.wantErr != nil {
				for _, w := range tt.wantErr {
					if !strings.Contains(rep.Err, w) {
						t.Errorf("Up error = %q, want it to name %q", rep.Err, w)
					}
				}
				if !slices.Equal(before, after) {
					t.Errorf("a refused Up changed the routes:\nbefore %q\nafter  %q", before, after)
				}
				return
			}
			if rep.Err != "" {
				t.Fatalf("Up: %s", rep.Err)
			}
			var added []string
			for _, r := range after {
				// IPv6 puts fe80::/64 on every link that comes up: a
				// route of that link only, never a conflict.
				if !slices.Contains(before, r) && !strings.HasPrefix(r, "fe80::/64 dev "+name) {
					added = append(added, strings.ReplaceAll(strings.TrimSpace(r), name, "IFACE"))
				}
			}
			if !slices.Equal(added, tt.added) {
				t.Errorf("Up added routes %q, want %q", added, tt.added)
			}
			for _, r := range before {
				if !slices.Contains(after, r) {
					t.Errorf("Up removed or replaced route %q", r)
				}
			}
			want := "inet " + tt.cfg.Address.Addr().String() + "/32"
			if !strings.Contains(addrs, name+"    "+want) && !strings.Contains(addrs, want+" scope global "+name) {
				t.Errorf("address on %s: want %s (no connected subnet route); ip addr:\n%s", name, want, addrs)
			}
			if got := routesIn(t, ns); !slices.Equal(before, got) {
				t.Errorf("Close left routes behind:\nbefore %q\nafter  %q", before, got)
			}
		})
	}
}

// TestCheckRoutes is the refusal logic without a namespace.
func TestCheckRoutes(t *testing.T) {
	local := []route{
		{Dst: netip.MustParsePrefix("192.168.1.0/24"), Index: 0},
		{Dst: netip.MustParsePrefix("10.0.0.0/8"), Index: 0},
		{Dst: netip.MustParsePrefix("fd00::/64"), Index: 0},
	}
	tests := []struct {
		addr    string
		allowed []string
		want    []string // routes; nil with wantErr
		wantErr string
	}{
		{addr: "172.29.0.2/24", allowed: []string{"172.29.0.1/32"}, want: []string{"172.29.0.1/32"}},
		{addr: "172.29.0.2/24", allowed: []string{"fd01::1/128"}, want: []string{"fd01::1/128"}},
		{addr: "172.29.0.2/24", allowed: []string{"0.0.0.0/0"}, wantErr: "default route"},
		{addr: "172.29.0.2/24", allowed: []string{"172.29.0.0/24"}, wantErr: "single addresses"},
		{addr: "172.29.0.2/24", allowed: []string{"10.77.0.1/32"}, wantErr: "already routes 10.0.0.0/8"},
		{addr: "172.29.0.2/24", allowed: []string{"fd00::1/128"}, wantErr: "already routes fd00::/64"},
		{addr: "192.168.1.7/24", allowed: []string{"172.29.0.1/32"}, wantErr: "refusing the tunnel address 192.168.1.7"},
	}
	for _, tt := range tests {
		cfg := Config{Address: netip.MustParsePrefix(tt.addr)}
		for _, a := range tt.allowed {
			cfg.Peer.AllowedIPs = append(cfg.Peer.AllowedIPs, netip.MustParsePrefix(a))
		}
		got, err := checkRoutes(cfg, local)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkRoutes(%s, %v) error = %v, want %q", tt.addr, tt.allowed, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("checkRoutes(%s, %v): %v", tt.addr, tt.allowed, err)
			continue
		}
		var gs []string
		for _, p := range got {
			gs = append(gs, p.String())
		}
		if !slices.Equal(gs, tt.want) {
			t.Errorf("checkRoutes(%s, %v) = %v, want %v", tt.addr, tt.allowed, gs, tt.want)
		}
	}
}

// FuzzParseRoute: no route message from the kernel makes the parser
// panic, and every route it keeps is a real, non-default prefix outside the
// local table.
func FuzzParseRoute(f *testing.F) {
	f.Add([]byte{2, 24, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0, 8, 0, 1, 0, 10, 77, 0, 0, 8, 0, 4, 0, 3, 0, 0, 0})
	f.Add([]byte{10, 64, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0, 20, 0, 1, 0, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{2, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		rt, ok, err := parseRoute(b)
		if err != nil || !ok {
			return
		}
		if !rt.Dst.IsValid() || rt.Dst.Bits() == 0 || rt.Table == 255 {
			t.Fatalf("kept route %+v", rt)
		}
	})
}
