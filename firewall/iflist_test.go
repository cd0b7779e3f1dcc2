package firewall

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wgboot/wgboot/internal/iflistcases"
)

// TestResolveInterfaceLists checks the resolver against the shared table
// (internal/iflistcases) that onboard and routeros/sim check too.
func TestResolveInterfaceLists(t *testing.T) {
	tbl, err := iflistcases.Load()
	if err != nil {
		t.Fatal(err)
	}
	var ifaces []Interface
	for _, n := range tbl.Interfaces {
		ifaces = append(ifaces, Interface{Name: n, Type: "ether", Dynamic: slices.Contains(tbl.Dynamic, n)})
	}
	for _, c := range tbl.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var lists []InterfaceList
			for _, l := range c.Lists {
				lists = append(lists, InterfaceList{Name: l.Name, Include: l.Include, Exclude: l.Exclude})
			}
			var members []ListMember
			for _, m := range c.Members {
				if len(m) == 2 {
					members = append(members, ListMember{List: m[0], Interface: m[1]})
				}
			}
			got := ResolveInterfaceLists(ifaces, lists, members)
			if diff := cmp.Diff(c.Want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ResolveInterfaceLists (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolveInterfaceListsEdges covers what a router export cannot hold
// but a snapshot read over the API can: members of lists with no
// /interface list entry, members naming interfaces that are gone, a name
// given twice, blanks in the comma lists, members of a built-in list.
func TestResolveInterfaceListsEdges(t *testing.T) {
	ifaces := []Interface{{Name: "ether1"}, {Name: "ether2"}, {Name: "ppp1", Dynamic: true}}
	tests := []struct {
		name    string
		lists   []InterfaceList
		members []ListMember
		want    map[string][]string
	}{
		{name: "nothing", want: map[string][]string{}},
		{name: "member of an undefined list", members: []ListMember{{"GHOST", "ether1"}}, want: map[string][]string{"GHOST": {"ether1"}}},
		{name: "member interface gone", lists: []InterfaceList{{Name: "L"}}, members: []ListMember{{"L", "*7"}}, want: map[string][]string{"L": {"*7"}}},
		{name: "duplicate member", members: []ListMember{{"L", "ether1"}, {"L", "ether1"}}, want: map[string][]string{"L": {"ether1"}}},
		{
			name:    "name given twice: both entries count",
			lists:   []InterfaceList{{Name: "L", Include: "A"}, {Name: "L", Exclude: "B"}, {Name: "A"}, {Name: "B"}},
			members: []ListMember{{"A", "ether1"}, {"A", "ether2"}, {"B", "ether2"}},
			want:    map[string][]string{"L": {"ether1"}, "A": {"ether1", "ether2"}, "B": {"ether2"}},
		},
		{name: "blanks in comma lists", lists: []InterfaceList{{Name: "L", Include: " dynamic , ,"}}, want: map[string][]string{"L": {"ppp1"}}},
		{name: "built-in list is not reported", lists: []InterfaceList{{Name: "all"}}, members: []ListMember{{"dynamic", "ether1"}}, want: map[string][]string{}},
		{
			name:    "deep chain",
			lists:   []InterfaceList{{Name: "L1", Include: "L2"}, {Name: "L2", Include: "L3"}, {Name: "L3", Include: "L4"}, {Name: "L4", Include: "L5"}, {Name: "L5", Include: "L6"}, {Name: "L6", Include: "L7"}, {Name: "L7", Include: "L8"}, {Name: "L8", Include: "L9"}, {Name: "L9", Include: "L10"}, {Name: "L10"}},
			members: []ListMember{{"L10", "ether2"}},
			want:    map[string][]string{"L1": {"ether2"}, "L2": {"ether2"}, "L3": {"ether2"}, "L4": {"ether2"}, "L5": {"ether2"}, "L6": {"ether2"}, "L7": {"ether2"}, "L8": {"ether2"}, "L9": {"ether2"}, "L10": {"ether2"}},
		},
		{
			name:    "exclude through a cycle",
			lists:   []InterfaceList{{Name: "A", Include: "all", Exclude: "B"}, {Name: "B", Include: "A"}},
			members: []ListMember{{"B", "ether1"}},
			// A: all minus B, where B seen from A is its own member only.
			// B: A's resolution seen from B (all minus B's own, as B is
			// being resolved) plus its own member.
			want: map[string][]string{"A": {"ether2", "ppp1"}, "B": {"ether1", "ether2", "ppp1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResolveInterfaceLists(ifaces, tt.lists, tt.members)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ResolveInterfaceLists (-want +got):\n%s", diff)
			}
		})
	}
}

// BenchmarkResolveInterfaceListsDiamonds shows that a ladder of lists each
// including the two before it (a hostile or generated config) costs
// lists squared, not two to the lists.
func BenchmarkResolveInterfaceListsDiamonds(b *testing.B) {
	ifaces := []Interface{{Name: "ether1"}}
	var lists []InterfaceList
	for i := range 60 {
		l := InterfaceList{Name: "L" + itoa(i)}
		if i >= 2 {
			l.Include = "L" + itoa(i-1) + ",L" + itoa(i-2)
		}
		lists = append(lists, l)
	}
	members := []ListMember{{"L" + itoa(0), "ether1"}}
	for b.Loop() {
		if got := ResolveInterfaceLists(ifaces, lists, members); len(got["L59"]) != 1 {
			b.Fatal(got["L59"])
		}
	}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }
