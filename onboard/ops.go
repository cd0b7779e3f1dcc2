package onboard

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/wgboot/wgboot/routeros/rsc"
)

// kv is one property of a command, in order.
type kv struct{ K, V string }

// op is one router change as the engine applies it. Its export line and its
// inverse are derived from it, so what is shown is what is sent.
type op struct {
	Key  string // unique within a run; adds carry the comment "wgboot:<run> <key>"
	Step Step   // StepApply or StepHarden
	Desc string
	Menu string // export menu, "/ip firewall filter"
	Verb string // "add", "set" or "move"
	ID   string // set/move: the .id of the existing item
	Name string // set: a name to show instead of the id ("api-ssl", "admin")
	Args []kv   // add/set: properties in order (no comment, no place-before)
	// Before is where an add goes (place-before) or where a move goes
	// (destination): an existing .id, "@key" for an earlier add of this
	// run, or "" for the end.
	Before  string
	Old     []kv   // set: the previous values ("" = was unset)
	OldNext string // move: the .id that followed the item before ("" = it was last)
}

// tag is the comment an add of this run carries.
func tag(run, key string) string { return tagPrefix + run + " " + key }

// findTag is the script expression that finds an item by its tag.
func findTag(run, key string) rsc.Ref { return rsc.FindWhere("comment", tag(run, key)) }

// scriptID writes a router .id into a script. checkIDs refuses any .id
// that is not *HEX before a script is built; quoting it anyway means a
// hostile one could at most be refused by the router, never run.
func scriptID(id string) rsc.Ref { return rsc.IDRef(id) }

// ref renders a place-before/destination reference in export syntax.
func ref(run, r string) rsc.Ref {
	if k, ok := strings.CutPrefix(r, "@"); ok {
		return findTag(run, k)
	}
	return scriptID(r)
}

// target renders the item a set or move works on.
func (o op) target() rsc.Ref {
	if o.Name != "" {
		return rsc.FindWhere("name", o.Name)
	}
	return scriptID(o.ID)
}

// command renders the op in export syntax, ready to paste into a terminal:
// one script line per command (a set that clears properties is more than
// one), each written by rsc.FormatCommand, the one RouterOS writer. Lines
// are never joined and split again: a quoted value may hold "; " or a
// newline escape.
func (o op) command(run string) []string {
	c := rsc.Command{Verb: o.Verb}
	switch o.Verb {
	case "add":
		c.Args = append(rscArgs(o.Args), rsc.Arg{Key: "comment", Value: tag(run, o.Key)})
		if o.Before != "" {
			c.RefArgs = []rsc.RefArg{{Key: "place-before", Ref: ref(run, o.Before)}}
		}
	case "set":
		return setLines(o.Menu, o.target(), o.Args)
	case "move":
		c.Ref = o.target()
		if o.Before != "" {
			c.RefArgs = []rsc.RefArg{{Key: "destination", Ref: ref(run, o.Before)}}
		}
	}
	return []string{rsc.FormatCommand(o.Menu, c)}
}

// inverse renders the commands that undo the op, in export syntax (and
// RouterOS script: the undo script is made of these lines).
func (o op) inverse(run string) []string {
	switch o.Verb {
	case "add":
		return []string{removeLine(o.Menu, findTag(run, o.Key))}
	case "set":
		return setLines(o.Menu, o.target(), o.Old)
	case "move":
		c := rsc.Command{Verb: "move", Ref: o.target()}
		if o.OldNext != "" {
			c.RefArgs = []rsc.RefArg{{Key: "destination", Ref: scriptID(o.OldNext)}}
		}
		return []string{rsc.FormatCommand(o.Menu, c)}
	}
	return nil
}

// removeLine is "menu remove <ref>".
func removeLine(menu string, r rsc.Ref) string {
	return rsc.FormatCommand(menu, rsc.Command{Verb: "remove", Ref: r})
}

// oneLine joins an op's lines for display (the plan, the journal): "; "
// separates commands on a RouterOS command line. Nothing splits it again.
func oneLine(lines []string) string { return strings.Join(lines, "; ") }

// setLines renders a set; empty values become unset commands, the way
// RouterOS clears a property (set with an empty value is refused by many
// properties).
func setLines(menu string, target rsc.Ref, args []kv) []string {
	var set, unset []kv
	for _, a := range args {
		if a.V == "" {
			unset = append(unset, a)
		} else {
			set = append(set, a)
		}
	}
	var lines []string
	if len(set) > 0 {
		lines = append(lines, rsc.FormatCommand(menu, rsc.Command{Verb: "set", Ref: target, Args: rscArgs(set)}))
	}
	for _, a := range unset {
		lines = append(lines, rsc.FormatCommand(menu, rsc.Command{Verb: "unset", Ref: target, Args: []rsc.Arg{{Key: "value-name", Value: a.K}}}))
	}
	return lines
}

