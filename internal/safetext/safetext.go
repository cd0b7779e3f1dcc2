// Package safetext renders text that came from a router (identity, names,
// comments, error messages) so that it cannot drive the technician's
// terminal: control characters, escape sequences, C1 controls and bidi
// overrides are shown as visible escapes (`\x1b`, `\u202e`) instead of being
// sent raw. A router is a peer wgboot does not trust; its strings are data.
//
// Line is for one-line fields, Text for blocks that may span lines, and
// NewWriter for a whole output stream (JSON included: every escape it adds
// inside a JSON string is a valid JSON escape of the same character).
package safetext

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Line renders s for a one-line field: every control character, newlines
// and tabs included, becomes a visible escape.
func Line(s string) string { return render(s, false) }

// Text renders s for a block of lines: newlines and tabs stay, every other
// control character becomes a visible escape.
func Text(s string) string { return render(s, true) }

// Safe reports whether s needs no escaping as a one-line field.
func Safe(s string) bool { return !needs(s, false) }

// dangerous reports runes a terminal acts on rather than shows: DEL, the
// C1 controls (U+0080-U+009F, CSI and OSC among them in 8-bit form), the
// bidi embeddings, overrides, isolates and marks that reorder what is shown
// (Trojan Source), and the Unicode line and paragraph separators.
func dangerous(r rune) bool {
	switch {
	case r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

func needs(s string, keepLines bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 {
			if keepLines && (c == '\n' || c == '\t') {
				continue
			}
			return true
		}
		if c >= 0x7f {
			// Decode only here: plain ASCII is the common case.
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 || dangerous(r) {
				return true
			}
			i += n - 1
		}
	}
	return false
}

func render(s string, keepLines bool) string {
	if !needs(s, keepLines) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			// An invalid byte: some terminals read 0x9b alone as CSI.
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		writeRune(&b, r, keepLines)
		i += n
	}
	return b.String()
}

func writeRune(b *strings.Builder, r rune, keepLines bool) {
	switch {
	case r == '\n' && !keepLines:
		b.WriteString(`\n`)
	case r == '\t' && !keepLines:
		b.WriteString(`\t`)
	case r == '\r':
		b.WriteString(`\r`)
	case r < 0x20 && r != '\n' && r != '\t':
		fmt.Fprintf(b, `\x%02x`, r)
	case dangerous(r):
		fmt.Fprintf(b, `\u%04x`, r)
	default:
		b.WriteRune(r)
	}
}

// NewWriter returns a writer that passes text to w as Text renders it. A
// rune split across two writes is joined first. JSON passes unchanged in
// meaning: encoding/json already escapes C0 controls, and the \uXXXX
// escapes this adds for DEL, C1 and bidi controls are JSON's own.
func NewWriter(w io.Writer) io.Writer { return &writer{w: w} }

type writer struct {
	mu   sync.Mutex
	w    io.Writer
	tail []byte // the start of a rune cut off by the last write
}

func (sw *writer) Write(p []byte) (int, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	buf := append(sw.tail, p...)
	sw.tail = nil
	// Keep an incomplete rune at the end for the next write.
	if cut := incompleteTail(buf); cut > 0 {
		sw.tail = append([]byte(nil), buf[len(buf)-cut:]...)
		buf = buf[:len(buf)-cut]
	}
	if _, err := io.WriteString(sw.w, Text(string(buf))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// incompleteTail is the length of a valid but unfinished UTF-8 sequence at
// the end of b (0 when none).
func incompleteTail(b []byte) int {
	for n := 1; n <= utf8.UTFMax-1 && n <= len(b); n++ {
		c := b[len(b)-n]
		if c < 0x80 {
			return 0
		}
		if c >= 0xc0 { // a leading byte
			if !utf8.FullRune(b[len(b)-n:]) {
				return n
			}
			return 0
		}
	}
	return 0
}
