package acp_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/refserver/agent/acp"
)

// testAgent is the path of cmd/agentsession-acp-testagent, built once by
// TestMain.
var testAgent string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "acp-testagent-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	testAgent = filepath.Join(dir, "agentsession-acp-testagent")
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	build := exec.Command(goTool, "build", "-o", testAgent, "github.com/agentsession/agentsession/cmd/agentsession-acp-testagent")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the test agent: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// config is a Config of the test agent working in a new directory.
func config(t testing.TB, args ...string) acp.Config {
	t.Helper()
	return acp.Config{Name: "testagent", Command: testAgent, Args: args, Cwd: t.TempDir()}
}

func newBridge(t testing.TB, cfg acp.Config, opts ...acp.Option) *acp.Bridge {
	t.Helper()
	b, err := acp.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// recorder collects a turn's events; safe for concurrent use.
type recorder struct {
	mu     sync.Mutex
	events []gen.ScriptEvent
	first  chan struct{} // closed at the first event
	once   sync.Once
}

func newRecorder() *recorder { return &recorder{first: make(chan struct{})} }

func (r *recorder) emit(e gen.ScriptEvent) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.once.Do(func() { close(r.first) })
	return nil
}

func (r *recorder) all() []gen.ScriptEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]gen.ScriptEvent(nil), r.events...)
}

// texts are the contents of the text events.
func (r *recorder) texts() []string {
	var out []string
	for _, e := range r.all() {
		if e.Type == gen.EventTypeText {
			out = append(out, e.Content)
		}
	}
	return out
}

type turnResult struct {
	out    agent.Outcome
	err    error
	events *recorder
	took   time.Duration
}

// run runs one turn of session in b with a 20 s bound.
func run(t testing.TB, b *acp.Bridge, session, prompt string) turnResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return runCtx(ctx, b, session, prompt)
}

func runCtx(ctx context.Context, b *acp.Bridge, session, prompt string) turnResult {
	rec := newRecorder()
	start := time.Now()
	out, err := b.Run(ctx, agent.Input{SessionID: session, TurnIndex: 1, Prompt: prompt}, rec.emit)
	return turnResult{out: out, err: err, events: rec, took: time.Since(start)}
}

// mustRun is run, failing the test on an error.
func mustRun(t testing.TB, b *acp.Bridge, session, prompt string) turnResult {
	t.Helper()
	r := run(t, b, session, prompt)
	if r.err != nil {
		t.Fatalf("turn %q: %v", prompt, r.err)
	}
	return r
}

func wantErr(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func script(lines ...string) string { return strings.Join(lines, "\n") }
