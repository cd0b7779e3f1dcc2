package sim

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/routeros/rsc"
)

// realExports are the exports of real routers under examples/real (see
// SOURCES.md there).
func realExports(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("../../examples/real/*.rsc")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 6 {
		t.Fatalf("examples/real holds %d exports, want at least 6", len(paths))
	}
	return paths
}

// wiredOptions starts config with its WAN (and LAN) on loopback addresses.
func wiredOptions(config string, w Wiring) Options {
	o := Options{Config: config, DynamicAddresses: w.Dynamic, Version: ConfigVersion(config),
		Listen: []Listen{{Iface: w.WAN[0], Addr: testAddr(), Src: netip.MustParseAddr("203.0.113.99")}}}
	if w.LAN != "" {
		o.Listen = append(o.Listen, Listen{Iface: w.LAN, Addr: testAddr(), Src: w.LANClient})
	}
	return o
}

// itemKey names the item a set command acts on: its menu and how it names
// the item ([ find ... ], a name or number, or nothing in a one-item menu).
func itemKey(menu string, c rsc.Command) string {
	switch {
	case c.Find != nil:
		return menu + " [ find " + c.Find.String() + " ]"
	case c.Target != "":
		return menu + " " + c.Target
	}
	return menu
}

// exportItems reads an export into the items it describes: the adds of
// each menu in order, and the properties each set leaves on its item
// (later sets of the same item override earlier ones, as on a router).
type exportItems struct {
	adds map[string][]rsc.Command // menu → add commands in order
	sets map[string]map[string]string
	keys []string // set items in first-seen order
}

func readItems(t *testing.T, name, text string) exportItems {
	t.Helper()
	f, err := rsc.ParseString(text)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	it := exportItems{adds: map[string][]rsc.Command{}, sets: map[string]map[string]string{}}
	for _, b := range f.Blocks {
		for _, c := range b.Commands {
			switch c.Verb {
			case "add":
				it.adds[b.Menu] = append(it.adds[b.Menu], c)
			case "set":
				k := itemKey(b.Menu, c)
				if it.sets[k] == nil {
					it.sets[k] = map[string]string{}
					it.keys = append(it.keys, k)
				}
				for _, a := range c.Args {
					it.sets[k][a.Key] = a.Value
				}
			default:
				t.Errorf("%s line %d: %s %s: a verb an export does not hold", name, c.Line, b.Menu, c.Verb)
			}
		}
	}
	return it
}

func argsMap(c rsc.Command) map[string]string {
	m := map[string]string{}
	for _, a := range c.Args {
		m[a.Key] = a.Value
	}
	return m
}

// missing lists the properties of want that got lacks or has another value of.
func missing(want, got map[string]string) []string {
	var out []string
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			out = append(out, fmt.Sprintf("%s=%q (got %q)", k, v, g))
		}
	}
	return out
}

// TestRealExportsRoundTrip loads every real export and writes it back:
// every property of every input item comes back with the value written,
// every add of every menu comes back in the same order (firewall rule
// order included), and the write-back loads again to the same export.
func TestRealExportsRoundTrip(t *testing.T) {
	for _, p := range realExports(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			w, err := FindWiring(string(src))
			if err != nil {
				t.Fatal(err)
			}
			r := startRouter(t, wiredOptions(string(src), w))
			out := r.Export()
			in := readItems(t, "input", string(src))
			back := readItems(t, "export", out)
			for menu, adds := range in.adds {
				got := back.adds[menu]
				if len(got) != len(adds) {
					t.Errorf("%s: %d items in, %d written back", menu, len(adds), len(got))
					continue
				}
				for i, c := range adds {
					if m := missing(argsMap(c), argsMap(got[i])); len(m) > 0 {
						t.Errorf("%s item %d (input line %d) written back without %s\n  back: %s",
							menu, i, c.Line, strings.Join(m, ", "), rsc.FormatCommand(menu, got[i]))
					}
				}
			}
			for _, k := range in.keys {
				got, ok := back.sets[k]
				if !ok {
					t.Errorf("%s: set not written back", k)
					continue
				}
				if m := missing(in.sets[k], got); len(m) > 0 {
					t.Errorf("%s written back without %s", k, strings.Join(m, ", "))
				}
			}
			r2 := startRouter(t, wiredOptions(out, w))
			if out2 := r2.Export(); stripHeader(out2) != stripHeader(out) {
				t.Errorf("the write-back does not load to the same export:\n%s", lineDiff(stripHeader(out), stripHeader(out2)))
			}
		})
	}
}

