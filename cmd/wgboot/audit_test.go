package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The audit of every example is kept as a golden file; the password comes
// from a prompt on stdin here (no WGBOOT_PASSWORD).
func TestAuditGolden(t *testing.T) {
	paths, _ := filepath.Glob("../../examples/*.rsc")
	for _, p := range paths {
		ex := loadExample(t, p)
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			r, addr := startSim(t, ex)
			var out, errb strings.Builder
			a := &app{Stdin: strings.NewReader("pw-golden\n"), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
			code := a.main(t.Context(), []string{"audit", "--router", addr, "--fingerprint", r.Info().Fingerprint, "--state-dir", t.TempDir()})
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, errb.String())
			}
			if !strings.Contains(errb.String(), "password for admin@") || strings.Contains(out.String()+errb.String(), "pw-golden") {
				t.Errorf("password prompt wrong or password echoed: %q", errb.String())
			}
			got := strings.ReplaceAll(out.String(), addr, "ROUTER")
			got = strings.ReplaceAll(got, r.Info().Fingerprint, "FINGERPRINT")
			golden := filepath.Join("testdata", "audit", ex.name+".golden")
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
