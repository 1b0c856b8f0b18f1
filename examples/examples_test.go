// Package examples_test runs every program under examples/ as a user would:
// built with go build, against the reference server started as a process,
// once directly and once through a proxy that cuts and resets answers; and
// it checks that no example discards an error.
package examples_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agentsession/agentsession/internal/faultproxy"
)

// programs lists the example programs: every directory here with a main.go.
func programs(t *testing.T) []string {
	t.Helper()
	matches, err := filepath.Glob("*/main.go")
	if err != nil || len(matches) < 5 {
		t.Fatalf("examples: %v, %v", matches, err)
	}
	var names []string
	for _, m := range matches {
		names = append(names, filepath.Dir(m))
	}
	return names
}

// build compiles the reference server and every example into dir.
func build(t *testing.T, dir string, names []string) {
	t.Helper()
	args := []string{"build", "-o", dir + string(filepath.Separator), "../cmd/agentsession-server", "../cmd/agentsession-acp-testagent"}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

// startServer runs the reference server on an ephemeral port until the test
// ends, and returns its URL.
func startServer(t *testing.T, bin, token string) string {
	t.Helper()
	// The ACP test agent is the agent acp-test (examples/acp).
	acpAgent := "acp-test=" + filepath.Join(filepath.Dir(bin), "agentsession-acp-testagent")
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-db", ":memory:", "-tokens", token, "-log-level", "error", "-acp-agent", acpAgent)
	cmd.Env = cleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("the reference server: %v\n%s", err, stderr.String())
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				urls <- u
			}
		}
	}()
	select {
	case u := <-urls:
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("the reference server did not start:\n%s", stderr.String())
		return ""
	}
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AGENTSESSION_") {
			env = append(env, kv)
		}
	}
	return env
}

// goroutineTrace is the header of a goroutine's stack in a crash.
var goroutineTrace = regexp.MustCompile(`(?m)^goroutine [0-9]+ \[`)

// run runs one example against baseURL and fails the test when it exits
// non-zero or panics.
func run(t *testing.T, bin, baseURL, token string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(cleanEnv(), "AGENTSESSION_BASE_URL="+baseURL, "AGENTSESSION_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	if bytes.Contains(out, []byte("panic:")) || goroutineTrace.Match(out) {
		t.Errorf("%s panicked:\n%s", filepath.Base(bin), out)
	}
	if err != nil {
		t.Errorf("%s: %v\n%s", filepath.Base(bin), err, out)
	}
	if strings.Contains(string(out), token) {
		t.Errorf("%s printed the token", filepath.Base(bin))
	}
	return string(out)
}

// faults cut and reset answers of every kind the examples get, each logical
// request at most twice (a correct SDK has 4 attempts), so that every
// example still succeeds.
const faults = `
seed: 11
max_per_request: 2
rules:
  - name: cut-json-answers
    match: {stream: false, methods: [POST, PATCH, DELETE]}
    schedule: {every: 2, per_request: 1}
    fault: {kind: truncate, after_bytes: 40}
  - name: reset-reads
    match: {stream: false, methods: [GET]}
    schedule: {every: 3, per_request: 1}
    fault: {kind: reset, after_bytes: 20}
  - name: cut-streams
    match: {stream: true}
    schedule: {every: 2, per_request: 1}
    fault: {kind: sse_cut, after_events: 1, mid_frame: true}
  - name: reset-before-anything
    match: {methods: [POST]}
    schedule: {every: 5, per_request: 1}
    fault: {kind: reset, after_bytes: 0}
`

