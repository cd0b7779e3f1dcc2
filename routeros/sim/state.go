package sim

import (
	"sort"
	"strings"
	"time"

	"github.com/wgboot/wgboot/routeros/rsc"
)

// item is one entry of a menu.
type item struct {
	id       uint32
	props    map[string]string // values set on the item (modelled menus: normalised)
	order    []string          // the order properties were first set (generic menus export in it)
	dynamic  bool              // made by the router itself: not exported, not removable
	builtin  bool              // cannot be removed (ethernet ports, services, default groups)
	defaults map[string]string // per-item defaults (service ports), before the menu's
	packets  uint64            // firewall counters
	bytes    uint64
	created  time.Time
	expires  time.Time // address-list entries with a timeout: removed then

	// given holds the properties the loaded configuration wrote, as
	// written, with the value each became: export writes them back as
	// written while they keep that value, defaults included (an export
	// says dst-address=0.0.0.0/0 or disabled=no when the router was told so).
	given map[string]givenValue
	// origin is how the loaded configuration named an item of a menu rossim
	// does not model (set [ find default=yes ], set 0): export names it
	// the same way instead of adding it.
	origin *rsc.Command
}

// givenValue is a property as the loaded configuration wrote it (raw) and
// as rossim stored it (stored).
type givenValue struct{ raw, stored string }

func (it *item) set(k, v string) {
	if _, ok := it.props[k]; !ok {
		it.order = append(it.order, k)
	}
	it.props[k] = v
}

func (it *item) unset(k string) {
	if _, ok := it.props[k]; !ok {
		return
	}
	delete(it.props, k)
	delete(it.given, k)
	for i, o := range it.order {
		if o == k {
			it.order = append(it.order[:i:i], it.order[i+1:]...)
			break
		}
	}
}

func (it *item) clone() *item {
	c := *it
	c.props = make(map[string]string, len(it.props))
	for k, v := range it.props {
		c.props[k] = v
	}
	c.order = append([]string(nil), it.order...)
	if it.given != nil {
		c.given = make(map[string]givenValue, len(it.given))
		for k, v := range it.given {
			c.given[k] = v
		}
	}
	return &c
}

// table holds a menu's items in print order.
type table struct {
	s       *schema
	items   []*item
	counter *uint32 // id counter; the interface menus share one
}

func (t *table) byID(id uint32) (int, *item) {
	for i, it := range t.items {
		if it.id == id {
			return i, it
		}
	}
	return -1, nil
}

// get returns a property's effective value: set, else default.
func (t *table) get(it *item, k string) (string, bool) {
	if v, ok := it.props[k]; ok {
		return v, true
	}
	if v, ok := it.defaults[k]; ok {
		return v, true
	}
	return t.s.defaultOf(k)
}

func (t *table) disabled(it *item) bool {
	v, _ := t.get(it, "disabled")
	return v == "true" || v == "yes"
}

// state is the whole configuration of the router; Router.mu guards it.
type state struct {
	schemas  map[string]*schema
	tables   map[string]*table
	order    []string // generic menus in the order they were first seen
	ifaceIDs *uint32  // the id counter all interface menus share
	version  string   // RouterOS version emulated
}

var ifaceMenus = []string{"/interface ethernet", "/interface bridge", "/interface vlan", "/interface pppoe-client", "/interface wireguard"}

func newState(version string) *state {
	st := &state{schemas: schemas(version), tables: map[string]*table{}, version: version}
	shared := new(uint32)
	st.ifaceIDs = shared
	for name, s := range st.schemas {
		t := &table{s: s, counter: new(uint32)}
		if s.ifType != "" {
			t.counter = shared
		}
		st.tables[name] = t
	}
	return st
}

// table returns the table of menu, creating a generic one for a menu every
// RouterOS has (or any menu when create is set, as when loading a config).
func (st *state) table(menu string, create bool) *table {
	if t := st.tables[menu]; t != nil {
		return t
	}
	kind, known := knownGeneric[menu]
	if !known && !create {
		return nil
	}
	s := &schema{menu: menu, kind: kind, byName: map[string]*field{}, generic: true}
	t := &table{s: s, counter: new(uint32)}
	if isIfaceMenu(menu) {
		t.counter = st.ifaceIDs
	}
	st.tables[menu] = t
	st.order = append(st.order, menu)
	return t
}

// absent reports a menu the emulated version does not have. WireGuard
// arrived in RouterOS 7.1: 7.0.x and 6.x answer /interface/wireguard as
// any unknown menu. The table stays (empty) so that the rest of rossim
// needs no special case.
func (st *state) absent(menu string) bool {
	return (menu == "/interface wireguard" || strings.HasPrefix(menu, "/interface wireguard ")) &&
		!versionAtLeast(st.version, "7.1")
}

// hasPrefix reports whether some menu or command lives under prefix.
func (st *state) hasPrefix(prefix string) bool {
	if prefix == "" {
		return true
	}
	if st.absent(prefix) {
		return false
	}
	check := func(m string) bool { return m == prefix || strings.HasPrefix(m, prefix+" ") }
	for m := range st.tables {
		if check(m) {
			return true
		}
	}
	for m := range knownGeneric {
		if check(m) {
			return true
		}
	}
	for m := range specialVerbs {
		if check(m) {
			return true
		}
	}
	return false
}

func (st *state) newItem(t *table) *item {
	*t.counter++
	return &item{id: *t.counter, props: map[string]string{}}
}

// interfaces lists every interface with its type in /interface order.
func (st *state) interfaces() []ifaceRef {
	var out []ifaceRef
	for _, m := range ifaceMenus {
		t := st.tables[m]
		for _, it := range t.items {
			out = append(out, ifaceRef{t: t, it: it, name: it.props["name"], typ: t.s.ifType})
		}
	}
	// Interfaces of menus rossim keeps as generic items (wireless, lte, ...).
	for _, m := range st.order {
		if !isIfaceMenu(m) {
			continue
		}
		t := st.tables[m]
		typ := m[strings.LastIndexByte(m, ' ')+1:]
		for _, it := range t.items {
			name := it.props["name"]
			if name == "" {
				name = it.props["default-name"]
			}
			if name != "" {
				out = append(out, ifaceRef{t: t, it: it, name: name, typ: typ})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].it.id < out[j].it.id })
	return out
}

type ifaceRef struct {
	t    *table
	it   *item
	name string
	typ  string
}

func (st *state) iface(name string) (ifaceRef, bool) {
	for _, r := range st.interfaces() {
		if r.name == name {
			return r, true
		}
	}
	return ifaceRef{}, false
}

// isIfaceMenu reports whether a generic menu holds interfaces ("/interface wifi").
func isIfaceMenu(menu string) bool {
	rest, ok := strings.CutPrefix(menu, "/interface ")
	return ok && !strings.Contains(rest, " ") && rest != "list"
}
