package vpn

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/device"
)

func TestParseUAPI(t *testing.T) {
	pub := [32]byte{1, 2, 3}
	pubHex := hex.EncodeToString(pub[:])
	secret := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		in      string
		want    uapiState
		wantErr string
	}{
		{
			name: "wireguard-go reply",
			in: "private_key=" + secret + "\nlisten_port=51820\n" +
				"public_key=" + pubHex + "\npreshared_key=" + secret + "\nprotocol_version=1\n" +
				"endpoint=127.0.0.1:13231\nlast_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\n" +
				"tx_bytes=148\nrx_bytes=92\npersistent_keepalive_interval=25\nallowed_ip=10.77.0.0/24\nerrno=0\n\n",
			want: uapiState{ListenPort: 51820, Peers: []uapiPeer{{
				PublicKey: device.NoisePublicKey(pub),
				Stats: Stats{
					LastHandshake: time.Unix(1700000000, 5), Rx: 92, Tx: 148,
					Endpoint: netip.MustParseAddrPort("127.0.0.1:13231"),
				},
			}}},
		},
		{
			name: "no handshake yet, IPv6 endpoint",
			in:   "public_key=" + pubHex + "\nendpoint=[::1]:51820\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=148\nrx_bytes=0\n",
			want: uapiState{Peers: []uapiPeer{{
				PublicKey: device.NoisePublicKey(pub),
				Stats:     Stats{Tx: 148, Endpoint: netip.MustParseAddrPort("[::1]:51820")},
			}}},
		},
		{name: "empty", in: "", want: uapiState{}},
		{name: "no equals", in: "private_key" + secret + "\n", wantErr: "line 1 has no '='"},
		{name: "bad public key", in: "public_key=zz\n", wantErr: "line 1: bad public key"},
		{name: "bad counter", in: "public_key=" + pubHex + "\nrx_bytes=-1\n", wantErr: "line 2: bad rx_bytes"},
		{name: "bad port", in: "listen_port=70000\n", wantErr: "line 1: bad listen_port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUAPI(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseUAPI error = %v, want containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q carries a key value", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpNet); diff != "" {
				t.Errorf("parseUAPI (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseUAPI checks that the parser never panics and never copies a
// value into an error (the reply carries the private key).
func FuzzParseUAPI(f *testing.F) {
	f.Add("private_key=00\nlisten_port=1\npublic_key=" + strings.Repeat("0", 64) + "\nrx_bytes=1\nendpoint=1.2.3.4:5\n")
	f.Add("public_key=" + strings.Repeat("1", 64) + "\nlast_handshake_time_sec=9223372036854775807\nlast_handshake_time_nsec=-1\n")
	f.Add("=\n\n=x\nlisten_port=\n")
	f.Fuzz(func(t *testing.T, in string) {
		_, err := parseUAPI(in)
		if err == nil {
			return
		}
		msg := err.Error()
		for _, line := range strings.Split(in, "\n") {
			_, v, ok := strings.Cut(line, "=")
			if ok && len(v) >= 16 && strings.Contains(msg, v) {
				t.Fatalf("error %q carries input value %q", msg, v)
			}
		}
	})
}

func TestUAPIConfig(t *testing.T) {
	var priv, pub [32]byte
	priv[0], pub[0] = 0x11, 0x22
	cfg := Config{
		PrivateKey: priv,
		Address:    netip.MustParsePrefix("10.77.0.2/24"),
		ListenPort: 51820,
		Peer: Peer{
			PublicKey:  pub,
			Endpoint:   netip.MustParseAddrPort("192.0.2.1:13231"),
			AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.9/24"), netip.MustParsePrefix("fd00::/64")},
			Keepalive:  25 * time.Second,
		},
	}
	want := "private_key=11" + strings.Repeat("00", 31) + "\nlisten_port=51820\nreplace_peers=true\n" +
		"public_key=22" + strings.Repeat("00", 31) + "\nendpoint=192.0.2.1:13231\npersistent_keepalive_interval=25\n" +
		"replace_allowed_ips=true\nallowed_ip=10.77.0.0/24\nallowed_ip=fd00::/64\n"
	if diff := cmp.Diff(want, uapiConfig(cfg)); diff != "" {
		t.Errorf("uapiConfig (-want +got):\n%s", diff)
	}
}

func TestStatsAge(t *testing.T) {
	now := time.Unix(1700000100, 0)
	tests := []struct {
		name string
		st   Stats
		want time.Duration
	}{
		{name: "no handshake", st: Stats{}, want: 0},
		{name: "100s ago", st: Stats{LastHandshake: time.Unix(1700000000, 0)}, want: 100 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.st.Age(now); got != tt.want {
				t.Errorf("Age = %s, want %s", got, tt.want)
			}
		})
	}
}
