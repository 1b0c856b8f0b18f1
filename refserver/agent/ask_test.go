package agent_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
)

const askScript = `{"steps":[
	{"event":{"type":"text","content":"before"}},
	{"ask":{"request_id":"p1","tool_call_id":"c1","title":"Deploy?",
		"options":[{"option_id":"yes","name":"Yes","kind":"allow_once"},{"option_id":"no","name":"No","kind":"reject_once"},
		           {"option_id":"later","name":"Later","kind":"reject_always"}],
		"branches":{"yes":{"steps":[{"event":{"type":"text","content":"deployed"}}]},
		            "no":{"steps":[{"event":{"type":"text","content":"kept"}}],"stop_reason":"refusal"},
		            "cancelled":{"steps":[{"event":{"type":"text","content":"nobody answered"}}]}}}},
	{"event":{"type":"text","content":"after"}}]}`

// answering is a Permissions that answers every request with answer (an
// option id, or an error), recording the requests.
type answering struct {
	mu     sync.Mutex
	answer func(agent.PermissionRequest) (string, error)
	asked  []agent.PermissionRequest
}

func (a *answering) RequestPermission(ctx context.Context, req agent.PermissionRequest) (string, error) {
	a.mu.Lock()
	a.asked = append(a.asked, req)
	a.mu.Unlock()
	return a.answer(req)
}

func texts(events []gen.ScriptEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Content)
	}
	return out
}

// The scripted agent asks, then plays the branch of the answer: a branch
// with a stop reason ends the turn, one without goes on with the script,
// an answer without a branch goes on too, and a request answered
// cancelled (or nobody to ask) plays the cancelled branch.
func TestScriptedAskBranches(t *testing.T) {
	script, err := agent.ParseScript([]byte(askScript))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		answer func(agent.PermissionRequest) (string, error)
		texts  []string
		stop   gen.StopReason
	}{
		{"allowed", func(agent.PermissionRequest) (string, error) { return "yes", nil }, []string{"before", "deployed", "after"}, gen.StopReasonEndTurn},
		{"refused ends the turn", func(agent.PermissionRequest) (string, error) { return "no", nil }, []string{"before", "kept"}, gen.StopReasonRefusal},
		{"no branch goes on", func(agent.PermissionRequest) (string, error) { return "later", nil }, []string{"before", "after"}, gen.StopReasonEndTurn},
		{"withdrawn", func(agent.PermissionRequest) (string, error) { return "", agent.ErrPermissionCancelled },
			[]string{"before", "nobody answered", "after"}, gen.StopReasonEndTurn},
		{"nobody to ask", nil, []string{"before", "nobody answered", "after"}, gen.StopReasonEndTurn},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := agent.Input{SessionID: "s1", TurnIndex: 3}
			perms := &answering{answer: tt.answer}
			if tt.answer != nil {
				in.Permissions = perms
			}
			var events []gen.ScriptEvent
			out, err := agent.PlayTurn(context.Background(), script, in, collect(&events))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.texts, texts(events)); diff != "" || out.StopReason != tt.stop {
				t.Errorf("texts (-want +got):\n%s\nstop %s, want %s", diff, out.StopReason, tt.stop)
			}
			if tt.answer == nil {
				return
			}
			want := []agent.PermissionRequest{{SessionID: "s1", TurnIndex: 3, RequestID: "p1", ToolCallID: "c1", Title: "Deploy?",
				Options: []agent.PermissionOption{{ID: "yes", Name: "Yes", Kind: agent.PermissionAllowOnce},
					{ID: "no", Name: "No", Kind: agent.PermissionRejectOnce}, {ID: "later", Name: "Later", Kind: agent.PermissionRejectAlways}}}}
			if diff := cmp.Diff(want, perms.asked); diff != "" {
				t.Errorf("asked (-want +got):\n%s", diff)
			}
		})
	}
}

