package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/scenarios/internal/format"
)

func str2(s string) *string { return &s }

func raw(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func event(seq, turn int, content string) map[string]any {
	return map[string]any{"seq": float64(seq), "turn_index": float64(turn), "type": "text", "content": content,
		"created_at": fmt.Sprintf("2026-01-01T00:00:%02dZ", seq)}
}

// streamObs is a turn_stream observation of events with the given seqs.
func streamObs(t *testing.T, step int, seqs ...int) format.Observation {
	var events []any
	text := ""
	for _, s := range seqs {
		events = append(events, event(s, 1, fmt.Sprint(s)))
		text += fmt.Sprint(s)
	}
	value := map[string]any{"events": events, "result": map[string]any{"turn_index": 1, "events": events, "session_id": sidA}}
	return format.Observation{Step: step, Do: "turn_stream", Value: raw(t, value), Text: &text}
}

func testScenario() format.Scenario {
	return format.Scenario{ID: "t", Steps: []format.Step{
		{Do: "create_session", As: "s", Expect: map[string]any{"value": map[string]any{"status": "active"}}},
		{Do: "turn", Session: "s", As: "bg", With: map[string]any{"background": true}},
		{Do: "turn_stream", Session: "s"},
		{Do: "turn", Session: "s", ExpectError: "busy"},
		{Do: "history", Session: "s", Expect: map[string]any{"value": map[string]any{"items": map[string]any{"$len": 1.0}}}},
	}}
}

func goodObservations(t *testing.T) []format.Observation {
	return []format.Observation{
		{Step: 1, Do: "create_session", Value: raw(t, map[string]any{"session_id": sidA, "status": "active"})},
		{Step: 2, Do: "turn"},
		streamObs(t, 3, 1, 2, 3),
		{Step: 4, Do: "turn", Error: &format.ErrorInfo{Kind: "busy", Status: 409, Code: string(gen.ProblemCodeTurnInProgress)}},
		{Step: 5, Do: "history", Value: raw(t, map[string]any{"items": []any{map[string]any{"turn_index": 1}}})},
	}
}

func checks(c *scenarioCheck) []string {
	var out []string
	for _, f := range c.failures {
		out = append(out, fmt.Sprintf("%d %s %s", f.Step, f.Check, f.Message))
	}
	return out
}

func TestCheckScenarioPasses(t *testing.T) {
	c := checkScenario(testScenario(), &format.ScenarioResult{ID: "t", Observations: goodObservations(t)}, newAliases("rk3x9q2z"))
	if !c.ok() || c.stepsOK != 5 || c.steps != 5 {
		t.Fatalf("failures %q, steps ok %d/%d", checks(c), c.stepsOK, c.steps)
	}
	if c.al.idOf("s") != sidA {
		t.Fatal("the session's alias was not learnt")
	}
}

func TestCheckScenarioFailures(t *testing.T) {
	cases := []struct {
		name   string
		change func(obs []format.Observation, res *format.ScenarioResult)
		want   string // "<step> <check> <message part>"
	}{
		{"untyped error", func(o []format.Observation, _ *format.ScenarioResult) {
			o[4] = format.Observation{Step: 5, Do: "history", Error: &format.ErrorInfo{Kind: "untyped", Message: "unexpected EOF"}}
		}, "5 untyped the SDK failed with an error it did not type: untyped (status 0, code \"\"): unexpected EOF"},
		{"untyped where an error is expected", func(o []format.Observation, _ *format.ScenarioResult) {
			o[3].Error = &format.ErrorInfo{Kind: "untyped"}
		}, "4 untyped"},
		{"other kind", func(o []format.Observation, _ *format.ScenarioResult) {
			o[3].Error = &format.ErrorInfo{Kind: "conflict", Status: 409}
		}, "4 error want error busy, got conflict (status 409"},
		{"no error where one is expected", func(o []format.Observation, _ *format.ScenarioResult) {
			o[3] = format.Observation{Step: 4, Do: "turn", Value: raw(t, map[string]any{"turn_index": 2}), Text: str2("")}
		}, "4 error want error busy, the step succeeded"},
		{"an error where none is expected", func(o []format.Observation, _ *format.ScenarioResult) {
			o[0] = format.Observation{Step: 1, Do: "create_session", Error: &format.ErrorInfo{Kind: "transport"}}
		}, "1 error the step failed with transport"},
		{"expect mismatch", func(o []format.Observation, _ *format.ScenarioResult) {
			o[4].Value = raw(t, map[string]any{"items": []any{1, 2}})
		}, "5 expect the observation does not match expect:\n      value.items: want 1 items, got 2"},
		{"stream with a gap", func(o []format.Observation, _ *format.ScenarioResult) {
			o[2] = streamObs(t, 3, 1, 3)
		}, "3 stream the streamed seqs are not contiguous: [1 3]"},
		{"stream with a repeat", func(o []format.Observation, _ *format.ScenarioResult) {
			o[2] = streamObs(t, 3, 1, 2, 2, 3)
		}, "3 stream the streamed seqs are not contiguous"},
		{"stream unlike its result", func(o []format.Observation, _ *format.ScenarioResult) {
			o[2].Value = raw(t, map[string]any{"events": []any{event(1, 1, "a")}, "result": map[string]any{"events": []any{event(1, 1, "b")}}})
		}, "3 stream the streamed events differ from the result's"},
		{"background start with a value", func(o []format.Observation, _ *format.ScenarioResult) {
			o[1].Value = raw(t, map[string]any{})
		}, "2 runner a background turn's start has no value"},
		{"wrong operation", func(o []format.Observation, _ *format.ScenarioResult) {
			o[4].Do = "events"
		}, `5 runner the observation is of "events"`},
		{"missing step", func(o []format.Observation, r *format.ScenarioResult) {
			r.Observations = o[:4]
		}, "5 runner no observation of the step"},
		{"aborted", func(o []format.Observation, r *format.ScenarioResult) {
			r.Observations = o[:2]
			r.Aborted = str2("step 3 (turn_stream): session alias \"s\" names no session")
		}, "0 aborted step 3"},
		{"step out of range", func(o []format.Observation, r *format.ScenarioResult) {
			r.Observations = append(o, format.Observation{Step: 9, Do: "health"})
		}, "0 runner an observation of step 9"},
		{"success without a value", func(o []format.Observation, _ *format.ScenarioResult) {
			o[4].Value = nil
		}, "5 runner a successful step without a value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obs := goodObservations(t)
			res := &format.ScenarioResult{ID: "t", Observations: obs}
			c.change(obs, res)
			got := checkScenario(testScenario(), res, newAliases("rk3x9q2z"))
			all := checks(got)
			if len(all) != 1 || !strings.HasPrefix(all[0], c.want) {
				t.Fatalf("failures:\n%s\nwant one starting with:\n%s", strings.Join(all, "\n"), c.want)
			}
			if got.ok() {
				t.Fatal("ok() with a failure")
			}
		})
	}
	if c := checkScenario(testScenario(), nil, newAliases("rk3x9q2z")); c.ok() {
		t.Fatal("a scenario missing from the result file passed")
	}
}

