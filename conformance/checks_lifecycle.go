package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// lifecycleOp is one status-changing operation of the transition matrix.
type lifecycleOp struct {
	name string // as the rule names it
	op   string // operationId
	req  func(id string) request
}

var (
	opPause = lifecycleOp{"pauseSession", "pauseSession", func(id string) request {
		return request{Method: http.MethodPost, Path: path("/v1/sessions/%s/pause", id)}
	}}
	opResume = lifecycleOp{"resumeSession", "resumeSession", func(id string) request {
		return request{Method: http.MethodPost, Path: path("/v1/sessions/%s/resume", id)}
	}}
	opEndCompleted = lifecycleOp{"endSession(completed)", "endSession", func(id string) request {
		return request{Method: http.MethodPost, Path: path("/v1/sessions/%s/end", id), JSON: map[string]any{"status": "completed", "summary": "done"}}
	}}
	opEndFailed = lifecycleOp{"endSession(failed)", "endSession", func(id string) request {
		return request{Method: http.MethodPost, Path: path("/v1/sessions/%s/end", id), JSON: map[string]any{"status": "failed", "summary": "gave up"}}
	}}
	opHandoff = lifecycleOp{"handoffSession", "handoffSession", func(id string) request {
		return request{Method: http.MethodPost, Path: path("/v1/sessions/%s/handoff", id), JSON: handoffBody("notes")}
	}}
	opClose = lifecycleOp{"closeSession", "closeSession", func(id string) request {
		return request{Method: http.MethodDelete, Path: path("/v1/sessions/%s", id)}
	}}
)

func handoffBody(summary string) map[string]any {
	return map[string]any{
		"summary":          summary,
		"next_steps":       []string{"step one", "step two"},
		"blockers":         []string{"a blocker"},
		"context_for_next": map[string]any{"branch": "feature/" + summary},
	}
}

// transitionCheck builds one cell of the transition matrix: from a session
// in status from, op either moves it to `to` (allowed) or answers 409
// invalid_transition and leaves it in from (to == "").
func transitionCheck(id string, from gen.SessionStatus, op lifecycleOp, to gen.SessionStatus) *check {
	rule := fmt.Sprintf("%s on a %s session answers 200 and the session becomes %s", op.name, from, to)
	if to == "" {
		rule = fmt.Sprintf("%s on a %s session answers 409 invalid_transition and changes nothing", op.name, from)
	}
	needs := []Need{NeedLifecycle}
	if from == gen.SessionStatusActive && op.op == "closeSession" {
		needs = nil // closeSession is core
	}
	req := "REQ-LIFE-001"
	switch {
	case op.op == "closeSession":
		req = "REQ-SESS-006"
	case to == "":
		req = "REQ-LIFE-002"
	}
	return def(id, Must, op.op, rule, func(ctx context.Context, t *tester) error {
		s, err := t.echoSession(ctx)
		if err != nil {
			return err
		}
		if err := t.toStatus(ctx, s.SessionID, from); err != nil {
			return err
		}
		resp, err := t.Do(ctx, op.req(s.SessionID))
		if err != nil {
			return err
		}
		if to == "" {
			if err := resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeInvalidTransition); err != nil {
				return err
			}
			_, err := t.expectStatus(ctx, s.SessionID, from)
			return err
		}
		if err := resp.Expect(http.StatusOK); err != nil {
			return err
		}
		var got gen.Session
		if op.op == "closeSession" {
			var res gen.CloseSessionResult
			if err := resp.Decode(&res); err != nil {
				return err
			}
			got = res.Session
		} else if err := resp.Decode(&got); err != nil {
			return err
		}
		if got.Status != to {
			return resp.Failf("status %q in the answer, want %q", got.Status, to)
		}
		_, err = t.expectStatus(ctx, s.SessionID, to)
		return err
	}, needs...).traces(req)
}

// logEntry adds a work-log entry and expects 201.
func (t *tester) logEntry(ctx context.Context, id, typ, msg string) (gen.LogEntry, error) {
	resp, err := t.post(ctx, path("/v1/sessions/%s/log", id), map[string]any{"type": typ, "message": msg, "data": map[string]any{"msg": msg}})
	if err != nil {
		return gen.LogEntry{}, err
	}
	return expectJSON[gen.LogEntry](resp, http.StatusCreated)
}

// artifact records an artifact and expects 201.
func (t *tester) artifact(ctx context.Context, id, p, action string) (gen.Artifact, error) {
	resp, err := t.post(ctx, path("/v1/sessions/%s/artifacts", id), map[string]any{"path": p, "action": action, "metadata": map[string]any{"path": p}})
	if err != nil {
		return gen.Artifact{}, err
	}
	return expectJSON[gen.Artifact](resp, http.StatusCreated)
}

