package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestComplexity(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "testdata/funcs.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"simple": 1, "branches": 10, "explained": 3, "unexplained": 3, "emptyReason": 3}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		if got := Complexity(fn); got != want[fn.Name.Name] {
			t.Errorf("%s: complexity %d, want %d", fn.Name.Name, got, want[fn.Name.Name])
		}
	}
}

func TestCheckFile(t *testing.T) {
	tests := []struct {
		name            string
		maxLines, maxCy int
		want            []string
	}{
		{"under both limits", 100, 30, nil},
		{"complexity over 2", 100, 2, []string{"branches", "(*T).unexplained", "emptyReason"}},
		{"lines over 6", 6, 30, []string{"branches"}},
		{"lines over 5", 5, 30, []string{"branches", "(*T).unexplained", "emptyReason"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := CheckFile("testdata/funcs.go", tt.maxLines, tt.maxCy)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.Func)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("flagged %v, want %v", got, tt.want)
			}
		})
	}
}

// The walk skips testdata, vendor, hidden directories and test files, and
// reports the rest.
func TestRunSkips(t *testing.T) {
	src, err := os.ReadFile("testdata/funcs.go")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, p := range []string{"testdata/a.go", "vendor/a.go", ".git/a.go", "a_test.go", "pkg/a.go"} {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	n, err := run(&out, []string{root}, 100, 2)
	if err != nil || n != 3 || strings.Count(out.String(), filepath.Join("pkg", "a.go")) != 3 ||
		!strings.Contains(out.String(), "a.go:8:1: branches: 21 lines, complexity 10") {
		t.Errorf("run: %d findings, err %v:\n%s", n, err, &out)
	}
}

// -top lists the most complex functions first, reasons or not, so a note can
// give before/after figures.
func TestTop(t *testing.T) {
	var out bytes.Buffer
	if err := top(&out, []string{"testdata"}, 2); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "branches: 21 lines, complexity 10") ||
		!strings.Contains(lines[1], "complexity 3") {
		t.Errorf("top 2:\n%s", out.String())
	}
}
