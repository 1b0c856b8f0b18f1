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
