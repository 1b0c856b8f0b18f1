package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/agentsession/agentsession/gen"
)

// twice sends the same request twice with one Idempotency-Key and checks that
// the second answer is the first one again.
func (t *tester) twice(ctx context.Context, r request, key string) (first, second *response, err error) {
	if r.Header == nil {
		r.Header = map[string]string{}
	}
	r.Header["Idempotency-Key"] = key
	if first, err = t.Do(ctx, r); err != nil {
		return nil, nil, err
	}
	if second, err = t.Do(ctx, r); err != nil {
		return nil, nil, err
	}
	if second.Status != first.Status {
		return first, second, second.Failf("the replay answered %d, the first request %d: same key and body must return the first response", second.Status, first.Status)
	}
	if d := jsonBodyDiff(second.Body, first.Body); d != "" {
		return first, second, second.Failf("the replay's body differs from the first response: %s", d)
	}
	return first, second, nil
}

// jsonBodyDiff compares two JSON bodies semantically.
func jsonBodyDiff(got, want []byte) string {
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return "the body is not JSON"
	}
	if err := json.Unmarshal(want, &w); err != nil {
		return "the first body is not JSON"
	}
	return jsonDiff(g, w)
}

// key makes an Idempotency-Key unique to the run and check.
func (t *tester) key(name string) string { return t.plan("key", name) }

