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
	f, err := parseConfig(text)
	if err != nil {
		return err
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
				return &ConfigError{Line: c.Line, Text: sourceLine(text, c.Line), Err: fmt.Errorf("%s %s: %w", b.Menu, c.Verb, err)}
			}
		}
	}
	r.fasttrackDummy()
	return nil
}

// parseConfig parses export text; a syntax error is a ConfigError.
func parseConfig(text string) (*rsc.File, error) {
	f, err := rsc.ParseString(text)
	if err != nil {
		var se *rsc.SyntaxError
		if errors.As(err, &se) {
			return nil, &ConfigError{Line: se.Line, Text: sourceLine(text, se.Line), Err: errors.New(se.Msg)}
		}
		return nil, fmt.Errorf("sim: config: %w", err)
	}
	return f, nil
}

// ConfigError is a configuration that does not load: the physical line
// the failing command starts on, that line as written, and why.
type ConfigError struct {
	Line int
	Text string
	Err  error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("sim: config line %d: %s\n  %d | %s", e.Line, e.Err, e.Line, e.Text)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// sourceLine returns physical line n of text (1-based) without its line
// ending, cut to a terminal's width.
func sourceLine(text string, n int) string {
	text = strings.TrimPrefix(text, "\uFEFF")
	for i := 1; i < n; i++ {
		j := strings.IndexAny(text, "\r\n")
		if j < 0 {
			return ""
		}
		if text[j] == '\r' && j+1 < len(text) && text[j+1] == '\n' {
			j++
		}
		text = text[j+1:]
	}
	if j := strings.IndexAny(text, "\r\n"); j >= 0 {
		text = text[:j]
	}
	if len(text) > 100 {
		text = text[:97] + "..."
	}
	return text
}

// configArgs are a command's arguments as the command layer takes them
// (a bare flag keeps rsc.FlagValue, so that export writes it bare again).
func configArgs(c rsc.Command) []arg {
	var out []arg
	for _, a := range c.Args {
		out = append(out, arg{a.Key, a.Value})
	}
	return out
}

// applyConfigCommand applies one command of a loaded export.
//
// Long because: one case per verb and target form (find, named target,
// the /interface aggregate view), each as the command layer takes it.
func (r *Router) applyConfigCommand(ctx context.Context, menu string, c rsc.Command) error {
	if menu == "/interface" && (c.Verb == "set" || c.Verb == "enable" || c.Verb == "disable" || c.Verb == "remove") {
		// Resolved against the aggregate view.
		q := &request{menu: menu, verb: c.Verb, system: true}
		ids, err := r.findInterfaces(c)
		if err != nil {
			return err
		}
		q.args = append(q.args, arg{"numbers", strings.Join(ids, ",")})
		q.args = append(q.args, configArgs(c)...)
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
			it.origin = &rsc.Command{Verb: "set", Find: c.Find}
			t.items = append(t.items, it)
			ids = append(ids, formatID(it.id))
		}
		if len(ids) == 0 {
			return fmt.Errorf("no item matches [ find %s ]", c.Find.String())
		}
		q.args = append(q.args, arg{"numbers", strings.Join(ids, ",")})
	case c.Target != "":
		if t.s.generic && t.s.kind != kindSingle && r.findOne(t, c.Target) == nil {
			// set 0 name=serial0 (/port), set wlan1 ... (/interface wireless
			// nstreme): an item rossim does not know, named as the export
			// names it.
			it := r.st.newItem(t)
			it.origin = &rsc.Command{Verb: "set", Target: c.Target}
			t.items = append(t.items, it)
			q.args = append(q.args, arg{"numbers", formatID(it.id)})
			break
		}
		q.args = append(q.args, arg{"numbers", c.Target})
	}
	if t.s.generic && t.s.kind == kindSingle && len(t.items) == 0 {
		t.items = append(t.items, r.st.newItem(t))
	}
	q.args = append(q.args, configArgs(c)...)
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
