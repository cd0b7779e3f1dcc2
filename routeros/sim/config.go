package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wgboot/wgboot/routeros/rsc"
)

// loadConfig applies export text through the same command layer as the
// API, so validation is identical. Errors name the line. Caller holds r.mu.
func (r *Router) loadConfig(ctx context.Context, text string) error {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	f, err := rsc.ParseString(text)
	if err != nil {
		return fmt.Errorf("sim: config: %w", err)
	}
	r.bootUniq = map[*table]map[string]bool{}
	defer func() { r.bootUniq = nil }()
	for _, b := range f.Blocks {
		menu := b.Menu
		if menu == "/" {
			menu = ""
		}
		for _, c := range b.Commands {
			if err := r.applyConfigCommand(ctx, menu, c); err != nil {
				var te *trapError
				if errors.As(err, &te) {
					err = errors.New(te.msg)
				}
				return fmt.Errorf("sim: config line %d: %s %s: %w", c.Line, b.Menu, c.Verb, err)
			}
		}
	}
	r.fasttrackDummy()
	return nil
}

func (r *Router) applyConfigCommand(ctx context.Context, menu string, c rsc.Command) error {
	if menu == "/interface" && (c.Verb == "set" || c.Verb == "enable" || c.Verb == "disable" || c.Verb == "remove") {
		// Resolved against the aggregate view.
		q := &request{menu: menu, verb: c.Verb, system: true}
		ids, err := r.findInterfaces(c)
		if err != nil {
			return err
		}
		q.args = append(q.args, arg{"numbers", strings.Join(ids, ",")})
		for _, a := range c.Args {
			q.args = append(q.args, arg{a.Key, a.Value})
		}
		_, err = r.exec(ctx, q)
		return err
	}
	if menu == "" {
		return fmt.Errorf("a %s at the root menu is not configuration", c.Verb)
	}
	if r.st.absent(menu) {
		return fmt.Errorf("no such menu in RouterOS %s (WireGuard arrived in 7.1)", r.o.Version)
	}
	t := r.st.table(menu, true)
	if c.Verb != "add" {
		delete(r.bootUniq, t)
	}
	if t.s.generic && len(t.items) == 0 && c.Verb == "set" && c.Find == nil && c.Target == "" {
		t.s.kind = kindSingle
	}
	if menu == "/interface" || !verbAllowed(t.s, c.Verb) && c.Verb != "run" {
		return fmt.Errorf("%s is not a command of this menu", c.Verb)
	}
	q := &request{menu: menu, verb: c.Verb, system: true}
	switch {
	case c.Find != nil:
		var ids []string
		for _, it := range t.items {
			row := r.row(t, it)
			get := func(k string) (string, bool) {
				for _, a := range row {
					if a.Key == k {
						return a.Value, true
					}
				}
				return "", false
			}
			if c.Find.Match(get) {
				ids = append(ids, formatID(it.id))
			}
		}
		if len(ids) == 0 && t.s.generic {
			// A generic menu rossim does not know the items of (wireless
			// ports and the like): the item the find names is created.
			it := r.st.newItem(t)
			if c.Find.Op == "=" {
				it.set(c.Find.Prop, c.Find.Value)
			}
			t.items = append(t.items, it)
			ids = append(ids, formatID(it.id))
		}
		if len(ids) == 0 {
			return fmt.Errorf("no item matches [ find %s ]", c.Find.String())
		}
		q.args = append(q.args, arg{"numbers", strings.Join(ids, ",")})
	case c.Target != "":
		q.args = append(q.args, arg{"numbers", c.Target})
	}
	if t.s.generic && t.s.kind == kindSingle && len(t.items) == 0 {
		t.items = append(t.items, r.st.newItem(t))
	}
	for _, a := range c.Args {
		q.args = append(q.args, arg{a.Key, a.Value})
	}
	_, err := r.exec(ctx, q)
	return err
}

func (r *Router) findInterfaces(c rsc.Command) ([]string, error) {
	var ids []string
	for _, ref := range r.st.interfaces() {
		row := r.row(ref.t, ref.it)
		get := func(k string) (string, bool) {
			for _, a := range row {
				if a.Key == k {
					return a.Value, true
				}
			}
			return "", false
		}
		if (c.Find != nil && c.Find.Match(get)) || (c.Target != "" && ref.name == c.Target) {
			ids = append(ids, formatID(ref.it.id))
		}
	}
	if len(ids) == 0 {
		return nil, errNoSuchItem()
	}
	return ids, nil
}
