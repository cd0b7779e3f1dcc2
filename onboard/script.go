package onboard

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wgboot/wgboot/routeros/rsc"
)

// errScript says the undo script wgboot built would not undo the run
// exactly on the router: arming stops before anything is sent.
var errScript = errors.New("the rollback script does not check out")

var (
	// idPattern is the form of every .id RouterOS gives: "*" and hex.
	idPattern = regexp.MustCompile(`^\*[0-9A-Fa-f]+$`)
	// runPattern is the form of a run id: it names the script the boot
	// scheduler's on-event runs, so it must be a plain word.
	runPattern = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)
)

// checkIDs refuses ops carrying a router .id that is not *HEX: such a value
// comes from a broken or hostile router and never enters a script.
func checkIDs(ops []op) error {
	for _, o := range ops {
		for _, x := range []struct{ what, id string }{{"item", o.ID}, {"place", o.Before}, {"old place", o.OldNext}} {
			if x.id == "" || x.what == "place" && strings.HasPrefix(x.id, "@") {
				continue
			}
			if !idPattern.MatchString(x.id) {
				return fmt.Errorf("onboard: %s: the router gave the %s the .id %q, which is not of the form *1F; refusing to write it into a script", o.Desc, x.what, x.id)
			}
		}
	}
	return nil
}

// undoLines are the lines of the script that undoes the run: every inverse
// in reverse order, then it removes its schedulers and itself.
func undoLines(run string, ops []op) []string {
	lines := []string{":log warning " + rsc.Quote("wgboot: rolling back run "+run)}
	for i := len(ops) - 1; i >= 0; i-- {
		lines = append(lines, ops[i].inverse(run)...)
	}
	return append(lines,
		removeLine("/system scheduler", findTag(run, "undo-timer")),
		removeLine("/system scheduler", findTag(run, "undo-boot")),
		removeLine("/system script", findTag(run, "undo")))
}

// undoScript is the RouterOS script that undoes the run. It must run on a
// real router and in rossim's interpreter. It is checked before it is
// returned: the ids are *HEX, it parses, and run against a model of the
// router it carries out exactly the inverse of every op (each find finds
// the exact name or tag, and no other command runs). An error wraps
// errScript.
func undoScript(run string, ops []op) (string, error) {
	if !runPattern.MatchString(run) {
		return "", fmt.Errorf("%w: run id %q is not a plain word", errScript, run)
	}
	if err := checkIDs(ops); err != nil {
		return "", fmt.Errorf("%w: %w", errScript, err)
	}
	src := strings.Join(undoLines(run, ops), "\n") + "\n"
	if err := checkUndo(run, ops, src); err != nil {
		return "", fmt.Errorf("%w: %w", errScript, err)
	}
	return src, nil
}

// checkUndo parses src with the rsc parser and runs it against a model
// holding the items the run touches, under the names and tags the ops
// give. What the script carries out must be the inverse of the ops,
// derived from the ops and not from the text: a literal that does not
// decode to the exact name finds nothing, a cut quote does not parse, an
// injected command is one command too many.
func checkUndo(run string, ops []op, src string) error {
	sc, err := rsc.ParseScript(src)
	if err != nil {
		return fmt.Errorf("it does not parse: %w", err)
	}
	m := &dryRouter{items: map[string][]dryItem{}}
	want := []string{dryLog("warning", "wgboot: rolling back run "+run)}
	ids := make([]string, len(ops))
	for i, o := range ops {
		switch o.Verb {
		case "add":
			ids[i] = fmt.Sprintf("*D%X", i+1)
			m.add(o.Menu, ids[i], "comment", tag(run, o.Key))
		default:
			ids[i] = o.ID
			if o.Name != "" {
				m.add(o.Menu, o.ID, "name", o.Name)
			}
		}
	}
	for i := len(ops) - 1; i >= 0; i-- {
		o := ops[i]
		switch o.Verb {
		case "add":
			want = append(want, dryCmd(o.Menu, "remove", rsc.Arg{Key: "numbers", Value: ids[i]}))
		case "set":
			set := []rsc.Arg{{Key: "numbers", Value: ids[i]}}
			var unset []string
			for _, a := range o.Old {
				if a.V == "" {
					unset = append(unset, dryCmd(o.Menu, "unset", rsc.Arg{Key: "numbers", Value: ids[i]}, rsc.Arg{Key: "value-name", Value: a.K}))
				} else {
					set = append(set, rsc.Arg{Key: a.K, Value: a.V})
				}
			}
			if len(set) > 1 {
				want = append(want, dryCmd(o.Menu, "set", set...))
			}
			want = append(want, unset...)
		case "move":
			args := []rsc.Arg{{Key: "numbers", Value: ids[i]}}
			if o.OldNext != "" {
				args = append(args, rsc.Arg{Key: "destination", Value: o.OldNext})
			}
			want = append(want, dryCmd(o.Menu, "move", args...))
		default:
			return fmt.Errorf("unknown verb %q", o.Verb)
		}
	}
	for i, x := range []struct{ menu, key string }{{"/system scheduler", "undo-timer"}, {"/system scheduler", "undo-boot"}, {"/system script", "undo"}} {
		id := fmt.Sprintf("*E%X", i+1)
		m.add(x.menu, id, "comment", tag(run, x.key))
		want = append(want, dryCmd(x.menu, "remove", rsc.Arg{Key: "numbers", Value: id}))
	}
	if err := sc.Run(context.Background(), m); err != nil {
		return fmt.Errorf("it fails on a model of the router: %w", err)
	}
	if !slices.Equal(m.ran, want) {
		for i := range max(len(m.ran), len(want)) {
			got, exp := "(nothing)", "(nothing)"
			if i < len(m.ran) {
				got = m.ran[i]
			}
			if i < len(want) {
				exp = want[i]
			}
			if got != exp {
				return fmt.Errorf("command %d of the script would run %s instead of %s", i+1, got, exp)
			}
		}
	}
	return nil
}

// dryRouter is the model checkUndo runs the script on: it finds items by
// their properties and records every command instead of carrying it out.
type dryRouter struct {
	items map[string][]dryItem // by menu
	ran   []string
}

type dryItem struct {
	id          string
	prop, value string
}

func (d *dryRouter) add(menu, id, prop, value string) {
	d.items[menu] = append(d.items[menu], dryItem{id: id, prop: prop, value: value})
}

func (d *dryRouter) Find(menu string, where func(get func(string) (string, bool)) bool) ([]string, error) {
	var out []string
	for _, it := range d.items[menu] {
		get := func(p string) (string, bool) {
			if p == it.prop {
				return it.value, true
			}
			return "", false
		}
		if where == nil || where(get) {
			out = append(out, it.id)
		}
	}
	return out, nil
}

func (d *dryRouter) Exec(_ context.Context, menu, verb string, args []rsc.Arg) (string, error) {
	d.ran = append(d.ran, dryCmd(menu, verb, args...))
	return "", nil
}

func (d *dryRouter) Log(_ context.Context, topic, message string) {
	d.ran = append(d.ran, dryLog(topic, message))
}

func (d *dryRouter) Sleep(context.Context, time.Duration) error { return nil }

// dryCmd and dryLog write a command as checkUndo compares it, values
// quoted by Go so that every byte shows.
func dryCmd(menu, verb string, args ...rsc.Arg) string {
	var b strings.Builder
	b.WriteString(menu + " " + verb)
	for _, a := range args {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value)
	}
	return b.String()
}

func dryLog(topic, message string) string { return fmt.Sprintf(":log %s %q", topic, message) }
