// Package needtool decides what a test does when something it needs from
// the machine is missing (a program such as tmux, wg or ip; root; a device
// such as /dev/net/tun): on a developer's machine it skips, saying what to
// install; in CI, where .ci/run installs everything and runs as root, it
// fails, so a test that quietly stopped running cannot pass for green.
//
// CI says so by setting WGBOOT_REQUIRE_TOOLS=1.
package needtool

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Env is the variable that turns the skips into failures.
const Env = "WGBOOT_REQUIRE_TOOLS"

// Required reports whether missing tools fail the test (Env is "1").
func Required() bool { return os.Getenv(Env) == "1" }

// Tool stops t unless every named program is on PATH: a skip normally, a
// failure with WGBOOT_REQUIRE_TOOLS=1. why names the package to install.
func Tool(t testing.TB, why string, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing(t, fmt.Sprintf("needs %s (%s; .ci/run installs it)", n, why))
			return
		}
	}
}

// Has reports whether the program is on PATH, for a test that only checks
// more when it is there. Missing, it fails the test with
// WGBOOT_REQUIRE_TOOLS=1 (CI must run the extra checks too).
func Has(t testing.TB, name string) bool {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if Required() {
			t.Errorf("needs %s, and %s=1 requires it: %v", name, Env, err)
		} else {
			t.Logf("%s is not installed: its checks are left out", name)
		}
		return false
	}
	return true
}

// Root stops t unless it runs as root, with what root is needed for.
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "needs root to "+why+" (run the tests as root, as .ci/run does)")
	}
}

// File stops t unless path exists (a device such as /dev/net/tun).
func File(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, fmt.Sprintf("needs %s: %v", path, err))
	}
}

// missing skips, or fails when the tools are required. Both end the test
// (Skip and Fatal stop its goroutine).
func missing(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s, and %s=1 makes this a failure, not a skip", msg, Env)
		return
	}
	t.Skip(msg)
}
