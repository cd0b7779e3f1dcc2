package sim

import (
	"testing"
)

// TestServiceConnections: from 7.19 each open API session shows in
// /ip service as a dynamic entry named after its service; before, only the
// fixed entries.
func TestServiceConnections(t *testing.T) {
	for _, tt := range []struct {
		version string
		dynamic bool
	}{{"7.18", false}, {"7.19", true}, {"7.24", true}} {
		t.Run(tt.version, func(t *testing.T) {
			r := startRouter(t, Options{Version: tt.version})
			c := dial(t, apiAddr(r, 0), "admin", "")
			rep, err := c.Run("/ip/service/print")
			if err != nil {
				t.Fatal(err)
			}
			var fixed, dyn int
			for _, m := range rows(rep) {
				if m["dynamic"] == "true" {
					dyn++
					if m["name"] != "api" || m["connection"] != "true" || m["port"] != "8728" || m["remote"] == "" {
						t.Errorf("dynamic entry %v", m)
					}
					continue
				}
				fixed++
			}
			if fixed != 8 {
				t.Errorf("%d fixed entries, want 8", fixed)
			}
			if want := map[bool]int{true: 1}[tt.dynamic]; dyn != want {
				t.Errorf("%d dynamic entries on %s, want %d", dyn, tt.version, want)
			}
			// Set and find by name reach the fixed entry only.
			if _, err := c.Run("/ip/service/set", "=numbers=api", "=port=8728"); err != nil {
				t.Errorf("set api: %v", err)
			}
		})
	}
}