// lineDiff shows the first lines where a and b differ.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return ""
}

// TestLoadWriteBackAsRouterOS is the two reports: an export saved
// with CRLF whose bridge line continues onto port-cost-mode= (a property
// rossim does not model) loads, and the write-back keeps what RouterOS
// prints: network= on /ip address, dst-address=0.0.0.0/0 on a default
// route, the unmodelled property, the port named by default-name.
func TestLoadWriteBackAsRouterOS(t *testing.T) {
	cfg := strings.ReplaceAll(`# 2025-09-19 16:47:46 by RouterOS 7.17
# software id = 1CVT-QRCB
#
# model = RB4011iGS+
# serial number = XXXXXXXXXXXX
/interface bridge
add admin-mac=D4:01:C3:0A:0B:56 auto-mac=no comment=defconf name=bridge \
    port-cost-mode=short
/interface ethernet
set [ find default-name=ether1 ] name="ether1 - WAN Uniti"
/port
set 0 name=serial0
/interface bridge port
add bridge=bridge comment=defconf interface=ether2 internal-path-cost=10 \
    path-cost=10
/ip address
add address=192.168.1.1/24 comment=defconf interface=bridge network=\
    192.168.1.0
add address=198.51.100.2/30 interface="ether1 - WAN Uniti" network=198.51.100.0
/ip route
add disabled=no dst-address=0.0.0.0/0 gateway=198.51.100.1 routing-table=main
`, "\n", "\r\n")
	r := startRouter(t, Options{Config: cfg})
	out := r.Export()
	for _, want := range []string{
		"add admin-mac=D4:01:C3:0A:0B:56 auto-mac=no comment=defconf name=bridge \\\n    port-cost-mode=short",
		`set [ find default-name=ether1 ] name="ether1 - WAN Uniti"`,
		"set 0 name=serial0",
		"add bridge=bridge comment=defconf interface=ether2 internal-path-cost=10 \\\n    path-cost=10",
		"network=\\\n    192.168.1.0",
		"add address=198.51.100.2/30 interface=\"ether1 - WAN Uniti\" network=\\\n    198.51.100.0",
		"add disabled=no dst-address=0.0.0.0/0 gateway=198.51.100.1 routing-table=main",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("write-back lacks %q:\n%s", want, out)
		}
	}
}

