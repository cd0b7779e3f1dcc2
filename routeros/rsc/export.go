package rsc

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// File is a parsed export: header comments, then blocks of commands under
// a menu, in file order.
type File struct {
	// Header holds the comment lines before the first command, as written
	// ("# 2026-11-02 09:14:11 by RouterOS 7.16.2", "# model = RB951Ui-2nD").
	Header []string
	Blocks []Block
}

// Block is the commands under one menu line. A menu that appears twice in
// a file gives two blocks, because order matters when a router applies them.
type Block struct {
	Menu     string // "/ip firewall filter"; "/" for the root menu
	Commands []Command
}

// Command is one export command.
type Command struct {
	Line   int    // physical line the command starts on (Format ignores it)
	Verb   string // add, set, remove, move, enable, disable, ...
	Find   *Where // set [ find default-name=ether1 ] ...; nil without a find
	Target string // set ether1 ... / set api-ssl ... (a named item or *ID), or ""; not used together with Find
	Args   []Arg  // in order
	// Ref names the item with a script expression, as wgboot's scripts
	// write it (remove [find where comment="wgboot:..."]), instead of
	// Target or Find. RefArgs are key=expression arguments written after
	// Args (place-before=[find where ...]). The parser never sets them.
	Ref     Ref
	RefArgs []RefArg
}

// Ref is a script expression naming items, written as it is. Make one with
// FindWhere or IDRef: they quote every value in it, so text from a router
// never becomes script.
type Ref string

// FindWhere is [find where prop="value"], the value always a quoted string
// (QuoteString): it finds exactly the items whose prop is value.
func FindWhere(prop, value string) Ref {
	return Ref("[find where " + prop + "=" + QuoteString(value) + "]")
}

// IDRef writes an item's .id (*1F) as a reference, quoted when it is not
// plain (a hostile .id is then at most refused by the router, never run).
func IDRef(id string) Ref { return Ref(Quote(id)) }

// RefArg is one key=expression argument.
type RefArg struct {
	Key string
	Ref Ref
}

// Arg is one key=value argument, or a flag written bare.
type Arg struct{ Key, Value string }

// FlagValue is the Value of an argument written without =value, as
// RouterOS writes yes/no flags of some menus (add ... no-summaries,
// set ... !keepalive): Key holds the word, "!" included. A NUL cannot
// come from an export's key=value.
const FlagValue = "\x00"

// Get returns the value of the first argument named key.
func (c Command) Get(key string) (string, bool) {
	for _, a := range c.Args {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// Commands returns the commands of every block under menu, in file order
// (a menu may appear in several blocks).
func (f *File) Commands(menu string) []Command {
	var out []Command
	for _, b := range f.Blocks {
		if b.Menu == menu {
			out = append(out, b.Commands...)
		}
	}
	return out
}

var (
	versionRE = regexp.MustCompile(`by RouterOS (\S+)`)
	modelRE   = regexp.MustCompile(`^#\s*model\s*=\s*(.*?)\s*$`)
)

// Version returns the RouterOS version named in the header ("7.16.2"), or "".
func (f *File) Version() string {
	for _, h := range f.Header {
		if m := versionRE.FindStringSubmatch(h); m != nil {
			return m[1]
		}
	}
	return ""
}

// Model returns the router model named in the header, or "".
func (f *File) Model() string {
	for _, h := range f.Header {
		if m := modelRE.FindStringSubmatch(h); m != nil {
			return m[1]
		}
	}
	return ""
}

// Parse reads RouterOS export text (/export output). Errors name the
// physical line: "rsc: line 12: unterminated quoted string". Script
// constructs (:foreach, $variables, [substitutions] other than
// [ find ... ]) are refused: use ParseScript for scripts.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("rsc: read export: %w", err)
	}
	p := &parser{c: newCursor(string(data)), export: true}
	c := p.c
	f := &File{}
	var cur *Block
	started := false // a menu or command has been seen: comments are no longer header
	for {
		c.skipBlanks()
		ch := c.peek()
		line := c.line
		switch {
		case ch == eof:
			return f, nil
		case ch == '\n' || ch == ';':
			c.next()
			continue
		case ch == '#':
			text := c.restOfLine()
			if !started {
				f.Header = append(f.Header, text)
			}
			continue
		case ch == ':':
			return nil, c.errorf("script command in an export (only menus and commands are allowed here)")
		}
		started = true
		var menu, verb string
		if ch == '/' {
			if menu, verb, err = p.menuPath(); err != nil {
				return nil, err
			}
			if verb == "" {
				if err := p.endOfCommand(""); err != nil {
					return nil, err
				}
				f.Blocks = append(f.Blocks, Block{Menu: menu})
				cur = &f.Blocks[len(f.Blocks)-1]
				continue
			}
			if cur == nil || cur.Menu != menu {
				f.Blocks = append(f.Blocks, Block{Menu: menu})
				cur = &f.Blocks[len(f.Blocks)-1]
			}
		} else {
			verb = c.readName()
			if !verbs[verb] {
				if verb == "" {
					return nil, c.errorf("unexpected %s at the start of a command", describe(ch))
				}
				return nil, c.errorf("unknown command %q", verb)
			}
			if cur == nil {
				return nil, c.errorf("%s without a menu line before it (like /ip address)", verb)
			}
			menu = cur.Menu
		}
		rc, err := p.command(menu, verb, line, "")
		if err != nil {
			return nil, err
		}
		if rc.verb == "find" {
			return nil, &SyntaxError{Line: line, Msg: "find on its own line does nothing in an export"}
		}
		cmd := Command{Line: line, Verb: verb, Find: rc.find.toWhere()}
		if l, ok := rc.target.(litExpr); ok {
			cmd.Target = string(l)
		}
		prev := ""
		for _, a := range rc.args {
			if a.flag {
				cmd.Args = append(cmd.Args, Arg{Key: a.key, Value: FlagValue})
				continue
			}
			key := a.key
			// RouterOS shortens a dotted property that follows one with the
			// same prefix: configuration.country=x .mode=ap is
			// configuration.mode=ap.
			if strings.HasPrefix(key, ".") && strings.Contains(prev, ".") {
				key = prev[:strings.LastIndexByte(prev, '.')] + key
			}
			prev = key
			cmd.Args = append(cmd.Args, Arg{Key: key, Value: string(a.val.(litExpr))})
		}
		cur.Commands = append(cur.Commands, cmd)
		if c.peek() == '#' {
			c.restOfLine()
		}
	}
}

// ParseString is Parse on a string.
func ParseString(s string) (*File, error) { return Parse(strings.NewReader(s)) }