func messages(entries []gen.LogEntry) []string {
	out := []string{}
	for _, e := range entries {
		out = append(out, e.Message)
	}
	return out
}

func paths(arts []gen.Artifact) []string {
	out := []string{}
	for _, a := range arts {
		out = append(out, a.Path)
	}
	return out
}

func lifecycleChecks() []*check {
	active, paused := gen.SessionStatusActive, gen.SessionStatusPaused
	completed, failed := gen.SessionStatusCompleted, gen.SessionStatusFailed
	checks := []*check{
		// Allowed transitions.
		transitionCheck("LIFE-001", active, opPause, paused),
		transitionCheck("LIFE-002", active, opHandoff, paused),
		transitionCheck("LIFE-003", active, opEndCompleted, completed),
		transitionCheck("LIFE-004", active, opEndFailed, failed),
		transitionCheck("LIFE-005", active, opClose, completed),
		transitionCheck("LIFE-006", paused, opResume, active),
		transitionCheck("LIFE-007", paused, opHandoff, paused),
		transitionCheck("LIFE-008", paused, opEndCompleted, completed),
		transitionCheck("LIFE-009", paused, opEndFailed, failed),
		transitionCheck("LIFE-010", paused, opClose, completed),
		// Forbidden transitions.
		transitionCheck("LIFE-011", active, opResume, ""),
		transitionCheck("LIFE-012", paused, opPause, ""),
		transitionCheck("LIFE-013", completed, opPause, ""),
		transitionCheck("LIFE-014", completed, opResume, ""),
		transitionCheck("LIFE-015", completed, opEndCompleted, ""),
		transitionCheck("LIFE-016", completed, opEndFailed, ""),
		transitionCheck("LIFE-017", completed, opHandoff, ""),
		transitionCheck("LIFE-018", failed, opPause, ""),
		transitionCheck("LIFE-019", failed, opResume, ""),
		transitionCheck("LIFE-020", failed, opEndCompleted, ""),
		transitionCheck("LIFE-021", failed, opEndFailed, ""),
		transitionCheck("LIFE-022", failed, opHandoff, ""),
		def("LIFE-023", Must, "closeSession",
			"closeSession on a failed session answers 200 with already_closed true and the session stays failed",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if err := t.toStatus(ctx, s.SessionID, failed); err != nil {
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
				if !res.AlreadyClosed || res.Session.Status != failed {
					return resp.Failf("already_closed %v, status %q; want true, failed", res.AlreadyClosed, res.Session.Status)
				}
				return nil
			}, NeedLifecycle).traces("REQ-SESS-008"),
	}
	return append(checks, lifecycleDetailChecks()...)
}

