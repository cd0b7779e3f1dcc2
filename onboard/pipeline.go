// The pipeline: turning planned ops into API sentences, resolving ids created earlier in the
// run, and sending them in pipelined waves (sequentially when the order matters).

package onboard

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wgboot/wgboot/routeros"
)

// resolve maps a place-before reference to a router id.
func (a *applyRun) resolve(r string) (string, error) {
	if k, ok := strings.CutPrefix(r, "@"); ok {
		id, ok := a.ids[k]
		if !ok {
			return "", fmt.Errorf("onboard: internal: %s placed before %s, which was not added", r, k)
		}
		return id, nil
	}
	return r, nil
}

// opWords turns an op into the API commands that carry it out.
func (a *applyRun) opWords(run string, o op) ([][]string, error) {
	path := func(verb string) string { return apiPath(o.Menu, verb) }
	switch o.Verb {
	case "add":
		w := []string{path("add")}
		for _, x := range o.Args {
			w = append(w, "="+x.K+"="+x.V)
		}
		w = append(w, "=comment="+tag(run, o.Key))
		if o.Before != "" {
			id, err := a.resolve(o.Before)
			if err != nil {
				return nil, err
			}
			w = append(w, "=place-before="+id)
		}
		return [][]string{w}, nil
	case "set":
		return setWords(o.Menu, o.ID, o.Args), nil
	case "move":
		w := []string{path("move"), "=numbers=" + o.ID}
		if o.Before != "" {
			id, err := a.resolve(o.Before)
			if err != nil {
				return nil, err
			}
			w = append(w, "=destination="+id)
		}
		return [][]string{w}, nil
	}
	return nil, fmt.Errorf("onboard: internal: unknown verb %s", o.Verb)
}

func setWords(menu, id string, args []kv) [][]string {
	var cmds [][]string
	set := []string{apiPath(menu, "set"), "=numbers=" + id}
	for _, x := range args {
		if x.V != "" {
			set = append(set, "="+x.K+"="+x.V)
		}
	}
	if len(set) > 2 {
		cmds = append(cmds, set)
	}
	for _, x := range args {
		if x.V == "" {
			cmds = append(cmds, []string{apiPath(menu, "unset"), "=numbers=" + id, "=value-name=" + x.K})
		}
	}
	return cmds
}

