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
		post(srv.Tokens[0], "/v1/sessions/"+a+"/turns", map[string]any{"prompt": p, "meta": map[string]any{"trace": p + "-rone"}})
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
	if got := turnSummary(x.Turns[1]); got != `turn 2 "second" completed/end_turn meta {"trace":"second-${run}"} events: text"second"` {
		t.Fatalf("turn 2: %s", got)
	}
	if len(x.Events) != 2 || len(x.Permissions) != 0 {
		t.Fatalf("events %v, permissions %v", x.Events, x.Permissions)
	}
	if got := lifecycleSummary(x.Lifecycle, nil); got != "turn_started 1, turn_ended 1 end_turn, turn_started 2, turn_ended 2 end_turn" {
		t.Fatalf("lifecycle: %s", got)
	}
	if _, err := readServer(context.Background(), srv.URL, map[string]string{"a": "wrong-token"}, []string{"rone"}); err == nil ||
		strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("a bad token: %v (want an error without the token)", err)
	}
}

// A queued turn cancelled before it ran is a turn without events: the same
// in both runs it is no difference and nothing lost; missing, it is lost.
func TestCompareStateCancelledQueuedTurn(t *testing.T) {
	cancelled := serverTurn{Index: 2, Prompt: "second", Status: "completed", StopReason: "cancelled", CancelledBy: "cancel_request"}
	direct := []*serverSession{sess("q", "s", "active", turn(1, "first", "first"), cancelled, turn(3, "third", "third"))}
	same := []*serverSession{sess("q", "s", "active", turn(1, "first", "first"), cancelled, turn(3, "third", "third"))}
	if d := compareState(direct, same); len(d.lines) != 0 || d.lostTurns != 0 || d.duplicateTurns != 0 {
		t.Fatalf("diff of equal states: %+v", d)
	}
	ran := turn(2, "second", "second")
	d := compareState(direct, []*serverSession{sess("q", "s", "active", turn(1, "first", "first"), ran, turn(3, "third", "third"))})
	if got := strings.Join(d.lines["q"], "\n"); !strings.Contains(got, `direct: turn 2 "second" completed/cancelled by cancel_request events:`) ||
		!strings.Contains(got, `this:   turn 2 "second" completed/end_turn events: text"second"`) {
		t.Fatalf("a cancelled turn that ran anyway: %s", got)
	}
	d = compareState(direct, []*serverSession{sess("q", "s", "active", turn(1, "first", "first"), turn(3, "third", "third"))})
	if d.lostTurns != 1 {
		t.Fatalf("lost turns %d, want 1", d.lostTurns)
	}
}

// Turn meta, lifecycle events and permission requests are compared with
// the direct run's.
func TestCompareStateSeesMetaLifecycleAndPermissions(t *testing.T) {
	mk := func(meta string, life []map[string]any, perms []map[string]any) []*serverSession {
		tr := turn(1, "p", "x")
		tr.Meta = meta
		s := sess("m", "s", "active", tr)
		s.Lifecycle, s.Permissions = life, perms
		child := sess("m", "kid", "active")
		return []*serverSession{s, child}
	}
	life := []map[string]any{
		lifecycle(1, 0, "turn_started", "turn_index", 1.0),
		lifecycle(2, 1, "turn_queued", "turn_index", 2.0, "queue_position", 1.0),
		lifecycle(3, 1, "child_spawned", "child_session_id", "id-mkid"),
		lifecycle(4, 2, "turn_ended", "turn_index", 1.0, "stop_reason", "end_turn"),
	}
	perms := []map[string]any{{"request_id": "perm_a", "turn_index": 1.0, "status": "answered", "outcome": "selected", "option_id": "allow"}}
	direct := mk(`{"trace":"t-1"}`, life, perms)
	// after_seq depends on timing: a different one is no difference.
	moved := append([]map[string]any{}, life...)
	moved[1] = lifecycle(2, 0, "turn_queued", "turn_index", 2.0, "queue_position", 1.0)
	if d := compareState(direct, mk(`{"trace":"t-1"}`, moved, perms)); len(d.lines) != 0 {
		t.Fatalf("diff: %v", d.lines)
	}
	cases := []struct {
		name string
		got  []*serverSession
		want string
	}{
		{"meta", mk(`{"trace":"t-2"}`, life, perms), `meta {"trace":"t-2"}`},
		{"a lost lifecycle event", mk(`{"trace":"t-1"}`, life[:3], perms), "lifecycle events differ\n      direct: turn_started 1, turn_queued 2 @1, child_spawned child m/kid, turn_ended 1 end_turn\n      this:   turn_started 1, turn_queued 2 @1, child_spawned child m/kid"},
		{"another stop reason", mk(`{"trace":"t-1"}`, append(append([]map[string]any{}, life[:3]...), lifecycle(4, 2, "turn_ended", "turn_index", 1.0, "stop_reason", "cancelled")), perms), "turn_ended 1 cancelled"},
		{"another answer", mk(`{"trace":"t-1"}`, life, []map[string]any{{"request_id": "perm_a", "turn_index": 1.0, "status": "answered", "option_id": "deny"}}),
			"permission requests differ\n      direct: perm_a turn 1 answered allow\n      this:   perm_a turn 1 answered deny"},
		{"a request cancelled", mk(`{"trace":"t-1"}`, life, []map[string]any{{"request_id": "perm_a", "turn_index": 1.0, "status": "cancelled", "outcome": "cancelled"}}),
			"this:   perm_a turn 1 cancelled cancelled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := compareState(direct, c.got)
			if got := strings.Join(d.lines["m"], "\n"); !strings.Contains(got, c.want) {
				t.Fatalf("lines:\n%s\nwant them to contain:\n%s", got, c.want)
			}
		})
	}
}
