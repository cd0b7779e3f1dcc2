package rsc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Target is what a script acts on: a router, the simulator, or a test fake.
type Target interface {
	// Find returns ids (like "*1F") of the items in menu matching where
	// (nil = all).
	Find(menu string, where func(get func(prop string) (string, bool)) bool) ([]string, error)
	// Exec runs one command: menu "/ip firewall filter", verb "add", args
	// in order; the items a command acts on are in the "numbers" arg for
	// set/remove/move/enable/disable. Returns the ret value.
	Exec(ctx context.Context, menu, verb string, args []Arg) (string, error)
	// Log writes a log line: :log warning "..." gives topic "warning".
	Log(ctx context.Context, topic, message string)
	// Sleep waits for d or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

// Script is a parsed RouterOS script, ready to Run any number of times.
type Script struct {
	body []*stmt
}

type stmtKind int

const (
	sCmd stmtKind = iota
	sLocal
	sGlobal
	sSet
	sDelay
	sLog
	sPut
	sError
	sLen
	sForeach
	sIf
	sDo
	sBlock
)

type stmt struct {
	kind     stmtKind
	line     int
	cmd      *rawCmd
	name     string // variable of :local, :global, :set, :foreach
	val      expr   // value, condition (:if) or list (:foreach)
	topic    string // :log
	body     []*stmt
	elseBody []*stmt // :if else, :do on-error
	hasElse  bool
}

// RunError says which script line and command failed, and why.
type RunError struct {
	Line    int
	Command string // "/ip firewall filter remove", ":delay", ...
	Err     error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("rsc: script line %d: %s: %v", e.Line, e.Command, e.Err)
}

func (e *RunError) Unwrap() error { return e.Err }

// ParseScript parses RouterOS script source: menu commands, [find where
// ...], :local/:global/:set, :foreach, :if/else, :do/on-error, :delay, :log,
// :put, :error and :len. Errors name the line:
// "rsc: script line 3: unterminated quoted string".
func ParseScript(src string) (*Script, error) {
	p := &parser{c: newCursor(src)}
	body, err := p.stmts(eof)
	if err == nil && p.c.peek() != eof {
		err = p.c.errorf("unexpected %s", describe(p.c.peek()))
	}
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			se.Script = true
		}
		return nil, err
	}
	return &Script{body: body}, nil
}

// stmts reads statements up to end ('}' or eof), which it leaves unread.
// A menu line selects the menu for the following lines of this block only.
func (p *parser) stmts(end int) ([]*stmt, error) {
	c := p.c
	saved := p.menu
	defer func() { p.menu = saved }()
	stop := ""
	if end == '}' {
		stop = "}"
	}
	var out []*stmt
	for {
		c.skipBlanks()
		ch := c.peek()
		switch {
		case ch == end:
			return out, nil
		case ch == eof:
			return nil, c.errorf("missing } at end of script")
		case ch == '\n' || ch == ';':
			c.next()
			continue
		case ch == '#':
			c.restOfLine()
			continue
		}
		st, err := p.stmt(stop)
		if err != nil {
			return nil, err
		}
		if st != nil {
			out = append(out, st)
		}
	}
}

// stmt reads one statement. A bare menu line returns nil and changes
// p.menu.
func (p *parser) stmt(stop string) (*stmt, error) {
	c := p.c
	line := c.line
	switch ch := c.peek(); ch {
	case '{':
		body, err := p.block()
		if err != nil {
			return nil, err
		}
		return &stmt{kind: sBlock, line: line, body: body}, nil
	case ':':
		c.next()
		return p.builtin(line, stop)
	case '/':
		m, verb, err := p.menuPath()
		if err != nil {
			return nil, err
		}
		if verb == "" {
			if err := p.endOfCommand(stop); err != nil {
				return nil, err
			}
			p.menu = m
			return nil, nil
		}
		// A [find] in this command's arguments searches the command's own
		// menu, as in /ip firewall filter remove [find ...].
		saved := p.menu
		p.menu = m
		rc, err := p.command(m, verb, line, stop)
		p.menu = saved
		if err != nil {
			return nil, err
		}
		return &stmt{kind: sCmd, line: line, cmd: rc}, nil
	}
	verb := c.readName()
	if !verbs[verb] {
		if verb == "" {
			return nil, c.errorf("unexpected %s at the start of a command", describe(c.peek()))
		}
		return nil, c.errorf("unknown command %q", verb)
	}
	if p.menu == "" {
		return nil, c.errorf("%s without a menu (write the menu first, like /ip firewall filter %s ...)", verb, verb)
	}
	rc, err := p.command(p.menu, verb, line, stop)
	if err != nil {
		return nil, err
	}
	return &stmt{kind: sCmd, line: line, cmd: rc}, nil
}