// TestBadExportNamesLineAndText: an export that does not load names the
// physical line (CRLF or not, continued or not) and shows it.
func TestBadExportNamesLineAndText(t *testing.T) {
	tests := []struct{ name, config, want string }{
		{"bad value after a CRLF continuation", "/ip address\r\nadd address=10.0.0.1/24 interface=ether1\r\nadd interface=ether1 \\\r\n    address=10.0.0.300/24\r\n",
			"sim: config line 3: /ip address add: invalid value for argument address\n  3 | add interface=ether1 \\"},
		{"unterminated string", "/system identity\nset name=\"oops\n", "sim: config line 2: unterminated quoted string\n  2 | set name=\"oops"},
		{"script command", "\uFEFF/system identity\n:put x\n", "sim: config line 2: script command in an export (only menus and commands are allowed here)\n  2 | :put x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Start(t.Context(), Options{Config: tt.config, Listen: []Listen{{Iface: "ether1", Addr: testAddr()}}})
			var ce *ConfigError
			if err == nil || err.Error() != tt.want || !errors.As(err, &ce) {
				t.Errorf("Start error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

// TestGivenSurvivesASetBack: a property the export gave as its default
// (disabled=no) disappears from the write-back while it is changed and
// comes back as written once it is set back, as a rollback does.
func TestGivenSurvivesASetBack(t *testing.T) {
	cfg := "/ip address\nadd address=192.0.2.2/24 interface=ether1 network=192.0.2.0\n/ip route\nadd disabled=no dst-address=0.0.0.0/0 gateway=192.0.2.1 routing-table=main\n"
	r := startRouter(t, Options{Config: cfg})
	before := stripHeader(r.Export())
	c := dial(t, apiAddr(r, 0), "admin", "")
	for _, v := range []string{"yes", "no"} {
		if _, err := c.Run("/ip/route/set", "=numbers=*1", "=disabled="+v); err != nil {
			t.Fatal(err)
		}
		if v == "yes" && !strings.Contains(r.Export(), "add disabled=yes dst-address=0.0.0.0/0") {
			t.Errorf("the change is not written back:\n%s", r.Export())
		}
	}
	if after := stripHeader(r.Export()); after != before {
		t.Errorf("set back, the write-back differs:\n%s", lineDiff(before, after))
	}
}

// FuzzFindWiring: any text gets a wiring or an error, never a panic; a
// wiring always has a WAN, and its LAN is never one of the WANs.
func FuzzFindWiring(f *testing.F) {
	f.Add("/interface pppoe-client\nadd disabled=no interface=ether1 name=pppoe-out1\n/ip address\nadd address=192.168.1.1/24 interface=ether2\n")
	f.Add("/ip dhcp-client\nadd interface=bridge\n")
	f.Add("/interface list member\nadd interface=ether1 list=WAN\nadd interface=bridge list=LAN\n")
	f.Add("/ip address\nadd address=10.0.0.2/24 interface=\"wan A\"\n/ip route\nadd gateway=10.0.0.1\n")
	f.Add("# wgboot-example: wan=ether1 lan=bridge\n")
	f.Fuzz(func(t *testing.T, cfg string) {
		w, err := FindWiring(cfg)
		if err != nil {
			return
		}
		if strings.Contains(cfg, "# wgboot-example:") {
			return // the example line says what it says
		}
		if len(w.WAN) == 0 {
			t.Fatalf("a wiring without a WAN: %+v", w)
		}
		for _, x := range w.WAN {
			if x == w.LAN {
				t.Fatalf("LAN %q is also a WAN: %+v", w.LAN, w)
			}
		}
	})
}

// TestSetWritesBackGivenDefaults: a set in the export that gives a default
// (/ip service set api-ssl disabled=no, a time zone set to manual) comes
// back; a new address through the API gets its network again.
func TestSetWritesBackGivenDefaults(t *testing.T) {
	cfg := "/ip address\nadd address=192.0.2.2/24 interface=ether1 network=192.0.2.0\n/ip service\nset api-ssl disabled=no\n/system clock\nset time-zone-name=manual\n"
	r := startRouter(t, Options{Config: cfg})
	out := r.Export()
	for _, want := range []string{"set api-ssl certificate=api-ssl-auto disabled=no", "set time-zone-name=manual"} {
		if !strings.Contains(out, want) {
			t.Errorf("write-back lacks %q:\n%s", want, out)
		}
	}
	c := dial(t, apiAddr(r, 0), "admin", "")
	if _, err := c.Run("/ip/address/set", "=numbers=*1", "=address=198.51.100.9/25"); err != nil {
		t.Fatal(err)
	}
	if out := r.Export(); !strings.Contains(out, "add address=198.51.100.9/25 interface=ether1 network=198.51.100.0") {
		t.Errorf("a new address keeps the old network:\n%s", out)
	}
}
