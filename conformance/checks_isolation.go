package conformance

import (
	"context"
	"net/http"
	"net/url"

	"github.com/agentsession/agentsession/gen"
)

// foreignSession creates a session of the first tenant with one turn; the
// isolation checks then touch it as the second tenant.
func (t *tester) foreignSession(ctx context.Context) (gen.Session, error) {
	s, err := t.echoSession(ctx)
	if err != nil {
		return s, err
	}
	if _, err := t.turn(ctx, s.SessionID, "private"); err != nil {
		return s, err
	}
	return t.session(ctx, s.SessionID)
}

// as2 sends each request as the second tenant and expects 404 not_found.
func as2(ctx context.Context, t *tester, reqs []request) error {
	for _, r := range reqs {
		r.As = asSecond
		resp, err := t.Do(ctx, r)
		if err != nil {
			return err
		}
		if err := resp.ExpectProblem(http.StatusNotFound, gen.ProblemCodeNotFound); err != nil {
			return err
		}
	}
	return nil
}

// unchanged fails unless the first tenant's session still looks like before.
func (t *tester) unchanged(ctx context.Context, before gen.Session) error {
	after, err := t.session(ctx, before.SessionID)
	if err != nil {
		return err
	}
	type view struct {
		Status                    gen.SessionStatus
		Turns, Actions, Artifacts int32
		LastSeq                   int64
		Context                   map[string]any
		Handoff                   bool
	}
	v := func(s gen.Session) view {
		return view{s.Status, s.TurnCount, s.ActionCount, s.ArtifactCount, s.LastEventSeq, s.ContextSummary, !s.Handoff.CreatedAt.IsZero()}
	}
	if d := jsonDiff(v(after), v(before)); d != "" {
		return Failf("the other tenant's requests changed the session: %s", d)
	}
	return nil
}

