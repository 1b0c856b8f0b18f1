package acp_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/refserver/agent/acp"
)

func i64(v int64) *int64 { return &v }

func TestEchoesAPlainPrompt(t *testing.T) {
	b := newBridge(t, config(t))
	r := mustRun(t, b, "s1", "hello there world")
	if diff := cmp.Diff([]gen.ScriptEvent{
		{Type: gen.EventTypeText, Content: "hello there world"},
	}, r.events.all()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(agent.Outcome{StopReason: gen.StopReasonEndTurn, Usage: gen.Usage{InputTokens: i64(3), OutputTokens: i64(3)}}, r.out); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if info := b.Info(); info.Name != "testagent" || info.Kind != gen.AgentKindModel || info.Description == "" {
		t.Errorf("info %+v", info)
	}
}

func TestStreamsUpdatesAsEventsInOrder(t *testing.T) {
	b := newBridge(t, config(t))
	r := mustRun(t, b, "s1", script(
		"/think let me see",
		"/say one",
		"/plan + read the code | > write the fix | test it",
		"/say two",
		"/context 1200 200000",
		"/usage 30 9 4",
	))
	want := []gen.ScriptEvent{
		{Type: gen.EventTypeThinking, Content: "let me see"},
		{Type: gen.EventTypeText, Content: "one"},
		{Type: gen.EventTypePlan, Content: "[completed] read the code\n[in_progress] write the fix\n[pending] test it",
			Data: gen.JSONObject{"entries": []any{
				map[string]any{"content": "read the code", "priority": "medium", "status": "completed"},
				map[string]any{"content": "write the fix", "priority": "medium", "status": "in_progress"},
				map[string]any{"content": "test it", "priority": "medium", "status": "pending"},
			}}},
		{Type: gen.EventTypeText, Content: "two"},
		{Type: gen.EventTypeUsage, Data: gen.JSONObject{"used": 1200, "size": 200000}},
	}
	if diff := cmp.Diff(want, r.events.all()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// Usage details the turn's usage cannot hold come as the outcome's
	// usage event (stored with the turn's end).
	if diff := cmp.Diff([]gen.ScriptEvent{{Type: gen.EventTypeUsage,
		Data: gen.JSONObject{"input_tokens": 30, "output_tokens": 9, "total_tokens": 43, "thought_tokens": 4}}}, r.out.Events); diff != "" {
		t.Errorf("outcome events (-want +got):\n%s", diff)
	}
	if r.out.StopReason != gen.StopReasonEndTurn || *r.out.Usage.InputTokens != 30 || *r.out.Usage.OutputTokens != 9 {
		t.Errorf("outcome %+v", r.out)
	}
}

func TestToolCallsBecomeToolEvents(t *testing.T) {
	b := newBridge(t, config(t))
	r := mustRun(t, b, "s1", script(`/tool read_file {"path":"main.go"}`, "/tool-fail grep"))
	want := []gen.ScriptEvent{
		{Type: gen.EventTypeToolCall, ToolCallID: "call_1_1", Name: "read_file", Args: gen.JSONObject{"path": "main.go"},
			Status: gen.ToolCallStatusPending, Data: gen.JSONObject{"kind": "other"}},
		{Type: gen.EventTypeToolResult, ToolCallID: "call_1_1", Name: "read_file", Status: gen.ToolCallStatusInProgress},
		{Type: gen.EventTypeToolResult, ToolCallID: "call_1_1", Name: "read_file", Status: gen.ToolCallStatusCompleted,
			Result: map[string]any{"ok": true, "tool": "read_file"},
			Data: gen.JSONObject{"content": []any{map[string]any{"type": "content",
				"content": map[string]any{"type": "text", "text": "read_file done"}}}}},
		{Type: gen.EventTypeToolCall, ToolCallID: "call_1_2", Name: "grep", Args: gen.JSONObject{},
			Status: gen.ToolCallStatusPending, Data: gen.JSONObject{"kind": "other"}},
		{Type: gen.EventTypeToolResult, ToolCallID: "call_1_2", Name: "grep", Status: gen.ToolCallStatusInProgress},
		{Type: gen.EventTypeToolResult, ToolCallID: "call_1_2", Name: "grep", Status: gen.ToolCallStatusFailed,
			Result: map[string]any{"error": "grep failed as the prompt asked"}},
	}
	got := r.events.all()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestStopReasons(t *testing.T) {
	b := newBridge(t, config(t))
	for _, reason := range []gen.StopReason{gen.StopReasonMaxTokens, gen.StopReasonMaxTurnRequests, gen.StopReasonRefusal, gen.StopReasonCancelled, gen.StopReasonEndTurn} {
		r := mustRun(t, b, "s1", "/stop "+string(reason))
		if r.out.StopReason != reason {
			t.Errorf("/stop %s: stop reason %q", reason, r.out.StopReason)
		}
	}
	r := run(t, b, "s1", "/stop tired")
	wantErr(t, r.err, `agent "testagent" ended the turn with stop reason "tired", which ACP does not define`)
}

func TestPromptErrorIsTheTurnsError(t *testing.T) {
	b := newBridge(t, config(t))
	r := run(t, b, "s1", "/error the model is unavailable")
	wantErr(t, r.err, `agent "testagent" answered session/prompt with an error`, "the model is unavailable")
	r = run(t, b, "s1", "/no-such-command")
	wantErr(t, r.err, "unknown command /no-such-command")
	// The process is fine: the session goes on.
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 3"}) {
		t.Errorf("texts %q", got)
	}
}

func TestCancelEndsTheTurnPromptly(t *testing.T) {
	b := newBridge(t, config(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := newRecorder()
	done := make(chan turnResult, 1)
	go func() {
		start := time.Now()
		out, err := b.Run(ctx, agent.Input{SessionID: "s1", TurnIndex: 1, Prompt: script("/say working", "/sleep 60000", "/say never")}, rec.emit)
		done <- turnResult{out: out, err: err, took: time.Since(start)}
	}()
	<-rec.first
	cancel()
	var r turnResult
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled turn did not end")
	}
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", r.err)
	}
	if got := rec.texts(); !cmp.Equal(got, []string{"working"}) {
		t.Errorf("texts %q", got)
	}
	// The agent answered session/cancel, so its process lives on.
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 2"}) {
		t.Errorf("after the cancel: %q, want the same process's second prompt", got)
	}
}

func TestCancelCauseIsReturned(t *testing.T) {
	b := newBridge(t, config(t))
	cause := errors.New("interrupted by a newer turn")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(50*time.Millisecond, func() { cancel(cause) })
	r := runCtx(ctx, b, "s1", "/sleep 60000")
	if !errors.Is(r.err, cause) {
		t.Fatalf("err %v, want the cause", r.err)
	}
}

func TestAgentThatIgnoresCancelIsBoundedByTheContext(t *testing.T) {
	cfg := config(t)
	cfg.Limits.CancelGrace = 200 * time.Millisecond
	b := newBridge(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := runCtx(ctx, b, "s1", script("/say hanging", "/hang"))
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the deadline", r.err)
	}
	if r.took > 5*time.Second {
		t.Errorf("the turn took %v", r.took)
	}
	// Its process was stopped; the next turn has a new one.
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 1"}) {
		t.Errorf("after the hang: %q, want a new process's first prompt", got)
	}
}

