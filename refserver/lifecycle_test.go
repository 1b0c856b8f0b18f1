package refserver_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
)

// sessionIn returns a new session in the given status.
func (c *client) sessionIn(status gen.SessionStatus) string {
	c.t.Helper()
	id := c.newSession("echo")
	switch status {
	case gen.SessionStatusPaused:
		c.do("POST", "/v1/sessions/"+id+"/pause", nil).want(c.t, http.StatusOK)
	case gen.SessionStatusCompleted, gen.SessionStatusFailed:
		c.do("POST", "/v1/sessions/"+id+"/end", map[string]any{"status": status}).want(c.t, http.StatusOK)
	}
	if got := c.getSession(id).Status; got != status {
		c.t.Fatalf("set-up: session is %s, want %s", got, status)
	}
	return id
}

// TestStateMachine tries every status-changing operation from every status:
// each allowed transition lands in the right status, each forbidden one is
// 409 invalid_transition and changes nothing.
func TestStateMachine(t *testing.T) {
	_, c := start(t)
	const (
		active    = gen.SessionStatusActive
		paused    = gen.SessionStatusPaused
		completed = gen.SessionStatusCompleted
		failed    = gen.SessionStatusFailed
		forbidden = gen.SessionStatus("")
	)
	type op struct {
		name, method, path string
		body               any
	}
	ops := []op{
		{"pause", "POST", "pause", nil},
		{"resume", "POST", "resume", nil},
		{"handoff", "POST", "handoff", map[string]any{"summary": "over to you"}},
		{"end completed", "POST", "end", map[string]any{"status": "completed", "summary": "done"}},
		{"end failed", "POST", "end", map[string]any{"status": "failed"}},
		{"close", "DELETE", "", nil},
	}
	// want[from][op] is the status after the operation, or forbidden.
	want := map[gen.SessionStatus][]gen.SessionStatus{
		active:    {paused, forbidden, paused, completed, failed, completed},
		paused:    {forbidden, active, paused, completed, failed, completed},
		completed: {forbidden, forbidden, forbidden, forbidden, forbidden, completed},
		failed:    {forbidden, forbidden, forbidden, forbidden, forbidden, failed},
	}
	for _, from := range []gen.SessionStatus{active, paused, completed, failed} {
		for i, o := range ops {
			to := want[from][i]
			t.Run(fmt.Sprintf("%s/%s", from, o.name), func(t *testing.T) {
				id := c.sessionIn(from)
				before := c.getSession(id)
				p := "/v1/sessions/" + id
				if o.path != "" {
					p += "/" + o.path
				}
				r := c.do(o.method, p, o.body)
				if to == forbidden {
					r.want(t, http.StatusConflict, gen.ProblemCodeInvalidTransition)
					if after := c.getSession(id); !cmp.Equal(before, after) {
						t.Errorf("a forbidden transition changed the session:\n%s", cmp.Diff(before, after))
					}
					return
				}
				r.want(t, http.StatusOK)
				var got gen.Session
				if o.method == "DELETE" {
					var cr gen.CloseSessionResult
					r.decode(t, &cr)
					if cr.AlreadyClosed != !before.EndedAt.IsZero() {
						t.Errorf("already_closed = %v for a %s session", cr.AlreadyClosed, from)
					}
					got = cr.Session
				} else {
					r.decode(t, &got)
				}
				if got.Status != to {
					t.Fatalf("status %s, want %s", got.Status, to)
				}
				if stored := c.getSession(id); stored.Status != to {
					t.Fatalf("stored status %s, want %s", stored.Status, to)
				}
				ended := to == completed || to == failed
				if ended != !got.EndedAt.IsZero() {
					t.Errorf("ended_at = %v for status %s", got.EndedAt, to)
				}
				if from != to || o.name == "handoff" {
					if !got.UpdatedAt.After(before.UpdatedAt) {
						t.Errorf("updated_at did not move: %v -> %v", before.UpdatedAt, got.UpdatedAt)
					}
				}
			})
		}
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	var first, second gen.CloseSessionResult
	c.do("DELETE", "/v1/sessions/"+id, nil).want(t, http.StatusOK).decode(t, &first)
	c.do("DELETE", "/v1/sessions/"+id, nil).want(t, http.StatusOK).decode(t, &second)
	if first.AlreadyClosed || !second.AlreadyClosed {
		t.Errorf("already_closed = %v then %v, want false then true", first.AlreadyClosed, second.AlreadyClosed)
	}
	if diff := cmp.Diff(first.Session, second.Session); diff != "" {
		t.Errorf("a second close changed the session (-first +second):\n%s", diff)
	}
	if first.Session.Status != gen.SessionStatusCompleted || first.Session.EndedAt.IsZero() {
		t.Errorf("closed session = %+v", first.Session)
	}
}

func TestEndKeepsSummary(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	var s gen.Session
	c.do("POST", "/v1/sessions/"+id+"/end", map[string]any{"status": "failed", "summary": "gave up"}).want(t, 200).decode(t, &s)
	if s.Status != gen.SessionStatusFailed || s.FinalSummary != "gave up" {
		t.Errorf("ended session = %+v", s)
	}
}

func TestWorkOnPausedAndEndedSessions(t *testing.T) {
	_, c := start(t)
	tests := []struct {
		status gen.SessionStatus
		turn   gen.ProblemCode // the code of sendTurn, or "" for success
		work   gen.ProblemCode // the code of log, artifacts and context, or ""
	}{
		{gen.SessionStatusActive, "", ""},
		{gen.SessionStatusPaused, gen.ProblemCodeSessionPaused, ""},
		{gen.SessionStatusCompleted, gen.ProblemCodeSessionEnded, gen.ProblemCodeSessionEnded},
		{gen.SessionStatusFailed, gen.ProblemCodeSessionEnded, gen.ProblemCodeSessionEnded},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			id := c.sessionIn(tt.status)
			s := "/v1/sessions/" + id
			check := func(r *response, okStatus int, code gen.ProblemCode) {
				t.Helper()
				if code == "" {
					r.want(t, okStatus)
				} else {
					r.want(t, http.StatusConflict, code)
				}
			}
			check(c.do("POST", s+"/turns", map[string]any{"prompt": "hi"}), 200, tt.turn)
			check(c.do("POST", s+"/log", map[string]any{"type": "info", "message": "m"}), 201, tt.work)
			check(c.do("POST", s+"/artifacts", map[string]any{"path": "a.txt", "action": "created"}), 201, tt.work)
			check(c.do("PATCH", s+"/context", map[string]any{"k": "v"}), 200, tt.work)
			// Reads, continue and replay work in every status.
			c.do("GET", s+"/handoff", nil).want(t, 200)
			c.do("GET", s+"/replay", nil).want(t, 200)
			c.do("POST", s+"/continue", map[string]any{"agent": "echo"}).want(t, 201)
			c.do("POST", s+"/replay", nil).want(t, 201)
		})
	}
}