// runOps sends the ops of one step in as few round trips as their
// dependencies allow, each journalled as sent before it leaves. The router
// may run the commands of one batch in any order (tagged commands run at
// once), so an op goes in a later wave than the adds it names (the new
// interface, the new address list) and than an add placed at the same spot
// of the same ordered table. extra are reads that ride along (after the ops
// they name, or after every op with extraLast); their replies come back.
// When the plan's placements need ids only the router can give, the ops go
// one at a time instead.
func (e *Engine) runOps(ctx context.Context, a *applyRun, step Step, extra [][]string, extraLast bool) ([]*routeros.Reply, []error, error) {
	var idx []int
	var ops []op
	for i := range a.j.Ops {
		if jo := &a.j.Ops[i]; jo.Step == step && !jo.Done {
			idx = append(idx, i)
			ops = append(ops, jo.op())
		}
	}
	order, ok := e.pipelineOrder(a, ops)
	if !ok {
		if err := e.runOpsSequential(ctx, a, step); err != nil {
			return nil, nil, err
		}
		if len(extra) == 0 {
			return nil, nil, nil
		}
		reps, errs := e.cl.Batch(ctx, extra...)
		return reps, errs, nil
	}
	wave := opWaves(order)
	extraWave := 0
	for k, o := range order {
		if extraLast || namesAny(extra, o) {
			extraWave = max(extraWave, wave[k]+1)
		}
	}
	var extraReps []*routeros.Reply
	var extraErrs []error
	for w := 0; w <= max(slices.Max(append(wave, 0)), extraWave); w++ {
		var cmds [][]string
		var owner []int // cmds[k] carries a.j.Ops[owner[k]], -1 for extra
		for k, o := range order {
			if wave[k] != w {
				continue
			}
			i := idx[slices.IndexFunc(ops, func(x op) bool { return x.Key == o.Key })]
			words, err := a.opWords(e.run, o)
			if err != nil {
				return nil, nil, err
			}
			a.j.Ops[i].Sent = true
			for _, w := range words {
				cmds = append(cmds, w)
				owner = append(owner, i)
			}
		}
		if w == extraWave {
			for _, x := range extra {
				cmds = append(cmds, x)
				owner = append(owner, -1)
			}
		}
		if len(cmds) == 0 {
			continue
		}
		e.save(a)
		reps, errs := e.cl.Batch(ctx, cmds...)
		failed := map[int]error{}
		var sent []int
		for k, i := range owner {
			if i < 0 {
				extraReps, extraErrs = append(extraReps, reps[k]), append(extraErrs, errs[k])
				continue
			}
			if !slices.Contains(sent, i) {
				sent = append(sent, i)
			}
			jo := &a.j.Ops[i]
			if errs[k] != nil {
				if failed[i] == nil {
					failed[i] = fmt.Errorf("onboard: %s (%s): %w", jo.Desc, jo.Command, errs[k])
				}
				continue
			}
			if jo.Verb == "add" && reps[k] != nil {
				a.ids[jo.Key] = reps[k].Done["ret"]
				jo.NewID = reps[k].Done["ret"]
			}
		}
		var firstErr error
		for _, i := range sent {
			if err := failed[i]; err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			a.j.Ops[i].Done = true
		}
		e.save(a)
		if firstErr != nil {
			return nil, nil, firstErr
		}
		for _, i := range sent {
			e.emit(Event{Step: step, Kind: KindProgress, Message: a.j.Ops[i].Desc})
		}
	}
	return extraReps, extraErrs, nil
}

// opWaves numbers the round trip each op of order goes in (0 first): after
// every earlier add it names by value (an interface or list name), after an
// earlier add or move of the same ordered table placed at the same spot,
// and a move after everything before it in its table.
func opWaves(order []op) []int {
	wave := make([]int, len(order))
	for k, o := range order {
		for j := range k {
			p := order[j]
			dep := p.Verb == "add" && namesOp(o, p)
			if orderedMenu(o.Menu) && p.Menu == o.Menu && (o.Verb == "move" || p.Verb == "move" ||
				o.Verb == "add" && p.Verb == "add" && o.Before == p.Before) {
				dep = true
			}
			if dep {
				wave[k] = max(wave[k], wave[j]+1)
			}
		}
	}
	return wave
}

// orderedMenu reports whether the order of a menu's items matters.
func orderedMenu(menu string) bool {
	return menu == "/ip firewall filter" || menu == "/ipv6 firewall filter"
}

// names are the values an add creates that other commands refer to.
func (o op) names() []string {
	var out []string
	for _, x := range o.Args {
		if x.K == "name" || x.K == "list" {
			out = append(out, x.V)
		}
	}
	return out
}

// namesOp reports whether o refers to something p creates.
func namesOp(o, p op) bool {
	for _, n := range p.names() {
		for _, x := range o.Args {
			if x.K != "name" && x.K != "list" && strings.TrimPrefix(x.V, "!") == n {
				return true
			}
		}
	}
	return false
}

// namesAny reports whether any of cmds refers to something p creates.
func namesAny(cmds [][]string, p op) bool {
	for _, n := range p.names() {
		for _, c := range cmds {
			for _, w := range c[1:] {
				if i := strings.LastIndex(w, "="); i >= 0 && w[i+1:] == n {
					return true
				}
			}
		}
	}
	return false
}

