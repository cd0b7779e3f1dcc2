package vpn

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFile(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "wgboot.key")
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("mode = %v, want 0600", m)
	}
	got, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != k {
		t.Errorf("read back a different key")
	}
	other, _ := GenerateKey()
	if err := WriteKeyFile(path, other); !errors.Is(err, fs.ErrExist) {
		t.Errorf("replacing a key file: %v, want fs.ErrExist", err)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("reading a world-readable key: %v, want an error asking for chmod 600", err)
	}
}

func TestParseKeyFile(t *testing.T) {
	k := fixedKey(7)
	tests := []struct {
		name, in string
		wantErr  bool
	}{
		{name: "wg genkey output", in: k.String() + "\n"},
		{name: "spaces around", in: "  " + k.String() + " \r\n"},
		{name: "empty", in: "\n", wantErr: true},
		{name: "short", in: k.String()[:40], wantErr: true},
		{name: "hex", in: hexString(k[:]), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseKeyFile([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatal("parsed, want an error")
				}
				if s := strings.TrimSpace(tt.in); s != "" && strings.Contains(err.Error(), s) {
					t.Fatalf("error %q quotes the input", err)
				}
				return
			}
			if err != nil || got != k {
				t.Fatalf("parseKeyFile = %v, %v; want the key", got, err)
			}
		})
	}
}

// FuzzParseKeyFile checks the key parser never panics and never quotes
// its input in an error.
func FuzzParseKeyFile(f *testing.F) {
	f.Add([]byte(fixedKey(1).String() + "\n"))
	f.Add([]byte("AAAA"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := parseKeyFile(in)
		if err != nil {
			if s := strings.TrimSpace(string(in)); len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error %q quotes the input", err)
			}
			return
		}
		// Base64 may carry non-canonical trailing bits, so compare keys, not text.
		again, err := parseKeyFile([]byte(k.String()))
		if err != nil || again != k {
			t.Fatalf("key parsed from %q does not round-trip: %v", in, err)
		}
	})
}
