package routeros

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// colonUpper writes a fingerprint the way some tools show it.
func colonUpper(fp string) string {
	var parts []string
	for i := 0; i < len(fp); i += 2 {
		parts = append(parts, strings.ToUpper(fp[i:i+2]))
	}
	return strings.Join(parts, ":")
}

func TestTLS(t *testing.T) {
	f := &fakeRouter{SelfSigned: true}
	addr := f.start(t)
	fp := certFingerprint(f.cert.Raw)
	pool := x509.NewCertPool()
	pool.AddCert(f.cert)
	other := &fakeRouter{SelfSigned: true}
	other.start(t)
	otherPool := x509.NewCertPool()
	otherPool.AddCert(other.cert)
	otherFP := certFingerprint(other.cert.Raw)

	tests := []struct {
		name    string
		cfg     Config
		wantErr error // nil, a sentinel, or a *FingerprintError
	}{
		{name: "pin", cfg: Config{Fingerprint: fp}},
		{name: "pin with colons and upper case", cfg: Config{Fingerprint: colonUpper(fp)}},
		{name: "pin mismatch", cfg: Config{Fingerprint: otherFP},
			wantErr: &FingerprintError{Addr: addr, Want: otherFP, Got: fp}},
		{name: "CA", cfg: Config{RootCAs: pool}},
		{name: "CA and pin", cfg: Config{RootCAs: pool, Fingerprint: fp}},
		{name: "wrong CA", cfg: Config{RootCAs: otherPool}, wantErr: errUnknownAuthority},
		{name: "CA with wrong name", cfg: Config{RootCAs: pool, ServerName: "router.example"}, wantErr: errHostname},
		{name: "neither pin nor CA", cfg: Config{}, wantErr: errConfig},
		{name: "malformed pin", cfg: Config{Fingerprint: "abc"}, wantErr: errConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Addr, cfg.TLS, cfg.User = addr, true, "admin"
			c, err := Dial(context.Background(), cfg)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Close()
				if _, err := c.Run(context.Background(), "/system/identity/print"); err != nil {
					t.Fatalf("Run: %v", err)
				}
				want := Stats{TCPHandshakes: 1, TLSHandshakes: 1, RoundTrips: 2, Commands: 2}
				if diff := cmp.Diff(want, c.Stats()); diff != "" {
					t.Errorf("Stats (-want +got):\n%s", diff)
				}
				return
			}
			if c != nil {
				c.Close()
			}
			checkTLSErr(t, err, tt.wantErr)
		})
	}
}

// Markers for TestTLS's error kinds that have no sentinel.
var (
	errUnknownAuthority = errors.New("unknown authority")
	errHostname         = errors.New("hostname")
	errConfig           = errors.New("config")
)

func checkTLSErr(t *testing.T, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("Dial succeeded, want %v", want)
	}
	switch want := want.(type) {
	case *FingerprintError:
		var fe *FingerprintError
		if !errors.As(err, &fe) {
			t.Fatalf("Dial error = %v, want *FingerprintError", err)
		}
		if diff := cmp.Diff(want, fe); diff != "" {
			t.Errorf("FingerprintError (-want +got):\n%s", diff)
		}
	default:
		switch want {
		case errUnknownAuthority:
			var ua x509.UnknownAuthorityError
			if !errors.As(err, &ua) {
				t.Errorf("Dial error = %v, want x509.UnknownAuthorityError", err)
			}
		case errHostname:
			var he x509.HostnameError
			if !errors.As(err, &he) {
				t.Errorf("Dial error = %v, want x509.HostnameError", err)
			}
		case errConfig:
			if !strings.Contains(err.Error(), "fingerprint") {
				t.Errorf("Dial error = %v, want a message about the fingerprint", err)
			}
		default:
			if !errors.Is(err, want) {
				t.Errorf("Dial error = %v, want %v", err, want)
			}
		}
	}
}

func TestFingerprintProbe(t *testing.T) {
	f := &fakeRouter{SelfSigned: true}
	addr := f.start(t)
	got, err := Fingerprint(context.Background(), addr, nil)
	if err != nil {
		t.Fatalf("Fingerprint: %v", err)
	}
	if want := certFingerprint(f.cert.Raw); got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	// The probe neither logs in nor sends a command.
	if cmds := f.commands(); len(cmds) != 0 {
		t.Errorf("probe sent commands: %q", cmds)
	}
}

// noCertRouter answers every ClientHello with a fatal handshake_failure
// alert, as RouterOS api-ssl without a certificate does for a client that
// offers no anonymous Diffie-Hellman suite.
func noCertRouter(t *testing.T) string {
	t.Helper()
	ln := listenLoopback(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				// Read the record header and the ClientHello, then alert.
				hdr := make([]byte, 5)
				if _, err := io.ReadFull(c, hdr); err != nil {
					return
				}
				n := int(hdr[3])<<8 | int(hdr[4])
				if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
					return
				}
				// alert record, TLS 1.2, length 2: fatal(2), handshake_failure(40)
				c.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28})
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

func TestNoCertificate(t *testing.T) {
	addr := noCertRouter(t)
	_, err := Dial(context.Background(), Config{Addr: addr, TLS: true, User: "admin", Fingerprint: strings.Repeat("0", 64)})
	if !errors.Is(err, ErrNoCertificate) || !errors.Is(err, ErrHandshake) {
		t.Fatalf("Dial error = %v, want ErrNoCertificate and ErrHandshake", err)
	}
	for _, want := range []string{"anonymous Diffie-Hellman", "certificate", "8728", "forge", "unencrypted"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := Fingerprint(context.Background(), addr, nil); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("Fingerprint error = %v, want ErrNoCertificate", err)
	}
}

func TestNotTLS(t *testing.T) {
	// The plain API port answers a ClientHello with garbage or silence;
	// either way it is not mistaken for a missing certificate.
	ln := listenLoopback(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("\x05!done\x00"))
		c.Close()
	})
	defer func() {
		ln.Close()
		wg.Wait()
	}()
	_, err := Dial(context.Background(), Config{Addr: ln.Addr().String(), TLS: true, Fingerprint: strings.Repeat("0", 64)})
	if err == nil || errors.Is(err, ErrNoCertificate) || !errors.Is(err, ErrHandshake) {
		t.Fatalf("Dial error = %v, want a TLS failure (ErrHandshake) that is not ErrNoCertificate", err)
	}
}

func TestNormalizeFingerprint(t *testing.T) {
	const fp = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		in   string
		want string // "" means an error
	}{
		{fp, fp},
		{strings.ToUpper(fp), fp},
		{colonUpper(fp), fp},
		{"SHA256:" + colonUpper(fp), fp},
		{"  " + fp + "\n", fp},
		{strings.ReplaceAll(colonUpper(fp), ":", " "), fp},
		{fp[:62], ""},
		{fp + "00", ""},
		{strings.Replace(fp, "0", "g", 1), ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeFingerprint(tt.in)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("NormalizeFingerprint(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
