package acp_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/refserver/agent/acp"
)

// toolStatuses are the statuses of the tool events, in order.
func toolStatuses(events []gen.ScriptEvent) []gen.ToolCallStatus {
	var out []gen.ToolCallStatus
	for _, e := range events {
		if e.Type == gen.EventTypeToolCall || e.Type == gen.EventTypeToolResult {
			out = append(out, e.Status)
		}
	}
	return out
}

func TestPermissionWithoutPermissionsIsCancelled(t *testing.T) {
	b := newBridge(t, config(t))
	r := mustRun(t, b, "s1", "/ask deploy")
	if got := r.events.texts(); !cmp.Equal(got, []string{"permission cancelled"}) {
		t.Errorf("texts %q", got)
	}
	if got := toolStatuses(r.events.all()); !cmp.Equal(got, []gen.ToolCallStatus{"pending", "failed"}) {
		t.Errorf("tool statuses %q", got)
	}
	if r.out.StopReason != gen.StopReasonEndTurn {
		t.Errorf("stop reason %q", r.out.StopReason)
	}
}

func TestPermissionAnswersReachTheAgent(t *testing.T) {
	b := newBridge(t, config(t))
	for _, tt := range []struct {
		option string
		text   string
		status []gen.ToolCallStatus
	}{
		{"allow-once", "permission granted (allow-once)", []gen.ToolCallStatus{"pending", "in_progress", "completed"}},
		{"allow-always", "permission granted (allow-always)", []gen.ToolCallStatus{"pending", "in_progress", "completed"}},
		{"reject-once", "permission refused (reject-once)", []gen.ToolCallStatus{"pending", "failed"}},
		{"reject-always", "permission refused (reject-always)", []gen.ToolCallStatus{"pending", "failed"}},
		{"not-offered", "permission cancelled", []gen.ToolCallStatus{"pending", "failed"}},
	} {
		var mu sync.Mutex
		var asked []acp.PermissionRequest
		perms := acp.PermissionsFunc(func(_ context.Context, req acp.PermissionRequest) (string, error) {
			mu.Lock()
			asked = append(asked, req)
			mu.Unlock()
			return tt.option, nil
		})
		ctx, cancel := context.WithTimeout(acp.WithPermissions(context.Background(), perms), 20*time.Second)
		rec := newRecorder()
		_, err := b.Run(ctx, agent.Input{SessionID: "s1", TurnIndex: 4, Prompt: "/ask deploy"}, rec.emit)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", tt.option, err)
		}
		if got := rec.texts(); !cmp.Equal(got, []string{tt.text}) {
			t.Errorf("%s: texts %q", tt.option, got)
		}
		if got := toolStatuses(rec.all()); !cmp.Equal(got, tt.status) {
			t.Errorf("%s: tool statuses %q", tt.option, got)
		}
		if len(asked) != 1 {
			t.Fatalf("%s: asked %d times", tt.option, len(asked))
		}
		callID := rec.all()[0].ToolCallID
		want := acp.PermissionRequest{
			SessionID: "s1", TurnIndex: 4, ToolCallID: callID, Title: "deploy", ToolKind: "edit",
			RawInput: map[string]any{"tool": "deploy"},
			Options: []acp.PermissionOption{
				{ID: "allow-once", Name: "Allow once", Kind: acp.PermissionAllowOnce},
				{ID: "allow-always", Name: "Always allow", Kind: acp.PermissionAllowAlways},
				{ID: "reject-once", Name: "Reject", Kind: acp.PermissionRejectOnce},
				{ID: "reject-always", Name: "Always reject", Kind: acp.PermissionRejectAlways},
			},
		}
		if diff := cmp.Diff(want, asked[0]); diff != "" {
			t.Errorf("%s: the request (-want +got):\n%s", tt.option, diff)
		}
	}
}

