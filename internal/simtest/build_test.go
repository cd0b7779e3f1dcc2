package simtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A command is built once, runs, and is gone after Remove; a package that
// does not build fails every caller.
func TestBuild(t *testing.T) {
	b := &Build{Pkg: "./testdata/hello"}
	path := b.Path(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(path).Output(); err != nil || strings.TrimSpace(string(out)) != "hello from simtest" {
		t.Fatalf("run %s: %q %v", path, out, err)
	}
	if again := b.Path(t); again != path {
		t.Errorf("second Path %q, want %q", again, path)
	}
	if st2, _ := os.Stat(path); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("built a second time")
	}
	b.Remove()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("after Remove: %v", err)
	}

	bad := &Build{Pkg: "./testdata/no-such-command"}
	for range 2 {
		r := &recorder{TB: t}
		r.do(func() { bad.Path(r) })
		if !strings.Contains(r.failed, "build ./testdata/no-such-command") {
			t.Errorf("failed %q, want the build error", r.failed)
		}
	}
	bad.Remove()
}
