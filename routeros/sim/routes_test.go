package sim

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRouteActive: of the enabled routes with a reachable gateway, the
// lowest distance per destination is active; ties are all active (ECMP).
func TestRouteActive(t *testing.T) {
	base := "/ip address\nadd address=203.0.113.10/29 interface=ether1\nadd address=198.51.100.2/24 interface=ether2\n"
	tests := []struct {
		name    string
		routes  string
		dynamic []DynamicAddress
		pppoe   string
		want    map[string]string // comment -> active
	}{
		{name: "primary and backup", routes: `add comment=primary distance=1 gateway=203.0.113.9
add comment=backup distance=5 gateway=198.51.100.1`,
			want: map[string]string{"primary": "true", "backup": "false"}},
		{name: "equal distances are ECMP", routes: `add comment=a distance=2 gateway=203.0.113.9
add comment=b distance=2 gateway=198.51.100.1`,
			want: map[string]string{"a": "true", "b": "true"}},
		{name: "disabled primary gives way", routes: `add comment=primary disabled=yes gateway=203.0.113.9
add comment=backup distance=5 gateway=198.51.100.1`,
			want: map[string]string{"primary": "false", "backup": "true"}},
		{name: "unreachable primary gives way", routes: `add comment=primary gateway=192.0.2.1
add comment=backup distance=5 gateway=198.51.100.1`,
			want: map[string]string{"primary": "false", "backup": "true"}},
		{name: "other destinations do not compete", routes: `add comment=default distance=9 gateway=203.0.113.9
add comment=net distance=1 dst-address=10.0.0.0/8 gateway=198.51.100.1`,
			want: map[string]string{"default": "true", "net": "true"}},
		{name: "other routing tables do not compete", routes: `add comment=main distance=9 gateway=203.0.113.9
add comment=other distance=1 gateway=198.51.100.1 routing-table=isp2`,
			want: map[string]string{"main": "true", "other": "true"}},
		{name: "PPPoE default route takes the client's distance", routes: `add comment=static distance=1 gateway=203.0.113.9`,
			pppoe:   "/interface pppoe-client\nadd add-default-route=yes default-route-distance=3 disabled=no interface=ether3 name=pppoe-out1 user=u\n",
			dynamic: []DynamicAddress{{Iface: "pppoe-out1", Prefix: netip.MustParsePrefix("100.64.9.9/32")}},
			want:    map[string]string{"static": "true", "dyn pppoe-out1": "false"}},
		{name: "PPPoE primary, static backup", routes: `add comment=static distance=5 gateway=203.0.113.9`,
			pppoe:   "/interface pppoe-client\nadd add-default-route=yes disabled=no interface=ether3 name=pppoe-out1 user=u\n",
			dynamic: []DynamicAddress{{Iface: "pppoe-out1", Prefix: netip.MustParsePrefix("100.64.9.9/32")}},
			want:    map[string]string{"static": "false", "dyn pppoe-out1": "true"}},
		{name: "PPPoE without add-default-route installs none", routes: `add comment=static gateway=203.0.113.9`,
			pppoe:   "/interface pppoe-client\nadd disabled=no interface=ether3 name=pppoe-out1 user=u\n",
			dynamic: []DynamicAddress{{Iface: "pppoe-out1", Prefix: netip.MustParsePrefix("100.64.9.9/32")}},
			want:    map[string]string{"static": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRouter(t, Options{Config: tt.pppoe + base + "/ip route\n" + tt.routes + "\n", DynamicAddresses: tt.dynamic})
			c := dial(t, apiAddr(r, 0), "admin", "")
			rep, err := c.Run("/ip/route/print")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, row := range rows(rep) {
				if row["dst-address"] != "0.0.0.0/0" && row["comment"] == "" {
					continue // connected routes, if any
				}
				name := row["comment"]
				if row["dynamic"] == "true" {
					name = "dyn " + row["gateway"]
				}
				got[name] = row["active"]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("active (-want +got):\n%s", diff)
			}
		})
	}
}