func isolationChecks() []*check {
	return []*check{
		def("ISO-001", Must, "getSession",
			"another tenant's session answers 404 not_found on getSession, exactly like a session that does not exist",
			func(ctx context.Context, t *tester) error {
				s, err := t.foreignSession(ctx)
				if err != nil {
					return err
				}
				return as2(ctx, t, []request{{Method: http.MethodGet, Path: path("/v1/sessions/%s", s.SessionID)}})
			}, NeedSecondToken).traces("REQ-TEN-001"),
		def("ISO-002", Must, "sendTurn listTurns getTurn streamTurn listEvents cancelTurn",
			"another tenant's session answers 404 on every turn operation and gains no turn",
			func(ctx context.Context, t *tester) error {
				s, err := t.foreignSession(ctx)
				if err != nil {
					return err
				}
				id := s.SessionID
				reqs := []request{
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", id), JSON: map[string]any{"prompt": "intrude"}},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/turns", id)},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/turns/1", id)},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/events", id)},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/cancel", id)},
				}
				if t.env.has(NeedResume) {
					reqs = append(reqs, request{Method: http.MethodGet, Path: path("/v1/sessions/%s/turns/1/stream", id), Stream: true})
				}
				if err := as2(ctx, t, reqs); err != nil {
					return err
				}
				return t.unchanged(ctx, s)
			}, NeedSecondToken).traces("REQ-TEN-001"),
		def("ISO-003", Must, "closeSession",
			"another tenant's closeSession answers 404 and the session stays active",
			func(ctx context.Context, t *tester) error {
				s, err := t.foreignSession(ctx)
				if err != nil {
					return err
				}
				if err := as2(ctx, t, []request{{Method: http.MethodDelete, Path: path("/v1/sessions/%s", s.SessionID)}}); err != nil {
					return err
				}
				return t.unchanged(ctx, s)
			}, NeedSecondToken).traces("REQ-TEN-001"),
		def("ISO-004", Must, "pauseSession resumeSession endSession continueSession handoffSession getHandoffContext addLogEntry listLogEntries addArtifact listArtifacts updateContext getReplayContext replaySession",
			"another tenant's session answers 404 on every lifecycle operation and is not changed",
			func(ctx context.Context, t *tester) error {
				s, err := t.foreignSession(ctx)
				if err != nil {
					return err
				}
				id := s.SessionID
				reqs := []request{
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/pause", id)},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/resume", id)},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/end", id), JSON: map[string]any{"status": "failed"}},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/continue", id), JSON: map[string]any{"agent": t.env.echo}},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/handoff", id), JSON: handoffBody("intrude")},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/handoff", id)},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/log", id), JSON: map[string]any{"type": "info", "message": "intrude"}},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/log", id)},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/artifacts", id), JSON: map[string]any{"path": "x", "action": "created"}},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/artifacts", id)},
					{Method: http.MethodPatch, Path: path("/v1/sessions/%s/context", id), JSON: map[string]any{"intruder": true}},
				}
				if t.env.has(NeedReplay) {
					reqs = append(reqs,
						request{Method: http.MethodGet, Path: path("/v1/sessions/%s/replay", id)},
						request{Method: http.MethodPost, Path: path("/v1/sessions/%s/replay", id), JSON: map[string]any{}})
				}
				if err := as2(ctx, t, reqs); err != nil {
					return err
				}
				return t.unchanged(ctx, s)
			}, NeedSecondToken, NeedLifecycle).traces("REQ-TEN-001"),
		def("ISO-005", Must, "spawnChild listChildren",
			"another tenant's session answers 404 on spawnChild and listChildren and gains no child",
			func(ctx context.Context, t *tester) error {
				s, err := t.foreignSession(ctx)
				if err != nil {
					return err
				}
				if err := as2(ctx, t, []request{
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/children", s.SessionID), JSON: map[string]any{"agent": t.env.echo}},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/children", s.SessionID)},
				}); err != nil {
					return err
				}
				kids, err := t.children(ctx, s.SessionID, nil)
				if err != nil {
					return err
				}
				if len(kids) != 0 {
					return Failf("the session has %d children after the other tenant's spawn", len(kids))
				}
				return nil
			}, NeedSecondToken, NeedChildren).traces("REQ-TEN-001"),
		def("ISO-006", Must, "getFile sendTurn",
			"another tenant's file answers 404 on getFile, and its token in a turn answers 422 unknown_file",
			func(ctx context.Context, t *tester) error {
				f, _, err := t.upload(ctx, testFile("private.txt"), asPrimary)
				if err != nil {
					return err
				}
				if err := as2(ctx, t, []request{{Method: http.MethodGet, Path: path("/v1/files/%s", f.FileToken)}}); err != nil {
					return err
				}
				mine, err := t.create(ctx, t.sessionBody(t.env.echo), asSecond)
				if err != nil {
					return err
				}
				resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", mine.SessionID), As: asSecond,
					JSON: map[string]any{"prompt": "read it", "files": []string{f.FileToken}}})
				if err != nil {
					return err
				}
				return resp.ExpectProblem(http.StatusUnprocessableEntity, gen.ProblemCodeUnknownFile)
			}, NeedSecondToken, NeedFiles).traces("REQ-TEN-001", "REQ-FILE-004"),
		def("ISO-007", Must, "listSessions",
			"another tenant's sessions never appear in listSessions, filtered or not",
			func(ctx context.Context, t *tester) error {
				s, err := t.foreignSession(ctx)
				if err != nil {
					return err
				}
				for _, q := range []url.Values{
					{"plan_slug": {t.plan()}},
					{"plan_slug": {t.plan()}, "agent": {t.env.echo}, "status": {"active"}},
					{"limit": {"100"}},
				} {
					// At most 50 pages of 100: enough for a test tenant.
					cursor := ""
					for pages := 0; ; pages++ {
						if pages == 50 {
							t.Logf("listSessions?%s: stopped after 50 pages", q.Encode())
							break
						}
						qq := cloneValues(q)
						if cursor != "" {
							qq.Set("cursor", cursor)
						}
						resp, err := t.Do(ctx, request{Method: http.MethodGet, Path: "/v1/sessions", Query: qq, As: asSecond})
						if err != nil {
							return err
						}
						pg, err := expectJSON[page[gen.Session]](resp, http.StatusOK)
						if err != nil {
							return err
						}
						for _, it := range pg.Items {
							if it.SessionID == s.SessionID || it.PlanSlug == t.plan() {
								return resp.Failf("the other tenant's session %s is listed", it.SessionID)
							}
						}
						if pg.NextCursor == nil || *pg.NextCursor == "" {
							break
						}
						cursor = *pg.NextCursor
					}
				}
				return nil
			}, NeedSecondToken).traces("REQ-TEN-002"),
		def("ISO-008", Must, "createSession",
			"Idempotency-Keys are per tenant: the other tenant's request with the same key and body creates its own session",
			func(ctx context.Context, t *tester) error {
				key := t.key("shared")
				body := t.sessionBody(t.env.echo)
				resp, err := t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: body, Header: map[string]string{"Idempotency-Key": key}})
				if err != nil {
					return err
				}
				a, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				resp, err = t.Do(ctx, request{Method: http.MethodPost, Path: "/v1/sessions", JSON: body, Header: map[string]string{"Idempotency-Key": key}, As: asSecond})
				if err != nil {
					return err
				}
				b, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				if a.SessionID == b.SessionID {
					return resp.Failf("the second tenant got the first tenant's session %s back", a.SessionID)
				}
				resp, err = t.Do(ctx, request{Method: http.MethodGet, Path: path("/v1/sessions/%s", b.SessionID), As: asSecond})
				if err != nil {
					return err
				}
				return resp.Expect(http.StatusOK)
			}, NeedSecondToken, NeedIdempotency).traces("REQ-IDEM-005"),
	}
}
