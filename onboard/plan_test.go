package onboard

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/routeros/rsc"
)

// defconf is a snapshot of a SOHO router with the default configuration,
// a DHCP WAN on ether1 and the LAN bridge.
func defconf() *Router {
	return &Router{
		Identity: "MikroTik", Version: "7.20.6 (stable)",
		Clock: Row{"date": "2026-11-27", "time": "08:00:00", "gmt-offset": "+00:00"},
		Interfaces: []Row{
			{".id": "*1", "name": "ether1", "type": "ether"},
			{".id": "*2", "name": "ether2", "type": "ether"},
			{".id": "*A", "name": "bridge", "type": "bridge"},
		},
		Lists: []Row{{".id": "*1", "name": "WAN"}, {".id": "*2", "name": "LAN"}},
		ListMembers: []Row{
			{".id": "*1", "list": "LAN", "interface": "bridge"},
			{".id": "*2", "list": "WAN", "interface": "ether1"},
		},
		Addresses: []Row{
			{".id": "*1", "address": "192.168.88.1/24", "interface": "bridge", "network": "192.168.88.0"},
			{".id": "*2", "address": "198.51.100.10/24", "interface": "ether1", "dynamic": "true"},
		},
		Routes: []Row{{".id": "*1", "dst-address": "0.0.0.0/0", "gateway": "198.51.100.1", "dynamic": "true", "active": "true"}},
		Filter: []Row{
			{".id": "*1", "chain": "input", "action": "accept", "connection-state": "established,related,untracked"},
			{".id": "*2", "chain": "input", "action": "drop", "connection-state": "invalid"},
			{".id": "*3", "chain": "input", "action": "accept", "protocol": "icmp"},
			{".id": "*4", "chain": "input", "action": "accept", "dst-address": "127.0.0.1"},
			{".id": "*5", "chain": "input", "action": "drop", "in-interface-list": "!LAN"},
		},
		Services: []Row{
			{".id": "*1", "name": "api", "port": "8728", "disabled": "false"},
			{".id": "*2", "name": "api-ssl", "port": "8729", "disabled": "false"},
			{".id": "*3", "name": "ssh", "port": "22", "disabled": "false"},
		},
		Users:  []Row{{".id": "*1", "name": "admin", "group": "full"}},
		Groups: []Row{{".id": "*1", "name": "full", "policy": "local,telnet,ssh,read,write,policy,test,winbox,api,sensitive"}},
	}
}

func testPlan(t *testing.T, r *Router, s Settings) (*planned, *Plan, error) {
	t.Helper()
	d, err := decide(r, decideInput{RunID: "t1", User: "admin", Host: "192.168.88.1", Settings: s})
	if err != nil {
		return nil, nil, err
	}
	return makePlan(r, d, s, "PUBKEY=")
}

