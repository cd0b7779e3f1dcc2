package onboard

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/forgedtls"
	"github.com/wgboot/wgboot/routeros"
)

// recorder is a Prompter that records every question and answers yes to
// those it is told to (danger: also to Danger questions).
type recorder struct {
	yes, danger bool
	asked       []Question
}

func (p *recorder) Confirm(_ context.Context, q Question) (bool, error) {
	p.asked = append(p.asked, q)
	return p.yes && (!q.Danger || p.danger), nil
}

func (p *recorder) question(id QuestionID) (Question, bool) {
	for _, q := range p.asked {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}

// A TLS handshake_failure alert on api-ssl is seven bytes anyone on the
// path can forge. It never leads to the password crossing the network in
// clear: with a pin (--fingerprint or known_hosts) it is an error and
// nothing is asked; without one only an explicit yes to a Danger question
// that says so opens the plain API. The last row proves the fake sees a
// password when one is sent.
func TestForgedAlertNeverSendsPasswordInClear(t *testing.T) {
	const fp = "3f5a000000000000000000000000000000000000000000000000000000000001"
	tests := []struct {
		name      string
		tofu      bool
		flag      string // --fingerprint
		known     bool   // a known_hosts line for the router
		prompter  *recorder
		wantClear bool   // the password may arrive on 8728
		wantErr   string // in the error
	}{
		{name: "known_hosts pin, technician says yes to everything", known: true, prompter: &recorder{yes: true, danger: true},
			wantErr: "did not complete TLS; it was pinned to " + fp},
		{name: "flag pin, technician says yes to everything", flag: fp, prompter: &recorder{yes: true, danger: true},
			wantErr: "did not complete TLS; it was pinned to " + fp},
		{name: "known_hosts pin with tofu", known: true, tofu: true, prompter: &recorder{yes: true, danger: true},
			wantErr: "nothing was sent"},
		{name: "tofu, yes to all but danger (--yes, fleet)", tofu: true, prompter: &recorder{yes: true}},
		{name: "no pin, yes to all but danger", prompter: &recorder{yes: true}},
		{name: "tofu, no prompter (defaults)", tofu: true},
		{name: "tofu, technician explicitly accepts the danger", tofu: true, prompter: &recorder{yes: true, danger: true}, wantClear: true,
			wantErr: "still refuses TLS"}, // asked once, not again after the certificate was set
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := forgedtls.Start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			state := t.TempDir()
			if tt.known {
				if err := os.WriteFile(filepath.Join(state, routeros.KnownHostsFile), []byte(r.SSL+" "+fp+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			o := Options{Router: r.SSL, User: "admin", Password: "s3cret-pw", Fingerprint: tt.flag, TOFU: tt.tofu,
				StateDir: state, Timeout: 5 * time.Second, Logf: t.Logf}
			if tt.prompter != nil {
				o.Prompter = tt.prompter
			}
			e, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			err = e.Connect(ctx)
			if err == nil {
				t.Fatal("Connect succeeded against a forged alert")
			}
			if got := r.Passwords(); len(got) > 0 != tt.wantClear {
				t.Errorf("passwords on the plain API: %q (want some: %v); error %v", got, tt.wantClear, err)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to say %q", err, tt.wantErr)
			}
			if tt.flag != "" || tt.known {
				if tt.prompter != nil && len(tt.prompter.asked) > 0 {
					t.Errorf("a pinned router asked %d questions, first %q", len(tt.prompter.asked), tt.prompter.asked[0].ID)
				}
				if h := connectHint(err).Text(nil); !strings.Contains(h, "forge") {
					t.Errorf("hint for a pinned router = %q, want one that names a forged alert", h)
				}
				return
			}
			if tt.prompter == nil {
				return
			}
			q, ok := tt.prompter.question("create-certificate")
			if !ok {
				t.Fatalf("not asked to create a certificate (asked %d questions)", len(tt.prompter.asked))
			}
			if !q.Danger || q.Default {
				t.Errorf("create-certificate: Danger %v, Default %v; want a Danger question that defaults to no", q.Danger, q.Default)
			}
			if !strings.Contains(q.Title+q.Detail, "unencrypted") || !strings.Contains(q.Detail, "forge") {
				t.Errorf("create-certificate does not say the password crosses unencrypted and the alert can be forged: %q / %q", q.Title, q.Detail)
			}
			if !tt.wantClear && !errors.Is(err, routeros.ErrNoCertificate) {
				t.Errorf("declined: err = %v, want ErrNoCertificate", err)
			}
		})
	}
}
