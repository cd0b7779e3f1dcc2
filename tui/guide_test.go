package tui

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// guidePath is the technician guide, whose screen captures are this
// package's goldens.
const guidePath = "../docs/technician-guide.md"

// guideCapture is one capture in the guide: a marker naming the golden,
// then the screen in a text block.
var guideCapture = regexp.MustCompile("(?s)<!-- golden: ([^ ]+) -->\n```text\n(.*?)```\n")

// captureText is a golden as the guide shows it: trailing blanks dropped
// and the blank rows that pad the screen folded to one.
func captureText(golden string) string {
	var out []string
	for _, l := range strings.Split(golden, "\n") {
		l = strings.TrimRight(l, " ")
		if l == "" && len(out) > 0 && out[len(out)-1] == "" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}

// TestGuideCaptures: every screen in docs/technician-guide.md is the
// golden it names, so the guide shows the screens as they are. With
// -update (after the goldens are refreshed) it rewrites the guide's
// captures from them.
func TestGuideCaptures(t *testing.T) {
	b, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	guide := string(b)
	update := false
	if f := flag.Lookup("update"); f != nil {
		update = f.Value.String() == "true"
	}
	n := 0
	var failed []string
	out := guideCapture.ReplaceAllStringFunc(guide, func(block string) string {
		m := guideCapture.FindStringSubmatch(block)
		n++
		g, err := os.ReadFile(filepath.Join("testdata", m[1]))
		if err != nil {
			failed = append(failed, m[1]+": "+err.Error())
			return block
		}
		want := captureText(string(g))
		if m[2] != want {
			failed = append(failed, m[1])
		}
		return "<!-- golden: " + m[1] + " -->\n```text\n" + want + "```\n"
	})
	if n < 15 {
		t.Errorf("the guide has %d captures marked with their golden, want every screen (15 or more)", n)
	}
	if update {
		if out != guide {
			if err := os.WriteFile(guidePath, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for _, f := range failed {
		t.Errorf("the guide's capture of %s differs from the golden: run go test ./tui -run TestGuideCaptures -update", f)
	}
	if strings.Count(guide, "```text\n") != n {
		t.Errorf("the guide has %d text blocks but %d are marked with their golden", strings.Count(guide, "```text\n"), n)
	}
}
