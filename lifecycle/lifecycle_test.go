package lifecycle_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// exported returns the exported top-level names of a package directory
// (types, functions, constants, variables; no methods, no tests).
func exported(t *testing.T, dir string) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Recv == nil && d.Name.IsExported() {
						names[d.Name.Name] = true
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						switch s := s.(type) {
						case *ast.TypeSpec:
							if s.Name.IsExported() {
								names[s.Name.Name] = true
							}
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if n.IsExported() {
									names[n.Name] = true
								}
							}
						}
					}
				}
			}
		}
	}
	return names
}

// One name per concept: the root package, sessions and lifecycle declare no
// exported name twice (the same enum aliases used to be declared in all
// three, Start/Get/List in two), and every generated type or constant the
// SDK renames is renamed in one package only.
func TestOneNamePerConcept(t *testing.T) {
	root := filepath.Join("..")
	pkgs := []string{".", "sessions", "lifecycle", "retry", "record"}
	where := map[string][]string{}
	for _, p := range pkgs[:3] {
		for n := range exported(t, filepath.Join(root, p)) {
			where[n] = append(where[n], p)
		}
	}
	var dups []string
	for n, ps := range where {
		if len(ps) > 1 {
			dups = append(dups, n+" in "+strings.Join(ps, ", "))
		}
	}
	sort.Strings(dups)
	if len(dups) > 0 {
		t.Errorf("names declared in more than one of the root package, sessions and lifecycle: %v", dups)
	}

	// Each gen.X renamed by an alias or a constant is renamed once.
	renamed := map[string][]string{}
	for _, p := range pkgs {
		fset := token.NewFileSet()
		parsed, err := parser.ParseDir(fset, filepath.Join(root, p), func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range parsed {
			ast.Inspect(pkg, func(n ast.Node) bool {
				var target ast.Expr
				var name string
				switch n := n.(type) {
				case *ast.TypeSpec:
					if n.Assign.IsValid() {
						target, name = n.Type, n.Name.Name
					}
				case *ast.ValueSpec:
					if len(n.Values) == 1 && len(n.Names) == 1 {
						target, name = n.Values[0], n.Names[0].Name
					}
				}
				if sel, ok := target.(*ast.SelectorExpr); ok && ast.IsExported(name) {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "gen" {
						renamed[sel.Sel.Name] = append(renamed[sel.Sel.Name], p+"."+name)
					}
				}
				return true
			})
		}
	}
	for g, names := range renamed {
		if len(names) > 1 {
			t.Errorf("gen.%s has %d SDK names: %v", g, len(names), names)
		}
	}
	if len(renamed) < 40 {
		t.Errorf("only %d renamed gen names found: the test no longer sees the aliases", len(renamed))
	}
}
