package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
)

// The fast encoders write what encoding/json writes.
func TestEncodersMatchEncodingJSON(t *testing.T) {
	in, out := int64(3), int64(0)
	at := time.Date(2026, 12, 1, 20, 54, 39, 123456789, time.UTC)
	events := []gen.Event{
		{Seq: 1, TurnIndex: 1, Type: gen.EventTypeText, Content: "Summarise the open pull requests.", CreatedAt: at},
		{Seq: 2, TurnIndex: 2, Type: gen.EventTypeToolCall, ToolCallID: "c1", Name: "read_file", Status: gen.ToolCallStatusPending,
			Args: gen.JSONObject{"path": "main.go", "n": 3.0, "nested": map[string]any{"a": []any{true, nil}}}, CreatedAt: at},
		{Seq: 3, TurnIndex: 2, Type: gen.EventTypeToolResult, Result: []any{"x", 1.5}, Data: gen.JSONObject{}, CreatedAt: at},
		{Seq: 4, TurnIndex: 9, Type: "some_future_type", Content: "quote \" backslash \\ tab \t newline \n <b>&amp;</b> é 日本 \u2028 \x01", CreatedAt: at},
		{Seq: 5, TurnIndex: 1, Type: gen.EventTypeError, Content: "bad utf-8 \xff\xfe", Result: "text", CreatedAt: time.Time{}},
		{Seq: 6, TurnIndex: 1, Type: gen.EventTypeText, Result: false, CreatedAt: at.In(time.FixedZone("x", 3600))},
		{Seq: 7, TurnIndex: 3, Type: gen.EventTypePermissionRequest, RequestID: "perm_1", ToolCallID: "c2", Title: "Drop \"orders\"?",
			Options: []gen.PermissionOption{{OptionID: "allow", Name: "Allow", Kind: gen.PermissionOptionKindAllowOnce}, {OptionID: "no", Name: "Nö", Kind: "later"}}, CreatedAt: at},
		{Seq: 8, TurnIndex: 3, Type: gen.EventTypePermissionResponse, RequestID: "perm_1", Outcome: gen.PermissionOutcomeSelected, OptionID: "allow", CreatedAt: at},
		{Seq: 9, TurnIndex: 3, Type: gen.EventTypePermissionRequest, RequestID: "perm_2", Title: "t", Options: []gen.PermissionOption{}, CreatedAt: at},
		{Seq: 10, TurnIndex: 3, Type: gen.EventTypeGuidance, Content: "focus on the tests", CreatedAt: at},
	}
	for _, ev := range events {
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("encodeEvent:\n got %s\nwant %s", got, want)
		}
		var back gen.Event
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		var wantBack gen.Event
		json.Unmarshal(want, &wantBack)
		if diff := cmp.Diff(wantBack, back); diff != "" {
			t.Errorf("decoded (-encoding/json +fast):\n%s", diff)
		}
	}
	for _, ev := range []gen.LifecycleEvent{
		{LifecycleSeq: 1, AfterSeq: 0, Type: gen.LifecycleEventTypeTurnStarted, TurnIndex: 1, CreatedAt: at},
		{LifecycleSeq: 2, AfterSeq: 7, Type: gen.LifecycleEventTypeTurnQueued, TurnIndex: 2, QueuePosition: 3, CreatedAt: at},
		{LifecycleSeq: 3, AfterSeq: 7, Type: gen.LifecycleEventTypeTurnEnded, TurnIndex: 2, StopReason: gen.StopReasonCancelled, CreatedAt: at},
		{LifecycleSeq: 4, AfterSeq: 7, Type: gen.LifecycleEventTypeStatusChanged, Status: gen.SessionStatusPaused, CreatedAt: at.In(time.FixedZone("x", 3600))},
		{LifecycleSeq: 5, AfterSeq: 9, Type: "some_future_type", ChildSessionID: "sess_\"x", CreatedAt: time.Time{}},
	} {
		want, _ := json.Marshal(ev)
		got, err := encodeLifecycleEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("encodeLifecycleEvent:\n got %s\nwant %s", got, want)
		}
	}
	if _, err := encodeEvent(gen.Event{Args: gen.JSONObject{"f": func() {}}}); err == nil {
		t.Error("a value JSON cannot hold: no error")
	}
	for _, files := range [][]string{nil, {}, {"file_1"}, {"a", "b\"c", "ü"}} {
		want, _ := json.Marshal(files)
		if got := encodeFiles(files); got != string(want) {
			t.Errorf("encodeFiles(%q) = %s, want %s", files, got, want)
		}
	}
	for _, u := range []gen.Usage{{}, {InputTokens: &in}, {OutputTokens: &out}, {InputTokens: &in, OutputTokens: &out}} {
		want, _ := json.Marshal(u)
		if got := encodeUsage(u); got != string(want) {
			t.Errorf("encodeUsage = %s, want %s", got, want)
		}
	}
}
