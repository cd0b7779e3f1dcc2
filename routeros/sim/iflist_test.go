package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wgboot/wgboot/internal/iflistcases"
)

// TestInterfaceListsTable checks the lists the simulator's firewall
// matches against the table onboard and the firewall package are checked
// against: a router's own export of each case, booted, then resolved.
func TestInterfaceListsTable(t *testing.T) {
	tbl, err := iflistcases.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tbl.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("/interface bridge\nadd name=bridge\n/interface list\n")
			for _, l := range c.Lists {
				fmt.Fprintf(&b, "add name=%s", l.Name)
				if l.Include != "" {
					fmt.Fprintf(&b, " include=%s", l.Include)
				}
				if l.Exclude != "" {
					fmt.Fprintf(&b, " exclude=%s", l.Exclude)
				}
				b.WriteString("\n")
			}
			b.WriteString("/interface list member\n")
			for _, m := range c.Members {
				fmt.Fprintf(&b, "add list=%s interface=%s disabled=%s\n", m[0], m[1], map[bool]string{true: "yes", false: "no"}[len(m) == 3])
			}
			r := startRouter(t, Options{Config: b.String()})
			r.mu.Lock()
			defer r.mu.Unlock()
			// No export can make an ethernet port dynamic: mark it here,
			// as a PPPoE or Detect Internet interface would be.
			for _, ref := range r.st.interfaces() {
				if slices.Contains(tbl.Dynamic, ref.name) {
					ref.it.dynamic = true
				}
			}
			got := r.env().InterfaceLists
			for n := range got {
				if slices.Contains([]string{"all", "none", "dynamic", "static"}, n) {
					delete(got, n) // the evaluator's own business
					continue
				}
				if _, ok := c.Want[n]; !ok {
					t.Errorf("list %s resolved, but the case has no such list", n)
				}
			}
			for n, ms := range got {
				slices.Sort(ms)
				got[n] = ms
			}
			if diff := cmp.Diff(c.Want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("interface lists (-want +got):\n%s\nconfig:\n%s", diff, b.String())
			}
		})
	}
}