// block reads { statements }.
func (p *parser) block() ([]*stmt, error) {
	c := p.c
	line := c.line
	c.skipBlanks()
	if !c.accept('{') {
		return nil, c.errorf("expected { to start a block")
	}
	body, err := p.stmts('}')
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) && se.Msg == "missing } at end of script" {
			se.Line, se.Msg = line, "block opened here has no closing }"
		}
		return nil, err
	}
	c.next() // '}'
	return body, nil
}

func (p *parser) varName() (string, error) {
	c := p.c
	c.skipBlanks()
	var b strings.Builder
	for isVarChar(c.peek()) {
		b.WriteByte(byte(c.next()))
	}
	if b.Len() == 0 {
		return "", c.errorf("expected a variable name, found %s", describe(c.peek()))
	}
	return b.String(), nil
}

// hasValue reports whether a value follows before the end of the command.
func (p *parser) hasValue(stop string) bool {
	p.c.skipBlanks()
	ch := p.c.peek()
	return !(p.c.atEnd() || ch == '#' || strings.IndexByte(stop, byte(ch)) >= 0)
}

// builtin reads a ":command" after the colon.
//
// Long because: one case per script command (:local, :foreach, :if, ...), each
// short, as in the RouterOS manual.
func (p *parser) builtin(line int, stop string) (*stmt, error) {
	c := p.c
	name := c.readName()
	st := &stmt{line: line}
	var err error
	switch name {
	case "local", "global":
		st.kind = sLocal
		if name == "global" {
			st.kind = sGlobal
		}
		if st.name, err = p.varName(); err != nil {
			return nil, err
		}
		if p.hasValue(stop) {
			if st.val, err = p.value(stop); err != nil {
				return nil, err
			}
		}
	case "set":
		st.kind = sSet
		if st.name, err = p.varName(); err != nil {
			return nil, err
		}
		if p.hasValue(stop) {
			if st.val, err = p.value(stop); err != nil {
				return nil, err
			}
		}
	case "delay", "put", "error", "len":
		st.kind = map[string]stmtKind{"delay": sDelay, "put": sPut, "error": sError, "len": sLen}[name]
		if !p.hasValue(stop) {
			return nil, c.errorf(":%s needs a value", name)
		}
		if st.val, err = p.value(stop); err != nil {
			return nil, err
		}
	case "log":
		st.kind = sLog
		c.skipBlanks()
		st.topic = c.readName()
		switch st.topic {
		case "info", "warning", "error", "debug":
		default:
			return nil, c.errorf(":log needs a topic: info, warning, error or debug (found %q)", st.topic)
		}
		if !p.hasValue(stop) {
			return nil, c.errorf(":log %s needs a message", st.topic)
		}
		if st.val, err = p.value(stop); err != nil {
			return nil, err
		}
	case "foreach":
		st.kind = sForeach
		if st.name, err = p.varName(); err != nil {
			return nil, err
		}
		if err := p.keyedParts(st, stop, map[string]bool{"in": true, "do": true}); err != nil {
			return nil, err
		}
		if st.val == nil || st.body == nil {
			return nil, c.errorf(":foreach needs in= and do={...}")
		}
	case "if":
		st.kind = sIf
		c.skipBlanks()
		if c.peek() != '(' {
			return nil, c.errorf(":if needs a condition in parentheses, like :if ($x = 1) do={...}")
		}
		if st.val, err = p.value(stop); err != nil {
			return nil, err
		}
		if err := p.keyedParts(st, stop, map[string]bool{"do": true, "else": true}); err != nil {
			return nil, err
		}
		if st.body == nil {
			return nil, c.errorf(":if needs do={...}")
		}
	case "do":
		st.kind = sDo
		c.skipBlanks()
		if c.peek() == '{' {
			if st.body, err = p.block(); err != nil {
				return nil, err
			}
		}
		if err := p.keyedParts(st, stop, map[string]bool{"do": true, "on-error": true}); err != nil {
			return nil, err
		}
		if st.body == nil {
			return nil, c.errorf(":do needs a block, like :do {...} on-error={...}")
		}
	case "":
		return nil, c.errorf("expected a command name after :")
	default:
		return nil, c.errorf("unknown command :%s", name)
	}
	return st, p.endOfCommand(stop)
}

