package firewall

import (
	"slices"
	"strings"
)

// InterfaceList is one /interface list entry: its name and its include
// and exclude values as RouterOS writes them (comma lists of list names).
type InterfaceList struct {
	Name, Include, Exclude string
}

// ListMember is one /interface list member. The caller leaves out the
// disabled ones: a disabled member puts nothing in its list.
type ListMember struct {
	List, Interface string
}

// builtinLists are RouterOS's predefined interface lists. Their members
// come from the interfaces, not from /interface list member.
var builtinLists = map[string]bool{"all": true, "none": true, "dynamic": true, "static": true}

// ResolveInterfaceLists returns, for every list defined in lists or named
// by a member, its member interfaces (sorted, each once), for
// Env.InterfaceLists. The simulator and the onboarding engine both resolve
// through it, so they agree on what a ruleset matches.
//
// RouterOS (help.mikrotik.com "Interface Lists") builds a list in this
// order: the members of the included lists are added, the members of the
// excluded lists are removed, then the list's own (static) members are
// added. So an own member stays in the list even when an excluded list
// holds it. An included or excluded list counts with its own include and
// exclude resolved (nesting), and the built-in lists all, none, dynamic
// and static name the interfaces in ifaces. A list met again while it is
// being resolved (it includes or excludes itself, directly or through
// others) adds or removes nothing more there; unknown names add and remove
// nothing. Member interfaces missing from ifaces are kept: a packet can
// only arrive on one that exists.
func ResolveInterfaceLists(ifaces []Interface, lists []InterfaceList, members []ListMember) map[string][]string {
	rv := resolver{ifaces: ifaces, own: map[string][]string{}, defs: map[string][]InterfaceList{}}
	for _, m := range members {
		rv.own[m.List] = append(rv.own[m.List], m.Interface)
	}
	for _, l := range lists {
		rv.defs[l.Name] = append(rv.defs[l.Name], l)
	}
	out := map[string][]string{}
	for n := range rv.own {
		out[n] = nil
	}
	for n := range rv.defs {
		out[n] = nil
	}
	for n := range out {
		if builtinLists[n] {
			delete(out, n) // the evaluator knows these
			continue
		}
		// A fresh walk per list: the result of a list in a cycle does not
		// depend on which list the map gave first.
		rv.memo, rv.active = map[string]map[string]bool{}, map[string]bool{}
		set := rv.resolve(n)
		ms := make([]string, 0, len(set))
		for m := range set {
			ms = append(ms, m)
		}
		slices.Sort(ms)
		out[n] = ms
	}
	return out
}

type resolver struct {
	ifaces []Interface
	own    map[string][]string        // list -> its own members
	defs   map[string][]InterfaceList // list -> its entries (a name given twice has two)
	memo   map[string]map[string]bool // lists resolved in this walk
	active map[string]bool            // lists being resolved in this walk
}

func (rv *resolver) resolve(name string) map[string]bool {
	if s, ok := rv.memo[name]; ok {
		return s
	}
	set := map[string]bool{}
	if builtinLists[name] {
		for _, in := range rv.ifaces {
			if name == "all" || name == "dynamic" && in.Dynamic || name == "static" && !in.Dynamic {
				set[in.Name] = true
			}
		}
		rv.memo[name] = set
		return set
	}
	if rv.active[name] {
		return nil // a cycle: nothing more from here
	}
	rv.active[name] = true
	for _, d := range rv.defs[name] {
		for _, inc := range splitNames(d.Include) {
			for m := range rv.resolve(inc) {
				set[m] = true
			}
		}
	}
	for _, d := range rv.defs[name] {
		for _, exc := range splitNames(d.Exclude) {
			for m := range rv.resolve(exc) {
				delete(set, m)
			}
		}
	}
	for _, m := range rv.own[name] {
		set[m] = true
	}
	delete(rv.active, name)
	rv.memo[name] = set
	return set
}

// splitNames splits a comma list of names, dropping blanks around them.
func splitNames(v string) []string {
	var out []string
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
