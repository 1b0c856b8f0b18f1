package refserver_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
)

func TestCreateAndGetSession(t *testing.T) {
	_, c := start(t)
	s := c.createSession(gen.CreateSessionRequest{Agent: "echo", Meta: gen.JSONObject{"app": "bot", "n": 3},
		PlanSlug: "migrate-db", Context: gen.JSONObject{"repo": "api"}})
	want := gen.Session{SessionID: s.SessionID, Agent: "echo", Status: gen.SessionStatusActive, Activity: gen.ActivityIdle,
		Meta: map[string]any{"app": "bot", "n": float64(3)}, PlanSlug: "migrate-db", ContextSummary: map[string]any{"repo": "api"},
		CreatedAt: s.CreatedAt, UpdatedAt: s.CreatedAt}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(s, c.getSession(s.SessionID)); diff != "" {
		t.Errorf("get differs from create (-create +get):\n%s", diff)
	}
	bare := c.createSession(gen.CreateSessionRequest{Agent: "scripted"})
	if bare.Meta == nil || bare.ContextSummary == nil || bare.PlanSlug != "" || bare.Depth != 0 {
		t.Errorf("bare session = %+v", bare)
	}
}

func TestListSessions(t *testing.T) {
	_, c := start(t)
	var all []gen.Session
	for i := range 7 {
		req := gen.CreateSessionRequest{Agent: []string{"echo", "scripted"}[i%2]}
		if i%3 == 0 {
			req.PlanSlug = "p1"
		}
		all = append(all, c.createSession(req))
	}
	c.do("POST", "/v1/sessions/"+all[1].SessionID+"/pause", nil).want(t, 200)
	all[1] = c.getSession(all[1].SessionID)
	c.do("DELETE", "/v1/sessions/"+all[2].SessionID, nil).want(t, 200)
	all[2] = c.getSession(all[2].SessionID)

	filter := func(keep func(gen.Session) bool) []gen.Session {
		var out []gen.Session
		for _, s := range all {
			if keep(s) {
				out = append(out, s)
			}
		}
		return out
	}
	tests := []struct {
		query string
		want  []gen.Session
	}{
		{"", all},
		{"?status=paused", filter(func(s gen.Session) bool { return s.Status == "paused" })},
		{"?status=completed", filter(func(s gen.Session) bool { return s.Status == "completed" })},
		{"?status=active&agent=echo", filter(func(s gen.Session) bool { return s.Status == "active" && s.Agent == "echo" })},
		{"?agent=scripted", filter(func(s gen.Session) bool { return s.Agent == "scripted" })},
		{"?plan_slug=p1", filter(func(s gen.Session) bool { return s.PlanSlug == "p1" })},
		{"?agent=nobody", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			for _, limit := range []int{1, 2, 100} {
				got := collectPages[gen.Session](t, c, "/v1/sessions"+tt.query, limit)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Fatalf("limit %d (-want +got):\n%s", limit, diff)
				}
			}
		})
	}
	var page gen.SessionList
	c.do("GET", "/v1/sessions?limit=2", nil).want(t, 200).decode(t, &page)
	if len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("first page = %+v", page)
	}
	c.do("GET", "/v1/sessions?agent=echo&cursor="+page.NextCursor, nil).want(t, 400, gen.ProblemCodeInvalidCursor)
	var def gen.SessionList
	for range 20 {
		c.newSession("echo")
	}
	c.do("GET", "/v1/sessions", nil).want(t, 200).decode(t, &def)
	if len(def.Items) != refserver.DefaultPageSize || def.NextCursor == "" {
		t.Errorf("default page: %d items", len(def.Items))
	}
}