// keyedParts reads in=, do={}, else={} and on-error={} parts.
func (p *parser) keyedParts(st *stmt, stop string, allowed map[string]bool) error {
	c := p.c
	for p.hasValue(stop) {
		key := c.readName()
		if !allowed[key] || c.peek() != '=' {
			return c.errorf("unexpected %q (expected one of %s)", key, keys(allowed))
		}
		c.next()
		if key == "in" {
			v, err := p.value(stop)
			if err != nil {
				return err
			}
			st.val = v
			continue
		}
		if c.peek() != '{' {
			return c.errorf("%s= needs a block in braces", key)
		}
		body, err := p.block()
		if err != nil {
			return err
		}
		if body == nil {
			body = []*stmt{}
		}
		if key == "do" {
			st.body = body
		} else {
			st.elseBody, st.hasElse = body, true
		}
	}
	return nil
}

func keys(m map[string]bool) string {
	var out []string
	for _, k := range []string{"in", "do", "else", "on-error"} {
		if m[k] {
			out = append(out, k+"=")
		}
	}
	return strings.Join(out, ", ")
}

// substitution reads [ statement ] as a value.
func (p *parser) substitution() (expr, error) {
	c := p.c
	line := c.line
	c.next() // '['
	c.skipBlanks()
	if c.peek() == ']' {
		c.next()
		return litExpr(""), nil
	}
	saved := p.menu
	st, err := p.stmt("]")
	p.menu = saved
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, &SyntaxError{Line: line, Msg: "a menu alone inside [ ] has no value"}
	}
	c.skipBlanks()
	if !c.accept(']') {
		return nil, &SyntaxError{Line: line, Msg: "missing ] after command substitution"}
	}
	return substExpr{st}, nil
}

// Expressions in parentheses: or, and, !, comparisons.

func (p *parser) exprOr() (expr, error) {
	l, err := p.exprAnd()
	if err != nil {
		return nil, err
	}
	for {
		p.c.skipBlanks()
		if p.peekKeyword("or") {
			p.c.readName()
		} else if p.c.peek() == '|' && p.c.peekAt(1) == '|' {
			p.c.next()
			p.c.next()
		} else {
			return l, nil
		}
		r, err := p.exprAnd()
		if err != nil {
			return nil, err
		}
		l = binExpr{op: "or", l: l, r: r}
	}
}

func (p *parser) exprAnd() (expr, error) {
	l, err := p.exprNot()
	if err != nil {
		return nil, err
	}
	for {
		p.c.skipBlanks()
		if p.peekKeyword("and") {
			p.c.readName()
		} else if p.c.peek() == '&' && p.c.peekAt(1) == '&' {
			p.c.next()
			p.c.next()
		} else {
			return l, nil
		}
		r, err := p.exprNot()
		if err != nil {
			return nil, err
		}
		l = binExpr{op: "and", l: l, r: r}
	}
}

