package sim

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMenus drives each modelled menu: a few commands, then a print whose
// selected properties are compared.
func TestMenus(t *testing.T) {
	type cmd struct {
		words []string
		trap  string // expected trap message, "" for success
	}
	tests := []struct {
		name    string
		version string
		config  string
		cmds    []cmd
		print   []string // print command words (with .proplist)
		want    []map[string]string
	}{
		{name: "identity", cmds: []cmd{{words: []string{"/system/identity/set", "=name=r1"}}},
			print: []string{"/system/identity/print"}, want: []map[string]string{{"name": "r1"}}},
		{name: "resource", version: "7.16.2", print: []string{"/system/resource/print", "=.proplist=version,board-name,architecture-name"},
			want: []map[string]string{{"version": "7.16.2 (stable)", "board-name": "hAP ax^2", "architecture-name": "arm64"}}},
		{name: "resource from export model", config: "# 2025-01-01 by RouterOS 7.16\n# model = RBD52G-5HacD2HnD\n/system identity\nset name=r\n",
			print: []string{"/system/resource/print", "=.proplist=board-name,architecture-name"},
			want:  []map[string]string{{"board-name": "hAP ac^2", "architecture-name": "arm"}}},
		{name: "resource unknown model", config: "# model = XYZ42\n",
			print: []string{"/system/resource/print", "=.proplist=board-name,architecture-name"},
			want:  []map[string]string{{"board-name": "XYZ42", "architecture-name": "arm64"}}},
		{name: "routerboard", version: "7.16.2", config: "# model = RB5009UG+S+\n# serial number = HCB08AAA111\n",
			print: []string{"/system/routerboard/print", "=.proplist=routerboard,model,serial-number,current-firmware"},
			want:  []map[string]string{{"routerboard": "true", "model": "RB5009UG+S+", "serial-number": "HCB08AAA111", "current-firmware": "7.16.2"}}},
		{name: "routerboard read-only", cmds: []cmd{{words: []string{"/system/routerboard/set", "=model=x"}, trap: "no such command prefix"}},
			print: []string{"/system/routerboard/print", "=.proplist=model"}, want: []map[string]string{{"model": "C52iG-5HaxD2HaxD"}}},
		{name: "package 7.0.5", version: "7.0.5", cmds: []cmd{{words: []string{"/interface/wireguard/add", "=listen-port=13400"}, trap: "no such command prefix"}},
			print: []string{"/system/package/print", "=.proplist=name,version"}, want: []map[string]string{{"name": "routeros", "version": "7.0.5"}}},
		{name: "package", print: []string{"/system/package/print", "=.proplist=name,version"}, want: []map[string]string{{"name": "routeros", "version": "7.20.6"}}},
		{name: "interfaces aggregate", config: "/interface bridge\nadd name=br\n/interface vlan\nadd name=v10 vlan-id=10 interface=br\n/interface wireguard\nadd name=wg1 disabled=yes\n",
			cmds:  []cmd{{words: []string{"/interface/set", "=numbers=ether2", "=comment=uplink"}}, {words: []string{"/interface/disable", "=numbers=ether3"}}},
			print: []string{"/interface/print", "=.proplist=name,type,running,disabled,comment", "?#.", "?-default-name", "?default-name=ether2", "?#|"},
			want: []map[string]string{
				{"name": "ether2", "type": "ether", "running": "true", "disabled": "false", "comment": "uplink"},
				{"name": "br", "type": "bridge", "running": "true", "disabled": "false"},
				{"name": "v10", "type": "vlan", "running": "true", "disabled": "false"},
				{"name": "wg1", "type": "wg", "running": "false", "disabled": "true"},
			}},
		{name: "interface auto names", cmds: []cmd{{words: []string{"/interface/wireguard/add", "=listen-port=13400"}}, {words: []string{"/interface/bridge/add"}}, {words: []string{"/interface/bridge/add"}}},
			print: []string{"/interface/print", "=.proplist=name", "?-default-name"}, want: []map[string]string{{"name": "wireguard1"}, {"name": "bridge1"}, {"name": "bridge2"}}},
		{name: "ethernet rename", config: "/interface ethernet\nset [ find default-name=ether1 ] name=wan\n",
			print: []string{"/interface/ethernet/print", "=.proplist=name,default-name", "?default-name=ether1"}, want: []map[string]string{{"name": "wan", "default-name": "ether1"}}},
		{name: "bridge port", cmds: []cmd{
			{words: []string{"/interface/bridge/add", "=name=bridge"}},
			{words: []string{"/interface/bridge/port/add", "=bridge=bridge", "=interface=ether2"}},
			{words: []string{"/interface/bridge/port/add", "=bridge=bridge", "=interface=ether2"}, trap: "failure: device already added as bridge port"},
			{words: []string{"/interface/bridge/port/add", "=bridge=ether3", "=interface=ether4"}, trap: "input does not match any value of bridge"},
		}, print: []string{"/interface/bridge/port/print", "=.proplist=bridge,interface,pvid"}, want: []map[string]string{{"bridge": "bridge", "interface": "ether2", "pvid": "1"}}},
		{name: "interface list", cmds: []cmd{
			{words: []string{"/interface/list/add", "=name=WAN"}},
			{words: []string{"/interface/list/member/add", "=list=WAN", "=interface=ether1"}},
			{words: []string{"/interface/list/member/add", "=list=WAN", "=interface=ether1"}, trap: "failure: already have such entry"},
			{words: []string{"/interface/list/member/add", "=list=NOPE", "=interface=ether1"}, trap: "input does not match any value of list"},
		}, print: []string{"/interface/list/print", "=.proplist=name,builtin,dynamic"}, want: []map[string]string{
			{"name": "all", "builtin": "true", "dynamic": "true"}, {"name": "none", "builtin": "true", "dynamic": "true"},
			{"name": "dynamic", "builtin": "true", "dynamic": "true"}, {"name": "static", "builtin": "true", "dynamic": "true"},
			{"name": "WAN", "builtin": "false", "dynamic": "false"}}},
		{name: "wireguard peer", cmds: []cmd{
			{words: []string{"/interface/wireguard/add", "=name=wg0", "=listen-port=13299"}},
			{words: []string{"/interface/wireguard/peers/add", "=interface=wg0", "=public-key=O+UipmkA8qHwDAnjcW6M5Ze9RVRcguFXsG5VgPv35UA=", "=allowed-address=10.9.0.2/32", "=persistent-keepalive=00:00:25"}},
			{words: []string{"/interface/wireguard/peers/add", "=interface=wg0", "=public-key=short"}, trap: "invalid public-key"},
			{words: []string{"/interface/wireguard/peers/add", "=interface=ether1", "=public-key=O+UipmkA8qHwDAnjcW6M5Ze9RVRcguFXsG5VgPv35UA="}, trap: "input does not match any value of interface"},
		}, print: []string{"/interface/wireguard/peers/print", "=.proplist=interface,allowed-address,persistent-keepalive,rx,tx,current-endpoint-port"},
			want: []map[string]string{{"interface": "wg0", "allowed-address": "10.9.0.2/32", "persistent-keepalive": "25s", "rx": "0", "tx": "0", "current-endpoint-port": "0"}}},
		{name: "ip address and route", cmds: []cmd{
			{words: []string{"/ip/address/add", "=address=192.0.2.2/24", "=interface=ether1"}},
			{words: []string{"/ip/address/add", "=address=192.0.2.2/24", "=interface=ether1"}, trap: "failure: already have such address"},
			{words: []string{"/ip/route/add", "=gateway=192.0.2.1", "=distance=300"}, trap: "value of distance out of range (1..255)"},
			{words: []string{"/ip/route/add", "=gateway=192.0.2.1"}},
		}, print: []string{"/ip/address/print", "=.proplist=address,network,interface,dynamic"},
			want: []map[string]string{{"address": "198.51.100.9/24", "network": "198.51.100.0", "interface": "ether1", "dynamic": "true"}, {"address": "192.0.2.2/24", "network": "192.0.2.0", "interface": "ether1", "dynamic": "false"}}},
		{name: "service by name 7.24", version: "7.24", cmds: []cmd{{words: []string{"/ip/service/set", "=numbers=ssh", "=address=192.168.88.0/24", "=port=2222"}}},
			print: []string{"/ip/service/print", "?name=ssh", "=.proplist=name,port,available-from"}, want: []map[string]string{{"name": "ssh", "port": "2222", "available-from": "192.168.88.0/24"}}},
		{name: "cloud 7.17", cmds: []cmd{{words: []string{"/ip/cloud/set", "=ddns-enabled=no"}, trap: "invalid value of ddns-enabled, must be either yes or auto"}, {words: []string{"/ip/cloud/set", "=ddns-enabled=yes"}}},
			print: []string{"/ip/cloud/print", "=.proplist=ddns-enabled,public-address,status"}, want: []map[string]string{{"ddns-enabled": "yes", "public-address": "198.51.100.9", "status": "updated"}}},
		{name: "clock 7.9 date", version: "7.9", print: []string{"/system/clock/print", "=.proplist=time-zone-name"}, want: []map[string]string{{"time-zone-name": "manual"}}},
		{name: "user group", cmds: []cmd{
			{words: []string{"/user/group/add", "=name=ops", "=policy=read,write,api"}},
			{words: []string{"/user/add", "=name=op", "=group=ops", "=password=x"}},
			{words: []string{"/user/add", "=name=op2", "=group=nope"}, trap: "input does not match any value of group"},
			{words: []string{"/user/group/remove", "=numbers=ops"}, trap: "failure: group is used by some user"},
		}, print: []string{"/user/print", "=.proplist=name,group,password"}, want: []map[string]string{{"name": "admin", "group": "full"}, {"name": "op", "group": "ops"}}},
		{name: "ipv6 stored", cmds: []cmd{{words: []string{"/ipv6/firewall/filter/add", "=chain=input", "=action=drop", "=protocol=icmpv6"}}},
			print: []string{"/ipv6/firewall/filter/print", "=.proplist=chain,action,protocol"}, want: []map[string]string{{"chain": "input", "action": "drop", "protocol": "icmpv6"}}},
		{name: "generic menu", config: "/ip pool\nadd name=p1 ranges=10.0.0.10-10.0.0.20\n", cmds: []cmd{{words: []string{"/ip/pool/set", "=numbers=p1", "=comment=lan"}}},
			print: []string{"/ip/pool/print", "=.proplist=name,ranges,comment"}, want: []map[string]string{{"name": "p1", "ranges": "10.0.0.10-10.0.0.20", "comment": "lan"}}},
		{name: "file", cmds: []cmd{{words: []string{"/file/add", "=name=notes.txt", "=contents=hello"}}},
			print: []string{"/file/print", "=.proplist=name,size,type,contents"}, want: []map[string]string{{"name": "notes.txt", "size": "5", "type": ".txt file", "contents": "hello"}}},
		{name: "script and scheduler names", cmds: []cmd{
			{words: []string{"/system/script/add", "=name=s", "=source=:log info x"}},
			{words: []string{"/system/script/add", "=name=s"}, trap: "failure: item with such name already exists"},
			{words: []string{"/system/scheduler/add", "=name=x", "=start-time=25:00:00"}, trap: "invalid value for argument start-time"},
		}, print: []string{"/system/script/print", "=.proplist=name,run-count"}, want: []map[string]string{{"name": "s", "run-count": "0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRouter(t, Options{Version: tt.version, Config: tt.config, Listen: []Listen{{Iface: "ether1", Addr: testAddr(), Src: netip.MustParseAddr("198.51.100.9")}},
				DynamicAddresses: []DynamicAddress{{Iface: "ether1", Prefix: netip.MustParsePrefix("198.51.100.9/24")}}})
			c := dial(t, apiAddr(r, 0), "admin", "")
			for _, cm := range tt.cmds {
				_, err := c.RunArgs(cm.words)
				if got := trapMsg(err); got != cm.trap {
					t.Errorf("%v: trap %q, want %q", cm.words, got, cm.trap)
				}
			}
			rep, err := c.RunArgs(tt.print)
			if err != nil {
				t.Fatal(err)
			}
			got := rows(rep)
			for _, m := range got {
				delete(m, ".id")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", strings.Join(tt.print, " "), diff)
			}
		})
	}
}

