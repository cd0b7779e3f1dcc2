// Command complexity reports non-test functions that are longer than
// -lines lines or whose cyclomatic complexity is over -over, unless their
// doc comment has a line "Long because: <why>" (or "Complex because:
// <why>") saying why they are not split. make lint runs it on the module.
//
// The complexity is counted as gocyclo counts it: 1, plus one for each
// if, for, range, non-default case of a switch or select, && and ||.
// Test files (_test.go) and testdata, vendor and hidden directories are
// skipped.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Finding is one function over a limit without a reason.
type Finding struct {
	Pos        token.Position
	Func       string
	Lines      int
	Complexity int
	Explained  bool // its doc says why it is long ("Long because: ...")
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %d lines, complexity %d: split it or say why in its doc (Long because: ...)",
		f.Pos, f.Func, f.Lines, f.Complexity)
}

// reason is the marker a function's doc must carry to stay over a limit.
var reason = regexp.MustCompile(`(?m)^\s*(Long|Complex) because:\s*\S`)

func main() {
	maxLines := flag.Int("lines", 100, "longest function allowed without a reason, in lines")
	maxCyclo := flag.Int("over", 30, "highest cyclomatic complexity allowed without a reason")
	topN := flag.Int("top", 0, "instead of checking, list the N most complex functions (then the longest)")
	flag.Parse()
	roots := flag.Args()
	if len(roots) == 0 {
		roots = []string{"."}
	}
	if *topN > 0 {
		if err := top(os.Stdout, roots, *topN); err != nil {
			fmt.Fprintln(os.Stderr, "complexity:", err)
			os.Exit(2)
		}
		return
	}
	n, err := run(os.Stdout, roots, *maxLines, *maxCyclo)
	if err != nil {
		fmt.Fprintln(os.Stderr, "complexity:", err)
		os.Exit(2)
	}
	if n > 0 {
		os.Exit(1)
	}
}

// run checks every Go file under roots and writes the findings to w; it
// returns how many there were.
func run(w io.Writer, roots []string, maxLines, maxCyclo int) (int, error) {
	var all []Finding
	err := walk(roots, func(path string) error {
		fs, err := CheckFile(path, maxLines, maxCyclo)
		all = append(all, fs...)
		return err
	})
	if err != nil {
		return 0, err
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Pos.Filename != all[j].Pos.Filename {
			return all[i].Pos.Filename < all[j].Pos.Filename
		}
		return all[i].Pos.Line < all[j].Pos.Line
	})
	for _, f := range all {
		fmt.Fprintln(w, f)
	}
	return len(all), nil
}

// top writes the n most complex non-test functions under roots (longest
// first among equals), whether or not they carry a reason.
func top(w io.Writer, roots []string, n int) error {
	var all []Finding
	err := walk(roots, func(path string) error {
		fs, err := Measure(path)
		all = append(all, fs...)
		return err
	})
	if err != nil {
		return err
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Complexity != all[j].Complexity {
			return all[i].Complexity > all[j].Complexity
		}
		return all[i].Lines > all[j].Lines
	})
	for i, f := range all {
		if i == n {
			break
		}
		why := ""
		if f.Explained {
			why = " (Long because)"
		}
		fmt.Fprintf(w, "%s: %s: %d lines, complexity %d%s\n", f.Pos, f.Func, f.Lines, f.Complexity, why)
	}
	return nil
}

// walk calls fn for every non-test Go file under roots, skipping testdata,
// vendor, hidden and _ directories.
func walk(roots []string, fn func(path string) error) error {
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				return nil
			}
			return fn(path)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// CheckFile returns the functions of one file over a limit without a reason.
func CheckFile(path string, maxLines, maxCyclo int) ([]Finding, error) {
	all, err := Measure(path)
	var out []Finding
	for _, f := range all {
		if (f.Lines > maxLines || f.Complexity > maxCyclo) && !f.Explained {
			out = append(out, f)
		}
	}
	return out, err
}

// Measure returns every function of one file with its size and complexity.
func Measure(path string) ([]Finding, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
		explained := fn.Doc != nil && reason.MatchString(fn.Doc.Text())
		out = append(out, Finding{Pos: fset.Position(fn.Pos()), Func: funcName(fn), Lines: lines,
			Complexity: Complexity(fn), Explained: explained})
	}
	return out, nil
}

// Complexity is the cyclomatic complexity of a function, counted as gocyclo
// counts it (function literals inside count toward it).
func Complexity(fn *ast.FuncDecl) int {
	c := 1
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if n.List != nil {
				c++
			}
		case *ast.CommClause:
			if n.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if n.Op == token.LAND || n.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}

// funcName is Name or (Recv).Name, as gocyclo prints it.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	star := ""
	if s, ok := t.(*ast.StarExpr); ok {
		star, t = "*", s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if ix, ok := t.(*ast.IndexListExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return "(" + star + id.Name + ")." + fn.Name.Name
	}
	return fn.Name.Name
}