func TestCrashMidTurnQuotesStderrAndTheNextTurnStartsAfresh(t *testing.T) {
	b := newBridge(t, config(t))
	mustRun(t, b, "s1", "first")
	r := run(t, b, "s1", script("/say before", "/stderr loading the model", "/crash 7"))
	wantErr(t, r.err, `agent "testagent" exited during the turn (exit status 7)`,
		"its stderr ends with: loading the model\nacptestagent: crashing with exit code 7")
	if got := r.events.texts(); !cmp.Equal(got, []string{"before"}) {
		t.Errorf("texts %q", got)
	}
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 1"}) {
		t.Errorf("after the crash: %q, want a new process's first prompt", got)
	}
}

func TestStderrTailIsBounded(t *testing.T) {
	cfg := config(t)
	cfg.Limits.StderrTailBytes = 300
	b := newBridge(t, cfg)
	r := run(t, b, "s1", script("/flood-stderr 1000000", "/crash 1"))
	wantErr(t, r.err, "exit status 1", "crashing with exit code 1")
	if n := len(r.err.Error()); n > 600 {
		t.Errorf("the error is %d bytes: %.200q…", n, r.err)
	}
}

func TestFloodIsBounded(t *testing.T) {
	cfg := config(t)
	cfg.Limits.TurnOutputBytes = 256 << 10
	b := newBridge(t, cfg)
	r := run(t, b, "s1", "/flood 50000000")
	wantErr(t, r.err, `agent "testagent" wrote more than 262144 bytes during the turn (limits.turn_output_bytes); its process was stopped`)
	var n int
	for _, e := range r.events.all() {
		n += len(e.Content)
	}
	if n > 256<<10 || n == 0 {
		t.Errorf("%d bytes of text were emitted, want some and at most the limit", n)
	}
	if r.took > 10*time.Second {
		t.Errorf("the flood took %v to stop", r.took)
	}
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 1"}) {
		t.Errorf("after the flood: %q", got)
	}
}

