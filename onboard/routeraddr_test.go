package onboard

import (
	"strings"
	"testing"
)

// TestRouterAddr is the table of the one router-address reading that the
// engine (New, ValidateRouter) and fleet (inventory address:, its
// duplicate check and config names) share. Accepted addresses keep the
// spelling they had before there was one reader; refused ones say why.
func TestRouterAddr(t *testing.T) {
	tests := []struct {
		in      string
		plain   bool
		host    string
		addr    string
		wantErr string
	}{
		{in: "192.168.88.1", host: "192.168.88.1", addr: "192.168.88.1:8729"},
		{in: "192.168.88.1", plain: true, host: "192.168.88.1", addr: "192.168.88.1:8728"},
		{in: "192.168.88.1:18729", plain: true, host: "192.168.88.1", addr: "192.168.88.1:18729"},
		{in: "router.example.com", host: "router.example.com", addr: "router.example.com:8729"},
		{in: "Router.Example.COM:8728", host: "Router.Example.COM", addr: "Router.Example.COM:8728"},
		{in: "router.example.com.", host: "router.example.com.", addr: "router.example.com.:8729"},
		{in: "2001:db8::1", host: "2001:db8::1", addr: "[2001:db8::1]:8729"},
		{in: "[2001:db8::1]", host: "2001:db8::1", addr: "[2001:db8::1]:8729"},
		{in: "[2001:db8::1]:8728", host: "2001:db8::1", addr: "[2001:db8::1]:8728"},
		{in: "[2001:DB8::1]:65535", host: "2001:DB8::1", addr: "[2001:DB8::1]:65535"},
		{in: "::1", host: "::1", addr: "[::1]:8729"},
		{in: "[2001:db8::1", host: "2001:db8::1", addr: "[2001:db8::1]:8729"}, // loose, but accepted since the start
		{in: "[192.0.2.1]", host: "192.0.2.1", addr: "192.0.2.1:8729"},
		{in: "[router.lan]:1", host: "router.lan", addr: "router.lan:1"},
		{in: "router_1", host: "router_1", addr: "router_1:8729"},

		{in: "", wantErr: "no host"},
		{in: "fe80::1%eth0", wantErr: "zone"},
		{in: "[fe80::1%eth0]:8729", wantErr: "zone"},
		{in: "192.168.88.1:0", wantErr: `port "0" is not 1..65535`},
		{in: "192.168.88.1:65536", wantErr: `port "65536" is not 1..65535`},
		{in: "192.168.88.1:api", wantErr: `port "api" is not 1..65535`},
		{in: "192.168.88.1:", wantErr: "no port after ':'"},
		{in: "[2001:db8::1]:", wantErr: "no port after ':'"},
		{in: " 192.168.88.1", wantErr: "no spaces"},
		{in: "my router", wantErr: "no spaces"},
		{in: "a:b:c", wantErr: "character ':'"},
		{in: "[]", wantErr: "not HOST or HOST:PORT"},
		{in: "router..lan", wantErr: "1 to 63 characters"},
		{in: "-router", wantErr: "hyphen"},
		{in: "routér", wantErr: "punycode"},
		{in: "rou$ter", wantErr: "character '$'"},
		{in: strings.Repeat("a", 254), wantErr: "253"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			host, addr, err := RouterAddr(tt.in, tt.plain)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("RouterAddr(%q) = %q, %q, %v; want error with %q", tt.in, host, addr, err, tt.wantErr)
				}
				if ValidateRouter(tt.in) == nil {
					t.Errorf("ValidateRouter(%q) accepts what RouterAddr refuses", tt.in)
				}
				return
			}
			if err != nil || host != tt.host || addr != tt.addr {
				t.Fatalf("RouterAddr(%q, %v) = %q, %q, %v; want %q, %q", tt.in, tt.plain, host, addr, err, tt.host, tt.addr)
			}
			if err := ValidateRouter(tt.in); err != nil {
				t.Errorf("ValidateRouter(%q) refuses what RouterAddr accepts: %v", tt.in, err)
			}
			e, err := New(Options{Router: tt.in, Plain: tt.plain})
			if err != nil {
				t.Fatal(err)
			}
			if e.host != tt.host || e.Addr() != tt.addr {
				t.Errorf("engine host, addr = %q, %q; want %q, %q", e.host, e.Addr(), tt.host, tt.addr)
			}
		})
	}
}

// FuzzRouterAddr: whatever RouterAddr accepts, the engine dials as it
// reads it (addr is host with a port from 1 to 65535), and reading addr
// again gives the same.
func FuzzRouterAddr(f *testing.F) {
	for _, s := range []string{"192.168.88.1", "[::1]:8728", "router.lan.", "fe80::1%eth0", "a:", "[a]:1", "::ffff:1.2.3.4"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in string, plain bool) {
		host, addr, err := RouterAddr(in, plain)
		if err != nil {
			if ValidateRouter(in) == nil {
				t.Fatalf("ValidateRouter(%q) accepts what RouterAddr refuses: %v", in, err)
			}
			return
		}
		h2, a2, err := RouterAddr(addr, !plain)
		if err != nil || a2 != addr || h2 != host {
			t.Fatalf("RouterAddr(%q) = %q; again: %q, %q, %v", in, addr, h2, a2, err)
		}
	})
}