func TestCheckStreamsOnServer(t *testing.T) {
	server := func(seqs ...int) map[string]*serverSession {
		turn := serverTurn{Index: 1, Status: "completed"}
		for _, s := range seqs {
			turn.Events = append(turn.Events, event(s, 1, fmt.Sprint(s)))
		}
		return map[string]*serverSession{sidA: {ID: sidA, Turns: []serverTurn{turn}}}
	}
	cases := []struct {
		name       string
		streamed   []int
		onServer   []int
		want       streamCount
		wantFailed bool
	}{
		{"each once", []int{1, 2, 3}, []int{1, 2, 3}, streamCount{streamed: 3}, false},
		{"one lost", []int{1, 2}, []int{1, 2, 3}, streamCount{streamed: 2, lost: 1}, true},
		{"one twice", []int{1, 2, 2, 3}, []int{1, 2, 3}, streamCount{streamed: 4, duplicated: 1}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obs := goodObservations(t)
			obs[2] = streamObs(t, 3, c.streamed...)
			sc := checkScenario(testScenario(), &format.ScenarioResult{ID: "t", Observations: obs}, newAliases("rk3x9q2z"))
			before := len(sc.failures)
			got := sc.checkStreamsOnServer(server(c.onServer...))
			if got != c.want {
				t.Errorf("counts = %+v, want %+v", got, c.want)
			}
			failed := false
			for _, f := range sc.failures[before:] {
				failed = failed || (f.Check == "stream" && strings.Contains(f.Message, "not the server's events"))
			}
			if failed != c.wantFailed {
				t.Errorf("failed on the server check = %v, want %v (%q)", failed, c.wantFailed, checks(sc))
			}
		})
	}
	sc := checkScenario(testScenario(), &format.ScenarioResult{ID: "t", Observations: goodObservations(t)}, newAliases("rk3x9q2z"))
	sc.checkStreamsOnServer(map[string]*serverSession{})
	if sc.ok() {
		t.Fatal("a streamed turn of a session missing on the server passed")
	}
}

// An expectation names a permission request by its script's id, without
// the options that mark an observed PermissionRequest: it must still match
// the observation, and a wrong id must not.
func TestExpectNamesAPermissionRequest(t *testing.T) {
	sc := format.Scenario{ID: "t", Steps: []format.Step{
		{Do: "create_session", As: "s"},
		{Do: "permissions", Session: "s", Expect: map[string]any{"value": map[string]any{"items": []any{
			map[string]any{"request_id": "perm_cache", "status": "pending"}}}}},
	}}
	obs := func(id string) []format.Observation {
		return []format.Observation{
			{Step: 1, Do: "create_session", Value: raw(t, map[string]any{"session_id": sidA})},
			{Step: 2, Do: "permissions", Value: raw(t, map[string]any{"items": []any{map[string]any{"request_id": id, "status": "pending",
				"options": []any{map[string]any{"option_id": "allow"}}, "created_at": "2026-01-01T00:00:00Z", "session_id": sidA}}})},
		}
	}
	if c := checkScenario(sc, &format.ScenarioResult{ID: "t", Observations: obs("perm_cache")}, newAliases("rk3x9q2z")); !c.ok() {
		t.Fatalf("failures: %q", checks(c))
	}
	c := checkScenario(sc, &format.ScenarioResult{ID: "t", Observations: obs("perm_other")}, newAliases("rk3x9q2z"))
	if got := strings.Join(checks(c), "\n"); !strings.Contains(got, `value.items[0].request_id: want "perm_cache", got "perm_other"`) {
		t.Fatalf("failures: %s", got)
	}
}
