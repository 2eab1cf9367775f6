package cuda

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestLaunchersMatchKernelSignatures checks the Go–CUDA seam without a GPU: every
// launch in launch.go (built only with -tags cuda) passes, in order, the kinds of
// argument its kernel's extern "C" signature in kernels/*.cu declares. gorgonia.org/cu
// copies each argument as one 8-byte slot, so a pointer goes as p64, a double as f64
// and a long long as uint64 or b64; any other parameter type (int, float, bool, a
// struct) is refused outright, since no launcher could pass it.
func TestLaunchersMatchKernelSignatures(t *testing.T) {
	kernelsWant := kernelSignatures(t)
	names, calls := launcherCalls(t)
	if len(calls) == 0 {
		t.Fatal("no launches found in launch.go")
	}
	launched := map[string]bool{}
	for _, c := range calls {
		launched[c.kernel] = true
		want, ok := kernelsWant[c.kernel]
		if !ok {
			t.Errorf("%s: launches %s, which no kernels/*.cu defines", c.pos, c.kernel)
			continue
		}
		if !slices.Equal(c.kinds, want) {
			t.Errorf("%s: %s launched with (%s), its signature takes (%s)", c.pos, c.kernel, strings.Join(c.kinds, ", "), strings.Join(want, ", "))
		}
	}
	for _, n := range names {
		if !launched[n] {
			t.Errorf("kernel %s is loaded but never launched from launch.go", n)
		}
	}
	for k := range kernelsWant {
		if !slices.Contains(names, k) {
			t.Errorf("kernels/*.cu defines %s, which kernelNames does not load", k)
		}
	}
}

var externKernel = regexp.MustCompile(`extern "C"\s+__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\(([^)]*)\)`)

// kernelSignatures parses the kernels' extern "C" parameter lists into kinds.
func kernelSignatures(t *testing.T) map[string][]string {
	files, err := filepath.Glob("../kernels/*.cu")
	if err != nil || len(files) == 0 {
		t.Fatalf("no kernel sources: %v", err)
	}
	out := map[string][]string{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range externKernel.FindAllStringSubmatch(string(src), -1) {
			var kinds []string
			for _, p := range strings.Split(m[2], ",") {
				fields := strings.Fields(p)
				typ := strings.Join(fields[:len(fields)-1], " ")
				switch {
				case strings.Contains(p, "*"):
					kinds = append(kinds, "pointer")
				case typ == "double":
					kinds = append(kinds, "double")
				case typ == "long long":
					kinds = append(kinds, "long long")
				default:
					t.Errorf("%s: %s has a parameter %q that is neither a pointer, a double nor a long long", f, m[1], strings.TrimSpace(p))
				}
			}
			out[m[1]] = kinds
		}
	}
	return out
}

type launchCall struct {
	pos    string
	kernel string
	kinds  []string
}

// launcherCalls reads launch.go: the kernel names it loads, and for every call of
// launch, launchThreads and launchShared the kernel and the kinds of its arguments.
func launcherCalls(t *testing.T) ([]string, []launchCall) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "launch.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	var names []string
	var calls []launchCall
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if i < len(n.Values) {
					if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						consts[id.Name], _ = strconv.Unquote(lit.Value)
					}
					if id.Name == "kernelNames" {
						for _, e := range n.Values[i].(*ast.CompositeLit).Elts {
							names = append(names, consts[e.(*ast.Ident).Name])
						}
					}
				}
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			first := map[string]int{"launch": 3, "launchThreads": 2, "launchShared": 4}[sel.Sel.Name]
			if first == 0 || len(n.Args) == 0 {
				return true
			}
			id, ok := n.Args[0].(*ast.Ident)
			if !ok || consts[id.Name] == "" {
				return true // the generic launchers' own calls pass name through
			}
			c := launchCall{pos: fset.Position(n.Pos()).String(), kernel: consts[id.Name]}
			for _, a := range n.Args[first:] {
				kind := "?"
				if call, ok := a.(*ast.CallExpr); ok {
					if fn, ok := call.Fun.(*ast.Ident); ok {
						kind = map[string]string{"p64": "pointer", "f64": "double", "uint64": "long long", "b64": "long long"}[fn.Name]
					}
				}
				if kind == "" || kind == "?" {
					kind = "? (not p64, f64, uint64 or b64) at " + fset.Position(a.Pos()).String()
				}
				c.kinds = append(c.kinds, kind)
			}
			calls = append(calls, c)
		}
		return true
	})
	return names, calls
}
