package rsc

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseExportsAsFound reads exports the way technicians hand them
// over: saved from Winbox or a Windows editor (CRLF, a byte order mark),
// edited by hand (tabs), from newer RouterOS (bare flags, dotted
// properties written short), with comments RouterOS puts between commands.
func TestParseExportsAsFound(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Block
	}{
		{
			name: "CRLF with a continuation between arguments",
			in: "# 2025-09-19 16:47:46 by RouterOS 7.17\r\n# software id = 1CVT-QRCB\r\n#\r\n# model = RB4011iGS+\r\n" +
				"/interface bridge\r\nadd admin-mac=D4:01:C3:0A:0B:56 auto-mac=no comment=defconf name=bridge \\\r\n    port-cost-mode=short\r\n",
			want: []Block{{Menu: "/interface bridge", Commands: []Command{{Line: 6, Verb: "add", Args: []Arg{
				{"admin-mac", "D4:01:C3:0A:0B:56"}, {"auto-mac", "no"}, {"comment", "defconf"}, {"name", "bridge"}, {"port-cost-mode", "short"}}}}}},
		},
		{
			name: "CRLF with continuations after key= and inside quotes",
			in:   "/ip firewall filter\r\nadd action=accept chain=input comment=\\\r\n    \"defconf: accept established,rel\\\r\n    ated\" connection-state=\\\r\n    established,related\r\n",
			want: []Block{{Menu: "/ip firewall filter", Commands: []Command{{Line: 2, Verb: "add", Args: []Arg{
				{"action", "accept"}, {"chain", "input"}, {"comment", "defconf: accept established,related"}, {"connection-state", "established,related"}}}}}},
		},
		{
			name: "a byte order mark before the header",
			in:   "\uFEFF# 2025-06-10 18:46:11 by RouterOS 7.19.1\n/system identity\nset name=ISP-1\n",
			want: []Block{{Menu: "/system identity", Commands: []Command{{Line: 3, Verb: "set", Args: []Arg{{"name", "ISP-1"}}}}}},
		},
		{
			name: "tabs between words and as continuation indent",
			in:   "/ip address\n\tadd\taddress=10.0.0.1/24 \\\n\t\tinterface=ether2\t\n",
			want: []Block{{Menu: "/ip address", Commands: []Command{{Line: 2, Verb: "add", Args: []Arg{{"address", "10.0.0.1/24"}, {"interface", "ether2"}}}}}},
		},
		{
			name: "a name with spaces given to a port found by default-name",
			in:   "/interface ethernet\nset [ find default-name=ether1 ] name=\"ether1 - WAN Uniti\"\n/ip address\nadd address=192.168.1.1/24 interface=\"ether2 - LAN\" network=192.168.1.0\n",
			want: []Block{
				{Menu: "/interface ethernet", Commands: []Command{{Line: 2, Verb: "set", Find: &Where{Op: "=", Prop: "default-name", Value: "ether1"}, Args: []Arg{{"name", "ether1 - WAN Uniti"}}}}},
				{Menu: "/ip address", Commands: []Command{{Line: 4, Verb: "add", Args: []Arg{{"address", "192.168.1.1/24"}, {"interface", "ether2 - LAN"}, {"network", "192.168.1.0"}}}}},
			},
		},
		{
			name: "bare flags after the item and in add; a number names an item",
			in: "/routing ospf area add area-id=0.0.0.3 instance=v no-summaries type=stub\n" +
				"/interface eoip\nadd !keepalive local-address=1.1.1.10 name=eoip-tunnel1\n" +
				"/interface lte\nset [ find ] allow-roaming=yes !band\n/port\nset 0 name=serial0\n",
			want: []Block{
				{Menu: "/routing ospf area", Commands: []Command{{Line: 1, Verb: "add", Args: []Arg{{"area-id", "0.0.0.3"}, {"instance", "v"}, {"no-summaries", FlagValue}, {"type", "stub"}}}}},
				{Menu: "/interface eoip", Commands: []Command{{Line: 3, Verb: "add", Args: []Arg{{"!keepalive", FlagValue}, {"local-address", "1.1.1.10"}, {"name", "eoip-tunnel1"}}}}},
				{Menu: "/interface lte", Commands: []Command{{Line: 5, Verb: "set", Find: &Where{}, Args: []Arg{{"allow-roaming", "yes"}, {"!band", FlagValue}}}}},
				{Menu: "/port", Commands: []Command{{Line: 7, Verb: "set", Target: "0", Args: []Arg{{"name", "serial0"}}}}},
			},
		},
		{
			name: "dotted properties written short",
			in:   "/interface wifi\nset [ find default-name=wifi1 ] configuration.country=\"United Kingdom\" .mode=ap .ssid=praze disabled=no security.authentication-types=wpa2-psk .ft=yes\n",
			want: []Block{{Menu: "/interface wifi", Commands: []Command{{Line: 2, Verb: "set", Find: &Where{Op: "=", Prop: "default-name", Value: "wifi1"}, Args: []Arg{
				{"configuration.country", "United Kingdom"}, {"configuration.mode", "ap"}, {"configuration.ssid", "praze"}, {"disabled", "no"},
				{"security.authentication-types", "wpa2-psk"}, {"security.ft", "yes"}}}}}},
		},
		{
			name: "comments RouterOS writes between commands",
			in: "/ip dhcp-server\nadd address-pool=pool-lan interface=br-lan name=dhcp-lan\n# Interface not running\nadd address-pool=pool-dmz interface=wlan2 name=dhcp-dmz\n" +
				"/system routerboard settings\n# Firmware upgraded successfully, please reboot for changes to take effect!\nset auto-upgrade=yes\n",
			want: []Block{
				{Menu: "/ip dhcp-server", Commands: []Command{
					{Line: 2, Verb: "add", Args: []Arg{{"address-pool", "pool-lan"}, {"interface", "br-lan"}, {"name", "dhcp-lan"}}},
					{Line: 4, Verb: "add", Args: []Arg{{"address-pool", "pool-dmz"}, {"interface", "wlan2"}, {"name", "dhcp-dmz"}}}}},
				{Menu: "/system routerboard settings", Commands: []Command{{Line: 7, Verb: "set", Args: []Arg{{"auto-upgrade", "yes"}}}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseString(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.Blocks); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			// What Format writes reads back the same.
			back, err := ParseString(Format(f))
			if err != nil {
				t.Fatalf("Parse(Format): %v\n%s", err, Format(f))
			}
			if diff := cmp.Diff(f.Blocks, back.Blocks, ignoreLines); diff != "" {
				t.Errorf("Parse(Format) (-first +again):\n%s\n%s", diff, Format(f))
			}
		})
	}
}

// TestHeaderOfEveryVersion reads the header RouterOS 7 writes, in each of
// its forms: the month/day/year date before 7.10, ISO dates after, the
// "system id" of CHR from 7.19, release candidates, no model on a CHR.
func TestHeaderOfEveryVersion(t *testing.T) {
	tests := []struct {
		header, version, model string
	}{
		{"# jan/04/1970 00:24:28 by RouterOS 7.1\n# software id = YCAH-QLG1\n#\n# model = RBwAPG-5HacD2HnD\n# serial number = E4660DD387D8\n", "7.1", "RBwAPG-5HacD2HnD"},
		{"# oct/16/2022 22:51:48 by RouterOS 7.2.1\n# software id = M2LV-NX37\n#\n# model = RouterBOARD 941-2nD\n# serial number = 661706652A48\n", "7.2.1", "RouterBOARD 941-2nD"},
		{"# jan/11/2023 15:27:23 by RouterOS 7.7rc5\n# software id = 8K5U-LU5Y\n#\n", "7.7rc5", ""},
		{"# 2023-12-03 20:27:23 by RouterOS 7.10\n# software id = \n#\n", "7.10", ""},
		{"# 2025-05-04 21:46:19 by RouterOS 7.19rc1\n# software id = KH3M-8RQA\n#\n# model = RB5009UPr+S+\n# serial number = HE108J2C6WG\n", "7.19rc1", "RB5009UPr+S+"},
		{"# 2025-06-10 18:46:11 by RouterOS 7.19.1\n# system id = HL/tSHpX7/M\n#\n", "7.19.1", ""},
		{"# 2026-01-21 01:17:52 by RouterOS 7.21\r\n# software id = IA5H-12KT\r\n#\r\n# model = RB5009UPr+S+\r\n# serial number = HCY086PZ6XZ\r\n", "7.21", "RB5009UPr+S+"},
		{"\uFEFF# 2026-08-29 21:03:59 by RouterOS 7.24.1\n# system id = dVNnhqhvDDO\n#\n", "7.24.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			f, err := ParseString(tt.header + "/system identity\nset name=r\n")
			if err != nil {
				t.Fatal(err)
			}
			if f.Version() != tt.version || f.Model() != tt.model {
				t.Errorf("Version, Model = %q, %q; want %q, %q (header %q)", f.Version(), f.Model(), tt.version, tt.model, f.Header)
			}
			for _, h := range f.Header {
				if strings.ContainsAny(h, "\r\uFEFF") {
					t.Errorf("header line %q keeps a CR or byte order mark", h)
				}
			}
		})
	}
}

