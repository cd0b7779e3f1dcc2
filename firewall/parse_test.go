package firewall

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePortList(t *testing.T) {
	tests := []struct {
		in      string
		want    []portRange
		wantErr bool
	}{
		{"22", []portRange{{22, 22}}, false},
		{"0", []portRange{{0, 0}}, false},
		{"65535", []portRange{{65535, 65535}}, false},
		{"8728-8729", []portRange{{8728, 8729}}, false},
		{"22,80,8000-8080", []portRange{{22, 22}, {80, 80}, {8000, 8080}}, false},
		{"", nil, true},
		{"65536", nil, true},
		{"-1", nil, true},
		{"+1", nil, true},
		{"1,", nil, true},
		{",1", nil, true},
		{"1-", nil, true},
		{"9-8", nil, true},
		{"1-2-3", nil, true},
		{" 1", nil, true},
		{"ssh", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parsePortList(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parsePortList(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(portRange{})); diff != "" {
				t.Errorf("parsePortList(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseAddrSpec(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		in      string
		lo, hi  string
		wantErr bool
	}{
		{"192.0.2.1", "192.0.2.1", "192.0.2.1", false},
		{"192.0.2.0/24", "192.0.2.0", "192.0.2.255", false},
		{"192.0.2.77/24", "192.0.2.0", "192.0.2.255", false},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255", false},
		{"10.0.0.1/32", "10.0.0.1", "10.0.0.1", false},
		{"192.0.2.10-192.0.2.20", "192.0.2.10", "192.0.2.20", false},
		{"2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"2001:db8::1", "2001:db8::1", "2001:db8::1", false},
		{"::ffff:192.0.2.1", "192.0.2.1", "192.0.2.1", false},
		{"192.0.2.20-192.0.2.10", "", "", true},
		{"192.0.2.1-2001:db8::1", "", "", true},
		{"192.0.2.0/33", "", "", true},
		{"fe80::1%eth0", "", "", true},
		{"example.com", "", "", true},
		{"", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAddrSpec(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseAddrSpec(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			want := addrRange{a(tt.lo), a(tt.hi)}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(addrRange{}), cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
				t.Errorf("parseAddrSpec(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func FuzzParsePortList(f *testing.F) {
	for _, s := range []string{"22", "8728-8729", "22,80,443", "0-65535", "1,", "9-8", "65536", "+5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := parsePortList(s)
		if err != nil {
			return
		}
		// What parses must print back to an equivalent list.
		parts := make([]string, len(rs))
		for i, r := range rs {
			if r.lo > r.hi {
				t.Fatalf("parsePortList(%q): reversed range %v", s, r)
			}
			parts[i] = fmt.Sprintf("%d-%d", r.lo, r.hi)
		}
		again, err := parsePortList(strings.Join(parts, ","))
		if err != nil {
			t.Fatalf("reparse of %q: %v", parts, err)
		}
		if diff := cmp.Diff(rs, again, cmp.AllowUnexported(portRange{})); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", s, diff)
		}
	})
}

func FuzzParseAddrSpec(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "192.0.2.0/24", "10.0.0.1-10.0.0.9", "2001:db8::/33", "::/0", "1.2.3.4-::1", "a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseAddrSpec(s)
		if err != nil {
			return
		}
		if !r.lo.IsValid() || !r.hi.IsValid() || r.lo.Is4() != r.hi.Is4() || r.hi.Less(r.lo) {
			t.Fatalf("parseAddrSpec(%q) = %v-%v: not a range", s, r.lo, r.hi)
		}
		if !r.contains(r.lo) || !r.contains(r.hi) {
			t.Fatalf("parseAddrSpec(%q): range does not contain its ends", s)
		}
		if p := r.lo.Prev(); p.IsValid() && p.Is4() == r.lo.Is4() && r.contains(p) {
			t.Fatalf("parseAddrSpec(%q): range contains %v below its start", s, p)
		}
		if n := r.hi.Next(); n.IsValid() && r.contains(n) {
			t.Fatalf("parseAddrSpec(%q): range contains %v above its end", s, n)
		}
	})
}
