package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/agentsession/agentsession/refserver/refservertest"
)

func sess(scenario, alias, status string, turns ...serverTurn) *serverSession {
	return &serverSession{ID: "id-" + scenario + alias, Scenario: scenario, Alias: alias, Status: status, Turns: turns}
}

func turn(i int, prompt string, texts ...string) serverTurn {
	t := serverTurn{Index: i, Prompt: prompt, Status: "completed", StopReason: "end_turn"}
	for n, x := range texts {
		t.Events = append(t.Events, event(n+1, i, x))
	}
	return t
}

func TestCompareStateEqual(t *testing.T) {
	direct := []*serverSession{sess("a", "s", "active", turn(1, `{"steps": [], "stop_reason": "end_turn"}`, "x"))}
	// The same script serialized another way is the same prompt.
	got := []*serverSession{sess("a", "s", "active", turn(1, `{"stop_reason":"end_turn","steps":[]}`, "x"))}
	d := compareState(direct, got)
	if len(d.lines) != 0 || d.duplicateTurns+d.lostTurns+d.duplicateSessions != 0 {
		t.Fatalf("diff of equal states: %+v", d)
	}
}

func TestCompareStateCountsDuplicatesAndLosses(t *testing.T) {
	direct := []*serverSession{
		sess("a", "s", "active", turn(1, "one", "one"), turn(2, "two", "two")),
		sess("a", "gone", "active", turn(1, "x", "x")),
		sess("b", "s", "completed"),
	}
	got := []*serverSession{
		sess("a", "s", "active", turn(1, "one", "one"), turn(2, "two", "two"), turn(3, "two", "two")),
		sess("b", "s", "paused"),
		sess("b", "s", "paused", turn(1, "again")),
		sess("b", "new", "active", turn(1, "n")),
	}
	d := compareState(direct, got)
	if d.duplicateTurns != 3 || d.lostTurns != 1 || d.duplicateSessions != 2 {
		t.Errorf("duplicate turns %d (want 3: one extra turn, one in the extra b/s, one in b/new), lost %d (want 1), duplicate sessions %d (want 2)",
			d.duplicateTurns, d.lostTurns, d.duplicateSessions)
	}
	a := strings.Join(d.lines["a"], "\n")
	for _, want := range []string{`session a/s: extra  turn 3 "two" completed/end_turn events: text"two"`, "session a/gone: missing"} {
		if !strings.Contains(a, want) {
			t.Errorf("scenario a's lines lack %q:\n%s", want, a)
		}
	}
	b := strings.Join(d.lines["b"], "\n")
	for _, want := range []string{"session b/s: 2 sessions, the direct run 1", "session b/s: status paused, the direct run completed", "session b/new: extra"} {
		if !strings.Contains(b, want) {
			t.Errorf("scenario b's lines lack %q:\n%s", want, b)
		}
	}
}

func TestCompareStateSeesChangedTurns(t *testing.T) {
	direct := []*serverSession{sess("a", "s", "active", turn(1, "p", "hello"))}
	changed := turn(1, "p", "hel", "lo")
	changed.StopReason = "cancelled"
	d := compareState(direct, []*serverSession{sess("a", "s", "active", changed)})
	got := strings.Join(d.lines["a"], "\n")
	if !strings.Contains(got, `direct: turn 1 "p" completed/end_turn events: text"hello"`) ||
		!strings.Contains(got, `this:   turn 1 "p" completed/cancelled events: text"hel" text"lo"`) {
		t.Fatalf("lines:\n%s", got)
	}
}

// readServer finds a run's sessions in both tenants by meta.run, with their
// turns and events, and leaves other runs' sessions alone.
func TestReadServer(t *testing.T) {
	srv := refservertest.Start(t)
	post := func(token, path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, err)
		}
		return out
	}
	mk := func(token, run, scenario, alias string) string {
		return post(token, "/v1/sessions", map[string]any{"agent": "echo",
			"meta": map[string]any{"run": run, "scenario": scenario, "alias": alias}})["session_id"].(string)
	}
	a := mk(srv.Tokens[0], "rone", "s1", "x")
	for _, p := range []string{"first", "second"} {
		post(srv.Tokens[0], "/v1/sessions/"+a+"/turns", map[string]any{"prompt": p})
	}
	mk(srv.Tokens[1], "rone", "s2", "y")
	mk(srv.Tokens[0], "rtwo", "s1", "x")
	mk(srv.Tokens[0], "rother", "s1", "x")

	state, err := readServer(context.Background(), srv.URL, map[string]string{"a": srv.Tokens[0], "b": srv.Tokens[1]}, []string{"rone", "rtwo"})
	if err != nil {
		t.Fatal(err)
	}
	if len(state["rone"]) != 2 || len(state["rtwo"]) != 1 || state["rother"] != nil {
		t.Fatalf("sessions per run: rone %d (want 2), rtwo %d (want 1), rother %v (want none)", len(state["rone"]), len(state["rtwo"]), state["rother"])
	}
	var x *serverSession
	for _, s := range state["rone"] {
		if s.Alias == "x" {
			x = s
		} else if s.Tenant != "b" || s.Scenario != "s2" {
			t.Errorf("the other tenant's session: %+v", s)
		}
	}
	if x == nil || x.ID != a || x.Tenant != "a" || x.Status != "active" || len(x.Turns) != 2 {
		t.Fatalf("session x: %+v", x)
	}
	if got := turnSummary(x.Turns[1]); got != `turn 2 "second" completed/end_turn events: text"second"` {
		t.Fatalf("turn 2: %s", got)
	}
	if _, err := readServer(context.Background(), srv.URL, map[string]string{"a": "wrong-token"}, []string{"rone"}); err == nil ||
		strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("a bad token: %v (want an error without the token)", err)
	}
}
