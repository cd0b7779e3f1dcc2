package rsc

import (
	"context"
	"regexp"
	"strconv"
	"strings"
)

// Where is the condition of a find, as in [ find default-name=ether1 ] or
// [ find where comment~"^wgboot:" and !disabled ]. A nil Where, or one with
// an empty Op, matches every item.
type Where struct {
	// Op is "" (every item), a comparison "=", "!=", "~" (regexp), "<",
	// ">", "<=", ">=", "has" (a bare property such as dynamic: true when
	// the property is yes or true), or a combinator "and", "or", "not".
	Op    string
	Prop  string   // property of a comparison or "has"
	Value string   // right-hand side of a comparison
	Args  []*Where // operands of and, or (two or more) and not (one)
}

// Match evaluates w against one item; get returns a property's value and
// whether the item has it. Booleans compare by meaning (yes equals true), an
// absent property compares as "", numbers compare numerically, and ~ is a Go
// regexp search (RouterOS uses POSIX extended regexps; the common subset
// behaves the same).
func (w *Where) Match(get func(prop string) (string, bool)) bool {
	if w == nil {
		return true
	}
	switch w.Op {
	case "":
		return true
	case "and":
		for _, a := range w.Args {
			if !a.Match(get) {
				return false
			}
		}
		return true
	case "or":
		for _, a := range w.Args {
			if a.Match(get) {
				return true
			}
		}
		return false
	case "not":
		return len(w.Args) == 1 && !w.Args[0].Match(get)
	}
	v, ok := get(w.Prop)
	switch w.Op {
	case "has":
		return ok && isTrue(v)
	case "~":
		re, err := regexp.Compile(w.Value)
		return err == nil && re.MatchString(v)
	}
	return compare(w.Op, v, w.Value)
}

// compare applies a comparison operator to two values as text.
func compare(op, a, b string) bool {
	switch op {
	case "=":
		return sameValue(a, b)
	case "!=":
		return !sameValue(a, b)
	case "~":
		re, err := regexp.Compile(b)
		return err == nil && re.MatchString(a)
	}
	c := strings.Compare(a, b)
	if x, err1 := strconv.ParseInt(a, 0, 64); err1 == nil {
		if y, err2 := strconv.ParseInt(b, 0, 64); err2 == nil {
			c = 0
			if x < y {
				c = -1
			} else if x > y {
				c = 1
			}
		}
	}
	switch op {
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	case ">=":
		return c >= 0
	}
	return false
}

// sameValue compares as RouterOS does for the common cases: exact text, or
// the same boolean written as yes/no or true/false (exports say yes, the API
// says true).
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	ba, okA := boolOf(a)
	bb, okB := boolOf(b)
	return okA && okB && ba == bb
}

func boolOf(s string) (v, ok bool) {
	switch s {
	case "yes", "true":
		return true, true
	case "no", "false":
		return false, true
	}
	return false, false
}

func isTrue(s string) bool { v, ok := boolOf(s); return ok && v }

// String writes w in RouterOS expression syntax (the part after "where").
func (w *Where) String() string {
	if w == nil {
		return ""
	}
	switch w.Op {
	case "":
		return ""
	case "and", "or":
		parts := make([]string, len(w.Args))
		for i, a := range w.Args {
			s := a.String()
			if a.Op == "and" || a.Op == "or" || a.Op == "" {
				s = "(" + s + ")"
			}
			parts[i] = s
		}
		return strings.Join(parts, " "+w.Op+" ")
	case "not":
		if len(w.Args) != 1 {
			return "!()"
		}
		a := w.Args[0]
		if a.Op == "has" {
			return "!" + a.Prop
		}
		return "!(" + a.String() + ")"
	case "has":
		return w.Prop
	}
	return w.Prop + w.Op + Quote(w.Value)
}

// findText writes the find command for w: "find" alone, "find a=b c=d" for
// plain equalities (the form exports use) or "find where EXPR".
func (w *Where) findText() string {
	if w == nil || w.Op == "" {
		return "find"
	}
	var eqs []*Where
	switch {
	case w.Op == "=":
		eqs = []*Where{w}
	case w.Op == "and":
		for _, a := range w.Args {
			if a.Op != "=" {
				eqs = nil
				break
			}
			eqs = append(eqs, a)
		}
	}
	if eqs != nil {
		parts := []string{"find"}
		for _, e := range eqs {
			parts = append(parts, e.String())
		}
		return strings.Join(parts, " ")
	}
	return "find where " + w.String()
}

// cond is a parsed find condition whose values may still be script
// expressions ($i, [..]); resolve turns it into a Where.
type cond struct {
	op, prop string
	val      expr
	args     []*cond
}