func TestPermissionErrorIsCancelled(t *testing.T) {
	b := newBridge(t, config(t))
	perms := acp.PermissionsFunc(func(context.Context, acp.PermissionRequest) (string, error) {
		return "", errors.New("no human around")
	})
	ctx, cancel := context.WithTimeout(acp.WithPermissions(context.Background(), perms), 20*time.Second)
	defer cancel()
	r := runCtx(ctx, b, "s1", "/ask deploy")
	if r.err != nil || !cmp.Equal(r.events.texts(), []string{"permission cancelled"}) {
		t.Errorf("err %v, texts %q", r.err, r.events.texts())
	}
}

func TestCancelWhileAskingEndsTheWaitAndTheTurn(t *testing.T) {
	b := newBridge(t, config(t))
	asking := make(chan struct{})
	askEnded := make(chan error, 1)
	perms := acp.PermissionsFunc(func(ctx context.Context, _ acp.PermissionRequest) (string, error) {
		close(asking)
		<-ctx.Done() // a human who never answers
		askEnded <- ctx.Err()
		return "", ctx.Err()
	})
	ctx, cancel := context.WithCancel(acp.WithPermissions(context.Background(), perms))
	defer cancel()
	done := make(chan turnResult, 1)
	go func() { done <- runCtx(ctx, b, "s1", script("/ask deploy", "/say after")) }()
	select {
	case <-asking:
	case <-time.After(10 * time.Second):
		t.Fatal("no permission request")
	}
	cancel()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("err %v", r.err)
		}
		for _, text := range r.events.texts() {
			if text == "after" {
				t.Error("the agent went on after the cancel")
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the turn did not end")
	}
	select {
	case err := <-askEnded:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the ask ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the ask's context did not end with the turn")
	}
	// The agent honoured the cancel; its process goes on.
	if got := mustRun(t, b, "s1", "/count").events.texts(); !cmp.Equal(got, []string{"prompts: 2"}) {
		t.Errorf("texts %q", got)
	}
}

// The server's seam: without WithPermissions the bridge asks the turn's
// agent.Input.Permissions, after the events of the updates the agent sent
// before it asked (its tool call), and the answer reaches the agent.
func TestPermissionsOfTheTurnsInput(t *testing.T) {
	b := newBridge(t, config(t))
	rec := newRecorder()
	var eventsWhenAsked []gen.ScriptEvent
	var asked []acp.PermissionRequest
	perms := agent.PermissionsFunc(func(_ context.Context, req agent.PermissionRequest) (string, error) {
		eventsWhenAsked = rec.all()
		asked = append(asked, req)
		return "reject-once", nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := b.Run(ctx, agent.Input{SessionID: "s1", TurnIndex: 2, Prompt: script("/say first", "/ask deploy"), Permissions: perms}, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0].TurnIndex != 2 || asked[0].Title != "deploy" || len(asked[0].Options) != 4 {
		t.Fatalf("asked %+v", asked)
	}
	var types []gen.EventType
	for _, e := range eventsWhenAsked {
		types = append(types, e.Type)
	}
	if !cmp.Equal(types, []gen.EventType{gen.EventTypeText, gen.EventTypeToolCall}) || eventsWhenAsked[1].ToolCallID != asked[0].ToolCallID {
		t.Errorf("events emitted when the request was asked: %+v, want the text and the tool call %s", eventsWhenAsked, asked[0].ToolCallID)
	}
	if got := rec.texts(); !cmp.Equal(got, []string{"first", "permission refused (reject-once)"}) {
		t.Errorf("texts %q", got)
	}
	// WithPermissions wins over the input's.
	ctxPerms := acp.PermissionsFunc(func(context.Context, acp.PermissionRequest) (string, error) { return "allow-once", nil })
	rec = newRecorder()
	_, err = b.Run(acp.WithPermissions(ctx, ctxPerms), agent.Input{SessionID: "s1", TurnIndex: 3, Prompt: "/ask deploy", Permissions: perms}, rec.emit)
	if err != nil || !cmp.Equal(rec.texts(), []string{"permission granted (allow-once)"}) || len(asked) != 1 {
		t.Errorf("err %v, texts %q, the input's asked %d times", err, rec.texts(), len(asked))
	}
}