func lifecycleDetailChecks() []*check {
	return []*check{
		def("LIFE-030", Must, "endSession getSession",
			"endSession records the final summary and ended_at",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				resp, err := t.post(ctx, path("/v1/sessions/%s/end", s.SessionID), map[string]any{"status": "completed", "summary": "all done"})
				if err != nil {
					return err
				}
				if _, err := expectJSON[gen.Session](resp, http.StatusOK); err != nil {
					return err
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.FinalSummary != "all done" || got.EndedAt.IsZero() {
					return Failf("getSession: final_summary %q, ended_at %v; want %q and a time", got.FinalSummary, got.EndedAt, "all done")
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-005"),
		def("LIFE-031", Must, "pauseSession sendTurn resumeSession",
			"a paused session answers a turn with 409 session_paused; once resumed it accepts turns again",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if err := t.toStatus(ctx, s.SessionID, gen.SessionStatusPaused); err != nil {
					return err
				}
				resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": "while paused"}, nil)
				if err != nil {
					return err
				}
				if err := resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeSessionPaused); err != nil {
					return err
				}
				if resp, err = t.Do(ctx, opResume.req(s.SessionID)); err != nil {
					return err
				}
				if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				_, err = t.turn(ctx, s.SessionID, "after resume")
				return err
			}, NeedLifecycle).traces("REQ-TURN-004"),
		def("LIFE-032", Must, "handoffSession getSession",
			"handoffSession stores the notes (summary, next_steps, blockers, context_for_next; [] and {} when not given; created_at when written) and pauses; a later handoff replaces them",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var prev time.Time
				for _, body := range []map[string]any{handoffBody("first"), handoffBody("second"), {"summary": "only a summary"}} {
					before, err := t.serverNow(ctx)
					if err != nil {
						return err
					}
					resp, err := t.post(ctx, path("/v1/sessions/%s/handoff", s.SessionID), body)
					if err != nil {
						return err
					}
					got, err := expectJSON[gen.Session](resp, http.StatusOK)
					if err != nil {
						return err
					}
					after, err := t.serverNow(ctx)
					if err != nil {
						return err
					}
					if got.Status != gen.SessionStatusPaused {
						return resp.Failf("status %q after handoff, want paused", got.Status)
					}
					if got.Handoff.CreatedAt.IsZero() {
						return resp.Failf("no handoff member after handoff")
					}
					h := got.Handoff
					want := map[string]any{"summary": body["summary"], "next_steps": []string{}, "blockers": []string{}, "context_for_next": map[string]any{}}
					for k, v := range body {
						want[k] = v
					}
					if d := jsonDiff(map[string]any{"summary": h.Summary, "next_steps": h.NextSteps, "blockers": h.Blockers, "context_for_next": h.ContextForNext}, want); d != "" {
						return resp.Failf("handoff notes: %s", d)
					}
					if err := expectBetween("handoff.created_at", h.CreatedAt, before, after); err != nil {
						return err
					}
					if err := notBefore("the new handoff's created_at", h.CreatedAt, "the previous one's", prev); err != nil {
						return err
					}
					prev = h.CreatedAt
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-010", "REQ-LIFE-022"),
		def("LIFE-033", Must, "getHandoffContext",
			"getHandoffContext returns the context summary, the handoff notes, the newest 20 work-log entries newest first, the artifacts oldest first and turn_count",
			func(ctx context.Context, t *tester) error {
				s, err := t.contextSession(ctx)
				if err != nil {
					return err
				}
				if _, err := t.turn(ctx, s.SessionID, "work"); err != nil {
					return err
				}
				var wantRecent []string
				for i := 1; i <= 22; i++ {
					msg := fmt.Sprintf("entry %02d", i)
					if _, err := t.logEntry(ctx, s.SessionID, "info", msg); err != nil {
						return err
					}
					if i > 2 {
						wantRecent = append([]string{msg}, wantRecent...)
					}
				}
				for _, p := range []string{"a.txt", "b.txt"} {
					if _, err := t.artifact(ctx, s.SessionID, p, "created"); err != nil {
						return err
					}
				}
				if resp, err := t.post(ctx, path("/v1/sessions/%s/handoff", s.SessionID), handoffBody("ctx")); err != nil {
					return err
				} else if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				resp, err := t.get(ctx, path("/v1/sessions/%s/handoff", s.SessionID), nil)
				if err != nil {
					return err
				}
				hc, err := expectJSON[gen.HandoffContext](resp, http.StatusOK)
				if err != nil {
					return err
				}
				switch {
				case hc.SessionID != s.SessionID || hc.Agent != t.env.echo || hc.Status != gen.SessionStatusPaused:
					return resp.Failf("session_id/agent/status %q/%q/%q, want %q/%q/paused", hc.SessionID, hc.Agent, hc.Status, s.SessionID, t.env.echo)
				case hc.TurnCount != 1:
					return resp.Failf("turn_count %d, want 1", hc.TurnCount)
				case hc.Handoff.CreatedAt.IsZero() || hc.Handoff.Summary != "ctx":
					return resp.Failf("handoff notes missing or not the latest")
				case hc.PlanSlug != t.plan():
					return resp.Failf("plan_slug %q, want %q", hc.PlanSlug, t.plan())
				}
				if d := jsonDiff(hc.ContextSummary, seedContext()); d != "" {
					return resp.Failf("context_summary: %s", d)
				}
				if d := jsonDiff(messages(hc.RecentActions), wantRecent); d != "" {
					return resp.Failf("recent_actions (the newest 20, newest first): %s", d)
				}
				if d := jsonDiff(paths(hc.Artifacts), []string{"a.txt", "b.txt"}); d != "" {
					return resp.Failf("artifacts (oldest first): %s", d)
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-011"),
		def("LIFE-034", Must, "continueSession",
			"continueSession creates an active session for the agent with continued_from set, inheriting the context summary, handoff notes and plan; the original is unchanged",
			func(ctx context.Context, t *tester) error {
				orig, err := t.contextSession(ctx)
				if err != nil {
					return err
				}
				resp, err := t.post(ctx, path("/v1/sessions/%s/handoff", orig.SessionID), handoffBody("pass it on"))
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				before, err := t.session(ctx, orig.SessionID)
				if err != nil {
					return err
				}
				resp, err = t.post(ctx, path("/v1/sessions/%s/continue", orig.SessionID), map[string]any{"agent": t.env.echo, "meta": t.meta()})
				if err != nil {
					return err
				}
				next, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				switch {
				case next.SessionID == orig.SessionID:
					return resp.Failf("the new session has the original's id")
				case next.ContinuedFrom != orig.SessionID:
					return resp.Failf("continued_from %q, want %q", next.ContinuedFrom, orig.SessionID)
				case next.Status != gen.SessionStatusActive || next.Agent != t.env.echo:
					return resp.Failf("status %q agent %q, want active %q", next.Status, next.Agent, t.env.echo)
				case next.PlanSlug != t.plan():
					return resp.Failf("plan_slug %q, want the original's %q", next.PlanSlug, t.plan())
				case next.Handoff.CreatedAt.IsZero() || next.Handoff.Summary != "pass it on":
					return resp.Failf("the handoff notes were not inherited")
				case next.TurnCount != 0:
					return resp.Failf("turn_count %d, want 0", next.TurnCount)
				}
				if d := jsonDiff(next.ContextSummary, seedContext()); d != "" {
					return resp.Failf("context_summary not inherited: %s", d)
				}
				after, err := t.session(ctx, orig.SessionID)
				if err != nil {
					return err
				}
				if d := jsonDiff(snapshot(after), snapshot(before)); d != "" {
					return Failf("continueSession changed the original session: %s", d)
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-007", "REQ-LIFE-008", "REQ-SESS-023"),
		def("LIFE-035", Must, "continueSession",
			"continueSession works from an ended session, and a given plan_slug replaces the inherited one",
			func(ctx context.Context, t *tester) error {
				orig, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if err := t.toStatus(ctx, orig.SessionID, gen.SessionStatusCompleted); err != nil {
					return err
				}
				resp, err := t.post(ctx, path("/v1/sessions/%s/continue", orig.SessionID), map[string]any{"agent": t.env.echo, "plan_slug": t.plan("next"), "meta": t.meta()})
				if err != nil {
					return err
				}
				next, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				if next.PlanSlug != t.plan("next") || next.ContinuedFrom != orig.SessionID {
					return resp.Failf("plan_slug %q continued_from %q, want %q %q", next.PlanSlug, next.ContinuedFrom, t.plan("next"), orig.SessionID)
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-007", "REQ-LIFE-008"),
		def("LIFE-036", Must, "addLogEntry listLogEntries getSession",
			"addLogEntry answers 201 with the entry (its own id, created_at on the server's clock); listLogEntries lists entries oldest first and filters by type; action_count counts them",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				types := []string{"info", "warning", "error", "success", "checkpoint", "decision"}
				seen := map[string]bool{}
				before, err := t.serverNow(ctx)
				if err != nil {
					return err
				}
				for _, typ := range types {
					e, err := t.logEntry(ctx, s.SessionID, typ, "a "+typ)
					if err != nil {
						return err
					}
					if seen[e.ID] {
						return Failf("addLogEntry %s: id %q was already another entry's", typ, e.ID)
					}
					seen[e.ID] = true
					if e.ID == "" || e.SessionID != s.SessionID || string(e.Type) != typ || e.Message != "a "+typ || e.Data["msg"] != "a "+typ {
						return Failf("addLogEntry %s: the answer does not hold the entry sent (id %q, session %q, type %q, message %q)", typ, e.ID, e.SessionID, e.Type, e.Message)
					}
				}
				p := path("/v1/sessions/%s/log", s.SessionID)
				all, _, err := listAll[gen.LogEntry](ctx, t, p, nil, 0, 5)
				if err != nil {
					return err
				}
				var want []string
				for _, typ := range types {
					want = append(want, "a "+typ)
				}
				if d := jsonDiff(messages(all), want); d != "" {
					return Failf("listLogEntries (oldest first): %s", d)
				}
				after, err := t.serverNow(ctx)
				if err != nil {
					return err
				}
				prev := before
				for _, e := range all {
					if err := expectBetween("log entry "+e.Message+": created_at", e.CreatedAt, prev, after); err != nil {
						return err
					}
					prev = e.CreatedAt
				}
				only, _, err := listAll[gen.LogEntry](ctx, t, p, url.Values{"type": {"decision"}}, 0, 5)
				if err != nil {
					return err
				}
				if d := jsonDiff(messages(only), []string{"a decision"}); d != "" {
					return Failf("listLogEntries?type=decision: %s", d)
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.ActionCount != int32(len(types)) {
					return Failf("getSession: action_count %d, want %d", got.ActionCount, len(types))
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-013", "REQ-LIFE-015", "REQ-SESS-016", "REQ-LIFE-023"),
		def("LIFE-037", Must, "addArtifact listArtifacts getSession",
			"addArtifact answers 201 with the record (its own id, created_at on the server's clock); listArtifacts lists them oldest first and filters by action; artifact_count counts them",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				recs := [][2]string{{"src/a.go", "created"}, {"src/b.go", "modified"}, {"src/c.go", "deleted"}}
				seen := map[string]bool{}
				before, err := t.serverNow(ctx)
				if err != nil {
					return err
				}
				for _, r := range recs {
					a, err := t.artifact(ctx, s.SessionID, r[0], r[1])
					if err != nil {
						return err
					}
					if seen[a.ID] {
						return Failf("addArtifact %s: id %q was already another artifact's", r[0], a.ID)
					}
					seen[a.ID] = true
					if a.ID == "" || a.SessionID != s.SessionID || a.Path != r[0] || string(a.Action) != r[1] || a.Metadata["path"] != r[0] {
						return Failf("addArtifact %s: the answer does not hold the record sent", r[0])
					}
				}
				p := path("/v1/sessions/%s/artifacts", s.SessionID)
				all, _, err := listAll[gen.Artifact](ctx, t, p, nil, 0, 5)
				if err != nil {
					return err
				}
				if d := jsonDiff(paths(all), []string{"src/a.go", "src/b.go", "src/c.go"}); d != "" {
					return Failf("listArtifacts (oldest first): %s", d)
				}
				after, err := t.serverNow(ctx)
				if err != nil {
					return err
				}
				prev := before
				for _, a := range all {
					if err := expectBetween("artifact "+a.Path+": created_at", a.CreatedAt, prev, after); err != nil {
						return err
					}
					prev = a.CreatedAt
				}
				only, _, err := listAll[gen.Artifact](ctx, t, p, url.Values{"action": {"modified"}}, 0, 5)
				if err != nil {
					return err
				}
				if d := jsonDiff(paths(only), []string{"src/b.go"}); d != "" {
					return Failf("listArtifacts?action=modified: %s", d)
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.ArtifactCount != 3 {
					return Failf("getSession: artifact_count %d, want 3", got.ArtifactCount)
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-016", "REQ-LIFE-017", "REQ-SESS-017"),
		def("LIFE-038", Must, "updateContext",
			"updateContext merges with JSON Merge Patch rules: members replace, nested objects merge, null removes",
			func(ctx context.Context, t *tester) error {
				body := t.sessionBody(t.env.echo)
				body["context"] = map[string]any{"a": 1, "nested": map[string]any{"x": 1, "y": 2}, "gone": "bye", "list": []any{1, 2}}
				s, err := t.create(ctx, body, asPrimary)
				if err != nil {
					return err
				}
				resp, err := t.Do(ctx, request{Method: http.MethodPatch, Path: path("/v1/sessions/%s/context", s.SessionID),
					JSON: map[string]any{"a": 2, "nested": map[string]any{"y": nil, "z": 3}, "gone": nil, "new": "hi", "list": []any{3}}})
				if err != nil {
					return err
				}
				got, err := expectJSON[gen.Session](resp, http.StatusOK)
				if err != nil {
					return err
				}
				want := map[string]any{"a": 2, "nested": map[string]any{"x": 1, "z": 3}, "new": "hi", "list": []any{3}}
				if d := jsonDiff(got.ContextSummary, want); d != "" {
					return resp.Failf("context_summary after the patch: %s", d)
				}
				again, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if d := jsonDiff(again.ContextSummary, want); d != "" {
					return Failf("getSession context_summary after the patch: %s", d)
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-018"),
		def("LIFE-039", Must, "addLogEntry addArtifact updateContext",
			"on an ended session addLogEntry, addArtifact and updateContext answer 409 session_ended",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if err := t.toStatus(ctx, s.SessionID, gen.SessionStatusCompleted); err != nil {
					return err
				}
				for _, r := range []request{
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/log", s.SessionID), JSON: map[string]any{"type": "info", "message": "late"}},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/artifacts", s.SessionID), JSON: map[string]any{"path": "late.txt", "action": "created"}},
					{Method: http.MethodPatch, Path: path("/v1/sessions/%s/context", s.SessionID), JSON: map[string]any{"late": true}},
				} {
					resp, err := t.Do(ctx, r)
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeSessionEnded); err != nil {
						return err
					}
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-014"),
		def("LIFE-040", Must, "getReplayContext",
			"getReplayContext sorts the work log into checkpoints, decisions and errors (oldest first), counts them in progress, and groups the artifacts by action",
			func(ctx context.Context, t *tester) error {
				s, err := t.contextSession(ctx)
				if err != nil {
					return err
				}
				entries := [][2]string{{"info", "i1"}, {"checkpoint", "c1"}, {"decision", "d1"}, {"error", "e1"}, {"checkpoint", "c2"}, {"success", "s1"}}
				for _, e := range entries {
					if _, err := t.logEntry(ctx, s.SessionID, e[0], e[1]); err != nil {
						return err
					}
				}
				for _, a := range [][2]string{{"a.txt", "created"}, {"b.txt", "modified"}, {"c.txt", "deleted"}, {"d.txt", "created"}} {
					if _, err := t.artifact(ctx, s.SessionID, a[0], a[1]); err != nil {
						return err
					}
				}
				resp, err := t.get(ctx, path("/v1/sessions/%s/replay", s.SessionID), nil)
				if err != nil {
					return err
				}
				rc, err := expectJSON[gen.ReplayContext](resp, http.StatusOK)
				if err != nil {
					return err
				}
				type view struct {
					Checkpoints, Decisions, Errors, Recent []string
					Total, CP, Dec, Err                    int32
					LastEntry, LastCheckpoint              string
					Artifacts, Created, Modified, Deleted  []string
					Context                                map[string]any
				}
				got := view{
					messages(rc.Checkpoints), messages(rc.Decisions), messages(rc.Errors), messages(rc.RecentActions),
					rc.Progress.TotalEntries, rc.Progress.CheckpointCount, rc.Progress.DecisionCount, rc.Progress.ErrorCount,
					rc.Progress.LastEntry.Message, rc.LastCheckpoint.Message,
					paths(rc.Artifacts), paths(rc.ArtifactsByAction.Created), paths(rc.ArtifactsByAction.Modified), paths(rc.ArtifactsByAction.Deleted),
					rc.ContextSummary,
				}
				want := view{
					[]string{"c1", "c2"}, []string{"d1"}, []string{"e1"}, []string{"s1", "c2", "e1", "d1", "c1", "i1"},
					6, 2, 1, 1, "s1", "c2",
					[]string{"a.txt", "b.txt", "c.txt", "d.txt"}, []string{"a.txt", "d.txt"}, []string{"b.txt"}, []string{"c.txt"},
					map[string]any{"k": "v"},
				}
				if d := jsonDiff(got, want); d != "" {
					return resp.Failf("replay context: %s", d)
				}
				if rc.SessionID != s.SessionID || rc.Status != gen.SessionStatusActive {
					return resp.Failf("session_id %q status %q, want %q active", rc.SessionID, rc.Status, s.SessionID)
				}
				// The session's own members, as getSession shows them, also once it ended.
				if err := t.toStatus(ctx, s.SessionID, gen.SessionStatusFailed); err != nil {
					return err
				}
				sess, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if resp, err = t.get(ctx, path("/v1/sessions/%s/replay", s.SessionID), nil); err != nil {
					return err
				}
				if rc, err = expectJSON[gen.ReplayContext](resp, http.StatusOK); err != nil {
					return err
				}
				type common struct {
					Agent, Plan, Final, Created, Ended string
					Status                             gen.SessionStatus
					Context                            map[string]any
					Handoff                            gen.Handoff
				}
				stamp := func(x time.Time) string { return x.UTC().Format(time.RFC3339Nano) }
				haveC := common{rc.Agent, rc.PlanSlug, rc.FinalSummary, stamp(rc.CreatedAt), stamp(rc.EndedAt), rc.Status, rc.ContextSummary, rc.Handoff}
				wantC := common{sess.Agent, sess.PlanSlug, sess.FinalSummary, stamp(sess.CreatedAt), stamp(sess.EndedAt), sess.Status, sess.ContextSummary, sess.Handoff}
				if d := jsonDiff(haveC, wantC); d != "" {
					return resp.Failf("the replay context differs from getSession: %s", d)
				}
				return nil
			}, NeedLifecycle, NeedReplay).traces("REQ-LIFE-019", "REQ-LIFE-024"),
		def("LIFE-041", Must, "replaySession",
			"replaySession creates an active session (same agent by default) continued_from the original, whose context summary keeps the original's and adds a replay member",
			func(ctx context.Context, t *tester) error {
				orig, err := t.contextSession(ctx)
				if err != nil {
					return err
				}
				for _, e := range [][2]string{{"checkpoint", "c1"}, {"decision", "d1"}} {
					if _, err := t.logEntry(ctx, orig.SessionID, e[0], e[1]); err != nil {
						return err
					}
				}
				// No agent: the replay defaults to the original's.
				resp, err := t.post(ctx, path("/v1/sessions/%s/replay", orig.SessionID), map[string]any{"meta": t.meta()})
				if err != nil {
					return err
				}
				next, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				switch {
				case next.SessionID == orig.SessionID || next.ContinuedFrom != orig.SessionID:
					return resp.Failf("continued_from %q, want the original %q in a new session", next.ContinuedFrom, orig.SessionID)
				case next.Agent != orig.Agent || next.Status != gen.SessionStatusActive:
					return resp.Failf("agent %q status %q, want %q active", next.Agent, next.Status, orig.Agent)
				case next.ContextSummary["k"] != "v":
					return resp.Failf("context_summary lost the original's members: %v", next.ContextSummary)
				}
				if _, ok := next.ContextSummary["replay"].(map[string]any); !ok {
					return resp.Failf("context_summary has no replay object: %v", next.ContextSummary)
				}
				_, err = t.expectStatus(ctx, orig.SessionID, gen.SessionStatusActive)
				return err
			}, NeedLifecycle, NeedReplay).traces("REQ-LIFE-020"),
		def("LIFE-042", Must, "endSession",
			"endSession cancels the running turn (stop_reason cancelled, cancelled_by session_closed)",
			func(ctx context.Context, t *tester) error {
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				resp, err := t.Do(ctx, opEndFailed.req(s.SessionID))
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				r, err := awaitWithin(ctx, first, cancelWait, "endSession answered")
				if err != nil {
					return err
				}
				return expectCancelled("the running turn", r, gen.CancelledBySessionClosed)
			}, NeedLifecycle, NeedScripted).traces("REQ-LIFE-006", "REQ-TURN-014"),
		def("LIFE-043", Must, "pauseSession",
			"pausing a session lets its running turn finish normally",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				first := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "a"}, step{1500, "text", "b"})})
				if _, err := t.waitTurn(ctx, s.SessionID, 1, true); err != nil {
					return err
				}
				if err := t.toStatus(ctx, s.SessionID, gen.SessionStatusPaused); err != nil {
					return err
				}
				r, err := await(ctx, first)
				if err != nil {
					return err
				}
				if r.StopReason != gen.StopReasonEndTurn || textOf(r.Events) != "ab" {
					return Failf("the turn running at pause: stop_reason %q text %q, want end_turn %q", r.StopReason, textOf(r.Events), "ab")
				}
				return nil
			}, NeedLifecycle, NeedScripted).traces("REQ-LIFE-004"),
		def("LIFE-045", Must, "addLogEntry addArtifact updateContext",
			"a paused session still takes work-log entries, artifacts and context updates",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if err := t.toStatus(ctx, s.SessionID, gen.SessionStatusPaused); err != nil {
					return err
				}
				if _, err := t.logEntry(ctx, s.SessionID, "info", "while paused"); err != nil {
					return err
				}
				if _, err := t.artifact(ctx, s.SessionID, "paused.txt", "created"); err != nil {
					return err
				}
				resp, err := t.Do(ctx, request{Method: http.MethodPatch, Path: path("/v1/sessions/%s/context", s.SessionID), JSON: map[string]any{"paused": true}})
				if err != nil {
					return err
				}
				got, err := expectJSON[gen.Session](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if got.Status != gen.SessionStatusPaused || got.ActionCount != 1 || got.ArtifactCount != 1 || got.ContextSummary["paused"] != true {
					return resp.Failf("status %q, action_count %d, artifact_count %d, context %v; want paused, 1, 1, paused=true", got.Status, got.ActionCount, got.ArtifactCount, got.ContextSummary)
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-014"),
		def("LIFE-044", Must, "replaySession",
			"the replay member of a replayed session holds progress, last_checkpoint, decisions and errors",
			func(ctx context.Context, t *tester) error {
				orig, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if _, err := t.logEntry(ctx, orig.SessionID, "checkpoint", "c1"); err != nil {
					return err
				}
				resp, err := t.post(ctx, path("/v1/sessions/%s/replay", orig.SessionID), map[string]any{"agent": t.env.echo, "meta": t.meta()})
				if err != nil {
					return err
				}
				next, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				replay, _ := next.ContextSummary["replay"].(map[string]any)
				for _, k := range []string{"progress", "last_checkpoint", "decisions", "errors"} {
					if _, ok := replay[k]; !ok {
						return resp.Failf("context_summary.replay has no %q member: %v", k, replay)
					}
				}
				return nil
			}, NeedLifecycle, NeedReplay).traces("REQ-LIFE-020"),
		def("LIFE-046", Must, "sendTurn getTurn",
			"a turn running when the server restarts is ended by the restart: getTurn shows it completed with stop_reason error and a final error event",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				// The client's own request dies with the server; its answer does not matter.
				_ = t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": longScript()})
				if _, err := t.waitTurn(ctx, s.SessionID, 1, true); err != nil {
					return err
				}
				if err := t.restart(ctx); err != nil {
					return err
				}
				tr, err := t.getTurn(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if tr.Status != gen.TurnStatusCompleted || tr.StopReason != gen.StopReasonError {
					return Failf("getTurn after the restart: status %q, stop_reason %q; want completed, error", tr.Status, tr.StopReason)
				}
				if n := len(tr.Events); n == 0 || tr.Events[n-1].Type != gen.EventTypeError {
					return Failf("getTurn after the restart: events %v, want a final error event", eventTypes(tr.Events))
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.Activity != gen.ActivityIdle {
					return Failf("getSession after the restart: activity %q, want idle", got.Activity)
				}
				return nil
			}, NeedRestart, NeedScripted).traces("REQ-LIFE-003"),
		def("LIFE-047", Must, "continueSession",
			"the continuing session's meta is the body's; continueSession with an unknown agent answers 422 unknown_agent and creates nothing",
			func(ctx context.Context, t *tester) error {
				orig, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				meta := map[string]any{"conformance_run": t.env.prefix, "conformance_check": t.chk.ID, "shift": "night"}
				resp, err := t.post(ctx, path("/v1/sessions/%s/continue", orig.SessionID), map[string]any{"agent": t.env.echo, "meta": meta})
				if err != nil {
					return err
				}
				next, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				if d := jsonDiff(next.Meta, meta); d != "" {
					return resp.Failf("meta of the new session: %s", d)
				}
				resp, err = t.post(ctx, path("/v1/sessions/%s/continue", orig.SessionID), map[string]any{"agent": "conformance-no-such-agent", "meta": t.meta()})
				if err != nil {
					return err
				}
				if err := resp.ExpectProblem(http.StatusUnprocessableEntity, gen.ProblemCodeUnknownAgent); err != nil {
					return err
				}
				list, err := t.planSessions(ctx)
				if err != nil {
					return err
				}
				if len(list) != 2 {
					return Failf("listSessions?plan_slug=%s: %d sessions, want 2 (the original and one continuation)", t.plan(), len(list))
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-009"),
		def("LIFE-048", Must, "addArtifact getHandoffContext",
			"getHandoffContext holds the oldest 100 artifacts of a session that has 101",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var want []string
				for i := 0; i <= 100; i++ {
					p := fmt.Sprintf("art-%03d.txt", i)
					if _, err := t.artifact(ctx, s.SessionID, p, "created"); err != nil {
						return err
					}
					if i < 100 {
						want = append(want, p)
					}
				}
				resp, err := t.get(ctx, path("/v1/sessions/%s/handoff", s.SessionID), nil)
				if err != nil {
					return err
				}
				hc, err := expectJSON[gen.HandoffContext](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if d := jsonDiff(paths(hc.Artifacts), want); d != "" {
					return resp.Failf("artifacts (the oldest 100 of 101): %s", d)
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-012"),
		def("LIFE-049", Must, "replaySession getSession",
			"replaySession leaves the original session unchanged; the new session has the body's agent and meta and the original's plan_slug",
			func(ctx context.Context, t *tester) error {
				orig, err := t.contextSession(ctx)
				if err != nil {
					return err
				}
				if _, err := t.logEntry(ctx, orig.SessionID, "checkpoint", "c1"); err != nil {
					return err
				}
				before, err := t.session(ctx, orig.SessionID)
				if err != nil {
					return err
				}
				meta := map[string]any{"conformance_run": t.env.prefix, "conformance_check": t.chk.ID, "replayed": true}
				resp, err := t.post(ctx, path("/v1/sessions/%s/replay", orig.SessionID), map[string]any{"agent": t.env.echo, "meta": meta})
				if err != nil {
					return err
				}
				next, err := expectJSON[gen.Session](resp, http.StatusCreated)
				if err != nil {
					return err
				}
				switch {
				case next.Agent != t.env.echo:
					return resp.Failf("agent %q, want the body's %q", next.Agent, t.env.echo)
				case next.PlanSlug != orig.PlanSlug:
					return resp.Failf("plan_slug %q, want the original's %q", next.PlanSlug, orig.PlanSlug)
				}
				if d := jsonDiff(next.Meta, meta); d != "" {
					return resp.Failf("meta of the new session: %s", d)
				}
				after, err := t.session(ctx, orig.SessionID)
				if err != nil {
					return err
				}
				if d := jsonDiff(snapshot(after), snapshot(before)); d != "" {
					return Failf("replaySession changed the original session: %s", d)
				}
				return nil
			}, NeedLifecycle, NeedReplay).traces("REQ-LIFE-021"),
	}
}
