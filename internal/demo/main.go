// Command demo is `make demo`: it builds the reference server and the
// examples, starts the server on an SQLite database in a temporary
// directory, runs every example against it, shows what each one did, stops
// the server and removes the directory. It exits 1 when an example fails.
//
//	go run ./internal/demo            # from the repository root
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// examples run in this order; each is a main package under examples/.
var examples = []struct{ name, what string }{
	{"quickstart", "a multi-turn conversation"},
	{"streaming", "events as they arrive, and a cancelled turn"},
	{"lifecycle", "work log, artifacts, handoff, continue, replay"},
	{"errors", "typed errors and retries"},
	{"hitl", "a permission request answered, a queued turn cancelled"},
	{"record", "the local turn record, read back"},
	{"acp", "an ACP agent process behind the session (the test agent, through the bridge)"},
}

const (
	buildTimeout   = 10 * time.Minute
	startTimeout   = 30 * time.Second
	exampleTimeout = 2 * time.Minute
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, err := moduleRoot()
	if err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp("", "agentsession-demo-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bin")

	fmt.Println("Agent Session API demo: the reference server and the SDK examples")
	fmt.Printf("\n  building the reference server and %d examples ... ", len(examples))
	start := time.Now()
	if err := build(ctx, root, bin); err != nil {
		fmt.Println("failed")
		return fail(err)
	}
	fmt.Printf("done (%.1fs)\n", time.Since(start).Seconds())

	token := "demo-" + rand.Text()
	db := filepath.Join(tmp, "demo.db")
	fmt.Printf("  starting the reference server on SQLite %s ... ", db)
	srv, err := startServer(ctx, filepath.Join(bin, "agentsession-server"), db, token)
	if err != nil {
		fmt.Println("failed")
		return fail(err)
	}
	fmt.Printf("listening on %s\n", srv.url)

	type result struct {
		name string
		err  error
		took time.Duration
	}
	var results []result
	for _, ex := range examples {
		fmt.Printf("\n━━ examples/%s: %s\n", ex.name, ex.what)
		start := time.Now()
		err := runExample(ctx, filepath.Join(bin, ex.name), srv.url, token)
		took := time.Since(start)
		if err != nil {
			fmt.Printf("  ✗ failed after %v: %v\n", took.Round(time.Millisecond), err)
		} else {
			fmt.Printf("  ✓ passed in %v\n", took.Round(time.Millisecond))
		}
		results = append(results, result{ex.name, err, took})
		if ctx.Err() != nil {
			break
		}
	}

	stopErr := srv.stop()
	fmt.Println("\nsummary:")
	failed := 0
	for _, r := range results {
		mark := "✓"
		if r.err != nil {
			mark, failed = "✗", failed+1
		}
		fmt.Printf("  %s %-11s %8v\n", mark, r.name, r.took.Round(time.Millisecond))
	}
	if stopErr != nil {
		fmt.Printf("  the server did not stop cleanly: %v\n", stopErr)
	} else {
		fmt.Println("  the server stopped cleanly")
	}
	if failed > 0 || srv.failed() {
		fmt.Printf("\n%d of %d examples failed; the server's log:\n%s", failed, len(examples), indent(srv.log()))
		return 1
	}
	if len(results) < len(examples) {
		fmt.Println("\ninterrupted")
		return 1
	}
	fmt.Printf("\nall %d examples passed; %s removed\n", len(examples), tmp)
	return 0
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "demo:", err)
	return 1
}

// moduleRoot finds the directory of the module's go.mod from the working
// directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/agentsession/agentsession\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the demo from the agentsession repository (no go.mod found)")
		}
		dir = parent
	}
}

func build(ctx context.Context, root, bin string) error {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	args := []string{"build", "-o", bin + string(filepath.Separator), "./cmd/agentsession-server", "./cmd/agentsession-acp-testagent"}
	for _, ex := range examples {
		args = append(args, "./examples/"+ex.name)
	}
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// server is the running reference server.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan struct{}
	err  error // the process's exit error, once done is closed
}

func startServer(ctx context.Context, path, db, token string) (*server, error) {
	// The ACP test agent is the agent acp-test (examples/acp).
	acpAgent := "acp-test=" + filepath.Join(filepath.Dir(path), "agentsession-acp-testagent")
	cmd := exec.Command(path, "-addr", "127.0.0.1:0", "-db", db, "-log-level", "warn", "-acp-agent", acpAgent)
	cmd.Env = append(cleanEnv(), "AGENTSESSION_TOKENS="+token)
	s := &server{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "listening on "); ok {
				select {
				case urls <- strings.TrimSpace(u):
				default:
				}
				continue
			}
			fmt.Fprintln(s.logs, line)
		}
	}()
	go func() { s.err = cmd.Wait(); close(s.done) }()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case s.url = <-urls:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("the server exited before listening: %v\n%s", s.err, s.logs)
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = s.stop()
	return nil, fmt.Errorf("the server did not print its URL within %v\n%s", startTimeout, s.logs)
}

// stop asks the server to shut down gracefully, then kills it.
func (s *server) stop() error {
	select {
	case <-s.done:
		return s.err
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
		return s.err
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("killed after 10s")
	}
}

func (s *server) failed() bool { return s.err != nil }

func (s *server) log() string { return s.logs.String() }

func runExample(ctx context.Context, path, url, token string) error {
	ctx, cancel := context.WithTimeout(ctx, exampleTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = append(cleanEnv(), "AGENTSESSION_BASE_URL="+url, "AGENTSESSION_TOKEN="+token)
	out := &prefixWriter{w: os.Stdout, prefix: "  │ "}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	out.flush()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %v", exampleTimeout)
	}
	return err
}

// cleanEnv is the environment without AGENTSESSION_* variables, so that
// nothing from the caller's shell changes what the demo runs against.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AGENTSESSION_") {
			env = append(env, kv)
		}
	}
	return env
}

// prefixWriter writes each line with a prefix.
type prefixWriter struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string
	partial []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.partial[:i])
		p.partial = p.partial[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.partial) > 0 {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.partial)
		p.partial = nil
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func indent(s string) string {
	if s == "" {
		return "  (empty)\n"
	}
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}
