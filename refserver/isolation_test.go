package refserver_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
)

// TestTenantIsolation: everything tenant A owns is 404 for tenant B on
// every operation, and B's lists never show it.
func TestTenantIsolation(t *testing.T) {
	srv, a := start(t)
	b := newClient(t, srv, 1)
	id := a.newSession("echo")
	s := "/v1/sessions/" + id
	a.sendTurn(id, gen.TurnRequest{Prompt: "secret"})
	a.do("POST", s+"/log", map[string]any{"type": "info", "message": "m"}).want(t, 201)
	a.do("POST", s+"/artifacts", map[string]any{"path": "p", "action": "created"}).want(t, 201)
	var child gen.Session
	a.do("POST", s+"/children", map[string]any{"agent": "echo"}).want(t, 201).decode(t, &child)
	var f gen.File
	a.upload("f.txt", "text/plain", []byte("data")).want(t, 201).decode(t, &f)
	before := a.getSession(id)

	ops := []struct {
		method, path string
		body         any
	}{
		{"GET", s, nil},
		{"POST", s + "/turns", map[string]any{"prompt": "x"}},
		{"GET", s + "/turns", nil},
		{"GET", s + "/turns/1", nil},
		{"GET", s + "/turns/1/stream", nil},
		{"POST", s + "/cancel", nil},
		{"GET", s + "/events", nil},
		{"POST", s + "/pause", nil},
		{"POST", s + "/resume", nil},
		{"POST", s + "/end", map[string]any{"status": "failed"}},
		{"POST", s + "/continue", map[string]any{"agent": "echo"}},
		{"POST", s + "/handoff", map[string]any{"summary": "x"}},
		{"GET", s + "/handoff", nil},
		{"POST", s + "/log", map[string]any{"type": "info", "message": "x"}},
		{"GET", s + "/log", nil},
		{"POST", s + "/artifacts", map[string]any{"path": "x", "action": "created"}},
		{"GET", s + "/artifacts", nil},
		{"PATCH", s + "/context", map[string]any{"x": 1}},
		{"GET", s + "/replay", nil},
		{"POST", s + "/replay", nil},
		{"POST", s + "/children", map[string]any{"agent": "echo"}},
		{"GET", s + "/children", nil},
		{"DELETE", s, nil},
		{"GET", "/v1/sessions/" + child.SessionID, nil},
		{"GET", "/v1/files/" + f.FileToken, nil},
	}
	for _, op := range ops {
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			b.do(op.method, op.path, op.body).want(t, http.StatusNotFound, gen.ProblemCodeNotFound)
		})
	}
	var list gen.SessionList
	b.do("GET", "/v1/sessions", nil).want(t, 200).decode(t, &list)
	if len(list.Items) != 0 {
		t.Errorf("tenant B lists %d sessions of tenant A", len(list.Items))
	}
	// A problem for B reads exactly like one for a session that never existed.
	gone := b.do("GET", "/v1/sessions/sess_neverexisted", nil).problem(t)
	leak := b.do("GET", s, nil).problem(t)
	if leak.Title != gone.Title || leak.Code != gone.Code {
		t.Errorf("a foreign session's 404 differs from a missing one's: %+v vs %+v", leak, gone)
	}
	if diff := cmp.Diff(before, a.getSession(id)); diff != "" {
		t.Errorf("tenant B changed tenant A's session (-before +after):\n%s", diff)
	}
	// B's own sessions are unaffected by A's.
	bid := b.newSession("echo")
	b.do("GET", "/v1/sessions", nil).want(t, 200).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].SessionID != bid {
		t.Errorf("tenant B lists %+v", list.Items)
	}
	a.do("GET", "/v1/sessions/"+bid, nil).want(t, 404, gen.ProblemCodeNotFound)
}