func (p *parser) exprNot() (expr, error) {
	c := p.c
	c.skipBlanks()
	if c.peek() == '!' && c.peekAt(1) != '=' {
		c.next()
		x, err := p.exprNot()
		if err != nil {
			return nil, err
		}
		return notExpr{x}, nil
	}
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	c.skipBlanks()
	op := ""
	switch ch := c.peek(); ch {
	case '=', '~':
		op = string(rune(ch))
	case '!':
		if c.peekAt(1) == '=' {
			op = "!="
		}
	case '<', '>':
		op = string(rune(ch))
		if c.peekAt(1) == '=' {
			op += "="
		}
	}
	if op == "" {
		return l, nil
	}
	for range op {
		c.next()
	}
	r, err := p.primary()
	if err != nil {
		return nil, err
	}
	return binExpr{op: op, l: l, r: r}, nil
}

func (p *parser) primary() (expr, error) {
	c := p.c
	c.skipBlanks()
	switch ch := c.peek(); ch {
	case '(', '"', '$', '[':
		return p.value(")]=<>!~&|")
	case ')', eof, '\n', ';', ']':
		return nil, c.errorf("expected a value in expression, found %s", describe(ch))
	}
	w := c.readWord(")]=<>!~&|")
	if w == "" {
		return nil, c.errorf("expected a value in expression, found %s", describe(c.peek()))
	}
	if i := strings.IndexAny(w, "\"\\$[]{}"); i >= 0 {
		return nil, c.errorf("unexpected %q in expression", w[i])
	}
	return litExpr(w), nil
}

// Values and expressions at run time.

// value is a script value: text, or a list (what find returns).
type value struct {
	s      string
	list   []string
	isList bool
}

// String is the value as text; lists are joined with ';' as :put shows them.
func (v value) String() string {
	if v.isList {
		return strings.Join(v.list, ";")
	}
	return v.s
}

// arg is the value as a command argument; lists are comma separated.
func (v value) arg() string {
	if v.isList {
		return strings.Join(v.list, ",")
	}
	return v.s
}

func (v value) items() []string {
	if v.isList {
		return v.list
	}
	if v.s == "" {
		return nil
	}
	return []string{v.s}
}

func boolValue(b bool) value {
	if b {
		return value{s: "true"}
	}
	return value{s: "false"}
}

type expr interface {
	eval(ctx context.Context, r *runner, sc *scope) (value, error)
}

type (
	litExpr   string
	varExpr   string
	strExpr   []quotedPart
	substExpr struct{ st *stmt }
	notExpr   struct{ x expr }
	binExpr   struct {
		op   string
		l, r expr
	}
)

func (e litExpr) eval(context.Context, *runner, *scope) (value, error) {
	return value{s: string(e)}, nil
}

func (e varExpr) eval(_ context.Context, _ *runner, sc *scope) (value, error) {
	s := sc.lookup(string(e))
	if s == nil {
		return value{}, fmt.Errorf("undefined variable $%s (declare it with :local or :global)", string(e))
	}
	return s.v, nil
}

func (e strExpr) eval(ctx context.Context, r *runner, sc *scope) (value, error) {
	var b strings.Builder
	for _, p := range e {
		b.WriteString(p.text)
		var x expr
		switch {
		case p.vr != "":
			x = varExpr(p.vr)
		case p.sub != nil:
			x = p.sub
		default:
			continue
		}
		v, err := x.eval(ctx, r, sc)
		if err != nil {
			return value{}, err
		}
		b.WriteString(v.String())
	}
	return value{s: b.String()}, nil
}

func (e substExpr) eval(ctx context.Context, r *runner, sc *scope) (value, error) {
	return r.exec(ctx, sc, e.st)
}

func (e notExpr) eval(ctx context.Context, r *runner, sc *scope) (value, error) {
	v, err := e.x.eval(ctx, r, sc)
	if err != nil {
		return value{}, err
	}
	b, err := truth(v)
	return boolValue(!b), err
}

