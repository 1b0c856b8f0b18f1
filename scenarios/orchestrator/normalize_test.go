package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/scenarios/internal/format"
)

const (
	sidA  = "sess_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	sidB  = "sess_bbbbbbbbbbbbbbbbbbbbbbbbbb"
	sidX  = "sess_xxxxxxxxxxxxxxxxxxxxxxxxxx"
	file1 = "file_ffffffffffffffffffffffffff"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNormalizeReplacesWhatDiffersBetweenRuns(t *testing.T) {
	al := newAliases("rk3x9q2z")
	al.sessions[sidA] = "s"
	al.sessions[sidB] = "next"
	al.files[file1] = "f"
	in := mustJSON(t, `{
		"session_id": "`+sidA+`", "continued_from": "`+sidB+`", "parent_session_id": "`+sidX+`",
		"created_at": "2026-01-01T00:00:00Z", "time": "2026-01-01T00:00:01Z", "ended_at": null,
		"duration_ms": 12, "request_id": "req_1", "id": "log_abc",
		"plan_slug": "migrate-db-rk3x9q2z", "files": ["`+file1+`", "file_zzzzzzzzzzzzzzzzzzzzzzzzzz"],
		"detail": "No session `+sidA+`.",
		"prompt": "{\"steps\": [{\"event\": {\"type\": \"text\", \"content\": \"a<b\"}}]}",
		"turn_index": 3, "content": "kept as is"}`)
	got := al.normalize(in)
	want := mustJSON(t, `{
		"session_id": "<session:s>", "continued_from": "<session:next>", "parent_session_id": "<session:?>",
		"created_at": "<time>", "time": "<time>",
		"duration_ms": "<ms>", "request_id": "<request-id>", "id": "<id>",
		"plan_slug": "migrate-db-${run}", "files": ["<file:f>", "<file:?>"],
		"detail": "No session <session:s>.",
		"prompt": "{\"steps\":[{\"event\":{\"content\":\"a<b\",\"type\":\"text\"}}]}",
		"turn_index": 3, "content": "kept as is"}`)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("normalize:\n got %s\nwant %s", canonical(got), canonical(want))
	}
}

func TestNormalizeKeepsDeterministicValues(t *testing.T) {
	al := newAliases("rk3x9q2z")
	// A duration that is not a number, a prompt that is not JSON, an "id"
	// that is a number: none is a placeholder's business.
	in := mustJSON(t, `{"duration_ms": "slow", "prompt": "{not json", "id": 7, "seq": 4, "status": "completed", "items": []}`)
	if got := al.normalize(in); !reflect.DeepEqual(got, in) {
		t.Fatalf("normalize changed %s into %s", canonical(in), canonical(got))
	}
}

func TestLearnNamesSessionsAndFilesFromSteps(t *testing.T) {
	sc := format.Scenario{ID: "x", Steps: []format.Step{
		{Do: "create_session", As: "s"}, {Do: "upload", As: "f"}, {Do: "spawn", As: "c"},
		{Do: "get_session", As: "ignored"}, {Do: "create_session"},
	}}
	obs := []format.Observation{
		{Step: 1, Do: "create_session", Value: json.RawMessage(`{"session_id":"` + sidA + `"}`)},
		{Step: 2, Do: "upload", Value: json.RawMessage(`{"file_token":"` + file1 + `"}`)},
		{Step: 3, Do: "spawn", Error: &format.ErrorInfo{Kind: "spawn_limit"}},
		{Step: 4, Do: "get_session", Value: json.RawMessage(`{"session_id":"` + sidB + `"}`)},
		{Step: 5, Do: "create_session", Value: json.RawMessage(`{"session_id":"` + sidX + `"}`)},
		{Step: 9, Do: "create_session", Value: json.RawMessage(`{"session_id":"` + sidX + `"}`)},
	}
	al := newAliases("r")
	al.learn(sc, obs)
	if want := map[string]string{sidA: "s"}; !reflect.DeepEqual(al.sessions, want) {
		t.Errorf("sessions = %v, want %v", al.sessions, want)
	}
	if want := map[string]string{file1: "f"}; !reflect.DeepEqual(al.files, want) {
		t.Errorf("files = %v, want %v", al.files, want)
	}
	if al.idOf("s") != sidA || al.idOf("c") != "" {
		t.Errorf("idOf: %q %q", al.idOf("s"), al.idOf("c"))
	}
}

