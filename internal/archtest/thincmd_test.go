package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// The command parses flags, layers the config and the environment, owns
// the console and the exit codes, and makes one call into the library per
// command: a function longer or more branched than these limits is logic
// that belongs in a package with unit tests of its own.
const (
	cmdMaxLines      = 60
	cmdMaxComplexity = 15
)

// TestCmdFunctionsStayThin holds every function of cmd/cognito-export
// (tests aside) to cmdMaxLines lines and a cyclomatic complexity of
// cmdMaxComplexity, counted as gocyclo counts it.
func TestCmdFunctionsStayThin(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "cmd", "cognito-export", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files of cmd/cognito-export: %v", err)
	}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			start, end := fset.Position(fn.Pos()), fset.Position(fn.End())
			if lines := end.Line - start.Line + 1; lines > cmdMaxLines {
				t.Errorf("%s:%d: %s is %d lines, over %d: move its logic into a package", filepath.Base(path), start.Line, fn.Name.Name, lines, cmdMaxLines)
			}
			if c := complexity(fn); c > cmdMaxComplexity {
				t.Errorf("%s:%d: %s has cyclomatic complexity %d, over %d: move its rules into a package", filepath.Base(path), start.Line, fn.Name.Name, c, cmdMaxComplexity)
			}
		}
	}
}

// complexity is gocyclo's: 1, plus one for each if, for, range, case
// (but default), select case (but default), && and ||.
func complexity(fn *ast.FuncDecl) int {
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

// TestComplexityCountsAsGocyclo holds complexity to gocyclo's count on a
// function of every kind of branch.
func TestComplexityCountsAsGocyclo(t *testing.T) {
	src := `package p
func f(a, b bool, xs []int, ch chan int) {
	if a && b || !a {
	}
	for i := 0; i < 1; i++ {
	}
	for range xs {
	}
	switch {
	case a:
	case b:
	default:
	}
	select {
	case <-ch:
	default:
	}
}`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 1 + if + && + || + for + range + 2 cases + 1 select case.
	if got := complexity(f.Decls[0].(*ast.FuncDecl)); got != 9 {
		t.Fatalf("complexity %d, want 9", got)
	}
}
