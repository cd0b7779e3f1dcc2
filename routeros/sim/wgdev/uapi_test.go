package wgdev

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func key(b byte) [32]byte {
	var k [32]byte
	for i := range k {
		k[i] = b
	}
	return k
}

func TestParseIpcGet(t *testing.T) {
	hexKey := func(b byte) string {
		return strings.Repeat(string("0123456789abcdef"[b>>4])+string("0123456789abcdef"[b&15]), 32)
	}
	tests := []struct {
		name    string
		in      string
		want    []PeerStats
		wantErr bool
	}{
		{"no peers", "private_key=" + hexKey(9) + "\nlisten_port=13231\n", nil, false},
		{
			name: "two peers sorted by key",
			in: "private_key=" + hexKey(9) + "\nlisten_port=0\n" +
				"public_key=" + hexKey(2) + "\npreshared_key=" + hexKey(0) + "\nprotocol_version=1\nendpoint=127.0.0.1:51820\n" +
				"last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\ntx_bytes=92\nrx_bytes=148\npersistent_keepalive_interval=0\nallowed_ip=10.77.0.2/32\n" +
				"public_key=" + hexKey(1) + "\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n" +
				"errno=0\n",
			want: []PeerStats{
				{PublicKey: key(1)},
				{PublicKey: key(2), Endpoint: netip.MustParseAddrPort("127.0.0.1:51820"), LastHandshake: time.Unix(1700000000, 5), Rx: 148, Tx: 92},
			},
		},
		{
			name: "v6 endpoint and mapped v4",
			in:   "public_key=" + hexKey(3) + "\nendpoint=[::ffff:127.1.2.3]:9\n" + "public_key=" + hexKey(4) + "\nendpoint=[::1]:7\n",
			want: []PeerStats{{PublicKey: key(3), Endpoint: netip.MustParseAddrPort("127.1.2.3:9")}, {PublicKey: key(4), Endpoint: netip.MustParseAddrPort("[::1]:7")}},
		},
		{"bad number", "public_key=" + hexKey(5) + "\nrx_bytes=x\n", []PeerStats{{PublicKey: key(5)}}, true},
		// A peer whose key cannot be read is dropped, its figures with it.
		{"short key", "public_key=abcd\nrx_bytes=1\npublic_key=" + hexKey(6) + "\n", []PeerStats{{PublicKey: key(6)}}, true},
		{"stat before peer", "rx_bytes=1\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseIpcGet(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
				t.Errorf("parseIpcGet (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseIpcGet(f *testing.F) {
	f.Add("public_key=" + strings.Repeat("ab", 32) + "\nendpoint=1.2.3.4:5\nrx_bytes=1\ntx_bytes=2\nlast_handshake_time_sec=3\nlast_handshake_time_nsec=4\n")
	f.Add("private_key=00\nlisten_port=1\nerrno=0\n")
	f.Add("public_key=zz\nendpoint=[::1]:x\n")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := parseIpcGet(s)
		n := 0
		for l := range strings.SplitSeq(s, "\n") {
			if strings.HasPrefix(l, "public_key=") {
				n++
			}
		}
		if err == nil && n != len(st) {
			t.Fatalf("%d peers from %d public_key lines", len(st), n)
		}
		for i := 1; i < len(st); i++ {
			if string(st[i-1].PublicKey[:]) > string(st[i].PublicKey[:]) {
				t.Fatal("not sorted by key")
			}
		}
	})
}