func TestRawAndDstnat(t *testing.T) {
	cfg := `/ip firewall raw
add action=drop chain=prerouting src-address=198.51.100.66
/ip firewall nat
add action=dst-nat chain=dstnat dst-port=8729 protocol=tcp to-addresses=192.168.88.50
`
	r := startRouter(t, Options{Config: cfg, Listen: []Listen{
		{Iface: "ether1", Addr: testAddr(), Src: netip.MustParseAddr("198.51.100.66")},
		{Iface: "ether1", Addr: testAddr(), Src: netip.MustParseAddr("198.51.100.67")},
	}})
	if !silent(t, apiAddr(r, 0)) {
		t.Errorf("raw drop did not apply before the filter")
	}
	c := dial(t, apiAddr(r, 1), "admin", "")
	li := r.Info().Listen[1]
	if !silentTLS(t, netip.AddrPortFrom(li.Addr, li.APISSL).String()) {
		t.Errorf("dstnat of 8729 away from the router still reached api-ssl")
	}
	rep, err := c.Run("/ip/firewall/raw/print", "=.proplist=packets")
	if err != nil || rep.Re[0].Map["packets"] != "1" {
		t.Errorf("raw counters: %v %v", rep, err)
	}
}

// silentTLS reports whether a TLS client gets no byte back before a short deadline.
func silentTLS(t *testing.T, addr string) bool {
	t.Helper()
	return silent(t, addr)
}

func TestPlaceBeforePosition(t *testing.T) {
	r := startRouter(t, Options{})
	c := dial(t, apiAddr(r, 0), "admin", "")
	for _, w := range [][]string{
		{"/ip/firewall/filter/add", "=chain=forward", "=comment=a"},
		{"/ip/firewall/filter/add", "=chain=forward", "=comment=b", "=place-before=0"},
	} {
		if _, err := c.RunArgs(w); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := c.Run("/ip/firewall/filter/print", "=.proplist=comment")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]map[string]string{{"comment": "b"}, {"comment": "a"}}, rows(rep)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRequiredArguments(t *testing.T) {
	r := startRouter(t, Options{})
	c := dial(t, apiAddr(r, 0), "admin", "")
	_, err := c.Run("/interface/vlan/add", "=name=v1")
	if got := trapMsg(err); got != "missing value(s) of argument(s) vlan-id interface" {
		t.Errorf("vlan without vlan-id and interface: %q", got)
	}
}
