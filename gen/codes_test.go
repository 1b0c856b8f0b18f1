package gen_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/agentsession/agentsession/retry"
)

// goFile is one hand-written Go file of the module.
type goFile struct {
	path string
	fset *token.FileSet
	file *ast.File
}

func handWrittenGo(t *testing.T) []goFile {
	t.Helper()
	var out []goFile
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata", "clients", "bin", "out":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".gen.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		out = append(out, goFile{filepath.ToSlash(path), fset, f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("only %d Go files found", len(out))
	}
	return out
}

// The problem codes come from the contract (schema ProblemCode, generated as
// gen.ProblemCode* constants). Hand-written code names them only through those
// constants: a string literal that is a code, or that is given or compared as a
// problem's code, fails here, and so does a code of the contract that neither the
// reference server nor the SDK uses.
func TestProblemCodesComeFromTheContract(t *testing.T) {
	r := loadRaw(t)
	codes := map[string]bool{}
	for _, v := range dig(r.schemas["ProblemCode"], "enum").([]any) {
		codes[v.(string)] = true
	}
	// A code spelt like a value of another of the contract's enums (turn_ended
	// is also a LifecycleEventType) is a code only where it is used as one.
	otherEnum := map[string]bool{}
	for name, sch := range r.schemas {
		if name == "ProblemCode" {
			continue
		}
		if vs, ok := dig(sch, "enum").([]any); ok {
			for _, v := range vs {
				if v, ok := v.(string); ok {
					otherEnum[v] = true
				}
			}
		}
	}
	constName := func(code string) string {
		var b strings.Builder
		b.WriteString("ProblemCode")
		for _, part := range strings.Split(code, "_") {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
		return b.String()
	}
	usedBy := map[string]map[string]bool{} // const -> areas
	isCodeSel := func(e ast.Expr) bool {
		switch e := e.(type) {
		case *ast.SelectorExpr:
			return e.Sel.Name == "Code" || e.Sel.Name == "code"
		case *ast.Ident:
			return e.Name == "code"
		}
		return false
	}
	for _, f := range handWrittenGo(t) {
		area := "other"
		switch {
		case strings.HasPrefix(f.path, "../refserver/"):
			area = "server"
		case strings.HasPrefix(f.path, "../conformance/"):
			area = "conformance"
		case !strings.Contains(strings.TrimPrefix(f.path, "../"), "/"),
			strings.HasPrefix(f.path, "../sessions/"), strings.HasPrefix(f.path, "../lifecycle/"):
			area = "sdk"
		}
		if strings.HasPrefix(f.path, "../gen/") {
			continue // the contract's own tests pin the list as written
		}
		if strings.HasPrefix(f.path, "../retry/") {
			continue // retry depends on no generated code; its codes are checked below
		}
		if f.path == "../scenarios/internal/format/kinds.go" {
			continue // the scenario format's error kinds: some share a code's spelling
		}
		report := func(lit *ast.BasicLit, why string) {
			t.Errorf("%s: %s %s: use the gen.ProblemCode constant", f.fset.Position(lit.Pos()), why, lit.Value)
		}
		ast.Inspect(f.file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "gen" && strings.HasPrefix(n.Sel.Name, "ProblemCode") {
					if usedBy[n.Sel.Name] == nil {
						usedBy[n.Sel.Name] = map[string]bool{}
					}
					usedBy[n.Sel.Name][area] = true
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if s, err := strconv.Unquote(n.Value); err == nil && codes[s] && !otherEnum[s] {
						report(n, "the problem code")
					}
				}
			case *ast.KeyValueExpr:
				if lit, ok := n.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING && isCodeSel(n.Key) {
					if s, _ := strconv.Unquote(lit.Value); s != "" && !codes[s] {
						t.Errorf("%s: problem code %s is not in the contract's ProblemCode", f.fset.Position(lit.Pos()), lit.Value)
					}
				}
			case *ast.BinaryExpr:
				if n.Op != token.EQL && n.Op != token.NEQ {
					break
				}
				for _, pair := range [][2]ast.Expr{{n.X, n.Y}, {n.Y, n.X}} {
					if lit, ok := pair[1].(*ast.BasicLit); ok && lit.Kind == token.STRING && isCodeSel(pair[0]) {
						if s, _ := strconv.Unquote(lit.Value); s != "" && !codes[s] {
							t.Errorf("%s: problem code %s is not in the contract's ProblemCode", f.fset.Position(lit.Pos()), lit.Value)
						}
					}
				}
			}
			return true
		})
	}
	for _, code := range retry.DefaultFinalProblemCodes() {
		if !codes[code] {
			t.Errorf("retry.DefaultFinalProblemCodes names %q, which is not in the contract's ProblemCode", code)
		}
	}
	for code := range codes {
		c := constName(code)
		if !usedBy[c]["server"] && !usedBy[c]["sdk"] {
			t.Errorf("the contract lists %q, but neither the reference server nor the SDK uses gen.%s", code, c)
		}
	}
}