func TestTurnsOfDifferentSessionsHaveTheirOwnProcesses(t *testing.T) {
	b := newBridge(t, config(t))
	results := make(chan turnResult, 2)
	for _, s := range []string{"a", "b"} {
		go func() { results <- run(t, b, s, script("/sleep 100", "/count")) }()
	}
	for range 2 {
		r := <-results
		if r.err != nil || !cmp.Equal(r.events.texts(), []string{"prompts: 1"}) {
			t.Errorf("err %v, texts %q", r.err, r.events.texts())
		}
	}
	if n := b.Processes(); n != 2 {
		t.Errorf("%d processes, want 2", n)
	}
	if err := b.CloseSession(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if n := b.Processes(); n != 1 {
		t.Errorf("%d processes after closing one session, want 1", n)
	}
}

func TestMaxProcessesStopsTheLeastRecentlyUsed(t *testing.T) {
	cfg := config(t)
	cfg.Limits.MaxProcesses = 1
	b := newBridge(t, cfg)
	mustRun(t, b, "a", "hi")
	mustRun(t, b, "a", "hi")
	mustRun(t, b, "b", "hi")
	if n := b.Processes(); n != 1 {
		t.Errorf("%d processes, want 1", n)
	}
	if got := mustRun(t, b, "a", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 1"}) {
		t.Errorf("a after its eviction: %q, want a new process", got)
	}
}

func TestClosedBridgeRefusesTurns(t *testing.T) {
	b := newBridge(t, config(t))
	mustRun(t, b, "s1", "hi")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n := b.Processes(); n != 0 {
		t.Errorf("%d processes after Close", n)
	}
	r := run(t, b, "s1", "hi")
	if !errors.Is(r.err, acp.ErrClosed) {
		t.Errorf("err %v", r.err)
	}
}

// gone reports whether process pid no longer exists (it was reaped).
func gone(pid int) bool { return syscall.Kill(pid, 0) == syscall.ESRCH }

func TestCloseSessionStopsTheProcess(t *testing.T) {
	b := newBridge(t, config(t))
	mustRun(t, b, "s1", "hi")
	pid := b.PID("s1")
	if pid == 0 || gone(pid) {
		t.Fatalf("pid %d", pid)
	}
	if err := b.CloseSession(context.Background(), "s1"); err != nil {
		t.Fatal(err)
	}
	if !gone(pid) {
		t.Errorf("process %d still runs after CloseSession", pid)
	}
	if err := b.CloseSession(context.Background(), "s1"); err != nil {
		t.Errorf("closing again: %v", err)
	}
}

func TestAProcessThatDiedBetweenTurnsIsReplaced(t *testing.T) {
	b := newBridge(t, config(t))
	mustRun(t, b, "s1", "hi")
	pid := b.PID("s1")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && !gone(pid); i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 1"}) {
		t.Errorf("texts %q", got)
	}
	if b.PID("s1") == pid {
		t.Error("the same pid")
	}
}

func TestAnEmitErrorEndsTheTurn(t *testing.T) {
	b := newBridge(t, config(t))
	storeDown := errors.New("store the event: disk full")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := b.Run(ctx, agent.Input{SessionID: "s1", Prompt: script("/say one", "/sleep 60000")},
		func(gen.ScriptEvent) error { return storeDown })
	if !errors.Is(err, storeDown) {
		t.Fatalf("err %v, want the emit error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	// The agent was cancelled, not killed: the session goes on.
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 2"}) {
		t.Errorf("texts %q", got)
	}
}

func TestCloseSessionDuringATurn(t *testing.T) {
	b := newBridge(t, config(t))
	rec := newRecorder()
	done := make(chan turnResult, 1)
	go func() {
		out, err := b.Run(context.Background(), agent.Input{SessionID: "s1", Prompt: script("/say working", "/sleep 60000")}, rec.emit)
		done <- turnResult{out: out, err: err}
	}()
	<-rec.first
	pid := b.PID("s1")
	if err := b.CloseSession(context.Background(), "s1"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		// The test agent answers "cancelled" when its stdin closes; had it
		// not, the turn would end with an error.
		if r.err == nil && r.out.StopReason != gen.StopReasonCancelled {
			t.Errorf("the turn ended %+v", r.out)
		} else if r.err != nil {
			wantErr(t, r.err, `agent "testagent" exited during the turn`)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the turn did not end")
	}
	if !gone(pid) || b.Processes() != 0 {
		t.Errorf("process %d still runs", pid)
	}
}