func TestObservationValueLeavesTheMessageOut(t *testing.T) {
	al := newAliases("rk3x9q2z")
	text := "hi"
	got, err := al.observationValue(format.Observation{Step: 2, Do: "turn", Text: &text,
		Error: &format.ErrorInfo{Kind: "busy", Status: 409, Code: string(gen.ProblemCodeTurnInProgress), Message: "details " + sidA}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"step": 2.0, "do": "turn", "text": "hi",
		"error": map[string]any{"kind": "busy", "status": 409.0, "code": string(gen.ProblemCodeTurnInProgress)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %s, want %s", canonical(got), canonical(want))
	}
	if _, err := al.observationValue(format.Observation{Value: json.RawMessage(`{bad`)}); err == nil {
		t.Fatal("a value that is not JSON was accepted")
	}
}

func TestComparableKeepsOnlyTheActivityOfAPoll(t *testing.T) {
	obs := map[string]any{"do": "wait_activity", "value": map[string]any{"activity": "running", "status": "active", "last_event_seq": 1.0, "queued_turns": 2.0}}
	got := comparable(format.Step{Do: "wait_activity", With: map[string]any{"activity": "running"}}, obs)
	if want := map[string]any{"activity": "running", "status": "active"}; !reflect.DeepEqual(got["value"], want) {
		t.Fatalf("value = %v, want %v", got["value"], want)
	}
	if _, ok := obs["value"].(map[string]any)["last_event_seq"]; !ok {
		t.Fatal("comparable changed its input")
	}
	// A poll that waited for queued_turns saw that number: it counts.
	got = comparable(format.Step{Do: "wait_activity", With: map[string]any{"queued_turns": 2.0}}, obs)
	if want := map[string]any{"activity": "running", "status": "active", "queued_turns": 2.0}; !reflect.DeepEqual(got["value"], want) {
		t.Fatalf("value = %v, want %v", got["value"], want)
	}
	other := map[string]any{"do": "get_session", "value": map[string]any{"last_event_seq": 1.0}}
	if !reflect.DeepEqual(comparable(format.Step{Do: "get_session"}, other), other) {
		t.Fatal("comparable changed a get_session")
	}
}

func TestCanonicalDoesNotEscapeHTML(t *testing.T) {
	if got := canonical(map[string]any{"b": "<a&b>", "a": 1.0}); got != `{"a":1,"b":"<a&b>"}` {
		t.Fatalf("canonical = %s", got)
	}
	if !strings.HasPrefix(short(strings.Repeat("x", 500)), `"xxx`) || len(short(strings.Repeat("x", 500))) > 170 {
		t.Fatal("short does not cut long values")
	}
}

// A permission request's request_id is the script's name for it and stays
// (in a PermissionRequest and in both permission events); any other
// request_id is a placeholder, and so is a request id the server made.
func TestNormalizeKeepsAPermissionRequestsID(t *testing.T) {
	al := newAliases("rk3x9q2z")
	in := mustJSON(t, `{
		"request": {"request_id": "perm_drop", "options": [{"option_id": "allow"}], "status": "pending", "created_at": "2026-01-01T00:00:00Z"},
		"events": [
			{"seq": 2, "type": "permission_request", "request_id": "perm_drop", "options": []},
			{"seq": 3, "type": "permission_response", "request_id": "perm_drop", "outcome": "selected"},
			{"seq": 4, "type": "text", "request_id": "perm_drop"}],
		"problem": {"request_id": "req_01hx7k2mb4x9", "status": 409},
		"made": {"type": "permission_request", "request_id": "perm_abcdefghijklmnopqrstuvwxyz"}}`)
	want := mustJSON(t, `{
		"request": {"request_id": "perm_drop", "options": [{"option_id": "allow"}], "status": "pending", "created_at": "<time>"},
		"events": [
			{"seq": 2, "type": "permission_request", "request_id": "perm_drop", "options": []},
			{"seq": 3, "type": "permission_response", "request_id": "perm_drop", "outcome": "selected"},
			{"seq": 4, "type": "text", "request_id": "<request-id>"}],
		"problem": {"request_id": "<request-id>", "status": 409},
		"made": {"type": "permission_request", "request_id": "<request-id>"}}`)
	if got := al.normalize(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("normalize:\n got %s\nwant %s", canonical(got), canonical(want))
	}
}
