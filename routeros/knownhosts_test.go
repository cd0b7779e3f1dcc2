package routeros

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/durable"
)

func TestKnownHosts(t *testing.T) {
	const (
		a  = "192.168.88.1:8729"
		b  = "[fe80::1%25ether1]:8729"
		fa = "1111111111111111111111111111111111111111111111111111111111111111"
		fb = "2222222222222222222222222222222222222222222222222222222222222222"
	)
	dir := filepath.Join(t.TempDir(), "state")
	k := NewKnownHosts(dir)

	if _, ok, err := k.Lookup(a); ok || err != nil {
		t.Fatalf("Lookup on a missing file = %v, %v; want not found, no error", ok, err)
	}
	if err := k.Check(a, fa); !errors.Is(err, ErrUnknownHost) {
		t.Fatalf("Check unknown = %v, want ErrUnknownHost", err)
	}
	if err := k.Add(a, colonUpper(fa)); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if err := k.Add(b, fb); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if err := k.Add(a, fa); err != nil {
		t.Fatalf("Add of the same fingerprint again: %v", err)
	}
	if err := k.Check(a, colonUpper(fa)); err != nil {
		t.Fatalf("Check match: %v", err)
	}

	err := k.Add(a, fb)
	var fe *FingerprintError
	if !errors.As(err, &fe) {
		t.Fatalf("Add changed = %v, want *FingerprintError", err)
	}
	want := &FingerprintError{Addr: a, Want: fa, Got: fb, Changed: true, File: k.Path()}
	if diff := cmp.Diff(want, fe); diff != "" {
		t.Errorf("FingerprintError (-want +got):\n%s", diff)
	}
	for _, s := range []string{"CHANGED", "/certificate print detail", k.Path(), "remove the line"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not mention %q", err, s)
		}
	}
	if err := k.Check(a, fb); !errors.As(err, &fe) || !fe.Changed {
		t.Errorf("Check changed = %v, want a changed *FingerprintError", err)
	}

	got, err := os.ReadFile(k.Path())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a+" "+fa+"\n"+b+" "+fb+"\n", string(got)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
	st, err := os.Stat(k.Path())
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("file mode %o, want 600", m)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestKnownHostsFileErrors(t *testing.T) {
	tests := []struct {
		name, content string
		wantErr       string // substring; "" means no error
		want          string // fingerprint of 10.0.0.1:8729
	}{
		{name: "comments and blanks", content: "# wgboot\n\n10.0.0.1:8729 " + strings.Repeat("ab", 32) + "\n", want: strings.Repeat("ab", 32)},
		{name: "no trailing newline", content: "10.0.0.1:8729 " + strings.Repeat("AB", 32), want: strings.Repeat("ab", 32)},
		{name: "three fields", content: "10.0.0.1:8729 x y\n", wantErr: "line 1"},
		{name: "bad fingerprint", content: "# c\n10.0.0.1:8729 xyz\n", wantErr: "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, KnownHostsFile), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			k := NewKnownHosts(dir)
			got, _, err := k.Lookup("10.0.0.1:8729")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Lookup error = %v, want one naming %q", err, tt.wantErr)
				}
				if err := k.Add("10.0.0.2:8729", strings.Repeat("cd", 32)); err == nil {
					t.Errorf("Add over a malformed file succeeded")
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Lookup = %q, %v; want %q", got, err, tt.want)
			}
			if err := k.Add("10.0.0.2:8729", strings.Repeat("cd", 32)); err != nil {
				t.Fatalf("Add: %v", err)
			}
			if got, ok, err := k.Lookup("10.0.0.2:8729"); !ok || err != nil || got != strings.Repeat("cd", 32) {
				t.Errorf("Lookup after Add = %q, %v, %v", got, ok, err)
			}
		})
	}
}

func TestKnownHostsRejectsBadAddress(t *testing.T) {
	k := NewKnownHosts(t.TempDir())
	for _, addr := range []string{"", "a b", "#x", "a\nb"} {
		if err := k.Add(addr, strings.Repeat("ab", 32)); err == nil {
			t.Errorf("Add(%q) succeeded", addr)
		}
	}
}

func FuzzKnownHosts(f *testing.F) {
	f.Add("# c\n10.0.0.1:8729 " + strings.Repeat("ab", 32) + "\n")
	f.Add("x y z\n")
	f.Add("\n\n  \t\n")
	f.Add("a " + strings.Repeat("AB:", 31) + "AB")
	f.Fuzz(func(t *testing.T, content string) {
		entries, err := parseKnownHosts(strings.NewReader(content), "f")
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.addr == "" || strings.ContainsAny(e.addr, " \t\n") {
				t.Errorf("bad address %q parsed", e.addr)
			}
			if n, err := NormalizeFingerprint(e.fp); err != nil || n != e.fp {
				t.Errorf("fingerprint %q not normalised", e.fp)
			}
		}
	})
}

// TestKnownHostsIsDurable: a pinned fingerprint survives a crash right
// after Add; the file is written 0600, data and directory fsynced.
func TestKnownHostsIsDurable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	k := NewKnownHosts(dir)
	var syncs []string
	defer durable.SetSyncHook(func(p string) {
		if strings.HasPrefix(p, dir) {
			syncs = append(syncs, p)
		}
	})()
	if err := k.Add("192.0.2.1:8729", strings.Repeat("ab", 32)); err != nil {
		t.Fatalf("Add: %v", err)
	}
	fi, err := os.Stat(k.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("known hosts mode = %v, want 0600", fi.Mode().Perm())
	}
	if len(syncs) != 2 || syncs[1] != filepath.Dir(k.Path()) {
		t.Errorf("Add synced %q; want the temporary file and then %s", syncs, filepath.Dir(k.Path()))
	}
}
