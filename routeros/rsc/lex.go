package rsc

import (
	"fmt"
	"strings"
)

// eof is what peek returns at the end of the input.
const eof = -1

// cursor walks RouterOS source text. It hides line continuations: a
// backslash at the end of a physical line joins the next one, and the
// continuation's leading blanks are dropped, inside quoted strings too,
// because that is how RouterOS reads the lines its own export wraps.
type cursor struct {
	src  string
	pos  int
	line int // physical line of pos, 1-based
}

func newCursor(src string) *cursor {
	// CR LF and lone CR end a physical line just like LF (Scripting manual,
	// "Physical line").
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	// Windows editors (Notepad, and Winbox's own file editor when saved
	// from there) start a UTF-8 file with a byte order mark; RouterOS
	// imports such a file, so it is not an unexpected character here.
	src = strings.TrimPrefix(src, "\uFEFF")
	return &cursor{src: src, line: 1}
}

// skipCont consumes any line continuations at pos.
func (c *cursor) skipCont() {
	for c.pos+1 < len(c.src) && c.src[c.pos] == '\\' && c.src[c.pos+1] == '\n' {
		c.pos += 2
		c.line++
		for c.pos < len(c.src) && (c.src[c.pos] == ' ' || c.src[c.pos] == '\t') {
			c.pos++
		}
	}
}

// peek returns the next byte after continuations, or eof.
func (c *cursor) peek() int {
	c.skipCont()
	if c.pos >= len(c.src) {
		return eof
	}
	return int(c.src[c.pos])
}

// peekAt returns the byte n positions after the next one, without
// continuation handling (used for two-character operators).
func (c *cursor) peekAt(n int) int {
	c.skipCont()
	if c.pos+n >= len(c.src) {
		return eof
	}
	return int(c.src[c.pos+n])
}

// next consumes and returns the next byte.
func (c *cursor) next() int {
	ch := c.peek()
	if ch == eof {
		return eof
	}
	c.pos++
	if ch == '\n' {
		c.line++
	}
	return ch
}

// skipBlanks skips spaces and tabs (not newlines).
func (c *cursor) skipBlanks() {
	for {
		ch := c.peek()
		if ch != ' ' && ch != '\t' {
			return
		}
		c.next()
	}
}

// restOfLine consumes raw text up to (not including) the newline. Comments
// use it: a backslash does not continue a comment.
func (c *cursor) restOfLine() string {
	start := c.pos
	for c.pos < len(c.src) && c.src[c.pos] != '\n' {
		c.pos++
	}
	return c.src[start:c.pos]
}

func (c *cursor) errorf(format string, args ...any) error {
	return &SyntaxError{Line: c.line, Msg: fmt.Sprintf(format, args...)}
}

// SyntaxError reports a parse failure and the physical line it happened on.
type SyntaxError struct {
	Line   int
	Msg    string
	Script bool // the error comes from ParseScript
}

func (e *SyntaxError) Error() string {
	if e.Script {
		return fmt.Sprintf("rsc: script line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("rsc: line %d: %s", e.Line, e.Msg)
}

func isHex(ch int) bool {
	// The Scripting manual: "Hex number should use capital letters."
	return ch >= '0' && ch <= '9' || ch >= 'A' && ch <= 'F'
}

func hexVal(ch int) byte {
	if ch <= '9' {
		return byte(ch - '0')
	}
	return byte(ch-'A') + 10
}

// quotedPart is one piece of a double-quoted string: literal text, or a
// "$name" variable reference (scripts only).
type quotedPart struct {
	text string
	vr   string // variable name when non-empty
	sub  expr   // $[...] or $(...) (scripts only)
}

// readQuoted reads a double-quoted string starting at the opening quote.
// With vars false a bare $ is an error, as in an export where every $ is
// written \$. The returned parts are literal text unless vars is set.
func (c *cursor) readQuoted(vars bool, p *parser) ([]quotedPart, error) {
	startLine := c.line
	if !c.accept('"') {
		return nil, c.errorf("expected a quoted string")
	}
	var parts []quotedPart
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, quotedPart{text: b.String()})
			b.Reset()
		}
	}
	for {
		ch := c.peek()
		switch ch {
		case eof, '\n':
			return nil, &SyntaxError{Line: startLine, Msg: "unterminated quoted string"}
		case '"':
			c.next()
			flush()
			if len(parts) == 0 {
				parts = append(parts, quotedPart{})
			}
			return parts, nil
		case '\\':
			c.pos++ // the backslash; peek already ruled out a continuation
			e := c.peekRaw()
			switch {
			case isHex(e) && isHex(c.peekRawAt(1)):
				b.WriteByte(hexVal(e)<<4 | hexVal(c.peekRawAt(1)))
				c.pos += 2
				continue
			case e == eof || e == '\n':
				return nil, &SyntaxError{Line: startLine, Msg: "unterminated quoted string"}
			}
			c.pos++
			switch e {
			case '"', '\\', '$', '?':
				b.WriteByte(byte(e))
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '_':
				b.WriteByte(' ')
			case 'a':
				b.WriteByte(7)
			case 'b':
				b.WriteByte(8)
			case 'f':
				b.WriteByte(12)
			case 'v':
				b.WriteByte(11)
			default:
				return nil, c.errorf("unknown escape sequence \\%c in quoted string (hex escapes use two capital digits, like \\1F)", e)
			}
		case '$':
			if !vars {
				return nil, c.errorf("unescaped $ in quoted string (write \\$)")
			}
			c.next()
			flush()
			part, err := p.dollar()
			if err != nil {
				return nil, err
			}
			parts = append(parts, part)
		default:
			c.next()
			b.WriteByte(byte(ch))
		}
	}
}

func (c *cursor) peekRaw() int {
	if c.pos >= len(c.src) {
		return eof
	}
	return int(c.src[c.pos])
}

func (c *cursor) peekRawAt(n int) int {
	if c.pos+n >= len(c.src) {
		return eof
	}
	return int(c.src[c.pos+n])
}

// readWord reads an unquoted token: bytes up to a blank, newline, ';' or
// one of stop.
func (c *cursor) readWord(stop string) string {
	var b strings.Builder
	for {
		ch := c.peek()
		if ch == eof || ch == ' ' || ch == '\t' || ch == '\n' || ch == ';' || strings.IndexByte(stop, byte(ch)) >= 0 {
			return b.String()
		}
		c.next()
		b.WriteByte(byte(ch))
	}
}

func isNameChar(ch int) bool {
	return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.'
}

// readName reads a property, key or menu word ([A-Za-z0-9._-]).
func (c *cursor) readName() string {
	var b strings.Builder
	for isNameChar(c.peek()) {
		b.WriteByte(byte(c.next()))
	}
	return b.String()
}

// atEnd reports whether the next byte ends a command.
func (c *cursor) atEnd() bool {
	ch := c.peek()
	return ch == eof || ch == '\n' || ch == ';'
}

// accept consumes ch if it is next. It leaves anything else unread, so an
// error reported afterwards still names the right line.
func (c *cursor) accept(ch int) bool {
	if c.peek() != ch {
		return false
	}
	c.next()
	return true
}