func TestPlanDefconf(t *testing.T) {
	_, p, err := testPlan(t, defconf(), Settings{LANKeepsAPI: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range p.Changes {
		got = append(got, string(c.Step)+": "+c.Command)
	}
	want := []string{
		`apply: /interface wireguard add listen-port=13231 name=wgboot comment="wgboot:t1 wg-interface"`,
		`apply: /ip address add address=10.77.0.1/24 interface=wgboot comment="wgboot:t1 wg-address"`,
		`apply: /interface wireguard peers add allowed-address=10.77.0.2/32 interface=wgboot public-key="PUBKEY=" comment="wgboot:t1 wg-peer"`,
		`apply: /ip firewall address-list add address=10.77.0.0/24 list=wgboot-vpn comment="wgboot:t1 vpn-list"`,
		`apply: /ip firewall filter add action=accept chain=input dst-port=13231 protocol=udp comment="wgboot:t1 wg-accept" place-before=*5`,
		`apply: /ip firewall filter add action=accept chain=input dst-port=8728,8729 protocol=tcp src-address-list=wgboot-vpn comment="wgboot:t1 api-allow" place-before=*5`,
		`harden: /ip firewall filter add action=drop chain=input dst-port=8728,8729 in-interface-list=WAN protocol=tcp comment="wgboot:t1 harden-WAN" place-before=[find where comment="wgboot:t1 api-allow"]`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	for _, row := range p.Verdicts {
		if strings.HasPrefix(row.Probe, "VPN→API") && row.After != "accept" {
			t.Errorf("%s after = %s, want accept", row.Probe, row.After)
		}
		if strings.HasPrefix(row.Probe, "WAN→API") && row.After != "drop" {
			t.Errorf("%s after = %s, want drop", row.Probe, row.After)
		}
	}
	if p.Settings.Subnet != "10.77.0.0/24" || p.Settings.ListenPort != 13231 || p.Settings.Endpoint != "198.51.100.10" {
		t.Errorf("settings = %+v", p.Settings)
	}
}

func TestPlanMovesAPIOnlyRule(t *testing.T) {
	r := defconf()
	// An API rule from the LAN subnet, after a drop of everything from the WAN.
	r.Filter = []Row{
		{".id": "*1", "chain": "input", "action": "accept", "connection-state": "established,related"},
		{".id": "*2", "chain": "input", "action": "drop", "in-interface-list": "WAN"},
		{".id": "*3", "chain": "input", "action": "accept", "protocol": "tcp", "dst-port": "8729", "src-address": "192.168.88.0/24"},
		{".id": "*4", "chain": "input", "action": "drop", "protocol": "tcp", "dst-port": "8728,8729"},
	}
	_, p, err := testPlan(t, r, Settings{LANKeepsAPI: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range p.Changes[4:] {
		got = append(got, c.Command+" <- "+c.Inverse)
	}
	want := []string{
		`/ip firewall filter add action=accept chain=input dst-port=13231 protocol=udp comment="wgboot:t1 wg-accept" place-before=*2 <- /ip firewall filter remove [find where comment="wgboot:t1 wg-accept"]`,
		`/ip firewall address-list add address=192.168.88.0/24 list=wgboot-vpn comment="wgboot:t1 src-1" <- /ip firewall address-list remove [find where comment="wgboot:t1 src-1"]`,
		`/ip firewall filter set *3 src-address-list=wgboot-vpn; /ip firewall filter unset *3 value-name=src-address <- /ip firewall filter set *3 src-address=192.168.88.0/24; /ip firewall filter unset *3 value-name=src-address-list`,
		// The moved rule covers 8729 only; the tunnel gets 8728 by a rule
		// bound to it (the LAN's verdict on 8728 stays drop).
		`/ip firewall filter add action=accept chain=input dst-port=8728 in-interface=wgboot protocol=tcp src-address-list=wgboot-vpn comment="wgboot:t1 api-allow-tunnel" place-before=*4 <- /ip firewall filter remove [find where comment="wgboot:t1 api-allow-tunnel"]`,
		`/ip firewall filter add action=drop chain=input dst-port=8728,8729 in-interface-list=WAN protocol=tcp comment="wgboot:t1 harden-WAN" place-before=*3 <- /ip firewall filter remove [find where comment="wgboot:t1 harden-WAN"]`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestPlanRefusesLockout(t *testing.T) {
	r := defconf()
	// A raw rule drops everything to the API: the tunnel can never work.
	r.Raw = []Row{{".id": "*1", "chain": "prerouting", "action": "drop", "protocol": "tcp", "dst-port": "8729"}}
	_, _, err := testPlan(t, r, Settings{LANKeepsAPI: true})
	if !errors.Is(err, ErrCheck) {
		t.Fatalf("err = %v, want ErrCheck", err)
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(r *Router)
		s       Settings
		want    func(d *decision) string
		wantErr string
	}{
		{name: "routeros6", mod: func(r *Router) { r.Version = "6.49.10 (long-term)" }, wantErr: "RouterOS 7"},
		{name: "subnet taken", mod: func(r *Router) {
			r.Addresses = append(r.Addresses, Row{"address": "10.77.0.1/24", "interface": "ether2"})
		}, want: func(d *decision) string {
			return d.Subnet.String() + " " + d.RouterAddr.String() + " " + d.LocalAddr.String()
		},
		},
		{name: "port taken", mod: func(r *Router) {
			r.WireGuard = []Row{{"name": "wg0", "listen-port": "13231"}}
			r.Interfaces = append(r.Interfaces, Row{"name": "wgboot", "type": "wg"})
		}, want: func(d *decision) string { return d.IfName + " " + itoa(d.ListenPort) }},
		{name: "port dstnat", mod: func(r *Router) {
			r.NAT = []Row{{"chain": "dstnat", "action": "dst-nat", "protocol": "udp", "dst-port": "13231", "to-addresses": "192.168.88.5", "in-interface": "ether1"}}
		}, want: func(d *decision) string { return itoa(d.ListenPort) }},
		{name: "cgnat", mod: func(r *Router) {
			r.Addresses[1]["address"] = "100.64.3.4/10"
			r.Routes[0]["gateway"] = "100.64.0.1"
		}, want: func(d *decision) string { return strings.Join(d.Warnings, "|") }},
		{name: "multi wan disagree", mod: func(r *Router) {
			r.Interfaces = append(r.Interfaces, Row{"name": "pppoe-out1", "type": "pppoe-out"})
			r.Routes = append(r.Routes, Row{"dst-address": "0.0.0.0/0", "gateway": "pppoe-out1", "active": "true"})
		}, want: func(d *decision) string {
			return strings.Join(wanNames(d.WANs), ",") + " " + strings.Join(d.Warnings, "|")
		}},
		{name: "no api policy", mod: func(r *Router) {
			r.Users[0]["group"] = "read"
			r.Groups = append(r.Groups, Row{"name": "read", "policy": "read,winbox"})
		}, wantErr: "lacks the api policy"},
		{name: "api-ssl disabled", mod: func(r *Router) { r.Services[1]["disabled"] = "true" }, wantErr: "api-ssl service is disabled"},
		{name: "bad subnet", s: Settings{Subnet: "192.168.88.0/24"}, wantErr: "overlaps"},
		{name: "ddns endpoint", mod: func(r *Router) { r.Cloud = Row{"ddns-enabled": "yes", "dns-name": "abc.sn.mynetname.net"} }, want: func(d *decision) string { return d.Endpoint }},
	}
	wants := map[string]string{
		"subnet taken":       "10.77.1.0/24 10.77.1.1/24 10.77.1.2/24",
		"port taken":         "wgboot1 13232",
		"port dstnat":        "13232",
		"cgnat":              "WAN ether1 has the carrier-grade NAT address 100.64.3.4: the router cannot be reached from the internet, so the tunnel will only work from inside the provider's network or the LAN",
		"multi wan disagree": "ether1,pppoe-out1 default route leaves through pppoe-out1, which is not in the WAN interface list: it is treated as a WAN too",
		"ddns endpoint":      "abc.sn.mynetname.net",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defconf()
			if tt.mod != nil {
				tt.mod(r)
			}
			d, err := decide(r, decideInput{RunID: "t", User: "admin", Settings: tt.s})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				// An overlap is a kind front ends test with errors.Is
				// (fleet picks the next pool subnet), never by its text.
				if overlap := tt.wantErr == "overlaps"; errors.Is(err, ErrSubnetOverlap) != overlap {
					t.Errorf("errors.Is(%v, ErrSubnetOverlap) = %v, want %v", err, !overlap, overlap)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wants[tt.name], tt.want(d)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// The undo script must parse in the script interpreter rossim uses (the
// same language a router runs).
func TestUndoScriptParses(t *testing.T) {
	r := defconf()
	// The API rule sits after the drop that would catch the tunnel: it must move.
	r.Filter = append(r.Filter, Row{".id": "*9", "chain": "input", "action": "accept", "protocol": "tcp", "dst-port": "8729", "src-address": "192.168.88.0/24"})
	r.Services[1]["address"] = "192.168.88.0/24"
	pl, _, err := testPlan(t, r, Settings{LANKeepsAPI: true, LogRefused: true})
	if err != nil {
		t.Fatal(err)
	}
	src, err := undoScript("t1", pl.Ops)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"unset *9 value-name=src-address-list", "/ip firewall filter move *9\n", "/ip service set", `comment="wgboot:t1 undo-timer"`} {
		if !strings.Contains(src, want) {
			t.Errorf("undo script lacks %q:\n%s", want, src)
		}
	}
	if _, err := rsc.ParseScript(src); err != nil {
		t.Fatalf("undo script does not parse: %v\n%s", err, src)
	}
}