func (e binExpr) eval(ctx context.Context, r *runner, sc *scope) (value, error) {
	l, err := e.l.eval(ctx, r, sc)
	if err != nil {
		return value{}, err
	}
	switch e.op {
	case "and", "or":
		lb, err := truth(l)
		if err != nil {
			return value{}, err
		}
		// Short-circuit like RouterOS: the right side may not be valid.
		if e.op == "and" && !lb || e.op == "or" && lb {
			return boolValue(lb), nil
		}
		rv, err := e.r.eval(ctx, r, sc)
		if err != nil {
			return value{}, err
		}
		rb, err := truth(rv)
		return boolValue(rb), err
	}
	rv, err := e.r.eval(ctx, r, sc)
	if err != nil {
		return value{}, err
	}
	return boolValue(compare(e.op, l.String(), rv.String())), nil
}

func truth(v value) (bool, error) {
	b, ok := boolOf(v.String())
	if !ok {
		return false, fmt.Errorf("%q is not true or false", v.String())
	}
	return b, nil
}

// slot holds one variable; :global names share the runner's slots.
type slot struct{ v value }

type scope struct {
	vars   map[string]*slot
	parent *scope
}

func (s *scope) child() *scope { return &scope{vars: map[string]*slot{}, parent: s} }

func (s *scope) lookup(name string) *slot {
	for ; s != nil; s = s.parent {
		if v, ok := s.vars[name]; ok {
			return v
		}
	}
	return nil
}

// runner is the state of one Run.
type runner struct {
	t       Target
	globals map[string]*slot
}

// Run executes the script against t. A failing command stops the script;
// the error is a *RunError naming the line and command. A command whose
// target is an empty find result (remove [find ...] matching nothing) does
// nothing, as on RouterOS. :put output is discarded. Globals live for this
// Run only.
func (s *Script) Run(ctx context.Context, t Target) error {
	r := &runner{t: t, globals: map[string]*slot{}}
	_, err := r.block(ctx, (&scope{}).child(), s.body)
	return err
}

func (r *runner) block(ctx context.Context, sc *scope, body []*stmt) (value, error) {
	var last value
	for _, st := range body {
		if err := ctx.Err(); err != nil {
			return value{}, &RunError{Line: st.line, Command: st.describe(), Err: err}
		}
		v, err := r.exec(ctx, sc, st)
		if err != nil {
			return value{}, err
		}
		last = v
	}
	return last, nil
}

func (st *stmt) describe() string {
	switch st.kind {
	case sCmd:
		if st.cmd.menu == "/" {
			return "/" + st.cmd.verb
		}
		return st.cmd.menu + " " + st.cmd.verb
	case sBlock:
		return "{...}"
	}
	return ":" + [...]string{sLocal: "local", sGlobal: "global", sSet: "set", sDelay: "delay", sLog: "log",
		sPut: "put", sError: "error", sLen: "len", sForeach: "foreach", sIf: "if", sDo: "do"}[st.kind]
}

// exec runs one statement and returns its value (for [ ] substitution).
func (r *runner) exec(ctx context.Context, sc *scope, st *stmt) (value, error) {
	v, err := r.execInner(ctx, sc, st)
	if err != nil {
		var re *RunError
		if errors.As(err, &re) {
			return value{}, err
		}
		return value{}, &RunError{Line: st.line, Command: st.describe(), Err: err}
	}
	return v, nil
}

