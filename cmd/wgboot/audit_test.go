package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
)

// The audit of every example is kept as a golden file; the password comes
// from a prompt on stdin here (no WGBOOT_PASSWORD).
func TestAuditGolden(t *testing.T) {
	paths, _ := filepath.Glob("../../examples/*.rsc")
	for _, p := range paths {
		ex := simtest.LoadExample(t, p)
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()
			r, addr := startSim(t, ex)
			var out, errb strings.Builder
			a := &app{Stdin: strings.NewReader("pw-golden\n"), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
			code := a.main(t.Context(), []string{"audit", "--router", addr, "--fingerprint", r.Info.Fingerprint, "--state-dir", t.TempDir()})
			// The exit code is the verdict: 1 when the API is reachable
			// from the WAN, 0 when it is closed.
			open := strings.Contains(out.String(), "the API is reachable from the WAN")
			if want := map[bool]int{true: exitFailure, false: exitOK}[open]; code != want {
				t.Fatalf("exit %d, want %d (API open on the WAN: %v)\n%s", code, want, open, errb.String())
			}
			if open && !strings.Contains(errb.String(), "wgboot: the API is reachable from the WAN (") {
				t.Errorf("stderr does not give the verdict:\n%s", errb.String())
			}
			if !strings.Contains(errb.String(), "password for admin@") || strings.Contains(out.String()+errb.String(), "pw-golden") {
				t.Errorf("password prompt wrong or password echoed: %q", errb.String())
			}
			got := strings.ReplaceAll(out.String(), addr, "ROUTER")
			got = strings.ReplaceAll(got, r.Info.Fingerprint, "FINGERPRINT")
			golden := filepath.Join("testdata", "audit", ex.Name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("audit output (-want +got):\n%s", diff)
			}
		})
	}
}
