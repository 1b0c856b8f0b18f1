package acptestagent_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	acp "github.com/coder/acp-go-sdk"
	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/internal/acptestagent"
)

// client records updates and answers permission requests with answer
// (nil: cancelled).
type client struct {
	mu      sync.Mutex
	updates []acp.SessionUpdate
	answer  *acp.PermissionOptionId
}

func (c *client) SessionUpdate(_ context.Context, n acp.SessionNotification) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updates = append(c.updates, n.Update)
	return nil
}

func (c *client) texts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, u := range c.updates {
		if u.AgentMessageChunk != nil && u.AgentMessageChunk.Content.Text != nil {
			out = append(out, u.AgentMessageChunk.Content.Text.Text)
		}
	}
	return out
}

func (c *client) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updates = nil
}

func (c *client) RequestPermission(context.Context, acp.RequestPermissionRequest) (acp.RequestPermissionResponse, error) {
	if c.answer == nil {
		return acp.RequestPermissionResponse{Outcome: acp.NewRequestPermissionOutcomeCancelled()}, nil
	}
	return acp.RequestPermissionResponse{Outcome: acp.NewRequestPermissionOutcomeSelected(*c.answer)}, nil
}

func (c *client) ReadTextFile(_ context.Context, p acp.ReadTextFileRequest) (acp.ReadTextFileResponse, error) {
	return acp.ReadTextFileResponse{Content: "content of " + p.Path}, nil
}

func (c *client) WriteTextFile(context.Context, acp.WriteTextFileRequest) (acp.WriteTextFileResponse, error) {
	return acp.WriteTextFileResponse{}, nil
}

func (c *client) CreateTerminal(context.Context, acp.CreateTerminalRequest) (acp.CreateTerminalResponse, error) {
	return acp.CreateTerminalResponse{}, acp.NewMethodNotFound("terminal/create")
}

func (c *client) KillTerminal(context.Context, acp.KillTerminalRequest) (acp.KillTerminalResponse, error) {
	return acp.KillTerminalResponse{}, nil
}

func (c *client) TerminalOutput(context.Context, acp.TerminalOutputRequest) (acp.TerminalOutputResponse, error) {
	return acp.TerminalOutputResponse{}, nil
}

func (c *client) ReleaseTerminal(context.Context, acp.ReleaseTerminalRequest) (acp.ReleaseTerminalResponse, error) {
	return acp.ReleaseTerminalResponse{}, nil
}

func (c *client) WaitForTerminalExit(context.Context, acp.WaitForTerminalExitRequest) (acp.WaitForTerminalExitResponse, error) {
	return acp.WaitForTerminalExitResponse{}, nil
}

type harness struct {
	conn   *acp.ClientSideConnection
	c      *client
	stderr *bytes.Buffer
	exits  []int
}

// start serves an agent in-process over pipes, initialized.
func start(t *testing.T, opts acptestagent.Options) *harness {
	t.Helper()
	toAgentR, toAgentW := io.Pipe()
	fromAgentR, fromAgentW := io.Pipe()
	h := &harness{c: &client{}, stderr: &bytes.Buffer{}}
	opts.Stderr = h.stderr
	opts.Exit = func(code int) { h.exits = append(h.exits, code) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = acptestagent.Serve(ctx, toAgentR, fromAgentW, opts)
	}()
	t.Cleanup(func() {
		toAgentW.Close()
		cancel()
		<-done
		fromAgentW.Close()
	})
	h.conn = acp.NewClientSideConnection(h.c, toAgentW, fromAgentR)
	h.conn.SetLogger(slog.New(slog.DiscardHandler))
	resp, err := h.conn.Initialize(ctx, acp.InitializeRequest{ProtocolVersion: acp.ProtocolVersionNumber})
	if err != nil {
		t.Fatal(err)
	}
	if resp.AgentCapabilities.LoadSession != (opts.StateDir != "") {
		t.Errorf("loadSession %v with state dir %q", resp.AgentCapabilities.LoadSession, opts.StateDir)
	}
	return h
}