func idempotencyChecks() []*check {
	return []*check{
		def("IDEM-001", Must, "createSession listSessions",
			"createSession repeated with the same Idempotency-Key and body returns the first response again and creates no second session",
			func(ctx context.Context, t *tester) error {
				first, _, err := t.twice(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo)}, t.key("create"))
				if err != nil {
					return err
				}
				if err := first.Expect(http.StatusCreated); err != nil {
					return err
				}
				list, err := t.planSessions(ctx)
				if err != nil {
					return err
				}
				if len(list) != 1 {
					return Failf("listSessions?plan_slug=%s: %d sessions after a replayed create, want 1", t.plan(), len(list))
				}
				return nil
			}, NeedIdempotency),
		def("IDEM-002", Must, "createSession",
			"the same Idempotency-Key with a different body answers 422 idempotency_key_reused and creates nothing",
			func(ctx context.Context, t *tester) error {
				key := t.key("reuse")
				body := t.sessionBody(t.env.echo)
				resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: body, Header: map[string]string{"Idempotency-Key": key}})
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusCreated); err != nil {
					return err
				}
				body["meta"] = map[string]any{"conformance_run": t.env.prefix, "different": true}
				resp, err = t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: body, Header: map[string]string{"Idempotency-Key": key}})
				if err != nil {
					return err
				}
				if err := resp.ExpectProblem(http.StatusUnprocessableEntity, gen.ProblemCodeIdempotencyKeyReused); err != nil {
					return err
				}
				list, err := t.planSessions(ctx)
				if err != nil {
					return err
				}
				if len(list) != 1 {
					return Failf("listSessions: %d sessions, want 1", len(list))
				}
				return nil
			}, NeedIdempotency),
		def("IDEM-003", Must, "sendTurn listTurns",
			"sendTurn repeated with the same Idempotency-Key returns the first turn's result and runs no second turn",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				first, _, err := t.twice(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": "once"}}, t.key("turn"))
				if err != nil {
					return err
				}
				if err := first.Expect(http.StatusOK); err != nil {
					return err
				}
				turns, _, err := listAll[gen.Turn](ctx, t, path("/v1/sessions/%s/turns", s.SessionID), nil, 0, 5)
				if err != nil {
					return err
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if len(turns) != 1 || got.TurnCount != 1 {
					return Failf("%d turns listed, turn_count %d after a replayed sendTurn; want 1 and 1", len(turns), got.TurnCount)
				}
				return nil
			}, NeedIdempotency),
		def("IDEM-004", Must, "addLogEntry",
			"addLogEntry repeated with the same Idempotency-Key returns the same entry and adds no second one",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				first, _, err := t.twice(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/log", s.SessionID), JSON: map[string]any{"type": "info", "message": "once"}}, t.key("log"))
				if err != nil {
					return err
				}
				if err := first.Expect(http.StatusCreated); err != nil {
					return err
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.ActionCount != 1 {
					return Failf("getSession: action_count %d after a replayed addLogEntry, want 1", got.ActionCount)
				}
				return nil
			}, NeedIdempotency, NeedLifecycle),
		def("IDEM-005", Must, "endSession",
			"endSession repeated with the same Idempotency-Key returns the first 200 again, not 409 invalid_transition",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				first, _, err := t.twice(ctx, opEndCompleted.req(s.SessionID), t.key("end"))
				if err != nil {
					return err
				}
				return first.Expect(http.StatusOK)
			}, NeedIdempotency, NeedLifecycle),
		def("IDEM-006", Must, "spawnChild listChildren",
			"spawnChild repeated with the same Idempotency-Key returns the same child and spawns no second one",
			func(ctx context.Context, t *tester) error {
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				first, _, err := t.twice(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/children", parent.SessionID), JSON: t.sessionBody(t.env.echo)}, t.key("spawn"))
				if err != nil {
					return err
				}
				if err := first.Expect(http.StatusCreated); err != nil {
					return err
				}
				list, err := t.children(ctx, parent.SessionID, nil)
				if err != nil {
					return err
				}
				if len(list) != 1 {
					return Failf("listChildren: %d children after a replayed spawn, want 1", len(list))
				}
				return nil
			}, NeedIdempotency, NeedChildren),
		def("IDEM-007", Should, "createSession",
			"a replayed answer carries Idempotent-Replayed: true; the first answer does not",
			func(ctx context.Context, t *tester) error {
				first, second, err := t.twice(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo)}, t.key("header"))
				if err != nil {
					return err
				}
				if v := first.Header.Get("Idempotent-Replayed"); strings.EqualFold(v, "true") {
					return first.Failf("the first answer says Idempotent-Replayed: %s", v)
				}
				if v := second.Header.Get("Idempotent-Replayed"); !strings.EqualFold(v, "true") {
					return second.Failf("Idempotent-Replayed is %q on the replay, want true", v)
				}
				return nil
			}, NeedIdempotency),
		def("IDEM-008", Should, "createSession addLogEntry",
			"keys are scoped per operation: a key used on createSession is independent on addLogEntry",
			func(ctx context.Context, t *tester) error {
				key := t.key("scope")
				resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo), Header: map[string]string{"Idempotency-Key": key}})
				if err != nil {
					return err
				}
				s, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				resp, err = t.Do(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/log", s.SessionID), JSON: map[string]any{"type": "info", "message": "scoped"}, Header: map[string]string{"Idempotency-Key": key}})
				if err != nil {
					return err
				}
				return resp.Expect(http.StatusCreated)
			}, NeedIdempotency, NeedLifecycle),
		def("IDEM-009", Must, "uploadFile",
			"uploadFile repeated with the same Idempotency-Key returns the same file_token",
			func(ctx context.Context, t *tester) error {
				first, _, err := t.twice(ctx, request{Method: http.MethodPost, Path: "/v1/files", File: testFile("same.txt")}, t.key("upload"))
				if err != nil {
					return err
				}
				return first.Expect(http.StatusCreated)
			}, NeedIdempotency, NeedFiles),
		def("IDEM-010", Must, "continueSession",
			"continueSession repeated with the same Idempotency-Key returns the same new session",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				first, _, err := t.twice(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/continue", s.SessionID), JSON: map[string]any{"agent": t.env.echo, "meta": t.meta()}}, t.key("continue"))
				if err != nil {
					return err
				}
				if err := first.Expect(http.StatusCreated); err != nil {
					return err
				}
				list, err := t.planSessions(ctx)
				if err != nil {
					return err
				}
				if len(list) != 2 {
					return Failf("listSessions: %d sessions with the plan after a replayed continue, want 2 (the original and one continuation)", len(list))
				}
				return nil
			}, NeedIdempotency, NeedLifecycle),
		def("IDEM-013", Must, "addLogEntry",
			"the same Idempotency-Key and body on another session's addLogEntry is a different request: 422 idempotency_key_reused, never the first session's entry",
			func(ctx context.Context, t *tester) error {
				a, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				b, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				key := t.key("path")
				body := map[string]any{"type": "info", "message": "same body"}
				resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/log", a.SessionID), JSON: body, Header: map[string]string{"Idempotency-Key": key}})
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusCreated); err != nil {
					return err
				}
				resp, err = t.Do(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/log", b.SessionID), JSON: body, Header: map[string]string{"Idempotency-Key": key}})
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusUnprocessableEntity, gen.ProblemCodeIdempotencyKeyReused)
			}, NeedIdempotency, NeedLifecycle),
		def("IDEM-011", May, "createSession",
			"a body that differs only in member order and white space counts as the same request for its Idempotency-Key",
			func(ctx context.Context, t *tester) error {
				key := t.key("canonical")
				plan := t.plan()
				first := fmt.Sprintf(`{"agent":%q,"plan_slug":%q,"meta":{"a":1,"b":[1,2]}}`, t.env.echo, plan)
				second := fmt.Sprintf("{ \"meta\": { \"b\": [1, 2], \"a\": 1 },\n  \"plan_slug\": %q, \"agent\": %q }", plan, t.env.echo)
				var ids []string
				for _, body := range []string{first, second} {
					resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", Body: []byte(body), ContentType: "application/json", Header: map[string]string{"Idempotency-Key": key}})
					if err != nil {
						return err
					}
					s, err := expectJSON[gen.Session](resp, http.StatusCreated)
					if err != nil {
						return err
					}
					ids = append(ids, s.SessionID)
				}
				if ids[0] != ids[1] {
					return Failf("the reordered body created session %s besides %s", ids[1], ids[0])
				}
				return nil
			}, NeedIdempotency),
		def("IDEM-012", Must, "sendTurn",
			"sendTurn repeated with the same Idempotency-Key while the first turn still runs waits for it and answers with its result; no second turn starts",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				body := map[string]any{"prompt": script("", step{0, "text", "first "}, step{300, "text", "and only"})}
				header := map[string]string{"Idempotency-Key": t.key("running")}
				first := t.turnAsyncWith(ctx, s.SessionID, body, header)
				if _, err := t.waitTurn(ctx, s.SessionID, 1, true); err != nil {
					return err
				}
				again := t.turnAsyncWith(ctx, s.SessionID, body, header)
				r1, err := await(ctx, first)
				if err != nil {
					return err
				}
				r2, err := await(ctx, again)
				if err != nil {
					return err
				}
				if d := jsonDiff(r2, r1); d != "" {
					return Failf("the retried sendTurn answered another result: %s", d)
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.TurnCount != 1 {
					return Failf("getSession: turn_count %d, want 1", got.TurnCount)
				}
				return nil
			}, NeedIdempotency, NeedScripted),
	}
}
