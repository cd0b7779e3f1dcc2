package rsc

import (
	"regexp"
	"strings"
)

// flagRE is a flag argument of an export: a property name, or one
// negated with "!".
var flagRE = regexp.MustCompile(`^!?[A-Za-z][A-Za-z0-9._-]*$`)

// parser holds what export and script parsing share: values, find
// conditions and command arguments.
type parser struct {
	c      *cursor
	export bool   // literal values only: no $variables, [substitutions] or (expressions)
	menu   string // scripts: the menu selected by the last menu line of this block
}

// verbs are the command names that end a menu path. RouterOS knows its
// menu tree; without it, a word is a command when it is one of these.
var verbs = map[string]bool{
	"add": true, "set": true, "remove": true, "move": true, "enable": true,
	"disable": true, "unset": true, "reset": true, "comment": true,
	"print": true, "export": true, "find": true, "get": true, "edit": true,
	"run": true, "sign": true, "import": true, "reboot": true,
	"shutdown": true, "save": true, "load": true, "monitor": true,
	"info": true, "warning": true, "error": true, "debug": true,
	"reset-counters": true, "reset-counters-all": true, "make-static": true,
	"renew": true, "release": true, "start": true, "stop": true,
	"flush": true, "ping": true,
}

// rawCmd is one parsed command before it becomes a Command (export) or a
// script statement.
type rawCmd struct {
	line       int
	menu, verb string
	find       *cond // verb "find": its condition; otherwise a [ find ] target (export)
	target     expr
	args       []rawArg
}

type rawArg struct {
	key  string
	val  expr
	flag bool // export: a bare flag word (no-summaries, !keepalive)
}

// menuPath reads "/ip firewall filter" (or "/ip/firewall/filter") and the
// verb after it, if any. The cursor is on the slash.
func (p *parser) menuPath() (menu, verb string, err error) {
	c := p.c
	c.next() // '/'
	var words []string
	for {
		c.skipBlanks()
		if c.atEnd() || c.peek() == '#' || c.peek() == ']' || c.peek() == '}' {
			break
		}
		w := c.readWord("[]{}\"=$#")
		if w == "" {
			return "", "", c.errorf("unexpected %s in menu path", describe(c.peek()))
		}
		if c.peek() == '=' {
			return "", "", c.errorf("%s= follows the menu without a command (like add or set) before it", w)
		}
		for _, part := range strings.Split(w, "/") {
			if part == "" {
				continue
			}
			if verb != "" {
				return "", "", c.errorf("unexpected %q after command %q", part, verb)
			}
			for _, ch := range []byte(part) {
				if !isNameChar(int(ch)) {
					return "", "", c.errorf("bad menu name %q", part)
				}
			}
			if verbs[part] {
				verb = part
			} else {
				words = append(words, part)
			}
		}
		if verb != "" {
			break
		}
	}
	return "/" + strings.Join(words, " "), verb, nil
}

// command reads the rest of a command after its verb. stop holds the extra
// bytes that end it (the closing bracket of a substitution or block).
func (p *parser) command(menu, verb string, line int, stop string) (*rawCmd, error) {
	c := p.c
	rc := &rawCmd{line: line, menu: menu, verb: verb}
	if verb == "find" {
		w, err := p.parseWhere()
		if err != nil {
			return nil, err
		}
		rc.find = w
		return rc, p.endOfCommand(stop)
	}
	positional := 0
	for {
		c.skipBlanks()
		ch := c.peek()
		if c.atEnd() || ch == '#' || strings.IndexByte(stop, byte(ch)) >= 0 {
			return rc, nil
		}
		// key=value
		if isNameChar(ch) {
			pos, ln := c.pos, c.line
			key := c.readName()
			if c.peek() == '=' {
				c.next()
				v, err := p.value(stop)
				if err != nil {
					return nil, err
				}
				rc.args = append(rc.args, rawArg{key: key, val: v})
				continue
			}
			c.pos, c.line = pos, ln
		}
		// A positional value: the item the command acts on, or a [ find ].
		var v expr
		var err error
		quoted := ch == '"'
		if ch == '[' && p.export {
			if rc.find, err = p.exportFind(menu); err != nil {
				return nil, err
			}
		} else if v, err = p.value(stop); err != nil {
			return nil, err
		}
		positional++
		if w, ok := v.(litExpr); ok && p.export && !quoted && flagRE.MatchString(string(w)) &&
			(verb == "add" || positional > 1 || len(rc.args) > 0) {
			// A word after the item (or anywhere in add) is a flag, as an
			// export writes them: /routing ospf area add ... no-summaries.
			rc.args = append(rc.args, rawArg{key: string(w), flag: true})
			continue
		}
		switch {
		case positional == 1 && len(rc.args) == 0 && verb != "add":
			rc.target = v
		case positional == 2 && verb == "move" && v != nil:
			rc.args = append(rc.args, rawArg{key: "destination", val: v})
		case positional == 2 && verb == "get" && v != nil:
			rc.args = append(rc.args, rawArg{key: "value-name", val: v})
		default:
			return nil, c.errorf("%s: unexpected value before or between arguments (arguments are written key=value)", verb)
		}
	}
}