func TestWorkLogAndArtifacts(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	s := "/v1/sessions/" + id
	types := []gen.LogEntryType{"info", "checkpoint", "decision", "error", "checkpoint", "success", "warning"}
	var entries []gen.LogEntry
	for i, typ := range types {
		var e gen.LogEntry
		c.do("POST", s+"/log", map[string]any{"type": typ, "message": fmt.Sprintf("m%d", i), "data": map[string]any{"i": i}}).
			want(t, http.StatusCreated).decode(t, &e)
		if e.Type != typ || e.SessionID != id || !strings.HasPrefix(e.ID, "log_") || e.Data["i"] != float64(i) {
			t.Fatalf("entry = %+v", e)
		}
		entries = append(entries, e)
	}
	var list gen.LogEntryList
	c.do("GET", s+"/log?type=checkpoint", nil).want(t, 200).decode(t, &list)
	if diff := cmp.Diff([]gen.LogEntry{entries[1], entries[4]}, list.Items); diff != "" {
		t.Errorf("checkpoints (-want +got):\n%s", diff)
	}
	if got := collectPages[gen.LogEntry](t, c, s+"/log", 3); !cmp.Equal(entries, got) {
		t.Errorf("paged log:\n%s", cmp.Diff(entries, got))
	}

	actions := []gen.ArtifactAction{"created", "modified", "created", "deleted"}
	var arts []gen.Artifact
	for i, act := range actions {
		var a gen.Artifact
		c.do("POST", s+"/artifacts", map[string]any{"path": fmt.Sprintf("f%d.go", i), "action": act}).
			want(t, http.StatusCreated).decode(t, &a)
		if a.Action != act || a.Metadata == nil || !strings.HasPrefix(a.ID, "art_") {
			t.Fatalf("artifact = %+v", a)
		}
		arts = append(arts, a)
	}
	var al gen.ArtifactList
	c.do("GET", s+"/artifacts?action=created", nil).want(t, 200).decode(t, &al)
	if diff := cmp.Diff([]gen.Artifact{arts[0], arts[2]}, al.Items); diff != "" {
		t.Errorf("created artifacts (-want +got):\n%s", diff)
	}
	if got := collectPages[gen.Artifact](t, c, s+"/artifacts", 1); !cmp.Equal(arts, got) {
		t.Errorf("paged artifacts:\n%s", cmp.Diff(arts, got))
	}
	sess := c.getSession(id)
	if sess.ActionCount != int32(len(types)) || sess.ArtifactCount != int32(len(actions)) {
		t.Errorf("action_count %d, artifact_count %d", sess.ActionCount, sess.ArtifactCount)
	}
}

