package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// wrapWords wraps s to w cells at spaces only: a token (a path, a
// fingerprint, a command) longer than the line stays whole on a line of
// its own, so what is on screen can be copied.
func wrapWords(s string, w int) string {
	return ansi.Wordwrap(s, max(w, 20), "")
}

// contIndent starts a command's continuation line (RouterOS drops the
// leading blanks of a continued line).
const contIndent = "    "

// wrapCommand wraps a RouterOS command to w cells the way RouterOS prints
// long lines: between arguments (never inside a quoted value), each line
// but the last ending in a backslash, continuations indented. Pasted into
// the router's terminal the lines are the same command; nothing is cut.
func wrapCommand(cmd string, w int) string {
	w = max(w, 20)
	if ansi.StringWidth(cmd) <= w {
		return cmd
	}
	var lines []string
	cur := ""
	fits := func(s string) bool { return ansi.StringWidth(cur)+ansi.StringWidth(s)+2 <= w } // room for " \"
	for _, tok := range commandTokens(cmd) {
		sep := " "
		if cur == "" || cur == contIndent {
			sep = ""
		}
		if fits(sep + tok) {
			cur += sep + tok
			continue
		}
		if cur != contIndent && cur != "" {
			lines = append(lines, cur+" \\")
			cur = contIndent
		}
		if !fits(tok) {
			// Longer than a line: keep "key=" here and put the value on the
			// next line, as RouterOS does.
			if i := strings.IndexByte(tok, '='); i > 0 && i < len(tok)-1 {
				lines = append(lines, cur+tok[:i+1]+"\\")
				cur, tok = contIndent, tok[i+1:]
			}
		}
		cur += tok
	}
	lines = append(lines, cur)
	return strings.Join(lines, "\n")
}

// commandTokens splits a command at the blanks outside double quotes
// (a backslash escapes the next byte inside quotes).
func commandTokens(cmd string) []string {
	var toks []string
	var b strings.Builder
	quoted, esc := false, false
	for _, r := range cmd {
		switch {
		case esc:
			esc = false
		case quoted && r == '\\':
			esc = true
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if b.Len() > 0 {
				toks = append(toks, b.String())
				b.Reset()
			}
			continue
		}
		b.WriteRune(r)
	}
	if b.Len() > 0 {
		toks = append(toks, b.String())
	}
	return toks
}

// clipRows ends every row of s wider than w cells with an ellipsis. A
// viewport would otherwise break such a row inside its last token (a path,
// a fingerprint), and the pieces would pass for two whole values.
func clipRows(s string, w int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = clipRow(l, w)
	}
	return strings.Join(lines, "\n")
}

// clipRow fits one row into w cells: only padding past w is dropped
// silently; cut text gets an ellipsis.
func clipRow(l string, w int) string {
	if ansi.StringWidth(l) <= w {
		return l
	}
	if ansi.StringWidth(strings.TrimRight(ansi.Strip(l), " ")) <= w {
		return ansi.Truncate(l, w, "")
	}
	return truncate(l, w)
}
