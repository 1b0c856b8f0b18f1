package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

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
			}).traces("REQ-SESS-001", "REQ-SESS-024"),
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
			}).traces("REQ-SESS-005"),
		def("SESS-003", Must, "createSession",
			"createSession with an agent the server does not have answers 422 unknown_agent",
			func(ctx context.Context, t *tester) error {
				resp, err := t.post(ctx, "/v1/sessions", t.sessionBody("conformance-no-such-agent"))
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusUnprocessableEntity, gen.ProblemCodeUnknownAgent)
			}).traces("REQ-SESS-002"),
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
			}).traces("REQ-SESS-004"),
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
			}).traces("REQ-SESS-006"),
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
			}).traces("REQ-SESS-008"),
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
			}).traces("REQ-TURN-005"),
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
			}).traces("REQ-ERR-011"),
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
			}).traces("REQ-SESS-009"),
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
			}).traces("REQ-SESS-003", "REQ-SESS-011"),
		def("SESS-011", Must, "createSession getSession sendTurn",
			"updated_at equals created_at on a new session, stays the same on reads and moves forward with every change (a turn, and with lifecycle a pause, resume, work-log entry, artifact, context update and handoff)",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if !s.UpdatedAt.Equal(s.CreatedAt) {
					return Failf("createSession: updated_at %s differs from created_at %s on a new session", s.UpdatedAt.Format(time.RFC3339Nano), s.CreatedAt.Format(time.RFC3339Nano))
				}
				for i := 0; i < 2; i++ {
					got, err := t.session(ctx, s.SessionID)
					if err != nil {
						return err
					}
					if !got.UpdatedAt.Equal(s.UpdatedAt) {
						return Failf("getSession #%d: a read moved updated_at from %s to %s", i+1, s.UpdatedAt.Format(time.RFC3339Nano), got.UpdatedAt.Format(time.RFC3339Nano))
					}
				}
				id := s.SessionID
				changes := []namedRequest{
					{"sendTurn", request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", id), JSON: map[string]any{"prompt": "change"}}},
				}
				if t.env.has(NeedLifecycle) {
					changes = append(changes,
						namedRequest{"pauseSession", opPause.req(id)},
						namedRequest{"resumeSession", opResume.req(id)},
						namedRequest{"addLogEntry", request{Method: http.MethodPost, Path: path("/v1/sessions/%s/log", id), JSON: map[string]any{"type": "info", "message": "change"}}},
						namedRequest{"addArtifact", request{Method: http.MethodPost, Path: path("/v1/sessions/%s/artifacts", id), JSON: map[string]any{"path": "changed.txt", "action": "created"}}},
						namedRequest{"updateContext", request{Method: http.MethodPatch, Path: path("/v1/sessions/%s/context", id), JSON: map[string]any{"changed": true}}},
						namedRequest{"handoffSession", request{Method: http.MethodPost, Path: path("/v1/sessions/%s/handoff", id), JSON: handoffBody("change")}})
				}
				prev := s.UpdatedAt
				for _, c := range changes {
					// Keep the change apart from the clock reading on a
					// server with fine timestamps.
					if err := sleep(ctx, 3*time.Millisecond); err != nil {
						return err
					}
					before, err := t.serverNow(ctx)
					if err != nil {
						return err
					}
					resp, err := t.Do(ctx, c.req)
					if err != nil {
						return err
					}
					if err := resp.Expect(http.StatusOK, http.StatusCreated); err != nil {
						return err
					}
					got, err := t.session(ctx, id)
					if err != nil {
						return err
					}
					if err := notBefore("updated_at after "+c.what, got.UpdatedAt, "the server's time before it", before); err != nil {
						return err
					}
					if err := notBefore("updated_at after "+c.what, got.UpdatedAt, "updated_at before it", prev); err != nil {
						return err
					}
					prev = got.UpdatedAt
				}
				return nil
			}).traces("REQ-SESS-020"),
		def("SESS-012", Must, "getHealth createSession",
			"a session's created_at is on the server's clock: between getHealth's time just before and just after createSession",
			func(ctx context.Context, t *tester) error {
				before, err := t.serverNow(ctx)
				if err != nil {
					return err
				}
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				after, err := t.serverNow(ctx)
				if err != nil {
					return err
				}
				if after.Before(before) {
					return Failf("getHealth: time went back from %s to %s", before.Format(time.RFC3339Nano), after.Format(time.RFC3339Nano))
				}
				return expectBetween("createSession: created_at", s.CreatedAt, before, after)
			}).traces("REQ-SESS-019", "REQ-SVC-002"),
		def("SESS-013", Must, "createSession getSession sendTurn",
			"a session without meta or context has meta {} and context_summary {}; meta and context_summary stay as created through turns (and pause and resume)",
			func(ctx context.Context, t *tester) error {
				bare, err := t.create(ctx, map[string]any{"agent": t.env.echo, "plan_slug": t.plan()}, asPrimary)
				if err != nil {
					return err
				}
				if d := jsonDiff(bare.Meta, map[string]any{}); d != "" || bare.Meta == nil {
					return Failf("createSession without meta: meta %s", d)
				}
				if d := jsonDiff(bare.ContextSummary, map[string]any{}); d != "" || bare.ContextSummary == nil {
					return Failf("createSession without context: context_summary %s", d)
				}
				body := t.sessionBody(t.env.echo)
				body["context"] = map[string]any{"kept": "as given"}
				s, err := t.create(ctx, body, asPrimary)
				if err != nil {
					return err
				}
				if _, err := t.turn(ctx, s.SessionID, "does not touch meta"); err != nil {
					return err
				}
				if t.env.has(NeedLifecycle) {
					if err := t.toStatus(ctx, s.SessionID, gen.SessionStatusPaused); err != nil {
						return err
					}
					if resp, err := t.Do(ctx, opResume.req(s.SessionID)); err != nil {
						return err
					} else if err := resp.Expect(http.StatusOK); err != nil {
						return err
					}
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if d := jsonDiff(got.Meta, body["meta"]); d != "" {
					return Failf("getSession after a turn: meta %s", d)
				}
				if d := jsonDiff(got.ContextSummary, body["context"]); d != "" {
					return Failf("getSession after a turn: context_summary %s (only updateContext changes it)", d)
				}
				return nil
			}).traces("REQ-SESS-012", "REQ-SESS-014"),
		def("SESS-014", Must, "createSession getSession closeSession",
			"members without a value are absent (plan_slug, continued_from, parent_session_id, handoff, final_summary, last_turn_at, ended_at on a new session); last_turn_at appears with the first turn and ended_at exactly when the session ends",
			func(ctx context.Context, t *tester) error {
				s, err := t.create(ctx, map[string]any{"agent": t.env.echo, "meta": t.meta()}, asPrimary)
				if err != nil {
					return err
				}
				m, resp, err := t.rawSession(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if err := expectAbsent(resp, m, "a new session without a plan", "plan_slug", "continued_from", "parent_session_id", "handoff", "final_summary", "last_turn_at", "ended_at"); err != nil {
					return err
				}
				if _, err := t.turn(ctx, s.SessionID, "first"); err != nil {
					return err
				}
				m, resp, err = t.rawSession(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if _, ok := m["last_turn_at"]; !ok {
					return resp.Failf("no last_turn_at after the first turn")
				}
				if err := expectAbsent(resp, m, "an active session", "ended_at", "final_summary"); err != nil {
					return err
				}
				if t.env.has(NeedLifecycle) {
					if err := t.toStatus(ctx, s.SessionID, gen.SessionStatusPaused); err != nil {
						return err
					}
					m, resp, err = t.rawSession(ctx, s.SessionID)
					if err != nil {
						return err
					}
					if err := expectAbsent(resp, m, "a paused session", "ended_at"); err != nil {
						return err
					}
				}
				if err := t.closeSession(ctx, s.SessionID); err != nil {
					return err
				}
				m, resp, err = t.rawSession(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if _, ok := m["ended_at"]; !ok {
					return resp.Failf("a closed (completed) session has no ended_at")
				}
				return expectAbsent(resp, m, "a session closed without a summary", "final_summary")
			}).traces("REQ-SESS-010", "REQ-SESS-022"),
	}
}

// namedRequest is a request and what to call it in a message.
type namedRequest struct {
	what string
	req  request
}

// expectAbsent fails when the object has any of the members: a member
// without a value is left out, never null or "".
func expectAbsent(resp *response, m map[string]any, what string, members ...string) error {
	for _, k := range members {
		if v, ok := m[k]; ok {
			return resp.Failf("%s has %s %s: a member without a value is absent", what, k, excerpt(mustJSON(v), 80))
		}
	}
	return nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
