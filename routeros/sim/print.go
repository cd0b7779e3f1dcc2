package sim

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// query is a compiled API query: a stack program over an item's values.
type query []queryOp

type queryOp struct {
	kind  byte // '=', 'h' (has), '-', '<', '>', '#'
	name  string
	value string
}

// parseQuery compiles API query words (without the leading '?').
func parseQuery(words []string) (query, error) {
	var q query
	for _, w := range words {
		w = strings.TrimPrefix(w, "?")
		switch {
		case strings.HasPrefix(w, "#"):
			ops := w[1:]
			for i := 0; i < len(ops); i++ {
				if !strings.ContainsRune("|&!.0123456789", rune(ops[i])) {
					return nil, fmt.Errorf("sim: unknown query operation %q", ops[i])
				}
			}
			q = append(q, queryOp{kind: '#', value: ops})
		case strings.HasPrefix(w, "-"):
			q = append(q, queryOp{kind: '-', name: w[1:]})
		case strings.HasPrefix(w, "<") || strings.HasPrefix(w, ">"):
			name, value, _ := strings.Cut(w[1:], "=")
			q = append(q, queryOp{kind: w[0], name: name, value: value})
		case strings.HasPrefix(w, "="):
			// "?=name=value" is also accepted by RouterOS.
			name, value, _ := strings.Cut(w[1:], "=")
			q = append(q, queryOp{kind: '=', name: name, value: value})
		default:
			name, value, ok := strings.Cut(w, "=")
			if !ok {
				q = append(q, queryOp{kind: 'h', name: name})
				continue
			}
			q = append(q, queryOp{kind: '=', name: name, value: value})
		}
	}
	return q, nil
}

// match runs the query against one item's values.
//
// Long because: one case per query word (?name, ?-name, ?=, ?<, ?>, ?#),
// as the API documents them, over one stack.
func (q query) match(get func(string) (string, bool)) (bool, error) {
	var st []bool
	pop := func() (bool, error) {
		if len(st) == 0 {
			return false, fmt.Errorf("sim: query stack is empty")
		}
		v := st[len(st)-1]
		st = st[:len(st)-1]
		return v, nil
	}
	for _, op := range q {
		switch op.kind {
		case '=':
			v, ok := get(op.name)
			st = append(st, ok && v == op.value || !ok && op.value == "")
		case 'h':
			_, ok := get(op.name)
			st = append(st, ok)
		case '-':
			_, ok := get(op.name)
			st = append(st, !ok)
		case '<', '>':
			v, ok := get(op.name)
			c := compareValues(v, op.value)
			st = append(st, ok && (op.kind == '<' && c < 0 || op.kind == '>' && c > 0))
		case '#':
			ops := op.value
			for i := 0; i < len(ops); i++ {
				switch c := ops[i]; c {
				case '!':
					v, err := pop()
					if err != nil {
						return false, err
					}
					st = append(st, !v)
				case '&', '|':
					b, err := pop()
					if err != nil {
						return false, err
					}
					a, err := pop()
					if err != nil {
						return false, err
					}
					if c == '&' {
						st = append(st, a && b)
					} else {
						st = append(st, a || b)
					}
				case '.':
				default:
					j := i
					for j < len(ops) && ops[j] >= '0' && ops[j] <= '9' {
						j++
					}
					n, err := strconv.Atoi(ops[i:j])
					if err != nil || n >= len(st) {
						return false, fmt.Errorf("sim: query refers to stack position %s", ops[i:j])
					}
					st = append(st, st[n])
					i = j - 1
				}
			}
		}
	}
	for _, v := range st {
		if !v {
			return false, nil
		}
	}
	return true, nil
}

// compareValues orders numbers numerically (ids too) and the rest as text.
func compareValues(a, b string) int {
	na, oka := numeric(a)
	nb, okb := numeric(b)
	if oka && okb {
		return na.Cmp(nb)
	}
	return strings.Compare(a, b)
}

func numeric(s string) (*big.Int, bool) {
	if id, ok := parseID(s); ok {
		return big.NewInt(int64(id)), true
	}
	n, ok := new(big.Int).SetString(s, 10)
	return n, ok
}

func (r *Router) print(t *table, q *request) (*reply, error) {
	qu, err := parseQuery(q.query)
	if err != nil {
		return nil, trap(-1, "%s", strings.TrimPrefix(err.Error(), "sim: "))
	}
	var proplist []string
	if v, ok := q.get(".proplist"); ok {
		proplist = strings.Split(v, ",")
	}
	for _, a := range q.args {
		switch a.Key {
		case ".proplist", "count-only", "detail", "without-paging", "terse", "brief", "show-ids", "value-list", "stats", "where", "file", "follow", "follow-only", "interval", "as-value":
		default:
			return nil, errUnknownParam()
		}
	}
	var rows [][]arg
	items := t.items
	if t.s.menu == "/ip service" && versionAtLeast(r.o.Version, "7.19") {
		items = append(items[:len(items):len(items)], r.serviceConnections()...)
	}
	if t.s.kind == kindSingle && len(items) == 0 {
		items = []*item{{props: map[string]string{}}}
	}
	for _, it := range items {
		row := r.row(t, it)
		get := func(k string) (string, bool) {
			for _, a := range row {
				if a.Key == k {
					return a.Value, true
				}
			}
			return "", false
		}
		ok, err := qu.match(get)
		if err != nil {
			return nil, trap(-1, "%s", strings.TrimPrefix(err.Error(), "sim: "))
		}
		if !ok {
			continue
		}
		if proplist != nil {
			var sel []arg
			for _, p := range proplist {
				if v, ok := get(p); ok {
					sel = append(sel, arg{p, v})
				}
			}
			row = sel
		}
		rows = append(rows, row)
	}
	if _, ok := q.get("count-only"); ok {
		return &reply{ret: strconv.Itoa(len(rows)), hasRet: true}, nil
	}
	_, follow := q.get("follow")
	all := rows
	if _, only := q.get("follow-only"); only {
		rows, follow = nil, true
	}
	rep := &reply{rows: rows, empty: len(rows) == 0 && !follow, follow: follow}
	if follow {
		again := *q
		again.verb = "print"
		again.args = nil
		for _, a := range q.args {
			if a.Key != "follow" && a.Key != "follow-only" {
				again.args = append(again.args, a)
			}
		}
		rep.again, rep.rowsAll = &again, all
	}
	return rep, nil
}

// row renders an item as print shows it over the API.
func (r *Router) row(t *table, it *item) []arg {
	var out []arg
	if t.s.kind != kindSingle {
		out = append(out, arg{".id", formatID(it.id)})
	}
	if t.s.generic {
		for _, k := range it.order {
			out = append(out, arg{k, it.props[k]})
		}
		return out
	}
	comp := r.computed(t, it)
	for _, f := range t.s.fields {
		if f.name == "password" && t.s.menu == "/user" {
			// A user's password is never printed; a PPPoE client's is,
			// to a user with the sensitive policy, as on RouterOS.
			continue
		}
		if v, ok := comp[f.name]; ok {
			out = append(out, arg{f.name, v})
			continue
		}
		switch f.name {
		case "dynamic":
			out = append(out, arg{f.name, strconv.FormatBool(it.dynamic)})
			continue
		case "builtin":
			out = append(out, arg{f.name, strconv.FormatBool(it.builtin)})
			continue
		}
		if v, ok := t.get(it, f.name); ok {
			out = append(out, arg{f.name, v})
		}
	}
	return out
}
