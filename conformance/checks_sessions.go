package conformance

import (
	"context"
	"net/http"
	"net/url"

	"github.com/agentsession/agentsession/gen"
)

func sessionChecks() []*check {
	return []*check{
		def("SESS-001", Must, "createSession",
			"createSession answers 201 with an active, idle session holding the agent, meta, plan_slug and context, depth 0 and zero counters",
			func(ctx context.Context, t *tester) error {
				body := t.sessionBody(t.env.echo)
				body["context"] = map[string]any{"repository": "example/repo", "nested": map[string]any{"n": 1.0}}
				resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: body})
				if err != nil {
					return err
				}
				s, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				switch {
				case s.SessionID == "":
					return resp.Failf("empty session_id")
				case s.Agent != t.env.echo:
					return resp.Failf("agent %q, want %q", s.Agent, t.env.echo)
				case s.Status != gen.SessionStatusActive:
					return resp.Failf("status %q, want active", s.Status)
				case s.Activity != gen.ActivityIdle:
					return resp.Failf("activity %q, want idle", s.Activity)
				case s.PlanSlug != t.plan():
					return resp.Failf("plan_slug %q, want %q", s.PlanSlug, t.plan())
				case s.Depth != 0 || s.ParentSessionID != "":
					return resp.Failf("a root session has depth 0 and no parent_session_id (depth %d)", s.Depth)
				case s.TurnCount != 0 || s.ActionCount != 0 || s.ArtifactCount != 0 || s.LastEventSeq != 0:
					return resp.Failf("a new session has zero counters (turn_count %d, action_count %d, artifact_count %d, last_event_seq %d)",
						s.TurnCount, s.ActionCount, s.ArtifactCount, s.LastEventSeq)
				case !s.EndedAt.IsZero() || s.ContinuedFrom != "":
					return resp.Failf("a new session has no ended_at or continued_from")
				}
				if d := jsonDiff(s.Meta, body["meta"]); d != "" {
					return resp.Failf("meta: %s", d)
				}
				if d := jsonDiff(s.ContextSummary, body["context"]); d != "" {
					return resp.Failf("context_summary is the context given at creation: %s", d)
				}
				return nil
			}),
		def("SESS-002", Must, "getSession",
			"getSession returns the session as created",
			func(ctx context.Context, t *tester) error {
				created, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				got, err := t.session(ctx, created.SessionID)
				if err != nil {
					return err
				}
				type view struct {
					ID, Agent string
					Status    gen.SessionStatus
					Meta      map[string]any
					Plan      string
					Created   int64
				}
				v := func(s gen.Session) view {
					return view{s.SessionID, s.Agent, s.Status, s.Meta, s.PlanSlug, s.CreatedAt.UnixMilli()}
				}
				if d := jsonDiff(v(got), v(created)); d != "" {
					return Failf("getSession differs from the createSession answer: %s", d)
				}
				return nil
			}),
		def("SESS-003", Must, "createSession",
			"createSession with an agent the server does not have answers 422 unknown_agent",
			func(ctx context.Context, t *tester) error {
				resp, err := t.post(ctx, "/v1/sessions", t.sessionBody("conformance-no-such-agent"))
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusUnprocessableEntity, gen.ProblemCodeUnknownAgent)
			}),
		def("SESS-004", Must, "listSessions",
			"listSessions lists the tenant's sessions and filters them by plan_slug, status and agent",
			func(ctx context.Context, t *tester) error {
				a, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				b, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if err := t.closeSession(ctx, b.SessionID); err != nil {
					return err
				}
				for _, tc := range []struct {
					query url.Values
					want  []string
				}{
					{url.Values{"plan_slug": {t.plan()}}, []string{a.SessionID, b.SessionID}},
					{url.Values{"plan_slug": {t.plan()}, "status": {"active"}}, []string{a.SessionID}},
					{url.Values{"plan_slug": {t.plan()}, "status": {"completed"}}, []string{b.SessionID}},
					{url.Values{"plan_slug": {t.plan()}, "agent": {t.env.echo}}, []string{a.SessionID, b.SessionID}},
					{url.Values{"plan_slug": {t.plan()}, "agent": {"conformance-no-such-agent"}}, nil},
					{url.Values{"plan_slug": {t.plan("other")}}, nil},
				} {
					items, _, err := listAll[gen.Session](ctx, t, "/v1/sessions", tc.query, 0, 10)
					if err != nil {
						return err
					}
					var got []string
					for _, s := range items {
						got = append(got, s.SessionID)
					}
					if d := jsonDiff(got, tc.want); d != "" {
						return Failf("listSessions?%s: session ids %s (oldest first)", tc.query.Encode(), d)
					}
				}
				return nil
			}),
		def("SESS-005", Must, "closeSession",
			"closeSession on an active session answers 200 with already_closed false and the session completed, with ended_at",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				resp, err := t.Do(ctx, opClose.req(s.SessionID))
				if err != nil {
					return err
				}
				res, err := expectJSON[gen.CloseSessionResult](resp, http.StatusOK)
				if err != nil {
					return err
				}
				switch {
				case res.AlreadyClosed:
					return resp.Failf("already_closed is true on the first close")
				case res.Session.Status != gen.SessionStatusCompleted:
					return resp.Failf("session.status %q, want completed", res.Session.Status)
				case res.Session.EndedAt.IsZero():
					return resp.Failf("session.ended_at is missing")
				}
				_, err = t.expectStatus(ctx, s.SessionID, gen.SessionStatusCompleted)
				return err
			}),
		def("SESS-006", Must, "closeSession",
			"closeSession is idempotent: closing again answers 200 with already_closed true and changes nothing",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var first gen.CloseSessionResult
				for i := 0; i < 3; i++ {
					resp, err := t.Do(ctx, opClose.req(s.SessionID))
					if err != nil {
						return err
					}
					res, err := expectJSON[gen.CloseSessionResult](resp, http.StatusOK)
					if err != nil {
						return err
					}
					if i == 0 {
						first = res
						continue
					}
					switch {
					case !res.AlreadyClosed:
						return resp.Failf("close #%d: already_closed is false", i+1)
					case res.Session.Status != first.Session.Status:
						return resp.Failf("close #%d changed the status to %q", i+1, res.Session.Status)
					case res.Session.EndedAt.IsZero() || first.Session.EndedAt.IsZero() || !res.Session.EndedAt.Equal(first.Session.EndedAt):
						return resp.Failf("close #%d changed ended_at", i+1)
					}
				}
				return nil
			}),
		def("SESS-007", Must, "closeSession sendTurn",
			"a turn on a closed session answers 409 session_ended",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if err := t.closeSession(ctx, s.SessionID); err != nil {
					return err
				}
				resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": "hello"}, nil)
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeSessionEnded)
			}),
		def("SESS-008", Must, "getSession closeSession",
			"a session id that does not exist answers 404 not_found on getSession and closeSession",
			func(ctx context.Context, t *tester) error {
				for _, m := range []string{http.MethodGet, http.MethodDelete} {
					resp, err := t.Do(ctx, request{Method: m, Path: path("/v1/sessions/%s", unknownSessionID)})
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusNotFound, gen.ProblemCodeNotFound); err != nil {
						return err
					}
				}
				return nil
			}),
		def("SESS-009", Must, "closeSession listTurns getTurn listEvents",
			"a closed session keeps its history: its turns and events stay readable",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				res, err := t.turn(ctx, s.SessionID, "remember me")
				if err != nil {
					return err
				}
				if err := t.closeSession(ctx, s.SessionID); err != nil {
					return err
				}
				turns, _, err := listAll[gen.Turn](ctx, t, path("/v1/sessions/%s/turns", s.SessionID), nil, 0, 5)
				if err != nil {
					return err
				}
				if len(turns) != 1 || turns[0].Prompt != "remember me" {
					return Failf("listTurns after close: %d turns, want the 1 turn sent", len(turns))
				}
				tr, err := t.getTurn(ctx, s.SessionID, res.TurnIndex)
				if err != nil {
					return err
				}
				if tr.Events == nil || len(tr.Events) != len(res.Events) {
					return Failf("getTurn after close: the turn's %d events are not all there", len(res.Events))
				}
				events, _, err := listAll[gen.Event](ctx, t, path("/v1/sessions/%s/events", s.SessionID), nil, 0, 5)
				if err != nil {
					return err
				}
				if len(events) != len(res.Events) {
					return Failf("listEvents after close: %d events, want %d", len(events), len(res.Events))
				}
				return nil
			}),
		def("SESS-010", Must, "createSession",
			"two createSession calls without an Idempotency-Key create two distinct sessions",
			func(ctx context.Context, t *tester) error {
				a, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				b, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if a.SessionID == b.SessionID {
					return Failf("both calls returned session %s", a.SessionID)
				}
				return nil
			}),
	}
}
