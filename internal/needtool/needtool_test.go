package needtool

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a check stopped the test
// instead of stopping it (its Skip and Fatal return).
type recorder struct {
	testing.TB
	skipped, failed string
	errored         bool
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skip(args ...any)                  { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }
func (r *recorder) Errorf(format string, args ...any) { r.errored = true }
func (r *recorder) Logf(string, ...any)               {}

func TestMissing(t *testing.T) {
	absent := filepath.Join(t.TempDir(), "no-such-thing")
	for _, tt := range []struct {
		name    string
		require string
		check   func(testing.TB)
		skip    bool
		fail    bool
	}{
		{"tool there", "", func(tb testing.TB) { Tool(tb, "test", "go") }, false, false},
		{"tool there, required", "1", func(tb testing.TB) { Tool(tb, "test", "go") }, false, false},
		{"tool missing skips", "", func(tb testing.TB) { Tool(tb, "test", "go", "wgboot-no-such-tool") }, true, false},
		{"tool missing fails in CI", "1", func(tb testing.TB) { Tool(tb, "test", "wgboot-no-such-tool") }, false, true},
		{"other values do not require", "yes", func(tb testing.TB) { Tool(tb, "test", "wgboot-no-such-tool") }, true, false},
		{"file missing skips", "", func(tb testing.TB) { File(tb, absent) }, true, false},
		{"file missing fails in CI", "1", func(tb testing.TB) { File(tb, absent) }, false, true},
		{"file there", "1", func(tb testing.TB) { File(tb, t.TempDir()) }, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(Env, tt.require)
			r := &recorder{TB: t}
			tt.check(r)
			if (r.skipped != "") != tt.skip || (r.failed != "") != tt.fail {
				t.Errorf("skipped %q, failed %q; want skip %v, fail %v", r.skipped, r.failed, tt.skip, tt.fail)
			}
		})
	}
}

func TestHas(t *testing.T) {
	for _, tt := range []struct {
		require, name string
		want, errored bool
	}{
		{"", "go", true, false},
		{"", "wgboot-no-such-tool", false, false},
		{"1", "wgboot-no-such-tool", false, true},
	} {
		t.Setenv(Env, tt.require)
		r := &recorder{TB: t}
		if got := Has(r, tt.name); got != tt.want || r.errored != tt.errored {
			t.Errorf("%s=%q Has(%q) = %v, errored %v; want %v, %v", Env, tt.require, tt.name, got, r.errored, tt.want, tt.errored)
		}
	}
}

func TestRoot(t *testing.T) {
	t.Setenv(Env, "1")
	r := &recorder{TB: t}
	Root(r, "test")
	if got := r.failed != ""; got != (os.Geteuid() != 0) {
		t.Errorf("Root as uid %d with %s=1: failed %q", os.Geteuid(), Env, r.failed)
	}
}

// TestCIRequiresTools: the CI script installs the tools and sets the
// variable, so the tests that need them run there instead of skipping.
func TestCIRequiresTools(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	for _, want := range []string{"need+=(tmux)", "need+=(wireguard-tools)", "need+=(iproute2)", "export " + Env + "=1\n", "\nmake test"} {
		if !strings.Contains(script, want) {
			t.Errorf(".ci/run lacks %q", want)
		}
	}
	// The variable must be set before the tests run (make lint may come
	// between).
	if e, m := strings.Index(script, "export "+Env+"=1\n"), strings.Index(script, "\nmake test"); e < 0 || m < 0 || e > m {
		t.Errorf(".ci/run sets %s after make test (or not at all)", Env)
	}
}
