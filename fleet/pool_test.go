package fleet

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
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

// Every name ConfigName makes is one wg-quick accepts as it is (the
// interface name is the file name: at most 15 of [a-zA-Z0-9_=+.-]), the
// same for the same router, and different for routers that share an
// identity.
func TestConfigName(t *testing.T) {
	tests := []struct{ identity, addr, prefix string }{
		{"MikroTik", "192.0.2.1:8729", "MikroTi-"},
		{"", "192.0.2.1:8729", "router-"},
		{"../../etc/passwd", "[2001:db8::1]:8729", "etc-pas-"},
		{"Büro 1", "h:1", "B-ro-1-"},
		{strings.Repeat("x", 300), "a:1", "xxxxxxx-"},
		{"-.-", "a:1", "router-"},
		{"\x1b[31mred\n\t", "a:1", "31mred-"},
		{"шлюз", "a:1", "router-"},
		{"a b", "a:1", "a-b-"},
	}
	for _, tt := range tests {
		got := ConfigName(tt.identity, tt.addr)
		if !ValidConfigName(got) || !strings.HasPrefix(got, tt.prefix) {
			t.Errorf("ConfigName(%q, %q) = %q, want a valid wg-quick name starting %q", tt.identity, tt.addr, got, tt.prefix)
		}
		if again := ConfigName(tt.identity, tt.addr); again != got {
			t.Errorf("ConfigName(%q, %q) not stable: %q then %q", tt.identity, tt.addr, got, again)
		}
	}
	if ConfigName("MikroTik", "Router.Example:8729") != ConfigName("MikroTik", "router.example:8729") {
		t.Error("two spellings of one address name two files")
	}
	// An inventory's worth of routers that all call themselves MikroTik.
	seen := map[string]string{}
	for i := range maxRouters {
		addr := fmt.Sprintf("10.%d.%d.1:8729", i/256, i%256)
		n := ConfigName("MikroTik", addr)
		if other, dup := seen[n]; dup {
			t.Fatalf("%s and %s both get %s", other, addr, n)
		}
		seen[n] = addr
	}
	for _, bad := range []string{"MikroTik_127.0.3.2_8729.conf", "a b.conf", ".conf", "x", "abc/def.conf"} {
		if ValidConfigName(bad) {
			t.Errorf("ValidConfigName(%q) = true", bad)
		}
	}
}

// wg-quick itself parses each name ConfigName makes (`wg-quick strip`
// reads the file and prints the wg(8) part; it refuses a bad name).
func TestConfigNameWGQuick(t *testing.T) {
	wgq := wgQuick(t)
	dir := t.TempDir()
	for _, id := range []string{"MikroTik", "", "Büro 1 / Keller", strings.Repeat("Z", 40)} {
		name := ConfigName(id, "127.0.3.2:8729")
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(sampleConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(wgq, "strip", p).CombinedOutput(); err != nil {
			t.Errorf("wg-quick strip %s: %v\n%s", name, err, out)
		}
	}
	// The check is real: the old name is refused.
	p := filepath.Join(dir, "MikroTik_127.0.3.2_8729.conf")
	os.WriteFile(p, []byte(sampleConfig), 0o600)
	if out, err := exec.Command(wgq, "strip", p).CombinedOutput(); err == nil {
		t.Errorf("wg-quick accepted %s:\n%s", p, out)
	}
}

const sampleConfig = "[Interface]\nPrivateKey = AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH0A=\nAddress = 10.77.0.2/24\n\n" +
	"[Peer]\nPublicKey = AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH0A=\nEndpoint = 192.0.2.1:13231\nAllowedIPs = 10.77.0.1/32\n"

// wgQuick is the path of wg-quick, or skips: `strip` needs root (it
// re-executes itself with sudo otherwise).
func wgQuick(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("wg-quick")
	if err != nil {
		t.Skip("wg-quick is not installed (Debian: wireguard-tools): the names are checked against its rule only")
	}
	if os.Geteuid() != 0 {
		t.Skip("wg-quick strip needs root")
	}
	return p
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
