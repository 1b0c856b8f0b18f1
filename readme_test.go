package agentsession_test

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite README.md's Go blocks from the programs they come from")

// goBlockSource says where a README Go block comes from:
// "<!-- go: examples/x/main.go -->" (the whole program) or
// "<!-- go: examples/x/main.go func name -->" (one function of it, with its
// doc comment).
var goBlockSource = regexp.MustCompile(`^<!-- go: (examples/[a-z]+/main\.go)(?: func ([A-Za-z]+))? -->$`)

// Every Go snippet of README.md is a complete program of examples/ (which
// make demo and examples/examples_test.go run against the reference server)
// or a function taken verbatim from one: the README cannot drift from code
// that runs. `go test -run TestReadmeGoBlocks -update-readme .` refreshes
// them.
func TestReadmeGoBlocks(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	var out strings.Builder
	blocks := 0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		out.WriteString(line)
		if strings.TrimSpace(line) != "```go" {
			continue
		}
		blocks++
		var m []string
		if i > 0 {
			m = goBlockSource.FindStringSubmatch(strings.TrimSpace(lines[i-1]))
		}
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		if end == len(lines) {
			t.Fatalf("README.md:%d: unterminated Go block", i+1)
		}
		got := strings.Join(lines[i+1:end], "")
		if m == nil {
			t.Errorf("README.md:%d: a Go block without a <!-- go: examples/... --> source line before it", i+1)
			out.WriteString(got)
		} else {
			want, err := goSource(m[1], m[2])
			if err != nil {
				t.Fatalf("README.md:%d: %v", i+1, err)
			}
			if got != want {
				t.Errorf("README.md:%d: the block differs from %s %s (run: go test -run TestReadmeGoBlocks -update-readme .)\n--- README\n%s--- source\n%s",
					i+1, m[1], m[2], got, want)
			}
			out.WriteString(want)
		}
		i = end - 1
	}
	if blocks < 7 {
		t.Errorf("README.md has %d Go blocks; the test no longer finds them", blocks)
	}
	if *updateReadme && out.String() != string(raw) {
		if err := os.WriteFile("README.md", []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md updated")
	}
}

// goSource returns the whole file, or one function of it with its doc
// comment, exactly as written.
func goSource(path, fn string) (string, error) {
	src, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		return "", err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	if f.Name.Name != "main" {
		return "", fmt.Errorf("%s is not a program (package %s)", path, f.Name.Name)
	}
	if fn == "" {
		return string(src), nil
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == fn {
			start := fd.Pos()
			if fd.Doc != nil {
				start = fd.Doc.Pos()
			}
			return string(src[fset.Position(start).Offset:fset.Position(fd.End()).Offset]) + "\n", nil
		}
	}
	return "", fmt.Errorf("%s has no func %s", path, fn)
}
