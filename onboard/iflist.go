package onboard

import "github.com/wgboot/wgboot/firewall"

// resolveLists returns interface list -> members, resolved as RouterOS
// does (firewall.ResolveInterfaceLists, which the simulator uses too):
// include=all/dynamic/static, nested and self-referring lists, own members
// kept when an excluded list holds them. Built-in lists are the
// evaluator's business and have no entry.
func (r *Router) resolveLists() map[string][]string {
	var ifaces []firewall.Interface
	for _, i := range r.Interfaces {
		ifaces = append(ifaces, firewall.Interface{Name: i["name"], Type: ifaceType(i["type"]), Dynamic: isTrue(i["dynamic"])})
	}
	lists := make([]firewall.InterfaceList, 0, len(r.Lists))
	for _, l := range r.Lists {
		lists = append(lists, firewall.InterfaceList{Name: l["name"], Include: l["include"], Exclude: l["exclude"]})
	}
	var members []firewall.ListMember
	for _, m := range r.ListMembers {
		if enabled(m) {
			members = append(members, firewall.ListMember{List: m["list"], Interface: m["interface"]})
		}
	}
	return firewall.ResolveInterfaceLists(ifaces, lists, members)
}