// FuzzParseAsFound is FuzzParse seeded with exports as they are found
// (CRLF, byte order mark, tabs, flags, short dotted properties): what
// parses is written by Format in a form that parses back the same.
func FuzzParseAsFound(f *testing.F) {
	f.Add("\uFEFF# 2025-09-19 16:47:46 by RouterOS 7.17\r\n/interface bridge\r\nadd name=bridge \\\r\n    port-cost-mode=short\r\n")
	f.Add("/routing ospf area add area-id=0.0.0.3 no-summaries type=stub\n/interface eoip\nadd !keepalive name=e1\n/port\nset 0 name=serial0\n")
	f.Add("/interface wifi\nset [ find default-name=wifi1 ] configuration.country=\"United Kingdom\" .mode=ap\tdisabled=no\n")
	f.Add("/ip dhcp-server\nadd interface=br-lan name=d\n# Interface not running\nadd interface=wlan2 name=e\n")
	f.Fuzz(func(t *testing.T, in string) {
		first, err := ParseString(in)
		if err != nil {
			return
		}
		out := Format(first)
		second, err := ParseString(out)
		if err != nil {
			t.Fatalf("Format output does not parse: %v\ninput: %q\noutput: %q", err, in, out)
		}
		clearLines(first)
		clearLines(second)
		if diff := cmp.Diff(first, second); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s\ninput: %q\noutput: %q", diff, in, out)
		}
	})
}
