package onboard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestSubnetAvoidsLocalRoutes: the VPN subnet overlaps neither the
// router's networks nor this computer's (its LAN, another VPN): a subnet
// this computer already routes would send the tunnel's traffic there, or
// the LAN's into the tunnel.
func TestSubnetAvoidsLocalRoutes(t *testing.T) {
	local := []netip.Prefix{netip.MustParsePrefix("10.77.0.0/16"), netip.MustParsePrefix("10.78.0.0/24"),
		netip.MustParsePrefix("fd00::/64")}
	tests := []struct {
		name    string
		subnet  string
		local   []netip.Prefix
		want    string
		wantErr string
	}{
		{name: "no local routes", want: "10.77.0.0/24"},
		{name: "first candidates taken locally", local: local, want: "10.78.1.0/24"},
		{name: "given subnet on a local network", subnet: "10.77.9.0/24", local: local, wantErr: "this computer already routes 10.77.0.0/16"},
		{name: "given subnet free", subnet: "10.79.0.0/24", local: local, want: "10.79.0.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Settings{LANKeepsAPI: true, Subnet: tt.subnet}
			d, err := decide(defconf(), decideInput{RunID: "t1", User: "admin", Host: "192.168.88.1", Settings: s, LocalRoutes: tt.local})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "--subnet") {
					t.Fatalf("decide error = %v, want one naming %q and --subnet", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Subnet.String() != tt.want {
				t.Errorf("subnet = %s, want %s", d.Subnet, tt.want)
			}
		})
	}
}

// TestLocalRoutesOption: the engine asks Options.LocalRoutes when it plans;
// when the table cannot be read the plan says so instead of failing.
func TestLocalRoutesOption(t *testing.T) {
	e := &Engine{o: Options{LocalRoutes: func() ([]netip.Prefix, error) {
		return []netip.Prefix{netip.MustParsePrefix("10.77.0.0/24")}, nil
	}}}
	got, warn := e.localRoutes()
	if len(got) != 1 || warn != "" {
		t.Errorf("localRoutes = %v, %q; want the option's prefix and no warning", got, warn)
	}
	e.o.LocalRoutes = func() ([]netip.Prefix, error) { return nil, errors.New("no netlink") }
	if got, warn := e.localRoutes(); got != nil || !strings.Contains(warn, "no netlink") {
		t.Errorf("localRoutes = %v, %q; want none and a warning naming the error", got, warn)
	}
}
