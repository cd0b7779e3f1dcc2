package rsc

import (
	"fmt"
	"strings"
)

// exportWidth is where Format wraps lines, like RouterOS's export.
const exportWidth = 80

// contIndent starts every continuation line RouterOS writes.
const contIndent = "    "

// plainByte reports whether b may appear in an unquoted value. RouterOS
// quotes everything else (spaces, '=', quotes, '$', brackets, non-ASCII).
func plainByte(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("-_.,:/*!@+%", b) >= 0
}

// Quote returns v as an export writes it: bare when every byte is plain,
// otherwise in double quotes with \" \\ \$ \? \n \r \t escapes and \XX hex
// for other control bytes and for non-ASCII bytes (RouterOS escapes UTF-8
// byte by byte).
func Quote(v string) string {
	plain := v != ""
	for i := 0; i < len(v); i++ {
		if !plainByte(v[i]) {
			plain = false
			break
		}
	}
	if plain {
		return v
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		b.WriteString(escapeByte(v[i]))
	}
	b.WriteByte('"')
	return b.String()
}

// QuoteString is Quote, but always in double quotes. A find literal needs
// it: in a script a bare word is typed by its form (123 is a number, *1 an
// id, yes a boolean, 1.2.3.4 an address), so [find where name=123] would
// not find an item named "123"; a quoted value is always a string.
func QuoteString(v string) string {
	if q := Quote(v); strings.HasPrefix(q, `"`) {
		return q
	}
	return `"` + v + `"`
}

func escapeByte(ch byte) string {
	switch ch {
	case '"', '\\', '$', '?':
		return "\\" + string(ch)
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	if ch < 0x20 || ch >= 0x7f {
		return fmt.Sprintf("\\%02X", ch)
	}
	return string(ch)
}

// FormatCommand writes one command as a single export line, with its menu
// when menu is not "": `/ip firewall filter add action=accept chain=input
// comment="wgboot: x"`. Arguments keep their order.
func FormatCommand(menu string, c Command) string {
	words := commandWords(c)
	line := strings.Join(words, " ")
	switch menu {
	case "":
		return line
	case "/":
		return "/" + line
	}
	return menu + " " + line
}

// commandWords splits a command into the words Format may wrap between.
func commandWords(c Command) []string {
	words := []string{c.Verb}
	if c.Find != nil {
		words = append(words, "[ "+c.Find.findText()+" ]")
	}
	if c.Target != "" {
		words = append(words, Quote(c.Target))
	}
	if c.Ref != "" {
		words = append(words, string(c.Ref))
	}
	for _, a := range c.Args {
		if a.Value == FlagValue {
			words = append(words, a.Key)
			continue
		}
		words = append(words, a.Key+"="+Quote(a.Value))
	}
	for _, a := range c.RefArgs {
		words = append(words, a.Key+"="+string(a.Ref))
	}
	return words
}

// Format writes f as an export: header comments, then each block's menu
// line and its commands, with lines wrapped at about 80 columns using
// backslash continuations the way RouterOS does (between arguments, after
// "key=", or inside a long quoted value). Comments other than the header
// and line numbers are not kept. Parse(Format(f)) gives back f when every
// Block.Menu starts with "/" and argument keys are RouterOS names.
func Format(f *File) string {
	var b strings.Builder
	for _, h := range f.Header {
		if !strings.HasPrefix(h, "#") {
			h = "# " + h
		}
		b.WriteString(h)
		b.WriteByte('\n')
	}
	for _, blk := range f.Blocks {
		b.WriteString(blk.Menu)
		b.WriteByte('\n')
		for _, c := range blk.Commands {
			writeWrapped(&b, c)
		}
	}
	return b.String()
}

// writeWrapped writes one command, wrapping it.
func writeWrapped(b *strings.Builder, c Command) {
	var lines []string
	cur := ""
	emit := func() {
		lines = append(lines, cur)
		cur = contIndent
	}
	fits := func(s string) bool { return len(cur)+len(s)+2 <= exportWidth }
	words := []string{c.Verb}
	if c.Find != nil {
		words = append(words, "[ "+c.Find.findText()+" ]")
	}
	if c.Target != "" {
		words = append(words, Quote(c.Target))
	}
	type kv struct{ key, val string }
	var args []kv
	for _, a := range c.Args {
		if a.Value == FlagValue {
			args = append(args, kv{"", a.Key})
			continue
		}
		args = append(args, kv{a.Key + "=", Quote(a.Value)})
	}
	for i, w := range words {
		if i > 0 {
			if !fits(" " + w) {
				cur += " \\"
				emit()
			} else {
				cur += " "
			}
		}
		cur += w
	}
	for _, a := range args {
		switch {
		case a.key == "" && !fits(" "+a.val):
			// A flag is one word: wrap before it.
			cur += " \\"
			emit()
			cur += a.val
			continue
		case fits(" " + a.key + a.val):
			cur += " " + a.key + a.val
			continue
		case fits(" " + a.key):
			// RouterOS keeps "key=" and moves the value to the next line.
			cur += " " + a.key + "\\"
			emit()
		default:
			cur += " \\"
			emit()
			if fits(a.key + a.val) {
				cur += a.key + a.val
				continue
			}
			cur += a.key + "\\"
			emit()
		}
		// The value starts a continuation line; a quoted value longer than
		// a line is split inside the quotes.
		val := a.val
		if len(val) > 0 && val[0] == '"' {
			for !fits(val) {
				cut := splitPoint(val, exportWidth-2-len(cur))
				if cut <= 0 || cut >= len(val) {
					break
				}
				cur += val[:cut] + "\\"
				emit()
				val = val[cut:]
			}
		}
		cur += val
	}
	lines = append(lines, cur)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// splitPoint picks where to cut a quoted value so that at most max bytes
// stay on this line: never inside an escape sequence, and never before a
// blank, since RouterOS drops a continuation line's leading blanks.
func splitPoint(q string, max int) int {
	// Offsets where an escape sequence or plain byte starts.
	var starts []int
	for i := 0; i < len(q); {
		starts = append(starts, i)
		if q[i] == '\\' && i+1 < len(q) {
			if isHex(int(q[i+1])) && i+2 < len(q) && isHex(int(q[i+2])) {
				i += 3
			} else {
				i += 2
			}
			continue
		}
		i++
	}
	best := -1
	for _, s := range starts {
		if s < 2 || q[s] == ' ' || q[s] == '\t' {
			// Keep at least the opening quote and one byte on the line.
			continue
		}
		if s > max && best > 0 {
			break
		}
		best = s
		if s > max {
			break
		}
	}
	return best
}
