package vpn

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseQuickRoundTrip(t *testing.T) {
	q := sampleQuick()
	q.Interface.Address = append(q.Interface.Address, netip.MustParsePrefix("fd77::2/64"))
	q.Interface.DNS = []netip.Addr{netip.MustParseAddr("10.77.0.1")}
	q.Interface.ListenPort = 51820
	q.Interface.MTU = 1380
	q.Peer.AllowedIPs = []netip.Prefix{netip.MustParsePrefix("10.77.0.0/24"), netip.MustParsePrefix("192.168.88.0/24")}
	text, err := q.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseQuick(text)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(q, got, cmpNet); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseQuick(t *testing.T) {
	priv, pub := fixedKey(1).String(), fixedKey(100).PublicKey().String()
	base := sampleQuick()
	tests := []struct {
		name    string
		in      string
		want    QuickConfig
		wantErr string
	}{
		{
			name: "edited by hand",
			in: "# laptop\n[interface]\nprivatekey=" + priv + "\nAddress = 10.77.0.2/24 # tunnel\nPostUp = echo up\nTable = off\n\n" +
				"[Peer]\nPublicKey = " + pub + "\nEndpoint = router.example.net:13231\nAllowedIPs = 10.77.0.1/24\nPersistentKeepalive = 25\n",
			want: base,
		},
		{
			name: "bare addresses and repeated lists",
			in: "[Interface]\nPrivateKey = " + priv + "\nAddress = 10.77.0.2\n[Peer]\nPublicKey = " + pub +
				"\nEndpoint = router.example.net:13231\nAllowedIPs = 10.77.0.1\nAllowedIPs = 10.77.0.0/24,\nPersistentKeepalive = off\n",
			want: func() QuickConfig {
				q := base
				q.Interface.Address = []netip.Prefix{netip.MustParsePrefix("10.77.0.2/32")}
				q.Peer.AllowedIPs = []netip.Prefix{netip.MustParsePrefix("10.77.0.1/32"), netip.MustParsePrefix("10.77.0.0/24")}
				q.Peer.PersistentKeepalive = 0
				return q
			}(),
		},
		{name: "bad private key", in: "[Interface]\nPrivateKey = " + priv[:20] + "\n", wantErr: "line 2: PrivateKey: invalid value"},
		{name: "bad preshared key", in: "[Interface]\nPrivateKey = " + priv + "\n[Peer]\nPresharedKey = " + priv[:20] + "\n", wantErr: "line 4: PresharedKey: invalid value"},
		{name: "two peers", in: "[Peer]\n[Peer]\n", wantErr: "line 2: more than one [Peer]"},
		{name: "unknown section", in: "[Wat]\n", wantErr: "line 1: unknown section"},
		{name: "no equals", in: "[Interface]\nPrivateKey " + priv[:43] + "\n", wantErr: "line 2: no '='"},
		{name: "key without spacing", in: "[Interface]\nPrivateKey " + priv + "\n", wantErr: "line 2: unknown key: not supported"},
		{name: "key before section", in: "Address = 10.0.0.1/24\n", wantErr: "line 1: Address: key outside [Interface]"},
		{name: "missing peer", in: "[Interface]\nPrivateKey = " + priv + "\nAddress = 10.77.0.2/24\n", wantErr: "no peer public key"},
		{name: "DNS search domain", in: "[Interface]\nDNS = example.net\n", wantErr: "line 2: DNS: only addresses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQuick([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseQuick error = %v, want containing %q", err, tt.wantErr)
				}
				assertNoKey(t, err.Error(), fixedKey(1))
				if strings.Contains(err.Error(), priv[:20]) {
					t.Fatalf("error %q quotes a key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpNet); diff != "" {
				t.Errorf("ParseQuick (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseQuick: no panics, no value quoted in errors, and whatever
// parses survives Marshal and ParseQuick again unchanged.
func FuzzParseQuick(f *testing.F) {
	seed, _ := sampleQuick().Marshal()
	f.Add(seed)
	f.Add([]byte("[Interface]\nAddress = 10.0.0.1, fd00::1/64\nDNS = 1.1.1.1\n[Peer]\nAllowedIPs = 0.0.0.0/0\nPersistentKeepalive = off\n"))
	f.Add([]byte("[peer]\n=\n#\n[Interface]\nMTU = -1\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		q, err := ParseQuick(in)
		if err != nil {
			for _, line := range bytes.Split(in, []byte("\n")) {
				_, v, ok := bytes.Cut(line, []byte("="))
				if v = bytes.TrimSpace(v); ok && len(v) >= 12 && strings.Contains(err.Error(), string(v)) {
					t.Fatalf("error %q quotes value %q", err, v)
				}
			}
			return
		}
		text, err := q.Marshal()
		if err != nil {
			t.Fatalf("parsed config does not marshal: %v", err)
		}
		again, err := ParseQuick(text)
		if err != nil {
			t.Fatalf("marshalled config does not parse: %v\n%s", err, text)
		}
		// Marshal writes allowed IPs masked and keepalive in whole seconds.
		for i, p := range q.Peer.AllowedIPs {
			q.Peer.AllowedIPs[i] = p.Masked()
		}
		q.Peer.PersistentKeepalive = q.Peer.PersistentKeepalive.Truncate(time.Second)
		if diff := cmp.Diff(q, again, cmpNet); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
