package onboard

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func TestQuickRoundTrip(t *testing.T) {
	k, _ := wgtypes.GeneratePrivateKey()
	peer, _ := wgtypes.GeneratePrivateKey()
	text := quickConfig(k, netip.MustParsePrefix("10.77.0.2/24"), peer.PublicKey().String(), "203.0.113.7:13231", netip.MustParsePrefix("10.77.0.1/24"))
	q, err := parseQuick(text)
	if err != nil {
		t.Fatal(err)
	}
	want := &quickConf{PrivateKey: k, Address: netip.MustParsePrefix("10.77.0.2/24"), PeerKey: peer.PublicKey(),
		AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.1/32")}, Endpoint: "203.0.113.7:13231"}
	if diff := cmp.Diff(want, q, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestQuickErrors(t *testing.T) {
	k, _ := wgtypes.GeneratePrivateKey()
	tests := map[string]string{
		"no peer":    "[Interface]\nPrivateKey = " + k.String() + "\nAddress = 10.0.0.2/24\n",
		"bad key":    "[Interface]\nPrivateKey = " + k.String()[:10] + "\n",
		"no equals":  "[Interface]\nPrivateKey\n",
		"bad prefix": "[Interface]\nAddress = 10.0.0.300/24\n",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseQuick(text)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), k.String()[:10]) {
				t.Errorf("error quotes the key: %v", err)
			}
		})
	}
}

func FuzzParseQuick(f *testing.F) {
	k, _ := wgtypes.GeneratePrivateKey()
	f.Add(quickConfig(k, netip.MustParsePrefix("10.77.0.2/24"), k.PublicKey().String(), "h:1", netip.MustParsePrefix("10.77.0.1/24")))
	f.Add("[Interface]\nAddress=1.2.3.4/32 # c\n[Peer]\nAllowedIPs = ::/0, 0.0.0.0/0\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseQuick(s)
		if err == nil && (q == nil || !q.Address.IsValid()) {
			t.Fatal("nil error without a valid result")
		}
	})
}
