package routeros

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"time"
)

// NormalizeFingerprint returns fp as lowercase hex without separators. It
// accepts colons, spaces, dashes, upper case and a "sha256:" prefix, and
// requires exactly 32 bytes.
func NormalizeFingerprint(fp string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(fp))
	s = strings.TrimPrefix(s, "sha256:")
	s = strings.Map(func(r rune) rune {
		switch r {
		case ':', ' ', '-':
			return -1
		}
		return r
	}, s)
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("routeros: %q is not a SHA-256 certificate fingerprint "+
			"(64 hex digits, colons allowed)", fp)
	}
	return s, nil
}

// certFingerprint is the pin format: lowercase hex SHA-256 of the DER.
func certFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// clientTLSConfig verifies by pin, by CA, or both; it never accepts an
// unverified peer (Dial refuses a TLS config with neither).
func clientTLSConfig(cfg Config, pin string) *tls.Config {
	name := cfg.ServerName
	if name == "" {
		name, _, _ = net.SplitHostPort(cfg.Addr)
	}
	tc := &tls.Config{ServerName: name, RootCAs: cfg.RootCAs}
	if cfg.RootCAs == nil {
		// Self-signed router certificates are the norm: the pin below
		// replaces chain verification, it does not skip verification.
		tc.InsecureSkipVerify = true
	}
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if pin == "" {
			return nil
		}
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("routeros: %s sent no certificate", cfg.Addr)
		}
		if got := certFingerprint(cs.PeerCertificates[0].Raw); got != pin {
			return &FingerprintError{Addr: cfg.Addr, Want: pin, Got: got}
		}
		return nil
	}
	return tc
}

// ErrHandshake means the TLS handshake did not complete (the peer sent an
// alert, or spoke something other than TLS): nothing was sent on the
// connection. Such a failure proves nothing about the router, since the
// alert is unauthenticated and anyone on the path can send it; a pinned
// router must be refused, never reached another way.
var ErrHandshake = errors.New("routeros: the TLS handshake did not complete")

// handshakeError marks a failed handshake with ErrHandshake, keeping its text.
type handshakeError struct{ err error }

func (h handshakeError) Error() string   { return h.err.Error() }
func (h handshakeError) Unwrap() []error { return []error{h.err, ErrHandshake} }

// handshake runs the TLS handshake under the deadline and names the
// failures a technician meets.
func handshake(ctx context.Context, tc *tls.Conn, addr string, timeout time.Duration) error {
	if err := tc.SetDeadline(deadline(ctx, timeout)); err != nil {
		return fmt.Errorf("routeros: tls to %s: %w", addr, err)
	}
	err := tc.HandshakeContext(ctx)
	if err == nil {
		return tc.SetDeadline(time.Time{})
	}
	var fe *FingerprintError
	switch {
	case errors.As(err, &fe):
		return fe
	case isHandshakeFailure(err):
		return handshakeError{fmt.Errorf("%w (%s refused the TLS handshake with a handshake_failure alert, "+
			"which anyone on the network path can also forge): without a certificate RouterOS offers "+
			"only anonymous Diffie-Hellman ciphers, which Go's TLS cannot use; create and sign a "+
			"certificate on the router and set it on api-ssl under /ip service (the plain API, port 8728, "+
			"would carry the password unencrypted: use it only on a network you trust): %w", ErrNoCertificate, addr, err)}
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("routeros: tls to %s: %w", addr, ctx.Err())
	case isTimeout(err):
		return silentError(addr, "TLS handshake reply", timeout, err)
	}
	return handshakeError{fmt.Errorf("routeros: tls handshake with %s failed (is this the api-ssl port?): %w", addr, err)}
}

// isHandshakeFailure reports whether the peer sent a handshake_failure
// alert (40). crypto/tls reports a received alert as a *net.OpError with
// Op "remote error" whose Err is its unexported alert type (a uint8), so
// the code is read by kind rather than by the error text.
func isHandshakeFailure(err error) bool {
	const alertHandshakeFailure = 40
	if ae, ok := errors.AsType[tls.AlertError](err); ok {
		return ae == alertHandshakeFailure
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return false
	}
	v := reflect.ValueOf(op.Err)
	return v.Kind() == reflect.Uint8 && v.Uint() == alertHandshakeFailure
}

// Fingerprint connects to addr, completes a TLS handshake without
// verifying the certificate, and returns the leaf certificate's
// fingerprint (lowercase hex SHA-256 of its DER) for the technician to
// compare with /certificate print detail before trusting it. It neither
// logs in nor sends anything after the handshake. A router whose api-ssl
// has no certificate gives ErrNoCertificate.
func Fingerprint(ctx context.Context, addr string, dial DialFunc) (string, error) {
	conn, err := dialTCP(ctx, dial, addr, DefaultTimeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var got string
	tc := tls.Client(conn, &tls.Config{
		// Nothing is trusted here: the result is only shown to a human
		// who decides, and nothing secret is sent on this connection.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("routeros: %s sent no certificate", addr)
			}
			got = certFingerprint(cs.PeerCertificates[0].Raw)
			return nil
		},
	})
	if err := handshake(ctx, tc, addr, DefaultTimeout); err != nil {
		return "", err
	}
	return got, nil
}