// exportFind reads "[ find ... ]" as an export writes it.
func (p *parser) exportFind(menu string) (*cond, error) {
	c := p.c
	c.next() // '['
	c.skipBlanks()
	if c.peek() == '/' {
		m, verb, err := p.menuPath()
		if err != nil {
			return nil, err
		}
		if m != menu || verb != "find" {
			return nil, c.errorf("only [ find ... ] of the same menu is allowed here")
		}
	} else if w := c.readName(); w != "find" {
		return nil, c.errorf("only [ find ... ] is allowed in an export, found [ %s", w)
	}
	w, err := p.parseWhere()
	if err != nil {
		return nil, err
	}
	c.skipBlanks()
	if !c.accept(']') {
		return nil, c.errorf("missing ] after find")
	}
	return w, nil
}

// endOfCommand checks that nothing but a terminator follows.
func (p *parser) endOfCommand(stop string) error {
	c := p.c
	c.skipBlanks()
	ch := c.peek()
	if c.atEnd() || ch == '#' || strings.IndexByte(stop, byte(ch)) >= 0 {
		return nil
	}
	return c.errorf("unexpected %s after command", describe(ch))
}

// value reads one value: a quoted string, a bare word, or (scripts) a
// $variable, [command substitution] or (expression).
func (p *parser) value(stop string) (expr, error) {
	c := p.c
	var v expr
	switch ch := c.peek(); {
	case ch == '"':
		parts, err := c.readQuoted(!p.export, p)
		if err != nil {
			return nil, err
		}
		v = joinParts(parts)
	case ch == '$' && !p.export:
		c.next()
		part, err := p.dollar()
		if err != nil {
			return nil, err
		}
		if part.sub != nil {
			v = part.sub
		} else {
			v = varExpr(part.vr)
		}
	case ch == '[' && !p.export:
		sub, err := p.substitution()
		if err != nil {
			return nil, err
		}
		v = sub
	case ch == '(' && !p.export:
		c.next()
		x, err := p.exprOr()
		if err != nil {
			return nil, err
		}
		c.skipBlanks()
		if !c.accept(')') {
			return nil, c.errorf("missing ) in expression")
		}
		v = x
	case ch == '{':
		return nil, c.errorf("unexpected { (a block is only allowed after do= or else=)")
	default:
		w := c.readWord(stop)
		if i := strings.IndexAny(w, "\"\\$[]{}"); i >= 0 {
			return nil, c.errorf("unexpected %q in value %q (quote values with special characters)", w[i], w)
		}
		v = litExpr(w)
	}
	// A value has to end here: "a"b or x"y" would be read differently by
	// RouterOS, so refuse rather than guess.
	ch := c.peek()
	if !(c.atEnd() || ch == ' ' || ch == '\t' || ch == '#' || strings.IndexByte(stop, byte(ch)) >= 0) {
		return nil, c.errorf("unexpected %s right after a value", describe(ch))
	}
	return v, nil
}

func joinParts(parts []quotedPart) expr {
	lit := true
	var b strings.Builder
	for _, p := range parts {
		if p.vr != "" || p.sub != nil {
			lit = false
		}
		b.WriteString(p.text)
	}
	if lit {
		return litExpr(b.String())
	}
	return strExpr(parts)
}

func isVarChar(ch int) bool {
	return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_'
}

// dollar reads what follows a $: a name, [substitution] or (expression).
func (p *parser) dollar() (quotedPart, error) {
	c := p.c
	switch c.peek() {
	case '[':
		sub, err := p.substitution()
		return quotedPart{sub: sub}, err
	case '(':
		c.next()
		x, err := p.exprOr()
		if err != nil {
			return quotedPart{}, err
		}
		c.skipBlanks()
		if !c.accept(')') {
			return quotedPart{}, c.errorf("missing ) in expression")
		}
		return quotedPart{sub: x}, nil
	}
	var b strings.Builder
	for isVarChar(c.peek()) {
		b.WriteByte(byte(c.next()))
	}
	if b.Len() == 0 {
		return quotedPart{}, c.errorf("expected a variable name after $ (write \\$ for a literal dollar sign)")
	}
	return quotedPart{vr: b.String()}, nil
}
