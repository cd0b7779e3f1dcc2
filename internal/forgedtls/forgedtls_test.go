package forgedtls

import (
	"context"
	"crypto/tls"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/wgboot/wgboot/routeros"
)

// The fake is what the tests built on it say it is: Go's TLS client meets
// the alert wgboot reads as "no certificate", and a login on the plain port
// is recorded word for word.
func TestFake(t *testing.T) {
	r := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if _, err := routeros.Fingerprint(ctx, r.SSL, nil); !errors.Is(err, routeros.ErrNoCertificate) {
		t.Errorf("TLS to the forged api-ssl: %v, want ErrNoCertificate", err)
	}
	c, err := tls.Dial("tcp", r.SSL, &tls.Config{InsecureSkipVerify: true})
	if err == nil {
		c.Close()
		t.Error("a TLS handshake with the forged api-ssl completed")
	}
	if r.Alerts() != 2 {
		t.Errorf("alerts sent = %d, want 2", r.Alerts())
	}

	cl, err := routeros.Dial(ctx, routeros.Config{Addr: r.Plain, User: "admin", Password: "hunter2"})
	if err != nil {
		t.Fatalf("plain login: %v", err)
	}
	if _, err := cl.Run(ctx, "/certificate/add", "=name=x"); err != nil {
		t.Errorf("add: %v", err)
	}
	cl.Close()
	if got := r.Passwords(); !slices.Equal(got, []string{"=password=hunter2"}) {
		t.Errorf("passwords seen = %q, want the one login's", got)
	}
	if w := r.Words(); !slices.Contains(w, "/certificate/add") || !slices.Contains(w, "=name=admin") {
		t.Errorf("words seen = %q", w)
	}
}
