package uapi

import (
	"encoding/hex"
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

func hexKey(b byte) string { k := key(b); return hex.EncodeToString(k[:]) }

// secret stands for the private and preshared keys a reply carries: no
// error may quote it.
var secret = strings.Repeat("5e", 32)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    State
		wantErr []string // each must be in the error; nil: no error
	}{
		{name: "empty", in: "", want: State{}},
		{name: "device only", in: "private_key=" + secret + "\nlisten_port=13231\nfwmark=0\n", want: State{ListenPort: 13231}},
		{
			name: "wireguard-go reply, two peers in reply order",
			in: "private_key=" + secret + "\nlisten_port=51820\n" +
				"public_key=" + hexKey(2) + "\npreshared_key=" + secret + "\nprotocol_version=1\nendpoint=127.0.0.1:13231\n" +
				"last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\ntx_bytes=148\nrx_bytes=92\npersistent_keepalive_interval=25\nallowed_ip=10.77.0.0/24\n" +
				"public_key=" + hexKey(1) + "\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n" +
				"errno=0\n\n",
			want: State{ListenPort: 51820, Peers: []Peer{
				{PublicKey: key(2), Endpoint: netip.MustParseAddrPort("127.0.0.1:13231"), LastHandshake: time.Unix(1700000000, 5), Rx: 92, Tx: 148},
				{PublicKey: key(1)},
			}},
		},
		{
			name: "IPv6 and mapped endpoints kept as written",
			in:   "public_key=" + hexKey(3) + "\nendpoint=[::ffff:127.1.2.3]:9\npublic_key=" + hexKey(4) + "\nendpoint=[::1]:7\n",
			want: State{Peers: []Peer{
				{PublicKey: key(3), Endpoint: netip.MustParseAddrPort("[::ffff:127.1.2.3]:9")},
				{PublicKey: key(4), Endpoint: netip.MustParseAddrPort("[::1]:7")},
			}},
		},
		{
			name: "handshake nsec only",
			in:   "public_key=" + hexKey(1) + "\nlast_handshake_time_nsec=7\n",
			want: State{Peers: []Peer{{PublicKey: key(1), LastHandshake: time.Unix(0, 7)}}},
		},
		{
			name: "CRLF line ends",
			in:   "public_key=" + hexKey(1) + "\r\nrx_bytes=1\r\n",
			want: State{Peers: []Peer{{PublicKey: key(1), Rx: 1}}},
		},
		{name: "no equals", in: "private_key" + secret + "\n", wantErr: []string{"line 1 has no '='"}},
		{name: "short public key", in: "public_key=abcd\nrx_bytes=4\n", wantErr: []string{"line 1: bad public key"}},
		{
			name:    "bad key drops its peer, not the next",
			in:      "public_key=" + hexKey(1) + "\nrx_bytes=1\npublic_key=zz" + secret[2:] + "\nrx_bytes=2\ntx_bytes=x\npublic_key=" + hexKey(3) + "\nrx_bytes=3\n",
			want:    State{Peers: []Peer{{PublicKey: key(1), Rx: 1}, {PublicKey: key(3), Rx: 3}}},
			wantErr: []string{"line 3: bad public key"},
		},
		{
			name:    "bad values keep the rest",
			in:      "listen_port=70000\npublic_key=" + hexKey(5) + "\nrx_bytes=-1\ntx_bytes=9\nendpoint=1.2.3.4\nlast_handshake_time_sec=soon\n",
			want:    State{Peers: []Peer{{PublicKey: key(5), Tx: 9}}},
			wantErr: []string{"line 1: bad listen_port", "line 3: bad rx_bytes", "line 5: bad endpoint", "line 6: bad last_handshake_time_sec"},
		},
		{name: "negative port", in: "listen_port=-1\n", wantErr: []string{"line 1: bad listen_port"}},
		{name: "stat before any peer", in: "rx_bytes=1\n", wantErr: []string{"line 1: rx_bytes before any public_key"}},
		{
			name: "listen_port among the peers is not the device's",
			in:   "public_key=" + hexKey(1) + "\nlisten_port=99999\n",
			want: State{Peers: []Peer{{PublicKey: key(1)}}},
		},
		{
			name: "values with '=' and spaces",
			in:   "public_key=" + hexKey(1) + "\nrx_bytes= 1\nendpoint=1.2.3.4:5=6\n",
			want: State{Peers: []Peer{{PublicKey: key(1)}}}, wantErr: []string{"line 2: bad rx_bytes", "line 3: bad endpoint"},
		},
		{
			name:    "a line longer than the scanner takes",
			in:      "public_key=" + hexKey(1) + "\nallowed_ip=" + strings.Repeat("1", 70000) + "\nrx_bytes=1\n",
			want:    State{Peers: []Peer{{PublicKey: key(1)}}},
			wantErr: []string{"after line 1: bufio.Scanner: token too long"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("Parse error = %v", err)
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Parse error = nil, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Parse error = %q, want it to say %q", err, w)
					}
				}
				if strings.Contains(err.Error(), secret[:16]) {
					t.Errorf("Parse error %q quotes a key", err)
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrorsBounded(t *testing.T) {
	_, err := Parse(strings.Repeat("garbage\n", 10000))
	if err == nil {
		t.Fatal("no error for 10000 bad lines")
	}
	if n := strings.Count(err.Error(), "has no '='"); n != maxErrors {
		t.Errorf("%d line errors reported, want %d", n, maxErrors)
	}
}

// FuzzParse checks that Parse never panics, that an error never quotes a
// hex value of the input (the private key is one), that a reply without
// errors has one peer per public_key line, and that every peer parsed
// comes from a public_key line of the input.
func FuzzParse(f *testing.F) {
	f.Add("private_key=" + secret + "\nlisten_port=1\npublic_key=" + hexKey(0) + "\nrx_bytes=1\nendpoint=1.2.3.4:5\n")
	f.Add("public_key=" + hexKey(0x11) + "\nlast_handshake_time_sec=9223372036854775807\nlast_handshake_time_nsec=-1\n")
	f.Add("=\n\n=x\nlisten_port=\n")
	f.Add("public_key=zz\nendpoint=[::1]:x\nprivate_key=" + secret + "x\n")
	f.Add("rx_bytes=1\npublic_key=" + hexKey(2) + "\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		st, err := Parse(in)
		keys := map[[32]byte]bool{}
		n := 0
		for l := range strings.SplitSeq(in, "\n") {
			l = strings.TrimSuffix(l, "\r") // bufio.ScanLines drops it too
			_, v, ok := strings.Cut(l, "=")
			if !ok {
				continue
			}
			if err != nil && len(v) >= 16 && isHex(v) && strings.Contains(err.Error(), v) {
				t.Fatalf("error %q quotes input value %q", err, v)
			}
			if k, kerr := parseKey(v); kerr == nil && strings.HasPrefix(l, "public_key=") {
				keys[k] = true
				n++
			}
		}
		if err == nil && n != len(st.Peers) {
			t.Fatalf("%d peers from %d public_key lines and no error", len(st.Peers), n)
		}
		for _, p := range st.Peers {
			if !keys[p.PublicKey] {
				t.Fatalf("peer %x is in no public_key line", p.PublicKey)
			}
		}
		if st.ListenPort < 0 || st.ListenPort > 65535 {
			t.Fatalf("listen port %d", st.ListenPort)
		}
	})
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return false
		}
	}
	return true
}