// rscArgs converts properties for rsc's writer, in order.
func rscArgs(args []kv) []rsc.Arg {
	out := make([]rsc.Arg, len(args))
	for i, a := range args {
		out[i] = rsc.Arg{Key: a.K, Value: a.V}
	}
	return out
}

// apiPath turns an export menu into an API command path: "/ip firewall
// filter" + "add" -> "/ip/firewall/filter/add".
func apiPath(menu, verb string) string {
	return strings.ReplaceAll(menu, " ", "/") + "/" + verb
}

// clone deep-copies the snapshot so ops can be simulated on it.
func (r *Router) clone() *Router {
	c := *r
	cp := func(rows []Row) []Row {
		out := make([]Row, len(rows))
		for i, row := range rows {
			out[i] = maps.Clone(row)
		}
		return out
	}
	c.Interfaces, c.WireGuard, c.Peers = cp(r.Interfaces), cp(r.WireGuard), cp(r.Peers)
	c.Addresses, c.Addresses6, c.Routes = cp(r.Addresses), cp(r.Addresses6), cp(r.Routes)
	c.Filter, c.NAT, c.Raw, c.Filter6 = cp(r.Filter), cp(r.NAT), cp(r.Raw), cp(r.Filter6)
	// Address lists may hold tens of thousands of entries: the copy shares
	// their rows, which simulate copies before it changes one.
	c.AddressLists, c.Services, c.Users = slices.Clone(r.AddressLists), cp(r.Services), cp(r.Users)
	c.Lists, c.ListMembers = cp(r.Lists), cp(r.ListMembers)
	c.Scripts = cp(r.Scripts)
	c.Cloud = maps.Clone(r.Cloud)
	return &c
}

// rowsFor returns a pointer to the snapshot table an export menu maps to.
func (r *Router) rowsFor(menu string) *[]Row {
	switch menu {
	case "/ip firewall filter":
		return &r.Filter
	case "/ipv6 firewall filter":
		return &r.Filter6
	case "/ip firewall address-list":
		return &r.AddressLists
	case "/interface wireguard":
		return &r.WireGuard
	case "/interface wireguard peers":
		return &r.Peers
	case "/ip address":
		return &r.Addresses
	case "/ip service":
		return &r.Services
	case "/user":
		return &r.Users
	case "/system script":
		return &r.Scripts
	}
	return nil
}

func indexOfID(rows []Row, id string) int {
	return slices.IndexFunc(rows, func(r Row) bool { return r[".id"] == id })
}

// simulate applies ops to a copy of the snapshot, the way the router would,
// so the plan can be checked with the evaluator before anything is sent.
// Items added by the plan get the id "@key".
func simulate(r *Router, run string, ops []op) (*Router, error) {
	c := r.clone()
	for _, o := range ops {
		rows := c.rowsFor(o.Menu)
		if rows == nil {
			return nil, fmt.Errorf("onboard: simulate: no table for %s", o.Menu)
		}
		switch o.Verb {
		case "add":
			row := Row{".id": "@" + o.Key, "comment": tag(run, o.Key)}
			for _, a := range o.Args {
				row[a.K] = a.V
			}
			if o.Menu == "/ip firewall filter" || o.Menu == "/ipv6 firewall filter" {
				row["disabled"] = "false"
			}
			at := len(*rows)
			if o.Before != "" {
				if at = indexOfID(*rows, o.Before); at < 0 {
					return nil, fmt.Errorf("onboard: simulate %s: place-before %s not found", o.Key, o.Before)
				}
			}
			*rows = slices.Insert(*rows, at, row)
			if o.Menu == "/interface wireguard" {
				c.Interfaces = append(c.Interfaces, Row{".id": "@" + o.Key, "name": row["name"], "type": "wg"})
			}
		case "set":
			i := indexOfID(*rows, o.ID)
			if i < 0 {
				return nil, fmt.Errorf("onboard: simulate %s: item %s not found", o.Key, o.ID)
			}
			(*rows)[i] = maps.Clone((*rows)[i]) // clone may share rows with r
			for _, a := range o.Args {
				if a.V == "" {
					delete((*rows)[i], a.K)
				} else {
					(*rows)[i][a.K] = a.V
				}
			}
		case "move":
			i := indexOfID(*rows, o.ID)
			if i < 0 {
				return nil, fmt.Errorf("onboard: simulate %s: item %s not found", o.Key, o.ID)
			}
			row := (*rows)[i]
			*rows = slices.Delete(*rows, i, i+1)
			at := len(*rows)
			if o.Before != "" {
				if at = indexOfID(*rows, o.Before); at < 0 {
					return nil, fmt.Errorf("onboard: simulate %s: destination %s not found", o.Key, o.Before)
				}
			}
			*rows = slices.Insert(*rows, at, row)
		default:
			return nil, fmt.Errorf("onboard: simulate: unknown verb %s", o.Verb)
		}
	}
	return c, nil
}
