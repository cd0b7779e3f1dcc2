package durable

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) // what is there before
		wantErr bool
	}{
		{name: "missing directory", prepare: func(*testing.T, string) {}},
		{name: "replaces a world-readable file", prepare: func(t *testing.T, path string) {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte("old content that is longer"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "directory is a file", wantErr: true, prepare: func(t *testing.T, path string) {
			if err := os.WriteFile(filepath.Dir(path), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			path := filepath.Join(dir, "journal.json")
			tt.prepare(t, path)
			var mu sync.Mutex
			var syncs []string
			defer SetSyncHook(func(p string) {
				mu.Lock()
				syncs = append(syncs, p)
				mu.Unlock()
			})()

			err := WriteFile(path, []byte("new\n"))
			if tt.wantErr {
				if err == nil {
					t.Fatal("WriteFile succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			b, err := os.ReadFile(path)
			if err != nil || string(b) != "new\n" {
				t.Fatalf("content = %q, %v; want %q", b, err, "new\n")
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the file (no temporary left)", len(entries))
			}
			// The data is synced before the rename, the directory after.
			if len(syncs) != 2 || !strings.HasPrefix(filepath.Base(syncs[0]), ".journal.json.tmp") || syncs[1] != dir {
				t.Errorf("synced %q, want the temporary file and then %s", syncs, dir)
			}
		})
	}
}

func TestSetSyncHookRestores(t *testing.T) {
	var outer, inner []string
	restore := SetSyncHook(func(p string) { outer = append(outer, p) })
	SetSyncHook(func(p string) { inner = append(inner, p) })()
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "f"), nil); err != nil {
		t.Fatal(err)
	}
	restore()
	if err := WriteFile(filepath.Join(dir, "g"), nil); err != nil {
		t.Fatal(err)
	}
	if len(inner) != 0 || len(outer) != 2 || !slices.Contains(outer, dir) {
		t.Errorf("outer hook saw %q, inner %q; want the outer to see one write's two syncs", outer, inner)
	}
}
