package onboard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros/rsc"
	"github.com/wgboot/wgboot/routeros/sim"
)

// apiSSLOff reports an export that switches api-ssl off: wgboot cannot
// reach such a router until the technician switches it on.
func apiSSLOff(t testing.TB, config string) bool {
	f, err := rsc.ParseString(config)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Commands("/ip service") {
		if d, _ := c.Get("disabled"); c.Target == "api-ssl" && (d == "yes" || d == "true") {
			return true
		}
	}
	return false
}

// loadRealExamples reads examples/real: exports of real routers, wired the
// way sim.FindWiring reads them (they carry no wgboot-example line).
func loadRealExamples(t testing.TB) []simtest.Example {
	t.Helper()
	paths, err := filepath.Glob("../examples/real/*.rsc")
	if err != nil || len(paths) < 6 {
		t.Fatalf("examples/real holds %d exports, want at least 6 (%v)", len(paths), err)
	}
	var out []simtest.Example
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ex := simtest.Example{Name: strings.TrimSuffix(filepath.Base(p), ".rsc"), Config: string(b)}
		if apiSSLOff(t, ex.Config) {
			// What the technician does first on such a router (SOURCES.md).
			ex.Config += "\n/ip service\nset api-ssl disabled=no\n"
		}
		w, err := sim.FindWiring(ex.Config)
		if err != nil {
			t.Fatalf("%s: %v", ex.Name, err)
		}
		ex.WAN, ex.LAN, ex.Dynamic = w.WAN, w.LAN, w.Dynamic
		out = append(out, ex)
	}
	return out
}

// TestSimOnboardReal onboards rossim loaded from each real export and rolls
// back: the acceptance list of TestSimOnboard, export restored included.
func TestSimOnboardReal(t *testing.T) {
	for _, ex := range loadRealExamples(t) {
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()
			onboardExample(t, ex, ex.LAN == "")
		})
	}
}
