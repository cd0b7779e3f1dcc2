package sim

import (
	"sort"
	"strings"

	"github.com/wgboot/wgboot/routeros/rsc"
)

// exportOrder is the order modelled menus appear in an export; generic
// /interface menus come right after the typed interfaces (other menus
// refer to their ports), the other generic menus at the end.
var exportOrder = []string{
	"/interface bridge", "/interface ethernet", "/interface pppoe-client", "/interface vlan", "/interface wireguard",
	"@generic-interface",
	"/interface list", "/interface wireguard peers", "/interface bridge port", "/interface bridge vlan",
	"/interface list member", "/ip address", "/ip cloud", "/ip firewall address-list", "/ip firewall filter",
	"/ip firewall nat", "/ip firewall raw", "/ip firewall mangle", "/ip route", "/ip service",
	"/ipv6 address", "/ipv6 firewall address-list", "/ipv6 firewall filter", "/system clock",
	"/system identity", "/system note", "/system script", "/system scheduler", "/user group",
	"@generic",
}

// Export returns the router's configuration as export text: stable order,
// defaults omitted, private keys included so a load gives the same state.
func (r *Router) Export() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exportLocked()
}

// sensitive properties /export hides unless show-sensitive is given.
var sensitive = map[string]bool{"private-key": true, "preshared-key": true, "password": true}

func (r *Router) exportLocked() string { return r.exportText(true) }

func (r *Router) exportText(showSensitive bool) string {
	f := &rsc.File{Header: []string{
		"# " + r.clk.now().Format("2006-01-02 15:04:05") + " by RouterOS " + r.o.Version,
		"# software id = " + r.hw.softID,
		"#",
		"# model = " + r.hw.model,
		"# serial number = " + r.hw.serial,
	}}
	for _, m := range exportOrder {
		switch m {
		case "@generic-interface", "@generic":
			for _, g := range r.st.order {
				if strings.HasPrefix(g, "/interface ") == (m == "@generic-interface") {
					r.exportMenu(f, g, showSensitive)
				}
			}
		default:
			r.exportMenu(f, m, showSensitive)
		}
	}
	return rsc.Format(f)
}

func (r *Router) exportMenu(f *rsc.File, menu string, showSensitive bool) {
	t := r.st.tables[menu]
	if t == nil {
		return
	}
	var cmds []rsc.Command
	for _, it := range t.items {
		if it.dynamic {
			continue
		}
		args := r.exportArgs(t, it)
		if !showSensitive {
			kept := args[:0]
			for _, a := range args {
				if !sensitive[a.Key] {
					kept = append(kept, a)
				}
			}
			args = kept
		}
		switch {
		case it.origin != nil && t.s.kind != kindSingle:
			// An item the loaded configuration named with set [ find ... ]
			// or set 0: named the same way again.
			c := *it.origin
			for _, a := range args {
				if c.Find != nil && c.Find.Op == "=" && a.Key == c.Find.Prop && a.Value == c.Find.Value {
					continue
				}
				c.Args = append(c.Args, a)
			}
			cmds = append(cmds, c)
		case t.s.kind == kindSingle:
			if len(args) > 0 {
				cmds = append(cmds, rsc.Command{Verb: "set", Args: args})
			}
		case t.s.generic && it.props["default-name"] != "":
			// A port the router has from the factory (wifi1, lte1): set, not add.
			var rest []rsc.Arg
			for _, a := range args {
				if a.Key != "default-name" {
					rest = append(rest, a)
				}
			}
			cmds = append(cmds, rsc.Command{Verb: "set", Find: &rsc.Where{Op: "=", Prop: "default-name", Value: it.props["default-name"]}, Args: rest})
		case t.s.kind == kindFixed && menu == "/interface ethernet":
			if len(args) > 0 {
				cmds = append(cmds, rsc.Command{Verb: "set", Find: &rsc.Where{Op: "=", Prop: "default-name", Value: it.props["default-name"]}, Args: args})
			}
		case t.s.kind == kindFixed:
			if len(args) > 0 {
				cmds = append(cmds, rsc.Command{Verb: "set", Target: it.props[t.s.key], Args: args})
			}
		case menu == "/user group" && it.builtin:
			if len(args) > 0 {
				cmds = append(cmds, rsc.Command{Verb: "set", Target: it.props["name"], Args: args})
			}
		default:
			cmds = append(cmds, rsc.Command{Verb: "add", Args: args})
		}
	}
	if len(cmds) > 0 {
		f.Blocks = append(f.Blocks, rsc.Block{Menu: menu, Commands: cmds})
	}
}

// exportArgs lists the values of an item that differ from defaults, in
// export form (booleans as yes/no), and every property the loaded
// configuration gave, as it wrote it, while it keeps that value.
func (r *Router) exportArgs(t *table, it *item) []rsc.Arg {
	var args []rsc.Arg
	if t.s.generic {
		for _, k := range it.order {
			args = append(args, rsc.Arg{Key: k, Value: it.props[k]})
		}
		return args
	}
	for _, f := range t.s.fields {
		v, ok := it.props[f.name]
		if g, given := it.given[f.name]; ok && given && g.stored == v {
			// Written back as the loaded configuration wrote it, even when
			// it is the default (dst-address=0.0.0.0/0, disabled=no).
			args = append(args, rsc.Arg{Key: f.name, Value: g.raw})
			continue
		}
		if !ok || f.ro || strings.HasPrefix(f.name, "~") {
			continue
		}
		if d, ok := it.defaults[f.name]; ok && d == v {
			continue
		}
		if f.hasDef && f.def == v && f.name != "action" {
			continue // RouterOS exports keep action=accept
		}
		if t.s.menu == "/interface ethernet" && f.name == "name" && v == it.props["default-name"] {
			continue
		}
		if t.s.menu == "/user group" && it.builtin && f.name == "name" {
			continue
		}
		if t.s.menu == "/system clock" && (f.name == "time" || f.name == "date") {
			continue
		}
		if f.typ == tBool {
			if b, ok := parseBool(v); ok {
				v = map[bool]string{true: "yes", false: "no"}[b]
			}
		}
		args = append(args, rsc.Arg{Key: f.name, Value: v})
	}
	// Properties rossim does not model, kept from the loaded configuration
	// (a flag keeps rsc.FlagValue, so that it is written bare).
	for _, k := range it.order {
		if t.s.field(k) == nil {
			args = append(args, rsc.Arg{Key: k, Value: it.props[k]})
		}
	}
	// RouterOS writes arguments in alphabetical order.
	sort.SliceStable(args, func(i, j int) bool {
		return strings.TrimPrefix(args[i].Key, "!") < strings.TrimPrefix(args[j].Key, "!")
	})
	return args
}