func (h *harness) newSession(t *testing.T) acp.SessionId {
	t.Helper()
	resp, err := h.conn.NewSession(context.Background(), acp.NewSessionRequest{Cwd: "/work", McpServers: []acp.McpServer{}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.SessionId
}

func (h *harness) prompt(t *testing.T, s acp.SessionId, text string) (acp.PromptResponse, error) {
	t.Helper()
	h.c.reset()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.conn.Prompt(ctx, acp.PromptRequest{SessionId: s, Prompt: []acp.ContentBlock{acp.TextBlock(text)}})
}

func TestEchoAndUsage(t *testing.T) {
	h := start(t, acptestagent.Options{})
	s := h.newSession(t)
	resp, err := h.prompt(t, s, "three little words")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StopReason != acp.StopReasonEndTurn || resp.Usage == nil || resp.Usage.InputTokens != 3 || resp.Usage.OutputTokens != 3 {
		t.Errorf("response %+v", resp)
	}
	if got := h.c.texts(); !cmp.Equal(got, []string{"three little words"}) {
		t.Errorf("texts %q", got)
	}
}

func TestScriptCommands(t *testing.T) {
	h := start(t, acptestagent.Options{})
	s := h.newSession(t)
	resp, err := h.prompt(t, s, "/say a\n\n/read notes.md\n/stderr to stderr\n/stop refusal\n/say never")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StopReason != acp.StopReasonRefusal {
		t.Errorf("stop reason %q", resp.StopReason)
	}
	if got := h.c.texts(); !cmp.Equal(got, []string{"a", "read notes.md: content of /work/notes.md"}) {
		t.Errorf("texts %q", got)
	}
	// In-process, Exit returns; the prompt then fails.
	if _, err := h.prompt(t, s, "/crash 9"); err == nil {
		t.Error("/crash answered")
	}
	if !strings.Contains(h.stderr.String(), "to stderr\nacptestagent: crashing with exit code 9") || !cmp.Equal(h.exits, []int{9}) {
		t.Errorf("stderr %q, exits %v", h.stderr, h.exits)
	}
}

func TestBadLinesAreErrors(t *testing.T) {
	h := start(t, acptestagent.Options{})
	s := h.newSession(t)
	for _, tt := range []struct{ prompt, want string }{
		{"/say ok\n/frobnicate", "unknown command /frobnicate"},
		{"/sleep soon", `/sleep wants milliseconds, have "soon"`},
		{"/tool t {not json", "arguments are not JSON"},
		{"/usage 1", "/usage wants IN OUT"},
	} {
		_, err := h.prompt(t, s, tt.prompt)
		re, ok := err.(*acp.RequestError)
		if !ok {
			t.Errorf("%q: error %v, want a JSON-RPC error", tt.prompt, err)
			continue
		}
		data, _ := re.Data.(map[string]any)
		if msg, _ := data["error"].(string); re.Code != -32602 || !strings.Contains(msg, tt.want) {
			t.Errorf("%q: error %v, want invalid params with %q", tt.prompt, err, tt.want)
		}
	}
}

func TestAskBranchesOnTheAnswer(t *testing.T) {
	h := start(t, acptestagent.Options{})
	s := h.newSession(t)
	for _, tt := range []struct {
		answer *acp.PermissionOptionId
		want   string
	}{
		{acp.Ptr(acp.PermissionOptionId("allow-once")), "permission granted (allow-once)"},
		{acp.Ptr(acp.PermissionOptionId("reject-always")), "permission refused (reject-always)"},
		{nil, "permission cancelled"},
	} {
		h.c.answer = tt.answer
		if _, err := h.prompt(t, s, "/ask rm"); err != nil {
			t.Fatal(err)
		}
		if got := h.c.texts(); !cmp.Equal(got, []string{tt.want}) {
			t.Errorf("texts %q, want %q", got, tt.want)
		}
	}
}

func TestCancelEndsASleep(t *testing.T) {
	h := start(t, acptestagent.Options{})
	s := h.newSession(t)
	time.AfterFunc(50*time.Millisecond, func() { _ = h.conn.Cancel(context.Background(), acp.CancelNotification{SessionId: s}) })
	start := time.Now()
	resp, err := h.prompt(t, s, "/sleep 60000")
	if err != nil || resp.StopReason != acp.StopReasonCancelled {
		t.Fatalf("resp %+v, err %v", resp, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestLoadReplaysAndKeepsCounting(t *testing.T) {
	dir := t.TempDir()
	h := start(t, acptestagent.Options{StateDir: dir})
	s := h.newSession(t)
	if _, err := h.prompt(t, s, "first"); err != nil {
		t.Fatal(err)
	}

	h2 := start(t, acptestagent.Options{StateDir: dir}) // a new process
	h2.c.reset()
	if _, err := h2.conn.LoadSession(context.Background(), acp.LoadSessionRequest{SessionId: s, Cwd: "/work", McpServers: []acp.McpServer{}}); err != nil {
		t.Fatal(err)
	}
	if got := h2.c.texts(); !cmp.Equal(got, []string{"first"}) {
		t.Errorf("replayed %q", got)
	}
	if _, err := h2.prompt(t, s, "/count"); err != nil {
		t.Fatal(err)
	}
	if got := h2.c.texts(); !cmp.Equal(got, []string{"prompts: 2"}) {
		t.Errorf("texts %q", got)
	}
	if _, err := h2.conn.LoadSession(context.Background(), acp.LoadSessionRequest{SessionId: "sess_00ff", Cwd: "/work", McpServers: []acp.McpServer{}}); err == nil {
		t.Error("loading an unknown session worked")
	}
}
