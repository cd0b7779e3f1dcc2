// Package durable writes small state files (the journal, known_hosts) so
// that a crash or power loss leaves either the old or the new content, never
// an empty or half-written file, and never a rename the disk forgot.
package durable

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
)

// syncHook, when set, is called with each path WriteFile synced: the
// temporary file, then the directory. Tests set it through SetSyncHook.
var syncHook atomic.Pointer[func(path string)]

// SetSyncHook makes WriteFile report every fsync to f (nil stops it), so
// that a test of a package writing state can prove the write was durable.
// It returns a function restoring the previous hook.
func SetSyncHook(f func(path string)) (restore func()) {
	var p *func(string)
	if f != nil {
		p = &f
	}
	old := syncHook.Swap(p)
	return func() { syncHook.Store(old) }
}

func synced(path string) {
	if f := syncHook.Load(); f != nil {
		(*f)(path)
	}
}

// WriteFile replaces path with data, mode 0600, creating its directory
// (0700) when missing. The data goes to a temporary file beside path, which
// is fsynced, renamed over path, and then the directory is fsynced so that
// the rename itself survives a crash (as an editor or git does).
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	synced(tmp)
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot open a directory
// for fsync and makes renames durable on its own terms.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	synced(dir)
	return nil
}
