package simtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Build is a command of this module built once per test binary, on first
// use (tests that do not run it, and fuzz workers, never build it):
//
//	var wgboot = simtest.Build{Pkg: "../cmd/wgboot"}
//	bin := wgboot.Path(t)
//
// TestMain calls Remove after the tests.
type Build struct {
	Pkg string // the main package, relative to the test's package directory

	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the command the first time and returns the binary's path;
// a failed build fails t (and every later caller).
func (b *Build) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "wgboot-build-")
		if b.err != nil {
			return
		}
		abs, err := filepath.Abs(b.Pkg)
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(b.dir, filepath.Base(abs))
		if out, err := exec.Command("go", "build", "-o", b.path, b.Pkg).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build %s: %v\n%s", b.Pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Remove deletes the built binary, if there is one.
func (b *Build) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}
