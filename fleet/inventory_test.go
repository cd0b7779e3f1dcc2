package fleet

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var fp = strings.Repeat("ab", 32)

func TestParse(t *testing.T) {
	yes := true
	tests := []struct {
		name string
		in   string
		want *Inventory
	}{
		{
			name: "defaults applied",
			in: `
pool: 10.80.0.0/16
defaults:
  tofu: true
  user: tech
routers:
  - address: 192.0.2.1
  - address: 192.0.2.2:18729
    fingerprint: ` + fp + `
    password_env: PW_B
    subnet: 10.99.0.0/24
    lan_keeps_api: true
`,
			want: &Inventory{Pool: netip.MustParsePrefix("10.80.0.0/16"), SubnetBits: 24, Routers: []Router{
				{Address: "192.0.2.1", User: "tech", PasswordEnv: "WGBOOT_PASSWORD", TOFU: true, ConfirmTimeout: 5 * time.Minute, Local: "auto"},
				{Address: "192.0.2.2:18729", User: "tech", PasswordEnv: "PW_B", Fingerprint: fp, Subnet: "10.99.0.0/24",
					ConfirmTimeout: 5 * time.Minute, LANKeepsAPI: &yes, Local: "auto"},
			}},
		},
		{
			name: "pool default and plain",
			in:   "subnet_bits: 26\nrouters:\n  - {address: 192.0.2.9, plain: true, confirm_timeout: 2m, local: netstack}\n",
			want: &Inventory{Pool: netip.MustParsePrefix("10.77.0.0/16"), SubnetBits: 26, Routers: []Router{
				{Address: "192.0.2.9", User: "admin", PasswordEnv: "WGBOOT_PASSWORD", Plain: true, ConfirmTimeout: 2 * time.Minute, Local: "netstack"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct {
		name, in string
		want     []string // substrings of the error: the problem and the fix
	}{
		{"empty", "", []string{"empty", "routers:"}},
		{"not yaml", "routers: [", []string{"not valid YAML"}},
		{"unknown field", "routers:\n  - address: 192.0.2.1\n    pasword: x\n", []string{"line 3", `unknown key "pasword"`, "router 1", "password_env"}},
		{"password in file", "routers:\n  - address: 192.0.2.1\n    password: hunter2\n", []string{"line 3", "password:", "never", "password_env"}},
		{"password in defaults", "defaults:\n  tofu: true\n  password: hunter2\nrouters:\n  - address: 192.0.2.1\n", []string{"line 3", "password_env"}},
		{"unknown top key", "pool: 10.77.0.0/16\nrouter:\n  - address: 192.0.2.1\n", []string{"line 2", `unknown key "router"`, "routers"}},
		{"unknown default", "defaults:\n  tofuu: true\nrouters:\n  - address: 192.0.2.1\n", []string{"line 2", `"tofuu"`, "defaults", "tofu"}},
		{"bool as string", "routers:\n  - address: 192.0.2.1\n    tofu: yes please\n", []string{"line 3", "tofu", "true or false"}},
		{"int as string", "routers:\n  - address: 192.0.2.1\n    tofu: true\n    listen_port: high\n", []string{"line 4", "listen_port", "whole number"}},
		{"bits as string", "subnet_bits: big\nrouters:\n  - {address: 192.0.2.1, tofu: true}\n", []string{"line 1", "subnet_bits", "whole number"}},
		{"bad duration", "routers:\n  - address: 192.0.2.1\n    tofu: true\n    confirm_timeout: 5\n", []string{"line 4", "confirm_timeout", "5m"}},
		{"list as string", "routers:\n  - address: [192.0.2.1]\n    tofu: true\n", []string{"line 2", "address", "text"}},
		{"routers not a list", "routers: 192.0.2.1\n", []string{"line 1", "routers", "list"}},
		{"router not a map", "routers:\n  - 192.0.2.1\n", []string{"line 2", "router 1", "address:"}},
		{"defaults not a map", "defaults: [tofu]\nrouters:\n  - {address: 192.0.2.1, tofu: true}\n", []string{"line 1", "defaults"}},
		{"subnet in defaults", "defaults:\n  tofu: true\n  subnet: 10.99.0.0/24\nrouters:\n  - address: 192.0.2.1\n", []string{"line 3", "subnet", "each router"}},
		{"address in defaults", "defaults:\n  address: 192.0.2.1\nrouters:\n  - {address: 192.0.2.1, tofu: true}\n", []string{"line 2", "address"}},
		{"not a map", "- address: 192.0.2.1\n", []string{"line 1", "routers:"}},
		{"no routers", "pool: 10.77.0.0/16\n", []string{"no routers", "address"}},
		{"no address", "routers:\n  - tofu: true\n", []string{"router 1", "no address"}},
		{"no trust", "routers:\n  - address: 192.0.2.1\n", []string{"fingerprint", "tofu: true"}},
		{"both trusts", "routers:\n  - {address: 192.0.2.1, tofu: true, fingerprint: " + fp + "}\n", []string{"exclude", "keep one"}},
		{"bad fingerprint", "routers:\n  - {address: 192.0.2.1, fingerprint: xyz}\n", []string{"xyz", "64 hex"}},
		{"bad port", "routers:\n  - {address: '192.0.2.1:99999', tofu: true}\n", []string{"99999", "1 to 65535"}},
		{"duplicate", "defaults: {tofu: true}\nrouters:\n  - address: 192.0.2.1\n  - address: '192.0.2.1:8729'\n", []string{"router 2", "router 1", "once"}},
		{"bad pool", "pool: banana\nrouters:\n  - {address: 192.0.2.1, tofu: true}\n", []string{"banana", "10.77.0.0/16"}},
		{"pool not masked", "pool: 10.77.0.1/16\nrouters:\n  - {address: 192.0.2.1, tofu: true}\n", []string{"10.77.0.1/16"}},
		{"pool too small", "pool: 10.77.0.0/25\nrouters:\n  - {address: 192.0.2.1, tofu: true}\n", []string{"smaller", "larger pool"}},
		{"subnet bits", "subnet_bits: 31\nrouters:\n  - {address: 192.0.2.1, tofu: true}\n", []string{"subnet_bits", "between 16 and 30"}},
		{"bad subnet", "routers:\n  - {address: 192.0.2.1, tofu: true, subnet: fd00::/64}\n", []string{"subnet", "IPv4"}},
		{"listen port", "routers:\n  - {address: 192.0.2.1, tofu: true, listen_port: 70000}\n", []string{"listen_port", "1 to 65535"}},
		{"bad local", "routers:\n  - {address: 192.0.2.1, tofu: true, local: tun}\n", []string{"local", "netstack"}},
		{"short confirm", "routers:\n  - {address: 192.0.2.1, tofu: true, confirm_timeout: 5s}\n", []string{"confirm_timeout", "30s"}},
		{"long address", "routers:\n  - {address: " + long + ", tofu: true}\n", []string{"address", "at most 253"}},
		{"non-ASCII name", "routers:\n  - {address: routér.example, tofu: true}\n", []string{"non-ASCII", "punycode"}},
		{"space in endpoint", "routers:\n  - {address: 192.0.2.1, tofu: true, endpoint: 'a b'}\n", []string{"endpoint", "plain ASCII"}},
		{"password as env name", "routers:\n  - {address: 192.0.2.1, tofu: true, password_env: 'hunter2!'}\n", []string{"password_env", "never the password"}},
		// Addresses the engine refuses (or would dial at port 0) are
		// refused with the inventory, before any router is touched.
		{"address with zone", "routers:\n  - {address: 'fe80::1%eth0', tofu: true}\n", []string{"fe80::1%eth0", "zone"}},
		{"address bracketed zone", "routers:\n  - {address: '[fe80::1%eth0]:8729', tofu: true}\n", []string{"zone"}},
		{"address empty port", "routers:\n  - {address: '192.0.2.1:', tofu: true}\n", []string{"192.0.2.1:", "no port"}},
		{"address too many colons", "routers:\n  - {address: 'a:b:c', tofu: true}\n", []string{"a:b:c", "character"}},
		{"address bad host character", "routers:\n  - {address: 'rou$ter', tofu: true}\n", []string{"rou$ter", "character"}},
		{"address port 0", "routers:\n  - {address: '192.0.2.1:0', tofu: true}\n", []string{`port "0"`, "1 to 65535"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "fleet: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if strings.Contains(err.Error(), "hunter2") && tt.name != "password as env name" {
				t.Errorf("error repeats a secret-looking value: %q", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("routers:\n  - {address: 192.0.2.1, tofu: true}\n")
	f.Add("pool: 10.80.0.0/16\nsubnet_bits: 28\ndefaults: {tofu: true}\nrouters:\n  - address: '[2001:db8::1]:8729'\n")
	f.Add("routers: [{address: a, plain: true, subnet: 10.1.2.0/30}]")
	f.Fuzz(func(t *testing.T, in string) {
		inv, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		if len(inv.Routers) == 0 || !inv.Pool.IsValid() {
			t.Fatalf("accepted an inventory without routers or pool: %+v", inv)
		}
		for _, r := range inv.Routers {
			if r.Address == "" || r.PasswordEnv == "" || r.ConfirmTimeout < 30*time.Second {
				t.Fatalf("accepted router %+v", r)
			}
			if !r.Plain && (r.Fingerprint == "") == !r.TOFU {
				t.Fatalf("accepted router without exactly one trust: %+v", r)
			}
			if n := ConfigName("MikroTik", r.apiAddr()); !ValidConfigName(n) {
				t.Fatalf("config name %q", n)
			}
		}
	})
}

// TestExampleInventory keeps the documented example valid.
func TestExampleInventory(t *testing.T) {
	f, err := os.Open("testdata/inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inv, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range inv.Routers {
		got = append(got, fmt.Sprintf("%s %s tofu=%v fp=%v pw=%s subnet=%q", r.Address, r.Name, r.TOFU, r.Fingerprint != "", r.PasswordEnv, r.Subnet))
	}
	want := []string{
		`192.0.2.1 shop-1 tofu=true fp=false pw=WGBOOT_PASSWORD subnet=""`,
		`192.0.2.2:18729 shop-2 tofu=false fp=true pw=WGBOOT_PASSWORD_SHOP2 subnet=""`,
		`cpe-77.example.net  tofu=true fp=false pw=WGBOOT_PASSWORD subnet="10.99.0.0/24"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routers (-want +got):\n%s", diff)
	}
}

// examples/fleet.yaml parses, and docs/fleet.md documents every key the
// inventory takes.
func TestFleetDocs(t *testing.T) {
	f, err := os.Open("../examples/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inv, err := Parse(f)
	if err != nil {
		t.Fatalf("examples/fleet.yaml: %v", err)
	}
	if len(inv.Routers) != 3 {
		t.Errorf("examples/fleet.yaml: %d routers", len(inv.Routers))
	}
	doc, err := os.ReadFile("../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, keys := range []map[string]keyKind{topKeys, routerKeys} {
		for k := range keys {
			if !strings.Contains(string(doc), "| `"+k+"` |") {
				t.Errorf("docs/fleet.md has no table row for %s", k)
			}
		}
	}
}
