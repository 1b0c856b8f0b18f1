package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

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
			}, NeedIdempotency).traces("REQ-IDEM-001"),
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
			}, NeedIdempotency).traces("REQ-IDEM-004"),
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
			}, NeedIdempotency).traces("REQ-IDEM-001"),
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
			}, NeedIdempotency, NeedLifecycle).traces("REQ-IDEM-001"),
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
			}, NeedIdempotency, NeedLifecycle).traces("REQ-IDEM-001"),
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
			}, NeedIdempotency, NeedChildren).traces("REQ-IDEM-001"),
		def("IDEM-007", Must, "createSession",
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
			}, NeedIdempotency).traces("REQ-IDEM-003"),
		def("IDEM-008", Must, "createSession addLogEntry",
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
				e, err := expectJSON[gen.LogEntry](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				if e.Message != "scoped" || e.SessionID != s.SessionID {
					return resp.Failf("addLogEntry answered %s, not the new entry: the key was taken for createSession's", excerpt(resp.Body, 200))
				}
				return nil
			}, NeedIdempotency, NeedLifecycle).traces("REQ-IDEM-005"),
		def("IDEM-009", Must, "uploadFile",
			"uploadFile repeated with the same Idempotency-Key returns the same file_token",
			func(ctx context.Context, t *tester) error {
				first, _, err := t.twice(ctx, request{Method: http.MethodPost, Path: "/v1/files", File: testFile("same.txt")}, t.key("upload"))
				if err != nil {
					return err
				}
				return first.Expect(http.StatusCreated)
			}, NeedIdempotency, NeedFiles).traces("REQ-IDEM-001"),
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
			}, NeedIdempotency, NeedLifecycle).traces("REQ-IDEM-001"),
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
			}, NeedIdempotency, NeedLifecycle).traces("REQ-IDEM-004"),
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
			}, NeedIdempotency).traces("REQ-IDEM-008"),
		def("IDEM-012", Must, "sendTurn",
			"sendTurn repeated with the same Idempotency-Key while the first turn still runs waits for it and answers with its result; no second turn starts",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				body := map[string]any{"prompt": script("", step{0, "text", "first "}, step{1500, "text", "and only"})}
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
			}, NeedIdempotency, NeedScripted).traces("REQ-TURN-006", "REQ-IDEM-006"),
		def("IDEM-014", Must, "createSession sendTurn pauseSession updateContext",
			"a request repeated with its Idempotency-Key after the resource changed still answers the first response, not the resource as it is now",
			func(ctx context.Context, t *tester) error {
				create := request{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo), Header: map[string]string{"Idempotency-Key": t.key("create")}}
				first, err := t.Do(ctx, create)
				if err != nil {
					return err
				}
				s, err := expectJSON[gen.Session](first, http.StatusCreated)
				if err != nil {
					return err
				}
				turn := request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": "first"}, Header: map[string]string{"Idempotency-Key": t.key("turn")}}
				firstTurn, err := t.Do(ctx, turn)
				if err != nil {
					return err
				}
				if err := firstTurn.Expect(http.StatusOK); err != nil {
					return err
				}
				if _, err := t.turn(ctx, s.SessionID, "a later turn changes the session"); err != nil {
					return err
				}
				steps := []replayStep{{"createSession", first, create}, {"sendTurn", firstTurn, turn}}
				if t.env.has(NeedLifecycle) {
					pause := opPause.req(s.SessionID)
					pause.Header = map[string]string{"Idempotency-Key": t.key("pause")}
					firstPause, err := t.Do(ctx, pause)
					if err != nil {
						return err
					}
					if err := firstPause.Expect(http.StatusOK); err != nil {
						return err
					}
					if resp, err := t.Do(ctx, opResume.req(s.SessionID)); err != nil {
						return err
					} else if err := resp.Expect(http.StatusOK); err != nil {
						return err
					}
					patch := request{Method: http.MethodPatch, Path: path("/v1/sessions/%s/context", s.SessionID), JSON: map[string]any{"v": 1}, Header: map[string]string{"Idempotency-Key": t.key("context")}}
					firstPatch, err := t.Do(ctx, patch)
					if err != nil {
						return err
					}
					if err := firstPatch.Expect(http.StatusOK); err != nil {
						return err
					}
					if resp, err := t.Do(ctx, request{Method: http.MethodPatch, Path: patch.Path, JSON: map[string]any{"v": 2}}); err != nil {
						return err
					} else if err := resp.Expect(http.StatusOK); err != nil {
						return err
					}
					steps = append(steps,
						replayStep{"pauseSession (the session was resumed since)", firstPause, pause},
						replayStep{"updateContext (the context was patched since)", firstPatch, patch})
				}
				for _, st := range steps {
					again, err := t.Do(ctx, st.req)
					if err != nil {
						return err
					}
					if again.Status != st.first.Status {
						return again.Failf("%s repeated: status %d, the first answer was %d", st.what, again.Status, st.first.Status)
					}
					if d := jsonBodyDiff(again.Body, st.first.Body); d != "" {
						return again.Failf("%s repeated: the answer is not the first one: %s", st.what, d)
					}
				}
				return nil
			}, NeedIdempotency).traces("REQ-IDEM-002"),
		def("IDEM-015", Must, "createSession",
			"concurrent requests with one Idempotency-Key do the work once: each answers the first response or 409 idempotency_in_progress with Retry-After",
			func(ctx context.Context, t *tester) error {
				r := request{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo), Header: map[string]string{"Idempotency-Key": t.key("concurrent")}}
				const n = 6
				answers := make([]*response, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range answers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						answers[i], errs[i] = t.Do(ctx, r)
					}()
				}
				wg.Wait()
				var created *response
				for i, a := range answers {
					if errs[i] != nil {
						return errs[i]
					}
					switch a.Status {
					case http.StatusCreated:
						if created == nil {
							created = a
						} else if d := jsonBodyDiff(a.Body, created.Body); d != "" {
							return a.Failf("two concurrent requests with one key answered different sessions: %s", d)
						}
					case http.StatusConflict:
						if err := a.ExpectProblem(http.StatusConflict, gen.ProblemCodeIdempotencyInProgress); err != nil {
							return err
						}
						if err := expectRetryAfter(a); err != nil {
							return err
						}
					default:
						return a.Failf("status %d, want 201 (the first response) or 409 idempotency_in_progress", a.Status)
					}
				}
				list, err := t.planSessions(ctx)
				if err != nil {
					return err
				}
				if len(list) != 1 {
					return Failf("listSessions?plan_slug=%s: %d sessions after %d concurrent requests with one key, want 1", t.plan(), len(list), n)
				}
				return nil
			}, NeedIdempotency).traces("REQ-IDEM-006"),
		def("IDEM-016", Must, "cancelTurn pauseSession resumeSession handoffSession addArtifact updateContext replaySession",
			"every other state-changing operation repeated with the same Idempotency-Key answers the first response with Idempotent-Replayed: true and does the work once",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				id := s.SessionID
				ops := []namedRequest{{"cancelTurn", request{Method: http.MethodPost, Path: path("/v1/sessions/%s/cancel", id)}}}
				if t.env.has(NeedLifecycle) {
					ops = append(ops,
						namedRequest{"pauseSession", opPause.req(id)},
						namedRequest{"resumeSession", opResume.req(id)},
						namedRequest{"addArtifact", request{Method: http.MethodPost, Path: path("/v1/sessions/%s/artifacts", id), JSON: map[string]any{"path": "once.txt", "action": "created"}}},
						namedRequest{"updateContext", request{Method: http.MethodPatch, Path: path("/v1/sessions/%s/context", id), JSON: map[string]any{"once": true}}},
						namedRequest{"handoffSession", request{Method: http.MethodPost, Path: path("/v1/sessions/%s/handoff", id), JSON: handoffBody("once")}})
					if t.env.has(NeedReplay) {
						ops = append(ops, namedRequest{"replaySession", request{Method: http.MethodPost, Path: path("/v1/sessions/%s/replay", id), JSON: map[string]any{"meta": t.meta()}}})
					}
				}
				for _, op := range ops {
					first, second, err := t.twice(ctx, op.req, t.key(op.what))
					if err != nil {
						return err
					}
					if err := first.Expect(http.StatusOK, http.StatusCreated); err != nil {
						return err
					}
					if v := first.Header.Get("Idempotent-Replayed"); strings.EqualFold(v, "true") {
						return first.Failf("%s: the first answer says Idempotent-Replayed: %s", op.what, v)
					}
					if v := second.Header.Get("Idempotent-Replayed"); !strings.EqualFold(v, "true") {
						return second.Failf("%s: Idempotent-Replayed is %q on the replay, want true", op.what, v)
					}
				}
				if !t.env.has(NeedLifecycle) {
					return nil
				}
				got, err := t.session(ctx, id)
				if err != nil {
					return err
				}
				if got.ArtifactCount != 1 {
					return Failf("getSession: artifact_count %d after a replayed addArtifact, want 1", got.ArtifactCount)
				}
				if t.env.has(NeedReplay) {
					list, err := t.planSessions(ctx)
					if err != nil {
						return err
					}
					if len(list) != 2 {
						return Failf("listSessions?plan_slug=%s: %d sessions after a replayed replaySession, want 2", t.plan(), len(list))
					}
				}
				return nil
			}, NeedIdempotency).traces("REQ-IDEM-001", "REQ-IDEM-003"),
		def("IDEM-017", Must, "createSession",
			"an Idempotency-Key survives a restart: createSession repeated after the server restarted answers the first response and creates no second session",
			func(ctx context.Context, t *tester) error {
				r := request{Method: http.MethodPost, Path: "/v1/sessions", JSON: t.sessionBody(t.env.echo), Header: map[string]string{"Idempotency-Key": t.key("durable")}}
				first, err := t.Do(ctx, r)
				if err != nil {
					return err
				}
				if err := first.Expect(http.StatusCreated); err != nil {
					return err
				}
				if err := t.restart(ctx); err != nil {
					return err
				}
				again, err := t.Do(ctx, r)
				if err != nil {
					return err
				}
				if again.Status != first.Status {
					return again.Failf("after the restart the repeated request answered %d, the first one %d", again.Status, first.Status)
				}
				if d := jsonBodyDiff(again.Body, first.Body); d != "" {
					return again.Failf("after the restart the repeated request answered another body: %s", d)
				}
				list, err := t.planSessions(ctx)
				if err != nil {
					return err
				}
				if len(list) != 1 {
					return Failf("listSessions?plan_slug=%s: %d sessions, want 1", t.plan(), len(list))
				}
				return nil
			}, NeedIdempotency, NeedRestart).traces("REQ-IDEM-007"),
	}
}

// replayStep is a request sent with a key and its first answer.
type replayStep struct {
	what  string
	first *response
	req   request
}

// expectRetryAfter fails unless the answer has a Retry-After of whole seconds.
func expectRetryAfter(resp *response) error {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if n, err := strconv.Atoi(v); err != nil || n < 0 {
		return resp.Failf("status %d with Retry-After %q, want a number of seconds", resp.Status, v)
	}
	return nil
}
