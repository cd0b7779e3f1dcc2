package sim

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseWiring(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		want    Wiring
		wantErr bool
	}{
		{name: "none", config: "/system identity\nset name=x\n"},
		{
			name: "all keys",
			config: "# wgboot-example: wan=ether1,pppoe-out1 lan=bridge dynamic-address=ether1=203.0.113.7/24 api-ssl=18729\n" +
				"/ip address\nadd address=10.10.0.1/24 interface=bridge\n",
			want: Wiring{WAN: []string{"ether1", "pppoe-out1"}, LAN: "bridge",
				Dynamic:   []DynamicAddress{{Iface: "ether1", Prefix: netip.MustParsePrefix("203.0.113.7/24")}},
				LANClient: netip.MustParseAddr("10.10.0.100")},
		},
		{
			name:   "LAN without an address: the defconf client",
			config: "# wgboot-example: wan=ether1 lan=bridge\n",
			want:   Wiring{WAN: []string{"ether1"}, LAN: "bridge", LANClient: netip.MustParseAddr("192.168.88.100")},
		},
		{name: "bad dynamic address", config: "# wgboot-example: dynamic-address=ether1=nope\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWiring(tt.config)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("ParseWiring (-want +got):\n%s", diff)
			}
		})
	}
}

// Every shipped example names its WAN (open-cpe has no LAN).
func TestExamplesHaveWiring(t *testing.T) {
	paths, _ := filepath.Glob("../../examples/*.rsc")
	if len(paths) == 0 {
		t.Fatal("no examples found")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := ParseWiring(string(b))
		if err != nil || len(w.WAN) == 0 { // open-cpe has no LAN
			t.Errorf("%s: wiring %+v, %v", filepath.Base(p), w, err)
		}
	}
}
