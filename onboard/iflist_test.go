package onboard

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wgboot/wgboot/firewall"
	"github.com/wgboot/wgboot/internal/iflistcases"
)

// TestResolveListsTable checks the engine's view of the interface lists
// (the WAN it closes, the lists its firewall model matches) against the
// table the simulator and the firewall package are checked against.
func TestResolveListsTable(t *testing.T) {
	tbl, err := iflistcases.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tbl.Cases {
		t.Run(c.Name, func(t *testing.T) {
			r := &Router{}
			for _, n := range tbl.Interfaces {
				dyn := "false"
				if slices.Contains(tbl.Dynamic, n) {
					dyn = "true"
				}
				r.Interfaces = append(r.Interfaces, Row{"name": n, "type": "ether", "dynamic": dyn})
			}
			for _, l := range c.Lists {
				r.Lists = append(r.Lists, Row{"name": l.Name, "include": l.Include, "exclude": l.Exclude})
			}
			for _, m := range c.Members {
				r.ListMembers = append(r.ListMembers, Row{"list": m[0], "interface": m[1], "disabled": boolText(len(m) == 3)})
			}
			if diff := cmp.Diff(c.Want, r.resolveLists(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("resolveLists (-want +got):\n%s", diff)
			}
		})
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestWANListAllButLAN: a router whose WAN list is "everything but LAN"
// (include=all exclude=LAN, a common hand-written setup) has its WAN in
// that list. The engine used to resolve include=all to nothing: it found
// no WAN from the list, and its firewall model let a drop rule on the WAN
// list pass the API through.
func TestWANListAllButLAN(t *testing.T) {
	r := &Router{
		Interfaces:  []Row{{"name": "ether1", "type": "ether"}, {"name": "bridge", "type": "bridge"}},
		Lists:       []Row{{"name": "LAN"}, {"name": "WAN", "include": "all", "exclude": "LAN"}},
		ListMembers: []Row{{"list": "LAN", "interface": "bridge"}},
		Addresses:   []Row{{"address": "192.0.2.2/24", "interface": "ether1"}},
	}
	ws, lists := wansOf(r)
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	if !slices.Equal(names, []string{"ether1"}) || !slices.Equal(lists, []string{"WAN"}) {
		t.Errorf("WANs %q from lists %q, want [ether1] from [WAN]", names, lists)
	}
	rules := []firewall.Rule{{"chain": "input", "action": "drop", "in-interface-list": "WAN", "protocol": "tcp", "dst-port": "8729"}}
	v := firewall.EvaluateInput(firewall.Tables{Filter: rules}, r.env(), firewall.Packet{InInterface: "ether1",
		Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("192.0.2.2"), Protocol: "tcp", SrcPort: 40000, DstPort: 8729})
	if v.Action != "drop" {
		t.Errorf("API from the WAN: %s, want drop by the WAN-list rule", v.Action)
	}
}
