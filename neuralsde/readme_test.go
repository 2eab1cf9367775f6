package neuralsde_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestREADMESnippet holds the README's library snippet (the Go block of "## Using the
// library") to the function gradients of example_test.go, so that what the README
// shows compiles and runs (Example runs it).
func TestREADMESnippet(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippet, ok := goBlockAfter(string(readme), "\n## Using the library\n")
	if !ok {
		t.Fatal(`README.md: no Go block in the section "## Using the library"`)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_test.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "gradients" {
			want = string(src[fset.Position(fd.Pos()).Offset:fset.Position(fd.End()).Offset])
		}
	}
	if want == "" {
		t.Fatal("example_test.go: no func gradients")
	}
	if snippet != want {
		t.Errorf("README.md's library snippet is not func gradients of neuralsde/example_test.go; make them identical.\nREADME:\n%s\nexample_test.go:\n%s", snippet, want)
	}
}

// goBlockAfter returns the body of the first ```go block after heading in md.
func goBlockAfter(md, heading string) (string, bool) {
	_, section, ok := strings.Cut(md, heading)
	if !ok {
		return "", false
	}
	if next := strings.Index(section, "\n## "); next >= 0 {
		section = section[:next]
	}
	_, block, ok := strings.Cut(section, "```go\n")
	if !ok {
		return "", false
	}
	block, _, ok = strings.Cut(block, "\n```")
	return block, ok
}
