package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The old values of what a run modifies (a set or a move of an item that
// is not wgboot's) live on the router itself, in a tagged script that is
// never run: its source is one comment line per modified item, a JSON
// record of the old values, the new ones and where the item came from. A
// rollback whose journal is lost (another machine, a wiped laptop) reads
// them back and restores the item exactly; the script stays until every
// item it describes is restored.
const (
	oldValuesKey    = "old-values"
	oldValuesMarker = "#wgboot-old "
)

// oldValue is one record of the old-values script.
type oldValue struct {
	Key     string   `json:"key"`
	Menu    string   `json:"menu"`
	Verb    string   `json:"verb"`
	ID      string   `json:"id"`
	Name    string   `json:"name,omitempty"`
	Desc    string   `json:"desc"`
	Args    []kv     `json:"args,omitempty"`
	Old     []kv     `json:"old,omitempty"`
	OldNext string   `json:"old_next,omitempty"`
	Match   []kv     `json:"match,omitempty"`
	Deps    []string `json:"deps,omitempty"`
}

// errRowChanged says an item wgboot modified is no longer as wgboot left
// it (edited since, removed, or another router's item under the same id):
// its old values are not replayed over it.
var errRowChanged = errors.New("changed since wgboot modified it")

// errStopped says a rollback stopped before removing the tunnel because
// the WAN path was not open again.
var errStopped = errors.New("rollback stopped before removing the tunnel")

// matchKeys name an item beyond the properties a set changes: a rollback
// restores the item only when these still read as wgboot left them.
var matchKeys = []string{"name", "chain", "action", "protocol", "dst-port", "in-interface", "in-interface-list", "jump-target", "comment"}

// opMeta returns, for each set and move of ops, the properties its item
// has once ops are applied (what a rollback finds there when nobody
// touched it) and the keys of the adds its restore depends on: the adds it
// names (the address-list entries a moved rule now matches) and the
// old-values record. Those stay on the router while the item cannot be
// restored.
func opMeta(r *Router, run string, ops []op) (map[string][]kv, map[string][]string) {
	match := map[string][]kv{}
	deps := map[string][]string{}
	final, err := simulate(r, run, ops)
	if err != nil {
		final = nil
	}
	for i, o := range ops {
		if o.Verb != "set" && o.Verb != "move" {
			continue
		}
		var row Row
		if final != nil {
			if rows := final.rowsFor(o.Menu); rows != nil {
				if k := indexOfID(*rows, o.ID); k >= 0 {
					row = (*rows)[k]
				}
			}
		}
		// What a set of the same item changes is left out: a move is
		// undone first, when that set may not have landed (a batch cut
		// short), and the set checks those values itself.
		setKeys := map[string]bool{}
		for _, p := range ops {
			if p.Verb == "set" && p.Menu == o.Menu && p.ID == o.ID {
				for _, a := range p.Args {
					setKeys[a.K] = true
				}
			}
		}
		var m []kv
		for _, k := range matchKeys {
			if row != nil && row[k] != "" && !setKeys[k] {
				m = append(m, kv{k, row[k]})
			}
		}
		if o.Verb == "set" {
			m = append(m, o.Args...)
		}
		match[o.Key] = m
		d := []string{oldValuesKey}
		for _, p := range ops[:i] {
			if p.Verb == "add" && namesOp(o, p) {
				d = append(d, p.Key)
			}
		}
		deps[o.Key] = d
	}
	return match, deps
}

// addOldValues puts the old-values record into the plan, before its first
// set or move, so the undo removes it after they are restored.
func addOldValues(r *Router, run string, pl *planned, p *Plan) {
	first := slices.IndexFunc(pl.Ops, func(o op) bool { return o.Verb == "set" || o.Verb == "move" })
	if first < 0 || slices.ContainsFunc(pl.Ops, func(o op) bool { return o.Key == oldValuesKey }) {
		return
	}
	match, deps := opMeta(r, run, pl.Ops)
	var b strings.Builder
	b.WriteString("# wgboot run " + run + ": the old values of what it modified, read back by wgboot rollback; not to be run\n")
	for _, o := range pl.Ops {
		if o.Verb != "set" && o.Verb != "move" {
			continue
		}
		rec, _ := json.Marshal(oldValue{Key: o.Key, Menu: o.Menu, Verb: o.Verb, ID: o.ID, Name: o.Name, Desc: o.Desc, Args: o.Args,
			Old: o.Old, OldNext: o.OldNext, Match: match[o.Key], Deps: deps[o.Key]})
		b.WriteString(oldValuesMarker + string(rec) + "\n")
	}
	rec := op{Key: oldValuesKey, Step: StepApply, Desc: "the old values of the items this run modifies, kept on the router for a rollback",
		Menu: "/system script", Verb: "add", Args: []kv{{"name", "wgboot-old-" + run}, {"policy", ""}, {"source", b.String()}}}
	pl.Ops = slices.Insert(pl.Ops, first, rec)
	if p != nil && first <= len(p.Changes) {
		p.Changes = slices.Insert(p.Changes, first, Change{Step: rec.Step, Description: rec.Desc, Command: oneLine(rec.command(run)), Inverse: oneLine(rec.inverse(run))})
	}
}

// readOldValues returns the sets and moves an old-values script records.
func readOldValues(source string) []JournalOp {
	var out []JournalOp
	for _, l := range strings.Split(source, "\n") {
		js, ok := strings.CutPrefix(strings.TrimSpace(l), oldValuesMarker)
		if !ok {
			continue
		}
		var v oldValue
		if json.Unmarshal([]byte(js), &v) != nil || v.ID == "" || v.Menu == "" || (v.Verb != "set" && v.Verb != "move") {
			continue
		}
		out = append(out, JournalOp{Key: v.Key, Step: StepApply, Menu: v.Menu, Verb: v.Verb, ID: v.ID, Name: v.Name, Args: v.Args,
			Old: v.Old, OldNext: v.OldNext, Match: v.Match, Deps: v.Deps, Desc: v.Desc})
	}
	return out
}

// rowStill checks that the item a set or move worked on still reads as
// wgboot left it, before its old values are replayed.
func rowStill(ctx context.Context, cl session, jo *JournalOp) error {
	want := jo.Match
	if len(want) == 0 && jo.Verb == "set" {
		want = jo.Args
	}
	if len(want) == 0 || jo.ID == "" {
		return nil
	}
	rep, err := cl.Run(ctx, apiPath(jo.Menu, "print"), "?.id="+jo.ID)
	if err != nil {
		return fmt.Errorf("onboard: undo %s: read %s: %w", jo.Desc, jo.ID, err)
	}
	if len(rep.Re) == 0 {
		return fmt.Errorf("onboard: %s %s is gone: %s not restored: %w", jo.Menu, jo.ID, jo.Desc, errRowChanged)
	}
	row := Row(rep.Re[0])
	if jo.Verb == "set" && len(jo.Old) > 0 && reads(row, jo.Old) && reads(row, slices.DeleteFunc(slices.Clone(want), func(w kv) bool {
		return slices.ContainsFunc(jo.Args, func(a kv) bool { return a.K == w.K })
	})) {
		// Its old values already: the set never landed (the link died
		// with it) or was undone before.
		return errRestored
	}
	var diffs []string
	for _, w := range want {
		if row[w.K] != w.V {
			diffs = append(diffs, fmt.Sprintf("%s=%q, wgboot left %q", w.K, row[w.K], w.V))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	name := jo.ID
	if c := row["comment"]; c != "" {
		name += " (" + c + ")"
	}
	return fmt.Errorf("onboard: %s %s was %w (%s): its old values were not put back; restore it by hand with: %s",
		jo.Menu, name, errRowChanged, strings.Join(diffs, "; "), jo.op().inverse(""))
}

// errRestored says an item already has its old values: nothing to put back.
var errRestored = errors.New("already restored")

// reads reports whether row has every value of want ("" = unset).
func reads(row Row, want []kv) bool {
	for _, w := range want {
		if row[w.K] != w.V {
			return false
		}
	}
	return true
}

// taggedRun returns the run of wgboot's objects on the router: the
// onboarded one, the armed one, else any tagged object's (a rollback cut
// off midway leaves some).
func (r *Router) taggedRun() string {
	if run := r.onboardedRun(); run != "" {
		return run
	}
	if run := r.armedRun(); run != "" {
		return run
	}
	for _, rows := range [][]Row{r.Filter, r.Filter6, r.AddressLists, r.Addresses, r.Peers, r.WireGuard, r.Scripts, r.Schedulers} {
		for _, row := range rows {
			if rest, ok := strings.CutPrefix(row["comment"], tagPrefix); ok {
				if run, _, ok := strings.Cut(rest, " "); ok && run != "" {
					return run
				}
			}
		}
	}
	return ""
}

// netOf returns the ids of run's safety net on the router: the one-shot
// timer, the undo script and the boot scheduler ("" for each one missing).
func (r *Router) netOf(run string) (timer, script, boot string) {
	for _, s := range r.Schedulers {
		switch s["comment"] {
		case tag(run, "undo-timer"):
			timer = s[".id"]
		case tag(run, "undo-boot"):
			boot = s[".id"]
		}
	}
	for _, s := range r.Scripts {
		if s["comment"] == tag(run, "undo") {
			script = s[".id"]
		}
	}
	return timer, script, boot
}

// readOldValuesSource reads the source of run's old-values script, and of
// no other script: inspect reads scripts without their sources (another
// script's source may hold secrets, finding 22), so the one record a
// journal-less rollback needs is fetched by its id.
func (e *Engine) readOldValuesSource(ctx context.Context, run string) error {
	for _, s := range e.router.Scripts {
		if s["comment"] != tag(run, oldValuesKey) || s["source"] != "" {
			continue
		}
		rep, err := e.cl.Run(ctx, "/system/script/print", "?.id="+s[".id"], "=.proplist=source")
		if err != nil {
			return fmt.Errorf("onboard: read the old values kept on the router: %w", err)
		}
		if len(rep.Re) > 0 {
			s["source"] = rep.Re[0]["source"]
		}
		return nil
	}
	return nil
}
