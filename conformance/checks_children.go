package conformance

import (
	"context"
	"net/http"
	"net/url"

	"github.com/agentsession/agentsession/gen"
)

// spawn sends spawnChild and returns the raw answer.
func (t *tester) spawn(ctx context.Context, parent string) (*response, error) {
	return t.post(ctx, path("/v1/sessions/%s/children", parent), t.sessionBody(t.env.echo))
}

// child spawns a child and expects 201.
func (t *tester) child(ctx context.Context, parent string) (gen.Session, error) {
	resp, err := t.spawn(ctx, parent)
	if err != nil {
		return gen.Session{}, err
	}
	return expectJSON[gen.Session](resp, http.StatusCreated)
}

func (t *tester) children(ctx context.Context, parent string, q url.Values) ([]gen.Session, error) {
	items, _, err := listAll[gen.Session](ctx, t, path("/v1/sessions/%s/children", parent), q, 0, 10)
	return items, err
}

func ids(sessions []gen.Session) []string {
	out := []string{}
	for _, s := range sessions {
		out = append(out, s.SessionID)
	}
	return out
}

// maxChildrenTested bounds the caps the suite fills (each is one request).
const maxChildrenTested = 20

func childChecks() []*check {
	return []*check{
		def("CHLD-001", Must, "spawnChild listChildren getSession",
			"spawnChild answers 201 with an active session whose parent_session_id is the parent and depth the parent's + 1; listChildren lists it",
			func(ctx context.Context, t *tester) error {
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				resp, err := t.spawn(ctx, parent.SessionID)
				if err != nil {
					return err
				}
				c, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				switch {
				case c.ParentSessionID != parent.SessionID:
					return resp.Failf("parent_session_id %q, want %q", c.ParentSessionID, parent.SessionID)
				case c.Depth != parent.Depth+1:
					return resp.Failf("depth %d, want %d", c.Depth, parent.Depth+1)
				case c.Status != gen.SessionStatusActive:
					return resp.Failf("status %q, want active", c.Status)
				}
				got, err := t.session(ctx, c.SessionID)
				if err != nil {
					return err
				}
				if got.ParentSessionID != parent.SessionID {
					return Failf("getSession: parent_session_id %q, want %q", got.ParentSessionID, parent.SessionID)
				}
				list, err := t.children(ctx, parent.SessionID, nil)
				if err != nil {
					return err
				}
				if d := jsonDiff(ids(list), []string{c.SessionID}); d != "" {
					return Failf("listChildren: %s", d)
				}
				return nil
			}, NeedChildren).traces("REQ-CHLD-002", "REQ-SESS-013"),
		def("CHLD-002", Must, "spawnChild",
			"spawning more than limits.max_children active children answers 409 spawn_limit_exceeded",
			func(ctx context.Context, t *tester) error {
				limit, err := t.childrenCap()
				if err != nil {
					return err
				}
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for i := 0; i < limit; i++ {
					if _, err := t.child(ctx, parent.SessionID); err != nil {
						return err
					}
				}
				resp, err := t.spawn(ctx, parent.SessionID)
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeSpawnLimitExceeded)
			}, NeedChildren).traces("REQ-CHLD-005"),
		def("CHLD-003", Must, "spawnChild",
			"spawning a child deeper than limits.max_depth answers 409 spawn_limit_exceeded",
			func(ctx context.Context, t *tester) error {
				depth := int(t.env.caps.Limits.MaxDepth)
				if depth < 0 || depth > 5 {
					return Skipf("max_depth is %d: the check builds chains of 0 to 5", depth)
				}
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				id := s.SessionID
				for i := 0; i < depth; i++ {
					c, err := t.child(ctx, id)
					if err != nil {
						return err
					}
					id = c.SessionID
				}
				resp, err := t.spawn(ctx, id)
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeSpawnLimitExceeded)
			}, NeedChildren).traces("REQ-CHLD-006"),
		def("CHLD-004", Must, "closeSession listChildren",
			"closing a parent closes its active children (completed); a child that had already failed stays failed",
			func(ctx context.Context, t *tester) error {
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				live, err := t.child(ctx, parent.SessionID)
				if err != nil {
					return err
				}
				var dead gen.Session
				if t.env.has(NeedLifecycle) && t.env.caps.Limits.MaxChildren >= 2 {
					if dead, err = t.child(ctx, parent.SessionID); err != nil {
						return err
					}
					if err := t.toStatus(ctx, dead.SessionID, gen.SessionStatusFailed); err != nil {
						return err
					}
				}
				resp, err := t.Do(ctx, opClose.req(parent.SessionID))
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				if _, err := t.expectStatus(ctx, live.SessionID, gen.SessionStatusCompleted); err != nil {
					return err
				}
				if dead.SessionID != "" {
					if _, err := t.expectStatus(ctx, dead.SessionID, gen.SessionStatusFailed); err != nil {
						return err
					}
				}
				return nil
			}, NeedChildren).traces("REQ-CHLD-001"),
		def("CHLD-005", Must, "endSession",
			"ending a parent with endSession closes its active children",
			func(ctx context.Context, t *tester) error {
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				c, err := t.child(ctx, parent.SessionID)
				if err != nil {
					return err
				}
				if err := t.toStatus(ctx, parent.SessionID, gen.SessionStatusFailed); err != nil {
					return err
				}
				got, err := t.session(ctx, c.SessionID)
				if err != nil {
					return err
				}
				if got.Status != gen.SessionStatusCompleted || got.EndedAt.IsZero() {
					return Failf("the child is %q after its parent ended (ended_at set: %v), want completed, as closeSession leaves it", got.Status, !got.EndedAt.IsZero())
				}
				return nil
			}, NeedChildren, NeedLifecycle).traces("REQ-CHLD-001"),
		def("CHLD-006", Must, "spawnChild closeSession",
			"only active children count against max_children: after one is closed another can be spawned",
			func(ctx context.Context, t *tester) error {
				limit, err := t.childrenCap()
				if err != nil {
					return err
				}
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var first gen.Session
				for i := 0; i < limit; i++ {
					c, err := t.child(ctx, parent.SessionID)
					if err != nil {
						return err
					}
					if i == 0 {
						first = c
					}
				}
				resp, err := t.Do(ctx, opClose.req(first.SessionID))
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				_, err = t.child(ctx, parent.SessionID)
				return err
			}, NeedChildren).traces("REQ-CHLD-005"),
		def("CHLD-007", Must, "spawnChild",
			"spawnChild under a paused parent answers 409 session_paused, under an ended one 409 session_ended, and spawns nothing",
			func(ctx context.Context, t *tester) error {
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if err := t.toStatus(ctx, parent.SessionID, gen.SessionStatusPaused); err != nil {
					return err
				}
				resp, err := t.spawn(ctx, parent.SessionID)
				if err != nil {
					return err
				}
				if err := resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeSessionPaused); err != nil {
					return err
				}
				if err := t.closeSession(ctx, parent.SessionID); err != nil {
					return err
				}
				if resp, err = t.spawn(ctx, parent.SessionID); err != nil {
					return err
				}
				if err := resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeSessionEnded); err != nil {
					return err
				}
				kids, err := t.children(ctx, parent.SessionID, nil)
				if err != nil {
					return err
				}
				if len(kids) != 0 {
					return Failf("listChildren: %d children after two refused spawns", len(kids))
				}
				return nil
			}, NeedChildren, NeedLifecycle).traces("REQ-CHLD-003"),
		def("CHLD-008", Must, "listChildren",
			"listChildren lists only this parent's children and filters them by status",
			func(ctx context.Context, t *tester) error {
				if t.env.caps.Limits.MaxChildren < 2 {
					return Skipf("max_children is %d: the check needs 2", t.env.caps.Limits.MaxChildren)
				}
				p1, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				p2, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				a, err := t.child(ctx, p1.SessionID)
				if err != nil {
					return err
				}
				b, err := t.child(ctx, p1.SessionID)
				if err != nil {
					return err
				}
				if _, err := t.child(ctx, p2.SessionID); err != nil {
					return err
				}
				resp, err := t.Do(ctx, opClose.req(b.SessionID))
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				for _, tc := range []struct {
					q    url.Values
					want []string
				}{
					{nil, []string{a.SessionID, b.SessionID}},
					{url.Values{"status": {"active"}}, []string{a.SessionID}},
					{url.Values{"status": {"completed"}}, []string{b.SessionID}},
				} {
					got, err := t.children(ctx, p1.SessionID, tc.q)
					if err != nil {
						return err
					}
					if d := jsonDiff(ids(got), tc.want); d != "" {
						return Failf("listChildren?%s: %s", tc.q.Encode(), d)
					}
				}
				return nil
			}, NeedChildren).traces("REQ-CHLD-004"),
		def("CHLD-009", Must, "spawnChild getSession",
			"spawnChild makes the child from its body as createSession would: the body's agent, meta, plan_slug and context",
			func(ctx context.Context, t *tester) error {
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				body := map[string]any{
					"agent": t.env.echo, "plan_slug": t.plan("child"),
					"meta":    map[string]any{"conformance_run": t.env.prefix, "conformance_check": t.chk.ID, "role": "reviewer"},
					"context": map[string]any{"task": "review", "nested": map[string]any{"n": 1.0}},
				}
				resp, err := t.post(ctx, path("/v1/sessions/%s/children", parent.SessionID), body)
				if err != nil {
					return err
				}
				c, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				got, err := t.session(ctx, c.SessionID)
				if err != nil {
					return err
				}
				for _, s := range []gen.Session{c, got} {
					have := map[string]any{"agent": s.Agent, "plan_slug": s.PlanSlug, "meta": s.Meta, "context": s.ContextSummary}
					if d := jsonDiff(have, body); d != "" {
						return Failf("the child (agent, plan_slug, meta, context_summary): %s", d)
					}
				}
				return nil
			}, NeedChildren).traces("REQ-CHLD-002"),
	}
}
