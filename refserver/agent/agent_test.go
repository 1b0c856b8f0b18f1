package agent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
)

func ptr[T any](v T) *T { return &v }

// collect returns an Emit that records events.
func collect(events *[]gen.ScriptEvent) agent.Emit {
	return func(e gen.ScriptEvent) error {
		*events = append(*events, e)
		return nil
	}
}

func TestParseScript(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  string // "" for success
	}{
		{"empty steps", `{"steps":[]}`, ""},
		{"full", `{"steps":[{"delay_ms":5,"event":{"type":"tool_call","tool_call_id":"c","name":"n","args":{"a":1},"status":"pending"}},{"event":{"type":"text","content":"x"}},{"delay_ms":0}],"stop_reason":"refusal","usage":{"input_tokens":1,"output_tokens":2}}`, ""},
		{"blank", "  ", "empty script"},
		{"not JSON", "hello", "invalid JSON at byte 1"},
		{"truncated", `{"steps":[`, "unexpected end"},
		{"trailing data", `{"steps":[]} {}`, "after the script"},
		{"unknown member", `{"steps":[],"stop":"x"}`, `unknown field "stop"`},
		{"misspelt delay", `{"steps":[{"delay":5}]}`, `unknown field "delay"`},
		{"no steps", `{}`, "steps: required"},
		{"null steps", `{"steps":null}`, "steps: required"},
		{"wrong type", `{"steps":[{"delay_ms":"5"}]}`, "steps.delay_ms"},
		{"negative delay", `{"steps":[{"delay_ms":-1}]}`, "steps[0].delay_ms"},
		{"delay too long", `{"steps":[{"delay_ms":600001}]}`, "steps[0].delay_ms"},
		{"unknown event type", `{"steps":[{},{"event":{"type":"txt"}}]}`, `steps[1].event.type: unknown event type "txt"`},
		{"missing event type", `{"steps":[{"event":{}}]}`, `steps[0].event.type`},
		{"null event", `{"steps":[{"event":null}]}`, ""},
		{"unknown status", `{"steps":[{"event":{"type":"tool_call","status":"done"}}]}`, "steps[0].event.status"},
		{"empty status", `{"steps":[{"event":{"type":"tool_call","status":""}}]}`, "steps[0].event.status"},
		{"unknown stop reason", `{"steps":[],"stop_reason":"tired"}`, "stop_reason"},
		{"empty stop reason", `{"steps":[],"stop_reason":""}`, "stop_reason"},
		{"negative usage", `{"steps":[],"usage":{"input_tokens":-1}}`, "usage"},
		{"too many steps", `{"steps":[` + strings.Repeat(`{},`, agent.MaxScriptSteps) + `{}]}`, "at most 1000"},
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

func TestPlay(t *testing.T) {
	s, err := agent.ParseScript([]byte(`{"steps":[{"event":{"type":"thinking","content":"a"}},{"delay_ms":20},{"delay_ms":10,"event":{"type":"text","content":"b"}}],"stop_reason":"max_tokens","usage":{"output_tokens":7}}`))
	if err != nil {
		t.Fatal(err)
	}
	var events []gen.ScriptEvent
	start := time.Now()
	out, err := agent.Play(context.Background(), s, collect(&events))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("the delays were not honoured: %v", d)
	}
	want := []gen.ScriptEvent{{Type: "thinking", Content: "a"}, {Type: "text", Content: "b"}}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(agent.Outcome{StopReason: "max_tokens", Usage: gen.Usage{OutputTokens: ptr(int64(7))}}, out); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
}

func TestPlayStopsWhenCancelled(t *testing.T) {
	s, _ := agent.ParseScript([]byte(`{"steps":[{"event":{"type":"text","content":"a"}},{"delay_ms":600000},{"event":{"type":"text","content":"never"}}]}`))
	ctx, cancel := context.WithCancel(context.Background())
	var events []gen.ScriptEvent
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := agent.Play(ctx, s, collect(&events))
	if !errors.Is(err, context.Canceled) || len(events) != 1 {
		t.Fatalf("err %v, %d events", err, len(events))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %v", d)
	}
	// An emit error (the turn is over) stops the script too.
	boom := errors.New("turn over")
	_, err = agent.Play(context.Background(), s, func(gen.ScriptEvent) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("err %v, want the emit error", err)
	}
}

