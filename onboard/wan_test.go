package onboard

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWANIsEveryUplink: the WAN is the WAN list united with the interfaces
// of every enabled default route, active or not, at any distance; an
// interface with a public address that is neither WAN nor LAN is named in a
// warning.
func TestWANIsEveryUplink(t *testing.T) {
	tests := []struct {
		name     string
		mod      func(r *Router)
		wantWANs []string
		warn     string // a warning containing this ("" = no such warning)
	}{
		{name: "defconf", mod: func(*Router) {}, wantWANs: []string{"ether1"}},
		{name: "inactive backup route outside the WAN list", mod: func(r *Router) {
			r.Addresses = append(r.Addresses, Row{"address": "192.0.2.20/24", "interface": "ether2"})
			r.Routes = append(r.Routes, Row{"dst-address": "0.0.0.0/0", "gateway": "192.0.2.1", "distance": "10", "active": "false"})
		}, wantWANs: []string{"ether1", "ether2"}, warn: "backup default route (inactive now) leaves through ether2"},
		{name: "disabled route is no uplink", mod: func(r *Router) {
			r.Addresses = append(r.Addresses, Row{"address": "10.9.9.2/24", "interface": "ether2"})
			r.Routes = append(r.Routes, Row{"dst-address": "0.0.0.0/0", "gateway": "10.9.9.1", "disabled": "true", "active": "false"})
		}, wantWANs: []string{"ether1"}},
		{name: "default route in another routing table", mod: func(r *Router) {
			r.Addresses = append(r.Addresses, Row{"address": "192.0.2.20/24", "interface": "ether2"})
			r.Routes = append(r.Routes, Row{"dst-address": "0.0.0.0/0", "gateway": "192.0.2.1", "routing-table": "isp2", "active": "true"})
		}, wantWANs: []string{"ether1", "ether2"}},
		{name: "inactive PPPoE route by interface name", mod: func(r *Router) {
			r.Interfaces = append(r.Interfaces, Row{"name": "pppoe-out1", "type": "pppoe-out"})
			r.Routes = append(r.Routes, Row{"dst-address": "0.0.0.0/0", "gateway": "pppoe-out1", "distance": "2", "dynamic": "true", "active": "false"})
		}, wantWANs: []string{"ether1", "pppoe-out1"}},
		{name: "IPv6 default route outside the WAN list", mod: func(r *Router) {
			r.Addresses6 = append(r.Addresses6, Row{"address": "2001:db8:9::2/64", "interface": "ether2"})
			r.Routes6 = append(r.Routes6, Row{"dst-address": "::/0", "gateway": "fe80::1%ether2", "distance": "1"})
		}, wantWANs: []string{"ether1", "ether2"}},
		{name: "IPv6 default route by global gateway", mod: func(r *Router) {
			r.Addresses6 = append(r.Addresses6, Row{"address": "2001:db8:9::2/64", "interface": "ether2"})
			r.Routes6 = append(r.Routes6, Row{"dst-address": "::/0", "gateway": "2001:db8:9::1"})
		}, wantWANs: []string{"ether1", "ether2"}},
		{name: "public address neither WAN nor LAN", mod: func(r *Router) {
			r.Addresses = append(r.Addresses, Row{"address": "192.0.2.20/24", "interface": "ether2"})
		}, wantWANs: []string{"ether1"}, warn: "ether2 has the public address 192.0.2.20"},
		{name: "public IPv6 address neither WAN nor LAN", mod: func(r *Router) {
			r.Addresses6 = append(r.Addresses6, Row{"address": "2001:db8:9::1/64", "interface": "ether2"})
		}, wantWANs: []string{"ether1"}, warn: "ether2 has the public address 2001:db8:9::1"},
		{name: "private address elsewhere is no warning", mod: func(r *Router) {
			r.Addresses = append(r.Addresses, Row{"address": "10.9.9.2/24", "interface": "ether2"})
		}, wantWANs: []string{"ether1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defconf()
			tt.mod(r)
			d, err := decide(r, decideInput{RunID: "t1", User: "admin", Host: "192.168.88.1", Settings: Settings{LANKeepsAPI: true}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantWANs, wanNames(d.WANs)); diff != "" {
				t.Errorf("WANs (-want +got):\n%s", diff)
			}
			if got, _ := wansOf(r); !slices.Equal(wanNames(got), tt.wantWANs) {
				t.Errorf("status WANs %v, decide %v", wanNames(got), tt.wantWANs)
			}
			hasPublic := slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, "neither") })
			if tt.warn == "" && hasPublic {
				t.Errorf("unexpected warning: %q", d.Warnings)
			}
			if tt.warn != "" && !slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, tt.warn) }) {
				t.Errorf("no warning with %q in %q", tt.warn, d.Warnings)
			}
		})
	}
}