// execInner runs one statement; exec wraps its errors with the line.
//
// Long because: one case per statement kind, each short; they share the
// eval closure.
func (r *runner) execInner(ctx context.Context, sc *scope, st *stmt) (value, error) {
	eval := func(e expr) (value, error) {
		if e == nil {
			return value{}, nil
		}
		return e.eval(ctx, r, sc)
	}
	switch st.kind {
	case sCmd:
		return r.command(ctx, sc, st.cmd)
	case sLocal, sGlobal:
		v, err := eval(st.val)
		if err != nil {
			return value{}, err
		}
		if st.kind == sLocal {
			sc.vars[st.name] = &slot{v: v}
			return value{}, nil
		}
		g := r.globals[st.name]
		if g == nil {
			g = &slot{}
			r.globals[st.name] = g
		}
		if st.val != nil {
			g.v = v
		}
		sc.vars[st.name] = g
		return value{}, nil
	case sSet:
		s := sc.lookup(st.name)
		if s == nil {
			return value{}, fmt.Errorf("undefined variable %s (declare it with :local or :global)", st.name)
		}
		v, err := eval(st.val)
		if err != nil {
			return value{}, err
		}
		s.v = v
		return value{}, nil
	case sDelay:
		v, err := eval(st.val)
		if err != nil {
			return value{}, err
		}
		d, err := ParseDuration(v.String())
		if err != nil {
			return value{}, err
		}
		return value{}, r.t.Sleep(ctx, d)
	case sLog:
		v, err := eval(st.val)
		if err != nil {
			return value{}, err
		}
		r.t.Log(ctx, st.topic, v.String())
		return value{}, nil
	case sPut:
		_, err := eval(st.val)
		return value{}, err
	case sError:
		v, err := eval(st.val)
		if err != nil {
			return value{}, err
		}
		return value{}, errors.New(v.String())
	case sLen:
		v, err := eval(st.val)
		if err != nil {
			return value{}, err
		}
		n := len(v.s)
		if v.isList {
			n = len(v.list)
		}
		return value{s: strconv.Itoa(n)}, nil
	case sForeach:
		v, err := eval(st.val)
		if err != nil {
			return value{}, err
		}
		for _, item := range v.items() {
			inner := sc.child()
			inner.vars[st.name] = &slot{v: value{s: item}}
			if _, err := r.block(ctx, inner, st.body); err != nil {
				return value{}, err
			}
		}
		return value{}, nil
	case sIf:
		v, err := eval(st.val)
		if err != nil {
			return value{}, err
		}
		b, err := truth(v)
		if err != nil {
			return value{}, fmt.Errorf("condition: %w", err)
		}
		if b {
			return r.block(ctx, sc.child(), st.body)
		}
		if st.hasElse {
			return r.block(ctx, sc.child(), st.elseBody)
		}
		return value{}, nil
	case sDo:
		v, err := r.block(ctx, sc.child(), st.body)
		if err != nil && st.hasElse && ctx.Err() == nil {
			return r.block(ctx, sc.child(), st.elseBody)
		}
		return v, err
	case sBlock:
		return r.block(ctx, sc.child(), st.body)
	}
	return value{}, fmt.Errorf("internal: unknown statement kind %d", st.kind)
}

// command runs a menu command (find goes to Target.Find, the rest to Exec).
func (r *runner) command(ctx context.Context, sc *scope, rc *rawCmd) (value, error) {
	if rc.verb == "find" {
		w, err := rc.find.resolve(ctx, r, sc)
		if err != nil {
			return value{}, err
		}
		var match func(get func(string) (string, bool)) bool
		if w != nil && w.Op != "" {
			match = w.Match
		}
		ids, err := r.t.Find(rc.menu, match)
		if err != nil {
			return value{}, err
		}
		if ids == nil {
			ids = []string{}
		}
		return value{list: ids, isList: true}, nil
	}
	var args []Arg
	if rc.target != nil {
		v, err := rc.target.eval(ctx, r, sc)
		if err != nil {
			return value{}, err
		}
		if v.isList && len(v.list) == 0 {
			// Nothing matched: RouterOS does nothing and reports no error,
			// which is what lets a cleanup script run twice.
			return value{}, nil
		}
		args = append(args, Arg{Key: "numbers", Value: v.arg()})
	}
	for _, a := range rc.args {
		v, err := a.val.eval(ctx, r, sc)
		if err != nil {
			return value{}, err
		}
		args = append(args, Arg{Key: a.key, Value: v.arg()})
	}
	ret, err := r.t.Exec(ctx, rc.menu, rc.verb, args)
	return value{s: ret}, err
}