// A failure to ask ends the turn with the error; the turn's end (its ctx)
// ends the wait at once.
func TestScriptedAskFailuresAndCancel(t *testing.T) {
	script, _ := agent.ParseScript([]byte(askScript))
	boom := errors.New("the request id is already used")
	in := agent.Input{Permissions: &answering{answer: func(agent.PermissionRequest) (string, error) { return "", boom }}}
	if _, err := agent.PlayTurn(context.Background(), script, in, collect(new([]gen.ScriptEvent))); !errors.Is(err, boom) {
		t.Errorf("err %v, want the asking error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	waiting := agent.PermissionsFunc(func(ctx context.Context, _ agent.PermissionRequest) (string, error) {
		cancel()
		<-ctx.Done()
		return "", ctx.Err()
	})
	start := time.Now()
	_, err := agent.PlayTurn(ctx, script, agent.Input{Permissions: waiting}, collect(new([]gen.ScriptEvent)))
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Errorf("err %v after %v, want the turn's cancel, at once", err, time.Since(start))
	}
}

// An ask with timeout_ms withdraws its request: the ask's ctx ends then
// (not the turn's), and the cancelled branch plays.
func TestScriptedAskTimeout(t *testing.T) {
	script, err := agent.ParseScript([]byte(`{"steps":[{"ask":{"title":"t","timeout_ms":30,
		"options":[{"option_id":"o","name":"O","kind":"allow_once"}],
		"branches":{"cancelled":{"steps":[{"event":{"type":"text","content":"withdrawn"}}]}}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	perms := agent.PermissionsFunc(func(ctx context.Context, _ agent.PermissionRequest) (string, error) {
		<-ctx.Done() // nobody answers
		return "", agent.ErrPermissionCancelled
	})
	var events []gen.ScriptEvent
	start := time.Now()
	out, err := agent.PlayTurn(context.Background(), script, agent.Input{Permissions: perms}, collect(&events))
	if err != nil || !cmp.Equal(texts(events), []string{"withdrawn"}) || out.StopReason != gen.StopReasonEndTurn {
		t.Errorf("err %v, texts %q, stop %s", err, texts(events), out.StopReason)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("withdrawn after %v, before timeout_ms", d)
	}
}

// Guidance is taken before each step and after the last: a prompt sent
// during a step's delay is taken after that step, before the next event.
func TestScriptedTakesGuidanceAtStepBoundaries(t *testing.T) {
	script, _ := agent.ParseScript([]byte(`{"steps":[{"event":{"type":"text","content":"a"}},{"delay_ms":200},
		{"event":{"type":"text","content":"b"}},{"delay_ms":200}]}`))
	var mu sync.Mutex
	var queued []string
	var events []gen.ScriptEvent
	emit := func(e gen.ScriptEvent) error {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
		return nil
	}
	guidance := func() ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		g := queued
		queued = nil
		for _, p := range g { // the server records what is taken
			events = append(events, gen.ScriptEvent{Type: gen.EventTypeGuidance, Content: p})
		}
		return g, nil
	}
	steer := func(after time.Duration, p string) {
		time.AfterFunc(after, func() {
			mu.Lock()
			queued = append(queued, p)
			mu.Unlock()
		})
	}
	steer(100*time.Millisecond, "first")  // during the first delay
	steer(300*time.Millisecond, "second") // during the last delay: taken at the end
	if _, err := agent.PlayTurn(context.Background(), script, agent.Input{Guidance: guidance}, emit); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "first", "b", "second"}, texts(events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// Guidance that fails (the turn is over) ends the script.
	over := errors.New("turn over")
	_, err := agent.PlayTurn(context.Background(), script, agent.Input{Guidance: func() ([]string, error) { return nil, over }}, emit)
	if !errors.Is(err, over) {
		t.Errorf("err %v", err)
	}
}

func TestParseScriptAsks(t *testing.T) {
	opt := `{"option_id":"o","name":"O","kind":"allow_once"}`
	tests := []struct {
		name, in, wantErr string
	}{
		{"minimal", `{"steps":[{"ask":{"title":"t","options":[` + opt + `]}}]}`, ""},
		{"nested", `{"steps":[{"ask":{"title":"t","options":[` + opt + `],"branches":{"o":{"steps":[{"ask":{"title":"again","options":[` + opt + `]}}],"stop_reason":"max_tokens"}}}}]}`, ""},
		{"null ask", `{"steps":[{"ask":null}]}`, ""},
		{"event and ask", `{"steps":[{"event":{"type":"text"},"ask":{"title":"t","options":[` + opt + `]}}]}`, "steps[0]: a step has an event or an ask, not both"},
		{"no title", `{"steps":[{"ask":{"options":[` + opt + `]}}]}`, "steps[0].ask.title"},
		{"no options", `{"steps":[{"ask":{"title":"t","options":[]}}]}`, "steps[0].ask.options"},
		{"empty ask", `{"steps":[{"ask":{}}]}`, "steps[0].ask.title"},
		{"bad request id", `{"steps":[{"ask":{"request_id":"a b","title":"t","options":[` + opt + `]}}]}`, "steps[0].ask.request_id"},
		{"bad kind", `{"steps":[{"ask":{"title":"t","options":[{"option_id":"o","name":"O","kind":"maybe"}]}}]}`, `unknown option kind "maybe"`},
		{"duplicate option", `{"steps":[{"ask":{"title":"t","options":[` + opt + `,` + opt + `]}}]}`, `"o" is offered twice`},
		{"option named cancelled", `{"steps":[{"ask":{"title":"t","options":[{"option_id":"cancelled","name":"C","kind":"allow_once"}]}}]}`, "names the branch"},
		{"branch of no option", `{"steps":[{"ask":{"title":"t","options":[` + opt + `],"branches":{"x":{"steps":[]}}}}]}`, `steps[0].ask.branches.x: the ask offers no option "x"`},
		{"branch without steps", `{"steps":[{"ask":{"title":"t","options":[` + opt + `],"branches":{"o":{}}}}]}`, "steps[0].ask.branches.o.steps"},
		{"bad branch stop", `{"steps":[{"ask":{"title":"t","options":[` + opt + `],"branches":{"o":{"steps":[],"stop_reason":"x"}}}}]}`, "branches.o.stop_reason"},
		{"bad step in branch", `{"steps":[{"ask":{"title":"t","options":[` + opt + `],"branches":{"o":{"steps":[{"event":{"type":"nope"}}]}}}}]}`, `steps[0].ask.branches.o.steps[0].event.type`},
		{"bad timeout", `{"steps":[{"ask":{"title":"t","timeout_ms":0,"options":[` + opt + `]}}]}`, "steps[0].ask.timeout_ms"},
		{"too many steps in branches", `{"steps":[{"ask":{"title":"t","options":[` + opt + `],"branches":{"o":{"steps":[` +
			strings.Repeat(`{},`, agent.MaxScriptSteps-1) + `{}]}}}}]}`, "at most 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := agent.ParseScript([]byte(tt.in))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// The echo agent declares its prefix option and uses it; the agents say
// whether they ask and take guidance.
func TestAgentCapabilities(t *testing.T) {
	var events []gen.ScriptEvent
	out, err := agent.Echo().Run(context.Background(), agent.Input{Prompt: "hi", Options: map[string]any{agent.EchoPrefixOption: "> "}}, collect(&events))
	if err != nil || out.Events[0].Content != "> hi" {
		t.Errorf("echo with a prefix: %+v %v", out, err)
	}
	echo := agent.Echo().Info()
	if len(echo.Options) != 1 || echo.Options[0].Name != "prefix" || echo.Options[0].Type != gen.AgentOptionTypeString || echo.Permissions || echo.Steer {
		t.Errorf("echo info %+v", echo)
	}
	if s := agent.Scripted().Info(); !s.Permissions || !s.Steer {
		t.Errorf("scripted info %+v", s)
	}
	plain, _ := agent.ParseScript([]byte(`{"steps":[]}`))
	asking, _ := agent.ParseScript([]byte(askScript))
	if info := agent.NewScript("p", "", plain).Info(); info.Permissions || !info.Steer {
		t.Errorf("a fixed script that never asks: %+v", info)
	}
	if info := agent.NewScript("a", "", asking).Info(); !info.Permissions {
		t.Errorf("a fixed script that asks: %+v", info)
	}
}
