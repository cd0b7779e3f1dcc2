package fleet

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPool(t *testing.T) {
	tests := []struct {
		name     string
		pool     string
		bits     int
		reserved []string
		n        int
		want     []string
		wantErr  bool
	}{
		{name: "sequential /24", pool: "10.77.0.0/16", bits: 24, n: 3, want: []string{"10.77.0.0/24", "10.77.1.0/24", "10.77.2.0/24"}},
		{name: "skips reserved", pool: "10.77.0.0/16", bits: 24, reserved: []string{"10.77.1.128/25"}, n: 2, want: []string{"10.77.0.0/24", "10.77.2.0/24"}},
		{name: "/30s", pool: "10.0.0.0/28", bits: 30, n: 4, want: []string{"10.0.0.0/30", "10.0.0.4/30", "10.0.0.8/30", "10.0.0.12/30"}},
		{name: "used up", pool: "10.0.0.0/29", bits: 30, n: 3, want: []string{"10.0.0.0/30", "10.0.0.4/30"}, wantErr: true},
		{name: "end of address space", pool: "255.255.255.0/24", bits: 25, n: 3, want: []string{"255.255.255.0/25", "255.255.255.128/25"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res []netip.Prefix
			for _, r := range tt.reserved {
				res = append(res, netip.MustParsePrefix(r))
			}
			p, err := NewPool(netip.MustParsePrefix(tt.pool), tt.bits, res)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			var lastErr error
			for range tt.n {
				s, err := p.Next()
				if err != nil {
					lastErr = err
					break
				}
				got = append(got, s.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("subnets (-want +got):\n%s", diff)
			}
			if (lastErr != nil) != tt.wantErr {
				t.Errorf("error %v, want error: %v", lastErr, tt.wantErr)
			}
		})
	}
}

func TestConfigName(t *testing.T) {
	tests := []struct{ identity, addr, want string }{
		{"MikroTik", "192.0.2.1:8729", "MikroTik_192.0.2.1_8729.conf"},
		{"", "192.0.2.1:8729", "router_192.0.2.1_8729.conf"},
		{"../../etc/passwd", "[2001:db8::1]:8729", ".._.._etc_passwd__2001_db8__1__8729.conf"},
		{"Büro 1", "h:1", "B_ro_1_h_1.conf"},
		{strings.Repeat("x", 300), "a:1", strings.Repeat("x", 60) + "_a_1.conf"},
	}
	for _, tt := range tests {
		if got := ConfigName(tt.identity, tt.addr); got != tt.want {
			t.Errorf("ConfigName(%q, %q) = %q, want %q", tt.identity, tt.addr, got, tt.want)
		}
	}
}

func TestNamesRefuseCollisions(t *testing.T) {
	dir := t.TempDir()
	n := newNames(dir)
	p, err := n.write("MikroTik_a.conf", "a", []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	// Another router of the run with the same name: refused.
	if _, err := n.write("MikroTik_a.conf", "b", []byte("second")); !errors.Is(err, ErrNameTaken) {
		t.Errorf("same name, other router: %v, want ErrNameTaken", err)
	}
	// A file from an earlier run: refused, not overwritten.
	os.WriteFile(filepath.Join(dir, "old.conf"), []byte("old"), 0o600)
	if _, err := n.write("old.conf", "c", []byte("new")); !errors.Is(err, ErrNameTaken) {
		t.Errorf("existing file: %v, want ErrNameTaken", err)
	}
	for name, want := range map[string]string{"MikroTik_a.conf": "first", "old.conf": "old"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != want {
			t.Errorf("%s holds %q, want %q", name, b, want)
		}
	}
}