func TestEcho(t *testing.T) {
	var events []gen.ScriptEvent
	out, err := agent.Echo().Run(context.Background(), agent.Input{Prompt: "one two  three"}, collect(&events))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 0 {
		t.Errorf("emitted %v; the event belongs in the outcome", events)
	}
	three := int64(3)
	want := agent.Outcome{StopReason: "end_turn", Usage: gen.Usage{InputTokens: &three, OutputTokens: &three},
		Events: []gen.ScriptEvent{{Type: "text", Content: "one two  three"}}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if info := agent.Echo().Info(); info.Name != "echo" || info.Kind != gen.AgentKindEcho || info.Description == "" {
		t.Errorf("info = %+v", info)
	}
}

func TestScriptedReportsBadScripts(t *testing.T) {
	var events []gen.ScriptEvent
	out, err := agent.Scripted().Run(context.Background(), agent.Input{Prompt: `{"steps":[{"event":{"type":"txt"}}]}`}, collect(&events))
	if err != nil || out.StopReason != gen.StopReasonError {
		t.Fatalf("out %+v, err %v", out, err)
	}
	if len(events) != 1 || events[0].Type != gen.EventTypeError || !strings.Contains(events[0].Content, `unknown event type "txt"`) {
		t.Errorf("events = %+v", events)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("slow-review.json", `{"steps":[{"event":{"type":"text","content":"reviewing"}}],"stop_reason":"refusal"}`)
	write("a.json", `{"steps":[]}`)
	write("notes.txt", "not a script")
	if err := os.Mkdir(filepath.Join(dir, "sub.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	agents, err := agent.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range agents {
		names = append(names, a.Info().Name)
		if a.Info().Kind != gen.AgentKindScripted {
			t.Errorf("%s kind %s", a.Info().Name, a.Info().Kind)
		}
	}
	if diff := cmp.Diff([]string{"a", "slow-review"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	var events []gen.ScriptEvent
	out, err := agents[1].Run(context.Background(), agent.Input{Prompt: "whatever"}, collect(&events))
	if err != nil || out.StopReason != gen.StopReasonRefusal || len(events) != 1 {
		t.Errorf("playing the file: %+v %v %+v", out, err, events)
	}

	write("broken.json", `{"steps":[{"delay_ms":-5}]}`)
	if _, err := agent.LoadDir(dir); err == nil || !strings.Contains(err.Error(), "broken.json") || !strings.Contains(err.Error(), "delay_ms") {
		t.Errorf("bad file: %v", err)
	}
	os.Remove(filepath.Join(dir, "broken.json"))
	write("bad name!.json", `{"steps":[]}`)
	if _, err := agent.LoadDir(dir); err == nil || !strings.Contains(err.Error(), "bad name!") {
		t.Errorf("bad name: %v", err)
	}
	if _, err := agent.LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing directory loads")
	}
}

func TestRegistry(t *testing.T) {
	r := agent.Default()
	if diff := cmp.Diff([]string{"echo", "scripted"}, r.Names()); diff != "" {
		t.Errorf("default names (-want +got):\n%s", diff)
	}
	if _, ok := r.Get("echo"); !ok {
		t.Error("no echo")
	}
	if _, ok := r.Get("nope"); ok {
		t.Error("found nope")
	}
	if err := r.Register(agent.NewScript("echo", "", gen.AgentScript{})); !errors.Is(err, agent.ErrDuplicate) {
		t.Errorf("duplicate: %v", err)
	}
	if err := r.Register(agent.NewScript("", "", gen.AgentScript{})); err == nil {
		t.Error("empty name registered")
	}
	if err := r.Register(agent.NewScript("extra", "d", gen.AgentScript{})); err != nil {
		t.Fatal(err)
	}
	list := r.List()
	if len(list) != 3 || list[2].Name != "extra" || list[2].Description != "d" {
		t.Errorf("list = %+v", list)
	}
}

// A fixed-script agent shows its script in its info (and so in getCapabilities).
func TestFixedScriptInfoShowsTheScript(t *testing.T) {
	s := gen.AgentScript{Steps: []gen.ScriptStep{{Event: gen.ScriptEvent{Type: gen.EventTypeText, Content: "hi"}}},
		StopReason: gen.StopReasonMaxTokens}
	info := agent.NewScript("fixed", "plays hi", s).Info()
	if len(info.Script.Steps) != 1 || info.Script.Steps[0].Event.Content != "hi" || info.Script.StopReason != gen.StopReasonMaxTokens {
		t.Fatalf("info.Script = %+v, want the script the agent plays", info.Script)
	}
	if got := agent.Scripted().Info().Script; len(got.Steps) != 0 {
		t.Fatalf("the prompt-reading scripted agent shows a script: %+v", got)
	}
}
