package vpntest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wgboot/wgboot/vpn"
	"github.com/wgboot/wgboot/vpn/vpntest"
)

func TestFake(t *testing.T) {
	hs := vpn.Stats{LastHandshake: time.Unix(1700000000, 0), Rx: 92, Tx: 148}
	tests := []struct {
		name      string
		fake      *vpntest.Fake
		wantStats vpn.Stats
		wantErr   error
	}{
		{name: "handshake", fake: &vpntest.Fake{Handshake: &hs}, wantStats: hs},
		{name: "no answer", fake: &vpntest.Fake{NoAnswer: vpn.Stats{Tx: 148, HandshakeAttempts: 1}},
			wantStats: vpn.Stats{Tx: 148, HandshakeAttempts: 1}, wantErr: vpn.ErrNoHandshake},
		{name: "up fails", fake: &vpntest.Fake{UpErr: errors.New("boom")}, wantErr: vpn.ErrNotUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := vpn.Config{Address: netip.MustParsePrefix("10.77.0.2/24")}
			if err := tt.fake.Up(t.Context(), cfg); !errors.Is(err, tt.fake.UpErr) {
				t.Fatalf("Up = %v, want %v", err, tt.fake.UpErr)
			}
			got, ok := tt.fake.Config()
			if !ok || got.Address != cfg.Address {
				t.Errorf("Config() = %v, %v; want the config given to Up", got, ok)
			}
			ctx, cancel := context.WithCancel(t.Context())
			cancel() // a fake that waits returns at once on a done context
			st, err := tt.fake.WaitHandshake(ctx)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WaitHandshake error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantStats, st, cmpopts.EquateComparable(netip.AddrPort{})); diff != "" {
				t.Errorf("WaitHandshake stats (-want +got):\n%s", diff)
			}
			if _, err := tt.fake.DialContext(t.Context(), "tcp", "10.77.0.1:8729"); err == nil {
				t.Errorf("DialContext without Dial succeeded")
			}
			tt.fake.Close()
			if !tt.fake.Closed() {
				t.Errorf("Closed() = false after Close")
			}
			if _, err := tt.fake.Stats(); !errors.Is(err, vpn.ErrClosed) {
				t.Errorf("Stats after Close = %v, want ErrClosed", err)
			}
		})
	}
}

func TestRouterPeer(t *testing.T) {
	tk, err := vpn.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	r := vpntest.NewRouterPeer(t, netip.MustParsePrefix("10.77.0.1/24"), tk.PublicKey(), netip.MustParsePrefix("10.77.0.2/32"))
	l, err := r.ListenTCP(8729)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()

	b := vpn.NewNetstack(t.Logf)
	defer b.Close()
	err = b.Up(t.Context(), vpn.Config{
		PrivateKey: tk,
		Address:    netip.MustParsePrefix("10.77.0.2/24"),
		Peer:       vpn.Peer{PublicKey: r.PublicKey, Endpoint: r.Endpoint, AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.0/24")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := b.WaitHandshake(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := b.DialContext(ctx, "tcp", net.JoinHostPort(r.Address.String(), "8729"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte("/system/identity/print")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(msg) {
		t.Errorf("echo = %q, want %q", got, msg)
	}
	st, err := r.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.LastHandshake.IsZero() || st.Rx == 0 {
		t.Errorf("router stand-in stats = %+v, want a handshake and traffic", st)
	}
}
