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
		out = append(out, s.SessionId)
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
				resp, err := t.spawn(ctx, parent.SessionId)
				if err != nil {
					return err
				}
				c, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				switch {
				case deref(c.ParentSessionId) != parent.SessionId:
					return resp.Failf("parent_session_id %q, want %q", deref(c.ParentSessionId), parent.SessionId)
				case c.Depth != parent.Depth+1:
					return resp.Failf("depth %d, want %d", c.Depth, parent.Depth+1)
				case c.Status != gen.SessionStatusActive:
					return resp.Failf("status %q, want active", c.Status)
				}
				got, err := t.session(ctx, c.SessionId)
				if err != nil {
					return err
				}
				if deref(got.ParentSessionId) != parent.SessionId {
					return Failf("getSession: parent_session_id %q, want %q", deref(got.ParentSessionId), parent.SessionId)
				}
				list, err := t.children(ctx, parent.SessionId, nil)
				if err != nil {
					return err
				}
				if d := jsonDiff(ids(list), []string{c.SessionId}); d != "" {
					return Failf("listChildren: %s", d)
				}
				return nil
			}, NeedChildren),
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
					if _, err := t.child(ctx, parent.SessionId); err != nil {
						return err
					}
				}
				resp, err := t.spawn(ctx, parent.SessionId)
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusConflict, "spawn_limit_exceeded")
			}, NeedChildren),
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
				id := s.SessionId
				for i := 0; i < depth; i++ {
					c, err := t.child(ctx, id)
					if err != nil {
						return err
					}
					id = c.SessionId
				}
				resp, err := t.spawn(ctx, id)
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusConflict, "spawn_limit_exceeded")
			}, NeedChildren),
		def("CHLD-004", Must, "closeSession listChildren",
			"closing a parent closes its active children (completed); a child that had already failed stays failed",
			func(ctx context.Context, t *tester) error {
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				live, err := t.child(ctx, parent.SessionId)
				if err != nil {
					return err
				}
				var dead gen.Session
				if t.env.has(NeedLifecycle) && t.env.caps.Limits.MaxChildren >= 2 {
					if dead, err = t.child(ctx, parent.SessionId); err != nil {
						return err
					}
					if err := t.toStatus(ctx, dead.SessionId, gen.SessionStatusFailed); err != nil {
						return err
					}
				}
				resp, err := t.Do(ctx, opClose.req(parent.SessionId))
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				if _, err := t.expectStatus(ctx, live.SessionId, gen.SessionStatusCompleted); err != nil {
					return err
				}
				if dead.SessionId != "" {
					if _, err := t.expectStatus(ctx, dead.SessionId, gen.SessionStatusFailed); err != nil {
						return err
					}
				}
				return nil
			}, NeedChildren),
		def("CHLD-005", Must, "endSession",
			"ending a parent with endSession closes its active children",
			func(ctx context.Context, t *tester) error {
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				c, err := t.child(ctx, parent.SessionId)
				if err != nil {
					return err
				}
				if err := t.toStatus(ctx, parent.SessionId, gen.SessionStatusFailed); err != nil {
					return err
				}
				got, err := t.session(ctx, c.SessionId)
				if err != nil {
					return err
				}
				if got.Status != gen.SessionStatusCompleted && got.Status != gen.SessionStatusFailed {
					return Failf("the child is %q after its parent ended, want ended", got.Status)
				}
				return nil
			}, NeedChildren, NeedLifecycle),
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
					c, err := t.child(ctx, parent.SessionId)
					if err != nil {
						return err
					}
					if i == 0 {
						first = c
					}
				}
				resp, err := t.Do(ctx, opClose.req(first.SessionId))
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				_, err = t.child(ctx, parent.SessionId)
				return err
			}, NeedChildren),
		def("CHLD-007", Should, "spawnChild",
			"spawnChild under a parent that is not active answers 409",
			func(ctx context.Context, t *tester) error {
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if err := t.toStatus(ctx, parent.SessionId, gen.SessionStatusPaused); err != nil {
					return err
				}
				resp, err := t.spawn(ctx, parent.SessionId)
				if err != nil {
					return err
				}
				return resp.ExpectProblemIn(http.StatusConflict)
			}, NeedChildren, NeedLifecycle),
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
				a, err := t.child(ctx, p1.SessionId)
				if err != nil {
					return err
				}
				b, err := t.child(ctx, p1.SessionId)
				if err != nil {
					return err
				}
				if _, err := t.child(ctx, p2.SessionId); err != nil {
					return err
				}
				resp, err := t.Do(ctx, opClose.req(b.SessionId))
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
					{nil, []string{a.SessionId, b.SessionId}},
					{url.Values{"status": {"active"}}, []string{a.SessionId}},
					{url.Values{"status": {"completed"}}, []string{b.SessionId}},
				} {
					got, err := t.children(ctx, p1.SessionId, tc.q)
					if err != nil {
						return err
					}
					if d := jsonDiff(ids(got), tc.want); d != "" {
						return Failf("listChildren?%s: %s", tc.q.Encode(), d)
					}
				}
				return nil
			}, NeedChildren),
	}
}