func TestChildren(t *testing.T) {
	_, c := start(t, func(cfg *refserver.Config) { cfg.MaxChildren = 3; cfg.MaxDepth = 2 })
	parent := c.newSession("echo")
	p := "/v1/sessions/" + parent + "/children"
	var kids []gen.Session
	for range 3 {
		var k gen.Session
		c.do("POST", p, map[string]any{"agent": "scripted", "meta": map[string]any{"role": "r"}}).want(t, 201).decode(t, &k)
		if k.ParentSessionID != parent || k.Depth != 1 || k.Status != gen.SessionStatusActive || k.Agent != "scripted" {
			t.Fatalf("child = %+v", k)
		}
		kids = append(kids, k)
	}
	c.do("POST", p, map[string]any{"agent": "echo"}).want(t, 409, gen.ProblemCodeSpawnLimitExceeded)
	// An ended child no longer counts; a paused one does.
	c.do("POST", "/v1/sessions/"+kids[0].SessionID+"/end", map[string]any{"status": "failed"}).want(t, 200)
	c.do("POST", "/v1/sessions/"+kids[1].SessionID+"/pause", nil).want(t, 200)
	var fourth gen.Session
	c.do("POST", p, map[string]any{"agent": "echo"}).want(t, 201).decode(t, &fourth)
	c.do("POST", p, map[string]any{"agent": "echo"}).want(t, 409, gen.ProblemCodeSpawnLimitExceeded)

	// Depth: a grandchild is allowed (max depth 2), a great-grandchild not.
	var grand gen.Session
	c.do("POST", "/v1/sessions/"+kids[2].SessionID+"/children", map[string]any{"agent": "echo"}).want(t, 201).decode(t, &grand)
	if grand.Depth != 2 {
		t.Errorf("grandchild depth %d", grand.Depth)
	}
	c.do("POST", "/v1/sessions/"+grand.SessionID+"/children", map[string]any{"agent": "echo"}).want(t, 409, gen.ProblemCodeSpawnLimitExceeded)

	all := collectPages[gen.Session](t, c, p, 2)
	if len(all) != 4 || all[0].SessionID != kids[0].SessionID || all[3].SessionID != fourth.SessionID {
		t.Errorf("children = %d", len(all))
	}
	if got := collectPages[gen.Session](t, c, p+"?status=paused", 10); len(got) != 1 || got[0].SessionID != kids[1].SessionID {
		t.Errorf("paused children = %+v", got)
	}
	// The parent lists only its own children.
	var top gen.SessionList
	c.do("GET", "/v1/sessions/"+kids[2].SessionID+"/children", nil).want(t, 200).decode(t, &top)
	if len(top.Items) != 1 || top.Items[0].SessionID != grand.SessionID {
		t.Errorf("grandchildren = %+v", top.Items)
	}
	c.do("POST", "/v1/sessions/"+parent+"/children", map[string]any{"agent": "gpt-9"}).want(t, 422, gen.ProblemCodeUnknownAgent)
	c.do("POST", "/v1/sessions/sess_nope/children", map[string]any{"agent": "echo"}).want(t, 404, gen.ProblemCodeNotFound)
	c.do("GET", "/v1/sessions/sess_nope/children", nil).want(t, 404, gen.ProblemCodeNotFound)
}

func TestSpawnNeedsAnActiveParent(t *testing.T) {
	_, c := start(t)
	for status, code := range map[gen.SessionStatus]gen.ProblemCode{
		gen.SessionStatusPaused: gen.ProblemCodeSessionPaused, gen.SessionStatusCompleted: gen.ProblemCodeSessionEnded, gen.SessionStatusFailed: gen.ProblemCodeSessionEnded,
	} {
		id := c.sessionIn(status)
		c.do("POST", "/v1/sessions/"+id+"/children", map[string]any{"agent": "echo"}).want(t, http.StatusConflict, code)
	}
	_, c0 := start(t, func(cfg *refserver.Config) { cfg.MaxDepth = -1 })
	c0.do("POST", "/v1/sessions/"+c0.newSession("echo")+"/children", map[string]any{"agent": "echo"}).want(t, 409, gen.ProblemCodeSpawnLimitExceeded)
}

func TestClosingAParentClosesItsChildren(t *testing.T) {
	for _, op := range []string{"close", "end"} {
		t.Run(op, func(t *testing.T) {
			_, c := start(t, func(cfg *refserver.Config) { cfg.MaxDepth = 2 })
			parent := c.newSession("echo")
			spawn := func(of string) string {
				var k gen.Session
				c.do("POST", "/v1/sessions/"+of+"/children", map[string]any{"agent": "scripted"}).want(t, 201).decode(t, &k)
				return k.SessionID
			}
			busy, paused, failed := spawn(parent), spawn(parent), spawn(parent)
			grand := spawn(busy)
			c.do("POST", "/v1/sessions/"+paused+"/pause", nil).want(t, 200)
			c.do("POST", "/v1/sessions/"+failed+"/end", map[string]any{"status": "failed"}).want(t, 200)
			running := c.doAsync("POST", "/v1/sessions/"+busy+"/turns", map[string]any{"prompt": slow})
			c.waitTurn(busy, 1, gen.TurnStatusRunning)

			if op == "close" {
				c.do("DELETE", "/v1/sessions/"+parent, nil).want(t, 200)
			} else {
				c.do("POST", "/v1/sessions/"+parent+"/end", map[string]any{"status": "completed"}).want(t, 200)
			}
			for id, want := range map[string]gen.SessionStatus{busy: "completed", paused: "completed", grand: "completed", failed: "failed"} {
				if got := c.getSession(id); got.Status != want || got.Activity != gen.ActivityIdle {
					t.Errorf("child %s: %s/%s, want %s/idle", id, got.Status, got.Activity, want)
				}
			}
			var r gen.TurnResult
			result(t, running).want(t, 200).decode(t, &r)
			if r.CancelledBy != gen.CancelledBySessionClosed {
				t.Errorf("child's turn = %+v", r)
			}
		})
	}
}