func TestExamplesRun(t *testing.T) {
	names := programs(t)
	dir := t.TempDir()
	build(t, dir, names)
	const token = "examples-test-token-6e1d"
	url := startServer(t, filepath.Join(dir, "agentsession-server"), token)

	for _, n := range names {
		t.Run(n, func(t *testing.T) { run(t, filepath.Join(dir, n), url, token) })
	}

	cfg, err := faultproxy.ParseConfig([]byte(faults))
	if err != nil {
		t.Fatal(err)
	}
	fp := faultproxy.Start(t, url, cfg)
	for _, n := range names {
		t.Run(n+"/through-faults", func(t *testing.T) { run(t, filepath.Join(dir, n), fp.URL, token) })
	}
	stats := fp.Proxy.Stats()
	t.Logf("through faults: %d requests, %d faults %v", stats.Requests, stats.Faults, stats.FaultsByKind)
	for _, r := range stats.Rules {
		if r.Faults == 0 {
			t.Errorf("rule %s never fired: the examples did not meet that fault", r.Name)
		}
	}
}

// The demo runs every example.
func TestDemoListsEveryExample(t *testing.T) {
	src, err := os.ReadFile("../internal/demo/main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range programs(t) {
		if !bytes.Contains(src, []byte(`{"`+n+`", `)) {
			t.Errorf("internal/demo does not run examples/%s", n)
		}
	}
}

// Examples are code people copy: none discards an error, neither with _
// nor by ignoring a call's error result (defer f.Close() included). Only
// printing to standard output is exempt.
func TestNoExampleDiscardsAnError(t *testing.T) {
	out, err := exec.Command("go", "list", "-export", "-deps", "-json=ImportPath,Export", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	exports := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct{ ImportPath, Export string }
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if exports[path] == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(exports[path])
	})
	errType := types.Universe.Lookup("error").Type()
	for _, n := range programs(t) {
		f, err := parser.ParseFile(fset, filepath.Join(n, "main.go"), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
		if _, err := (&types.Config{Importer: imp}).Check(n, fset, []*ast.File{f}, info); err != nil {
			t.Fatal(err)
		}
		// errorAt reports whether result i of call is an error.
		errorAt := func(call *ast.CallExpr, i int) bool {
			tv := info.Types[call]
			if tup, ok := tv.Type.(*types.Tuple); ok {
				return i < tup.Len() && types.Identical(tup.At(i).Type(), errType)
			}
			return i == 0 && tv.Type != nil && types.Identical(tv.Type, errType)
		}
		returnsError := func(call *ast.CallExpr) bool {
			tv := info.Types[call]
			if tup, ok := tv.Type.(*types.Tuple); ok {
				return tup.Len() > 0 && types.Identical(tup.At(tup.Len()-1).Type(), errType)
			}
			return tv.Type != nil && types.Identical(tv.Type, errType)
		}
		exempt := func(call *ast.CallExpr) bool {
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return false
			}
			obj := info.Uses[sel.Sel]
			if obj == nil || obj.Pkg() == nil || obj.Pkg().Path() != "fmt" {
				return false
			}
			switch obj.Name() {
			case "Print", "Printf", "Println":
				return true
			case "Fprint", "Fprintf", "Fprintln":
				w := types.ExprString(call.Args[0])
				return w == "os.Stdout" || w == "os.Stderr"
			}
			return false
		}
		report := func(n ast.Node, what string) {
			t.Errorf("%s: %s discards an error", fset.Position(n.Pos()), what)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			var call *ast.CallExpr
			switch s := node.(type) {
			case *ast.ExprStmt:
				call, _ = s.X.(*ast.CallExpr)
			case *ast.DeferStmt:
				call = s.Call
			case *ast.GoStmt:
				call = s.Call
			case *ast.AssignStmt:
				if len(s.Rhs) == 1 {
					if c, ok := s.Rhs[0].(*ast.CallExpr); ok {
						for i, lhs := range s.Lhs {
							if id, ok := lhs.(*ast.Ident); ok && id.Name == "_" && errorAt(c, i) {
								report(s, types.ExprString(c.Fun))
							}
						}
					}
				}
				return true
			}
			if call != nil && returnsError(call) && !exempt(call) {
				report(call, types.ExprString(call.Fun))
			}
			return true
		})
	}
}