func (c *cond) resolve(ctx context.Context, r *runner, sc *scope) (*Where, error) {
	if c == nil {
		return nil, nil
	}
	w := &Where{Op: c.op, Prop: c.prop}
	if c.val != nil {
		v, err := c.val.eval(ctx, r, sc)
		if err != nil {
			return nil, err
		}
		w.Value = v.String()
	}
	for _, a := range c.args {
		aw, err := a.resolve(ctx, r, sc)
		if err != nil {
			return nil, err
		}
		w.Args = append(w.Args, aw)
	}
	return w, nil
}

// parseWhere reads the conditions after "find" up to the closing bracket.
func (p *parser) parseWhere() (*cond, error) {
	c := p.c
	c.skipBlanks()
	if p.peekKeyword("where") {
		c.readName()
	}
	c.skipBlanks()
	if c.peek() == ']' {
		return &cond{}, nil
	}
	return p.whereOr()
}

// peekKeyword reports whether the next name is kw, without consuming it.
func (p *parser) peekKeyword(kw string) bool {
	pos, line := p.c.pos, p.c.line
	w := p.c.readName()
	p.c.pos, p.c.line = pos, line
	return w == kw
}

func (p *parser) whereOr() (*cond, error) {
	first, err := p.whereAnd()
	if err != nil {
		return nil, err
	}
	out := &cond{op: "or", args: []*cond{first}}
	for {
		p.c.skipBlanks()
		switch {
		case p.peekKeyword("or"):
			p.c.readName()
		case p.c.peek() == '|' && p.c.peekAt(1) == '|':
			p.c.next()
			p.c.next()
		default:
			if len(out.args) == 1 {
				return first, nil
			}
			return out, nil
		}
		next, err := p.whereAnd()
		if err != nil {
			return nil, err
		}
		out.args = append(out.args, next)
	}
}

func (p *parser) whereAnd() (*cond, error) {
	first, err := p.whereUnary()
	if err != nil {
		return nil, err
	}
	out := &cond{op: "and", args: []*cond{first}}
	for {
		c := p.c
		c.skipBlanks()
		ch := c.peek()
		switch {
		case ch == ']' || ch == ')' || ch == eof || ch == '\n' || ch == ';' || p.peekKeyword("or") || ch == '|' && c.peekAt(1) == '|':
			if len(out.args) == 1 {
				return first, nil
			}
			return out, nil
		case p.peekKeyword("and"):
			c.readName()
		case ch == '&' && c.peekAt(1) == '&':
			c.next()
			c.next()
		}
		// Without a keyword, conditions side by side (find a=b c=d) all
		// have to hold.
		next, err := p.whereUnary()
		if err != nil {
			return nil, err
		}
		out.args = append(out.args, next)
	}
}

func (p *parser) whereUnary() (*cond, error) {
	c := p.c
	c.skipBlanks()
	switch {
	case c.peek() == '!' && c.peekAt(1) != '=':
		c.next()
		x, err := p.whereUnary()
		if err != nil {
			return nil, err
		}
		return &cond{op: "not", args: []*cond{x}}, nil
	case p.peekKeyword("not"):
		c.readName()
		x, err := p.whereUnary()
		if err != nil {
			return nil, err
		}
		return &cond{op: "not", args: []*cond{x}}, nil
	case c.peek() == '(':
		c.next()
		x, err := p.whereOr()
		if err != nil {
			return nil, err
		}
		c.skipBlanks()
		if !c.accept(')') {
			return nil, c.errorf("missing ) in find condition")
		}
		return x, nil
	}
	prop := c.readName()
	if prop == "" {
		return nil, c.errorf("expected a property name in find condition, found %s", describe(c.peek()))
	}
	op := ""
	switch ch := c.peek(); ch {
	case '=', '~':
		op = string(rune(ch))
		c.next()
	case '!':
		if c.peekAt(1) == '=' {
			c.next()
			c.next()
			op = "!="
		}
	case '<', '>':
		c.next()
		op = string(rune(ch))
		if c.peek() == '=' {
			c.next()
			op += "="
		}
	}
	if op == "" {
		return &cond{op: "has", prop: prop}, nil
	}
	v, err := p.value("])")
	if err != nil {
		return nil, err
	}
	if op == "~" {
		if l, ok := v.(litExpr); ok {
			if _, err := regexp.Compile(string(l)); err != nil {
				return nil, c.errorf("bad regular expression %q: %v", string(l), err)
			}
		}
	}
	return &cond{op: op, prop: prop, val: v}, nil
}

// describe names a byte for an error message.
func describe(ch int) string {
	switch ch {
	case eof:
		return "end of input"
	case '\n':
		return "end of line"
	}
	return strconv.QuoteRune(rune(ch))
}

// toWhere converts a condition with only literal values (an export's).
func (c *cond) toWhere() *Where {
	if c == nil {
		return nil
	}
	w := &Where{Op: c.op, Prop: c.prop}
	if l, ok := c.val.(litExpr); ok {
		w.Value = string(l)
	}
	for _, a := range c.args {
		w.Args = append(w.Args, a.toWhere())
	}
	return w
}
