package safetext

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile is an identity a hostile router might set: an OSC that retitles
// the window, a CSI that clears the screen, a bidi override, a C1 CSI, a
// newline that forges an output line, and a lone 8-bit CSI byte.
const hostile = "\x1b]0;pwned\x07\x1b[2J evil\u202e\u009b31m\nwgboot: ok\x9b"

func TestLineAndText(t *testing.T) {
	tests := []struct {
		name, in, line, text string
	}{
		{name: "plain", in: "MikroTik-HQ ünïcode", line: "MikroTik-HQ ünïcode", text: "MikroTik-HQ ünïcode"},
		{name: "empty", in: "", line: "", text: ""},
		{name: "hostile identity", in: hostile,
			line: `\x1b]0;pwned\x07\x1b[2J evil\u202e\u009b31m\nwgboot: ok\x9b`,
			text: "\\x1b]0;pwned\\x07\\x1b[2J evil\\u202e\\u009b31m\nwgboot: ok\\x9b"},
		{name: "tab and carriage return", in: "a\tb\rc", line: `a\tb\rc`, text: "a\tb\\rc"},
		{name: "DEL and NUL", in: "a\x7f\x00", line: `a\u007f\x00`, text: `a\u007f\x00`},
		{name: "bidi isolates and marks", in: "\u2066x\u2069\u200e\u200f\u061c\u202a", line: `\u2066x\u2069\u200e\u200f\u061c\u202a`, text: `\u2066x\u2069\u200e\u200f\u061c\u202a`},
		{name: "line separator", in: "a\u2028b", line: `a\u2028b`, text: `a\u2028b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.line {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.line)
			}
			if got := Text(tt.in); got != tt.text {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.text)
			}
			if got := Safe(tt.in); got != (tt.in == tt.line) {
				t.Errorf("Safe(%q) = %v", tt.in, got)
			}
		})
	}
}

// TestWriterJSON: JSON through the writer stays valid and decodes to the
// same strings, while the raw bidi and C1 runes encoding/json leaves in
// place are gone from the bytes.
func TestWriterJSON(t *testing.T) {
	in := map[string]string{"identity": hostile, "comment": "wgboot:\u202e\u0085\x7f"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := NewWriter(&out)
	// Write byte by byte: runes are cut across writes.
	for i := range b {
		if _, err := w.Write(b[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if strings.ContainsAny(out.String(), "\u202e\u0085\x7f\x1b") {
		t.Errorf("output still holds raw controls: %q", out.String())
	}
	var got map[string]string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is no longer JSON: %v\n%s", err, out.String())
	}
	if got["identity"] != in["identity"] && got["identity"] != strings.ToValidUTF8(in["identity"], "\ufffd") || got["comment"] != in["comment"] {
		t.Errorf("decoded %q, want %q", got, in)
	}
}

func TestWriterKeepsLines(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	for _, s := range []string{"ok é\n", "\xc3", "\xa9\t\x1b[2J\n"} {
		w.Write([]byte(s))
	}
	if want := "ok é\né\t\\x1b[2J\n"; out.String() != want {
		t.Errorf("wrote %q, want %q", out.String(), want)
	}
}

// FuzzLine: whatever the input, Line gives valid UTF-8 with no control
// byte and no dangerous rune, and changes nothing that is safe.
func FuzzLine(f *testing.F) {
	f.Add(hostile)
	f.Add("plain")
	f.Add("\xc2\x9b\xe2\x80\xae")
	f.Fuzz(func(t *testing.T, s string) {
		for name, got := range map[string]string{"Line": Line(s), "Text": Text(s)} {
			if !utf8.ValidString(got) {
				t.Fatalf("%s(%q) = %q is not valid UTF-8", name, s, got)
			}
			for _, r := range got {
				if r < 0x20 && !(name == "Text" && (r == '\n' || r == '\t')) || dangerous(r) {
					t.Fatalf("%s(%q) = %q holds %U", name, s, got, r)
				}
			}
		}
		if Safe(s) && Line(s) != s {
			t.Fatalf("Line changed safe %q", s)
		}
	})
}