// pipelineOrder returns ops in an order that can go in one batch: every
// place-before and destination names an item that exists before the batch
// (an id from inspect, or an add of an earlier step), checked by simulating
// both on the snapshot. ok is false when no such order gives the same
// tables.
func (e *Engine) pipelineOrder(a *applyRun, ops []op) ([]op, bool) {
	if e.router == nil {
		return nil, false
	}
	inBatch := map[string]bool{}
	for _, o := range ops {
		if o.Verb == "add" {
			inBatch["@"+o.Key] = true
		}
	}
	// The snapshot as this batch finds it: earlier steps' adds are in it
	// under their "@key" ids.
	var earlier []op
	for _, jo := range a.j.Ops {
		if jo.Done && jo.Verb != "" {
			earlier = append(earlier, jo.op())
		}
	}
	base, err := simulate(e.router, e.run, earlier)
	if err != nil {
		return nil, false
	}
	want, err := simulate(base, e.run, ops)
	if err != nil {
		return nil, false
	}
	out := slices.Clone(ops)
	// Within each menu, adds go in the order they have in the final table,
	// each placed before the first item after it that is not new.
	menus := map[string][]int{}
	for i, o := range out {
		if o.Verb == "add" {
			menus[o.Menu] = append(menus[o.Menu], i)
		}
	}
	for menu, slots := range menus {
		rows := want.rowsFor(menu)
		if rows == nil {
			return nil, false
		}
		pos := func(key string) int { return indexOfID(*rows, "@"+key) }
		group := make([]op, len(slots))
		for j, i := range slots {
			group[j] = out[i]
		}
		slices.SortStableFunc(group, func(x, y op) int { return pos(x.Key) - pos(y.Key) })
		for j, i := range slots {
			o := group[j]
			if o.Before != "" || inBatch["@"+o.Key] {
				o.Before = ""
				for _, row := range (*rows)[pos(o.Key)+1:] {
					if !inBatch[row[".id"]] {
						o.Before = row[".id"]
						break
					}
				}
			}
			out[i] = o
		}
	}
	for i, o := range out {
		if o.Verb == "move" && inBatch[o.Before] {
			rows := want.rowsFor(o.Menu)
			if rows == nil {
				return nil, false
			}
			o.Before = ""
			for _, row := range (*rows)[indexOfID(*rows, o.ID)+1:] {
				if !inBatch[row[".id"]] {
					o.Before = row[".id"]
					break
				}
			}
			out[i] = o
		}
	}
	got, err := simulate(base, e.run, out)
	if err != nil {
		return nil, false
	}
	for _, menu := range []string{"/ip firewall filter", "/ipv6 firewall filter", "/ip firewall address-list", "/interface wireguard", "/interface wireguard peers", "/ip address"} {
		if !slices.Equal(ids(*want.rowsFor(menu)), ids(*got.rowsFor(menu))) {
			return nil, false
		}
	}
	return out, true
}

func ids(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[".id"]
	}
	return out
}

// runOpsSequential sends the ops of one step in order, journalling each
// before it leaves and waiting for each reply: the fallback when the plan's
// placements need ids only the router can give.
func (e *Engine) runOpsSequential(ctx context.Context, a *applyRun, step Step) error {
	for i := range a.j.Ops {
		jo := &a.j.Ops[i]
		if jo.Step != step || jo.Done {
			continue
		}
		o := jo.op()
		cmds, err := a.opWords(e.run, o)
		if err != nil {
			return err
		}
		jo.Sent = true
		e.save(a)
		for _, w := range cmds {
			rep, err := e.cl.Run(ctx, w...)
			if err != nil {
				return fmt.Errorf("onboard: %s (%s): %w", o.Desc, jo.Command, err)
			}
			if o.Verb == "add" {
				a.ids[o.Key] = rep.Done["ret"]
				jo.NewID = rep.Done["ret"]
			}
		}
		jo.Done = true
		e.save(a)
		e.emit(Event{Step: step, Kind: KindProgress, Message: o.Desc})
	}
	return nil
}