// collectPages walks a list with the given page size and returns every item.
func collectPages[T any](t *testing.T, c *client, p string, limit int) []T {
	t.Helper()
	var all []T
	sep := "?"
	if strings.Contains(p, "?") {
		sep = "&"
	}
	url := fmt.Sprintf("%s%slimit=%d", p, sep, limit)
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the cursor walk does not end")
		}
		var page struct {
			Items      []T     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		c.do("GET", url, nil).want(t, 200).decode(t, &page)
		if len(page.Items) > limit {
			t.Fatalf("page of %d items, limit %d", len(page.Items), limit)
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all
		}
		url = fmt.Sprintf("%s%slimit=%d&cursor=%s", p, sep, limit, *page.NextCursor)
	}
}

func TestContextMergePatch(t *testing.T) {
	_, c := start(t)
	id := c.createSession(gen.CreateSessionRequest{Agent: "echo", Context: gen.JSONObject{
		"repo": "api", "keep": 1, "drop": true, "nested": map[string]any{"a": 1, "b": 2}, "list": []any{1, 2},
	}}).SessionID
	var s gen.Session
	c.do("PATCH", "/v1/sessions/"+id+"/context", `{"drop":null,"nested":{"b":null,"c":3},"list":[3],"new":{"x":null,"y":"z"},"gone":null}`).
		want(t, 200).decode(t, &s)
	want := gen.JSONObject{"repo": "api", "keep": float64(1), "nested": map[string]any{"a": float64(1), "c": float64(3)},
		"list": []any{float64(3)}, "new": map[string]any{"y": "z"}}
	if diff := cmp.Diff(want, s.ContextSummary); diff != "" {
		t.Errorf("context (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, c.getSession(id).ContextSummary); diff != "" {
		t.Errorf("stored context (-want +got):\n%s", diff)
	}
}

func TestHandoffContext(t *testing.T) {
	_, c := start(t)
	id := c.createSession(gen.CreateSessionRequest{Agent: "echo", PlanSlug: "migrate", Context: gen.JSONObject{"k": "v"}}).SessionID
	s := "/v1/sessions/" + id
	for i := range 25 {
		c.do("POST", s+"/log", map[string]any{"type": "info", "message": fmt.Sprint(i)}).want(t, 201)
	}
	for i := range 105 {
		c.do("POST", s+"/artifacts", map[string]any{"path": fmt.Sprint(i), "action": "created"}).want(t, 201)
	}
	var sess gen.Session
	c.do("POST", s+"/handoff", map[string]any{"summary": "half done", "next_steps": []string{"a", "b"}, "context_for_next": map[string]any{"branch": "x"}}).
		want(t, 200).decode(t, &sess)
	if sess.Status != gen.SessionStatusPaused || sess.Handoff.CreatedAt.IsZero() || sess.Handoff.Summary != "half done" ||
		!cmp.Equal(sess.Handoff.NextSteps, []string{"a", "b"}) || len(sess.Handoff.Blockers) != 0 || sess.Handoff.Blockers == nil {
		t.Fatalf("handed-off session = %+v", sess)
	}
	var hc gen.HandoffContext
	c.do("GET", s+"/handoff", nil).want(t, 200).decode(t, &hc)
	if len(hc.RecentActions) != 20 || hc.RecentActions[0].Message != "24" || hc.RecentActions[19].Message != "5" {
		t.Errorf("recent_actions: %d, first %q", len(hc.RecentActions), hc.RecentActions[0].Message)
	}
	if len(hc.Artifacts) != 100 || hc.Artifacts[0].Path != "0" {
		t.Errorf("artifacts: %d, first %q", len(hc.Artifacts), hc.Artifacts[0].Path)
	}
	if hc.Handoff.CreatedAt.IsZero() || hc.Handoff.Summary != "half done" || hc.PlanSlug != "migrate" || hc.ContextSummary["k"] != "v" || hc.Status != gen.SessionStatusPaused {
		t.Errorf("handoff context = %+v", hc)
	}
	// A second handoff from paused replaces the notes.
	c.do("POST", s+"/handoff", map[string]any{"summary": "now really", "blockers": []string{"b1"}}).want(t, 200).decode(t, &sess)
	if sess.Handoff.Summary != "now really" || !cmp.Equal(sess.Handoff.Blockers, []string{"b1"}) || len(sess.Handoff.NextSteps) != 0 {
		t.Errorf("replaced notes = %+v", sess.Handoff)
	}
}

func TestContinueSession(t *testing.T) {
	_, c := start(t)
	old := c.createSession(gen.CreateSessionRequest{Agent: "echo", PlanSlug: "plan-a", Context: gen.JSONObject{"repo": "api"}})
	s := "/v1/sessions/" + old.SessionID
	c.do("POST", s+"/handoff", map[string]any{"summary": "notes", "next_steps": []string{"n"}}).want(t, 200)
	c.do("POST", s+"/end", map[string]any{"status": "completed"}).want(t, 200)
	before := c.getSession(old.SessionID)

	var next gen.Session
	c.do("POST", s+"/continue", map[string]any{"agent": "scripted", "meta": map[string]any{"shift": "night"}}).want(t, 201).decode(t, &next)
	if next.Status != gen.SessionStatusActive || next.Agent != "scripted" || next.ContinuedFrom != old.SessionID ||
		next.PlanSlug != "plan-a" || next.ContextSummary["repo"] != "api" || next.Handoff.CreatedAt.IsZero() ||
		next.Handoff.Summary != "notes" || next.Meta["shift"] != "night" || next.TurnCount != 0 {
		t.Errorf("continued session = %+v", next)
	}
	c.do("POST", s+"/continue", map[string]any{"agent": "echo", "plan_slug": "plan-b"}).want(t, 201).decode(t, &next)
	if next.PlanSlug != "plan-b" {
		t.Errorf("plan_slug = %v, want plan-b", next.PlanSlug)
	}
	c.do("POST", s+"/continue", map[string]any{"agent": "nobody"}).want(t, 422, gen.ProblemCodeUnknownAgent)
	c.do("POST", "/v1/sessions/sess_missing/continue", map[string]any{"agent": "echo"}).want(t, 404, gen.ProblemCodeNotFound)
	if diff := cmp.Diff(before, c.getSession(old.SessionID)); diff != "" {
		t.Errorf("continue changed the original (-before +after):\n%s", diff)
	}
}

func TestReplay(t *testing.T) {
	_, c := start(t)
	id := c.createSession(gen.CreateSessionRequest{Agent: "scripted", PlanSlug: "p", Context: gen.JSONObject{"repo": "api"}}).SessionID
	s := "/v1/sessions/" + id
	log := func(typ, msg string) gen.LogEntry {
		var e gen.LogEntry
		c.do("POST", s+"/log", map[string]any{"type": typ, "message": msg}).want(t, 201).decode(t, &e)
		return e
	}
	cp1 := log("checkpoint", "schema")
	d1 := log("decision", "use postgres")
	log("info", "note")
	e1 := log("error", "test failed")
	cp2 := log("checkpoint", "tests")
	var a1, a2 gen.Artifact
	c.do("POST", s+"/artifacts", map[string]any{"path": "x.sql", "action": "created"}).want(t, 201).decode(t, &a1)
	c.do("POST", s+"/artifacts", map[string]any{"path": "y.go", "action": "modified"}).want(t, 201).decode(t, &a2)

	var rc gen.ReplayContext
	c.do("GET", s+"/replay", nil).want(t, 200).decode(t, &rc)
	wantProgress := gen.ReplayProgress{TotalEntries: 5, CheckpointCount: 2, DecisionCount: 1, ErrorCount: 1,
		LastEntry: cp2, Summary: "5 entries, 2 checkpoints, 1 decision, 1 error."}
	if diff := cmp.Diff(wantProgress, rc.Progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if !cmp.Equal(rc.Checkpoints, []gen.LogEntry{cp1, cp2}) || !cmp.Equal(rc.Decisions, []gen.LogEntry{d1}) ||
		!cmp.Equal(rc.Errors, []gen.LogEntry{e1}) || !cmp.Equal(rc.LastCheckpoint, cp2) {
		t.Errorf("replay context lists = %+v", rc)
	}
	wantArts := gen.ArtifactsByAction{Created: []gen.Artifact{a1}, Modified: []gen.Artifact{a2}, Deleted: []gen.Artifact{}}
	if diff := cmp.Diff(wantArts, rc.ArtifactsByAction); diff != "" {
		t.Errorf("artifacts_by_action (-want +got):\n%s", diff)
	}
	if len(rc.RecentActions) != 5 || !cmp.Equal(rc.RecentActions[0], cp2) {
		t.Errorf("recent_actions = %+v", rc.RecentActions)
	}

	var next gen.Session
	c.do("POST", s+"/replay", nil).want(t, 201).decode(t, &next) // the body is optional
	if next.Agent != "scripted" || next.ContinuedFrom != id || next.ContextSummary["repo"] != "api" {
		t.Errorf("replayed session = %+v", next)
	}
	replay, _ := next.ContextSummary["replay"].(map[string]any)
	progress, _ := replay["progress"].(map[string]any)
	lastCP, _ := replay["last_checkpoint"].(map[string]any)
	if progress["summary"] != wantProgress.Summary || lastCP["message"] != "tests" ||
		len(replay["decisions"].([]any)) != 1 || len(replay["errors"].([]any)) != 1 {
		t.Errorf("replay member = %v", replay)
	}
	c.do("POST", s+"/replay", map[string]any{"agent": "echo", "meta": map[string]any{"try": 2}}).want(t, 201).decode(t, &next)
	if next.Agent != "echo" || next.Meta["try"] != float64(2) {
		t.Errorf("replayed with another agent = %+v", next)
	}
	c.do("POST", s+"/replay", map[string]any{"agent": "nobody"}).want(t, 422, gen.ProblemCodeUnknownAgent)

	// An empty work log: every list is empty, not null.
	empty := c.newSession("echo")
	rc = gen.ReplayContext{}
	c.do("GET", "/v1/sessions/"+empty+"/replay", nil).want(t, 200).decode(t, &rc)
	if rc.Progress.Summary != "0 entries, 0 checkpoints, 0 decisions, 0 errors." || rc.LastCheckpoint.ID != "" {
		t.Errorf("empty replay context = %+v", rc)
	}
}

func TestUpdatedAtMovesOnEveryChange(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	s := "/v1/sessions/" + id
	last := c.getSession(id).UpdatedAt
	steps := []struct {
		method, path string
		body         any
	}{
		{"POST", "/turns", map[string]any{"prompt": "hi"}},
		{"POST", "/log", map[string]any{"type": "info", "message": "m"}},
		{"POST", "/artifacts", map[string]any{"path": "p", "action": "created"}},
		{"PATCH", "/context", map[string]any{"a": 1}},
		{"POST", "/pause", nil},
		{"POST", "/resume", nil},
		{"POST", "/end", map[string]any{"status": "completed"}},
	}
	for _, st := range steps {
		time.Sleep(time.Millisecond)
		c.do(st.method, s+st.path, st.body)
		now := c.getSession(id).UpdatedAt
		if !now.After(last) {
			t.Errorf("%s %s: updated_at stayed %v", st.method, st.path, now)
		}
		last = now
	}
}
