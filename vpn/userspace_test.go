package vpn

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/uapi"
)

func TestReadState(t *testing.T) {
	pub := [32]byte{1, 2, 3}
	pubHex := hex.EncodeToString(pub[:])
	secret := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		in      string
		want    uapi.State
		wantErr string
	}{
		{
			name: "wireguard-go reply",
			in: "private_key=" + secret + "\nlisten_port=51820\n" +
				"public_key=" + pubHex + "\npreshared_key=" + secret + "\nprotocol_version=1\n" +
				"endpoint=127.0.0.1:13231\nlast_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\n" +
				"tx_bytes=148\nrx_bytes=92\npersistent_keepalive_interval=25\nallowed_ip=10.77.0.0/24\nerrno=0\n\n",
			want: uapi.State{ListenPort: 51820, Peers: []uapi.Peer{{
				PublicKey: pub, LastHandshake: time.Unix(1700000000, 5), Rx: 92, Tx: 148,
				Endpoint: netip.MustParseAddrPort("127.0.0.1:13231"),
			}}},
		},
		{
			name: "no handshake yet, IPv6 endpoint",
			in:   "public_key=" + pubHex + "\nendpoint=[::1]:51820\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=148\nrx_bytes=0\n",
			want: uapi.State{Peers: []uapi.Peer{{PublicKey: pub, Tx: 148, Endpoint: netip.MustParseAddrPort("[::1]:51820")}}},
		},
		{name: "empty", in: "", want: uapi.State{}},
		{name: "no equals", in: "private_key" + secret + "\n", wantErr: "line 1 has no '='"},
		{name: "bad public key", in: "public_key=zz\n", wantErr: "line 1: bad public key"},
		{name: "bad counter", in: "public_key=" + pubHex + "\nrx_bytes=-1\n", wantErr: "line 2: bad rx_bytes"},
		{name: "bad port", in: "listen_port=70000\n", wantErr: "line 1: bad listen_port"},
		// A reply with one bad line is no state at all for the tunnel,
		// though the shared parser reads on.
		{name: "bad line after a good peer", in: "public_key=" + pubHex + "\nrx_bytes=5\ntx_bytes=x\n", wantErr: "line 3: bad tx_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readState(tt.in)
			if tt.wantErr != "" {
				if diff := cmp.Diff(uapi.State{}, got, cmpNet); diff != "" {
					t.Errorf("readState gave a state with its error (-want +got):\n%s", diff)
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readState error = %v, want containing %q", err, tt.wantErr)
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
				t.Errorf("readState (-want +got):\n%s", diff)
			}
		})
	}
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
