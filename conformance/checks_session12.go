package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// The checks of contract 1.2's additions to sessions and turns (agent
// options, end_reason, duration_ms, turn meta), the work log's order, and
// the isolation and idempotency of the new operations. Each list joins its
// group in buildCatalogue.

// optionValue is a valid value of an agent option: its default, its first
// allowed value, or one of its type.
func optionValue(o gen.AgentOption) any {
	switch {
	case o.Default != nil:
		return o.Default
	case len(o.Enum) > 0:
		return o.Enum[0]
	}
	switch o.Type {
	case gen.AgentOptionTypeInteger:
		return 2
	case gen.AgentOptionTypeNumber:
		return 1.5
	case gen.AgentOptionTypeBoolean:
		return true
	}
	return "cf"
}

// wrongValue is a value of another type than the option's.
func wrongValue(o gen.AgentOption) any {
	switch o.Type {
	case gen.AgentOptionTypeString:
		return 7
	case gen.AgentOptionTypeInteger:
		return 1.5
	}
	return "not-a-" + string(o.Type)
}

// optionsAgent is the first agent that declares options.
func (t *tester) optionsAgent() (gen.AgentInfo, bool) {
	for _, a := range t.env.caps.Agents {
		if len(a.Options) > 0 {
			return a, true
		}
	}
	return gen.AgentInfo{}, false
}

// expectLocations fails unless a 422 invalid_agent_options problem's errors
// name exactly the members.
func expectLocations(resp *response, members ...string) error {
	if err := resp.ExpectProblem(http.StatusUnprocessableEntity, gen.ProblemCodeInvalidAgentOptions); err != nil {
		return err
	}
	p, _ := resp.problem()
	got := []string{}
	for _, e := range p.Errors {
		got = append(got, e.Location)
	}
	want := []string{}
	for _, m := range members {
		want = append(want, "body.agent_options."+m)
	}
	slices.Sort(got)
	slices.Sort(want)
	if d := jsonDiff(got, want); d != "" {
		return resp.Failf("errors locate %s (each offending member)", d)
	}
	return nil
}

func sessionChecks12() []*check {
	return []*check{
		def("SESS-015", Must, "createSession listSessions spawnChild continueSession",
			"agent_options naming an option the agent does not declare, or a value of the wrong type or outside its enum, answers 422 invalid_agent_options naming each member, and creates nothing",
			func(ctx context.Context, t *tester) error {
				bad := []struct {
					agent   string
					options map[string]any
					members []string
				}{{t.env.echo, map[string]any{"cf_no_such_option": "x"}, []string{"cf_no_such_option"}}}
				if a, ok := t.optionsAgent(); ok {
					o := a.Options[0]
					bad = append(bad,
						struct {
							agent   string
							options map[string]any
							members []string
						}{a.Name, map[string]any{o.Name: wrongValue(o)}, []string{o.Name}},
						struct {
							agent   string
							options map[string]any
							members []string
						}{a.Name, map[string]any{o.Name: wrongValue(o), "cf_no_such_option": true}, []string{o.Name, "cf_no_such_option"}})
					for _, o := range a.Options {
						if len(o.Enum) > 0 && o.Type == gen.AgentOptionTypeString {
							bad = append(bad, struct {
								agent   string
								options map[string]any
								members []string
							}{a.Name, map[string]any{o.Name: "cf-not-allowed"}, []string{o.Name}})
						}
					}
				}
				for _, c := range bad {
					body := t.sessionBody(c.agent)
					body["agent_options"] = c.options
					resp, err := t.post(ctx, "/v1/sessions", body)
					if err != nil {
						return err
					}
					if err := expectLocations(resp, c.members...); err != nil {
						return err
					}
				}
				list, err := t.planSessions(ctx)
				if err != nil {
					return err
				}
				if len(list) != 0 {
					return Failf("refused createSession calls created %d sessions", len(list))
				}
				// The other ways to create a session check them too.
				parent, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				type way struct {
					name, p string
					need    Need
				}
				for _, w := range []way{
					{"spawnChild", "/v1/sessions/%s/children", NeedChildren},
					{"continueSession", "/v1/sessions/%s/continue", NeedLifecycle},
				} {
					if !t.env.has(w.need) {
						continue
					}
					body := t.sessionBody(t.env.echo)
					body["agent_options"] = map[string]any{"cf_no_such_option": "x"}
					resp, err := t.post(ctx, path(w.p, parent.SessionID), body)
					if err != nil {
						return err
					}
					if err := expectLocations(resp, "cf_no_such_option"); err != nil {
						return fmt.Errorf("%s: %w", w.name, err)
					}
				}
				list, err = t.planSessions(ctx)
				if err != nil {
					return err
				}
				if len(list) != 1 {
					return Failf("refused spawnChild and continueSession calls left %d sessions of the check's plan, want only the parent", len(list))
				}
				return nil
			}).traces("REQ-SESS-025"),
		def("SESS-016", Must, "createSession getSession sendTurn",
			"agent_options holds the options given at creation and every declared default not set, and never changes",
			func(ctx context.Context, t *tester) error {
				a, ok := t.optionsAgent()
				if !ok {
					return NotApplicablef("no agent declares options")
				}
				given := map[string]any{a.Options[0].Name: optionValue(a.Options[0])}
				want := map[string]any{}
				for k, v := range given {
					want[k] = v
				}
				defaults := map[string]any{}
				for _, o := range a.Options[1:] {
					if o.Default != nil {
						want[o.Name], defaults[o.Name] = o.Default, o.Default
					}
				}
				body := t.sessionBody(a.Name)
				body["agent_options"] = given
				s, err := t.create(ctx, body, asPrimary)
				if err != nil {
					return err
				}
				if d := jsonDiff(s.AgentOptions, want); d != "" {
					return Failf("createSession: agent_options %s (given ones and defaults)", d)
				}
				// Without agent_options: the defaults alone.
				plain, err := t.create(ctx, t.sessionBody(a.Name), asPrimary)
				if err != nil {
					return err
				}
				for _, o := range a.Options[:1] {
					if o.Default != nil {
						defaults[o.Name] = o.Default
					}
				}
				if len(defaults) > 0 || len(plain.AgentOptions) > 0 {
					if d := jsonDiff(plain.AgentOptions, defaults); d != "" {
						return Failf("createSession without agent_options: agent_options %s (the declared defaults)", d)
					}
				}
				if a.Kind == gen.AgentKindEcho || a.Kind == gen.AgentKindScripted {
					if _, err := t.turn(ctx, s.SessionID, "x"); err != nil {
						return err
					}
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if d := jsonDiff(got.AgentOptions, want); d != "" {
					return Failf("getSession later: agent_options changed: %s", d)
				}
				return nil
			}).traces("REQ-SESS-029"),
		def("SESS-017", Must, "createSession closeSession endSession spawnChild getSession",
			"end_reason and duration_ms are absent until the session ends; then end_reason says closed (closeSession), ended (endSession) or parent_closed (closed with its parent), duration_ms is ended_at - created_at, and neither changes again",
			func(ctx context.Context, t *tester) error {
				expect := func(id string, reason gen.EndReason) (gen.Session, error) {
					raw, resp, err := t.rawSession(ctx, id)
					if err != nil {
						return gen.Session{}, err
					}
					var s gen.Session
					if err := resp.Decode(&s); err != nil {
						return s, err
					}
					if reason == "" {
						for _, m := range []string{"end_reason", "duration_ms", "ended_at"} {
							if _, ok := raw[m]; ok {
								return s, resp.Failf("a session that has not ended has %s", m)
							}
						}
						return s, nil
					}
					if s.EndReason != reason {
						return s, resp.Failf("end_reason %q, want %q", s.EndReason, reason)
					}
					if s.DurationMs == nil || s.EndedAt.IsZero() {
						return s, resp.Failf("an ended session without duration_ms or ended_at")
					}
					want := s.EndedAt.Sub(s.CreatedAt)
					if d := time.Duration(*s.DurationMs)*time.Millisecond - want; d < -time.Millisecond-precision(s.EndedAt, s.CreatedAt) || d > time.Millisecond+precision(s.EndedAt, s.CreatedAt) {
						return s, resp.Failf("duration_ms %d, but ended_at - created_at is %s", *s.DurationMs, want)
					}
					return s, nil
				}
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if _, err := expect(s.SessionID, ""); err != nil {
					return err
				}
				if err := t.closeSession(ctx, s.SessionID); err != nil {
					return err
				}
				closed, err := expect(s.SessionID, gen.EndReasonClosed)
				if err != nil {
					return err
				}
				if err := t.closeSession(ctx, s.SessionID); err != nil {
					return err
				}
				again, err := expect(s.SessionID, gen.EndReasonClosed)
				if err != nil {
					return err
				}
				if *again.DurationMs != *closed.DurationMs {
					return Failf("duration_ms changed from %d to %d after the session ended", *closed.DurationMs, *again.DurationMs)
				}
				if t.env.has(NeedLifecycle) {
					for _, status := range []string{"completed", "failed"} {
						e, err := t.echoSession(ctx)
						if err != nil {
							return err
						}
						if err := t.toStatus(ctx, e.SessionID, gen.SessionStatus(status)); err != nil {
							return err
						}
						if _, err := expect(e.SessionID, gen.EndReasonEnded); err != nil {
							return fmt.Errorf("endSession %s: %w", status, err)
						}
						if err := t.closeSession(ctx, e.SessionID); err != nil {
							return err
						}
						if _, err := expect(e.SessionID, gen.EndReasonEnded); err != nil {
							return fmt.Errorf("closeSession after endSession: %w", err)
						}
					}
				}
				if t.env.has(NeedChildren) {
					parent, err := t.echoSession(ctx)
					if err != nil {
						return err
					}
					resp, err := t.post(ctx, path("/v1/sessions/%s/children", parent.SessionID), t.sessionBody(t.env.echo))
					if err != nil {
						return err
					}
					child, err := expectJSON[gen.Session](resp, http.StatusCreated)
					if err != nil {
						return err
					}
					if err := t.closeSession(ctx, parent.SessionID); err != nil {
						return err
					}
					if _, err := expect(child.SessionID, gen.EndReasonParentClosed); err != nil {
						return fmt.Errorf("the child: %w", err)
					}
					if _, err := expect(parent.SessionID, gen.EndReasonClosed); err != nil {
						return fmt.Errorf("the parent: %w", err)
					}
				}
				return nil
			}).traces("REQ-SESS-027", "REQ-SESS-028"),
	}
}

func turnChecks12() []*check {
	return []*check{
		def("TURN-020", Must, "sendTurn getTurn listTurns",
			"a turn's meta comes back unchanged in the TurnResult, getTurn and listTurns (and turn.accepted and turn.completed when streaming); a turn without meta has none",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				meta := map[string]any{"correlation_id": "cf-123", "n": 1.5, "nested": map[string]any{"list": []any{1.0, "two", nil, true}}, "empty": map[string]any{}}
				resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": "with meta", "meta": meta}, nil)
				if err != nil {
					return err
				}
				r, err := expectJSON[gen.TurnResult](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if d := jsonDiff(r.Meta, meta); d != "" {
					return resp.Failf("TurnResult.meta %s", d)
				}
				if _, err := t.turn(ctx, s.SessionID, "without meta"); err != nil {
					return err
				}
				tr, err := t.getTurn(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if d := jsonDiff(tr.Meta, meta); d != "" {
					return Failf("getTurn: meta %s", d)
				}
				list, _, err := listAll[map[string]any](ctx, t, path("/v1/sessions/%s/turns", s.SessionID), nil, 0, 5)
				if err != nil {
					return err
				}
				if len(list) != 2 {
					return Failf("listTurns lists %d turns, want 2", len(list))
				}
				if d := jsonDiff(list[0]["meta"], meta); d != "" {
					return Failf("listTurns: turn 1's meta %s", d)
				}
				if m, ok := list[1]["meta"]; ok {
					return Failf("listTurns: turn 2, sent without meta, has meta %v", m)
				}
				raw, resp2, err := t.rawTurn(ctx, s.SessionID, 2)
				if err != nil {
					return err
				}
				if m, ok := raw["meta"]; ok {
					return resp2.Failf("getTurn: a turn sent without meta has meta %v", m)
				}
				if !t.env.has(NeedStreaming) {
					return nil
				}
				st, stream, err := t.streamTurnBody(ctx, s.SessionID, map[string]any{"prompt": "streamed meta", "meta": meta}, nil)
				if err != nil {
					return err
				}
				if st.accepted == nil || st.completed == nil {
					return stream.Failf("the stream lacks turn.accepted or turn.completed")
				}
				if d := jsonDiff(st.accepted.Meta, meta); d != "" {
					return stream.Failf("turn.accepted meta %s", d)
				}
				if d := jsonDiff(st.completed.Meta, meta); d != "" {
					return stream.Failf("turn.completed meta %s", d)
				}
				return nil
			}).traces("REQ-TURN-022"),
		def("TURN-021", Must, "listTurns",
			"listTurns?status keeps the turns in that status, oldest first: completed ones, the running one, none queued when none waits",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				for i := 0; i < 2; i++ {
					if _, err := t.turn(ctx, s.SessionID, script("", step{0, "text", "done"})); err != nil {
						return err
					}
				}
				long := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": longScript()})
				if _, err := t.waitTurn(ctx, s.SessionID, 3, true); err != nil {
					return err
				}
				for _, c := range []struct {
					status gen.TurnStatus
					want   []int32
				}{{gen.TurnStatusCompleted, []int32{1, 2}}, {gen.TurnStatusRunning, []int32{3}}, {gen.TurnStatusQueued, []int32{}}} {
					list, err := t.turnsIn(ctx, s.SessionID, c.status)
					if err != nil {
						return err
					}
					if d := jsonDiff(indexes(list), c.want); d != "" {
						return Failf("listTurns?status=%s: %s", c.status, d)
					}
				}
				one, _, err := listAll[gen.Turn](ctx, t, path("/v1/sessions/%s/turns", s.SessionID), url.Values{"status": {"completed"}}, 1, 5)
				if err != nil {
					return err
				}
				if d := jsonDiff(indexes(one), []int32{1, 2}); d != "" {
					return Failf("listTurns?status=completed&limit=1 walked: %s", d)
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				_, err = awaitWithin(ctx, long, cancelWait, "cancelTurn answered")
				return err
			}, NeedScripted).traces("REQ-TURN-021"),
	}
}

func lifecycleChecks12() []*check {
	return []*check{
		def("LIFE-050", Must, "listLogEntries addLogEntry",
			"listLogEntries with order newest_first lists the entries newest first and its cursor walk sees each once; oldest_first is the default",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var want []string
				for i := 1; i <= 5; i++ {
					e, err := t.logEntry(ctx, s.SessionID, "info", fmt.Sprintf("entry %d", i))
					if err != nil {
						return err
					}
					want = append(want, e.Message)
				}
				walk := func(order string, limit int) ([]string, error) {
					q := url.Values{}
					if order != "" {
						q.Set("order", order)
					}
					list, _, err := listAll[gen.LogEntry](ctx, t, path("/v1/sessions/%s/log", s.SessionID), q, limit, 10)
					return messages(list), err
				}
				reversed := slices.Clone(want)
				slices.Reverse(reversed)
				for _, c := range []struct {
					order string
					limit int
					want  []string
				}{{"", 0, want}, {"oldest_first", 2, want}, {"newest_first", 0, reversed}, {"newest_first", 2, reversed}, {"", 2, want}} {
					got, err := walk(c.order, c.limit)
					if err != nil {
						return err
					}
					if d := jsonDiff(got, c.want); d != "" {
						return Failf("listLogEntries order=%q limit=%d: %s", c.order, c.limit, d)
					}
				}
				return nil
			}, NeedLifecycle).traces("REQ-LIFE-025"),
	}
}

func isolationChecks12() []*check {
	return []*check{
		def("ISO-009", Must, "answerPermission listPermissions cancelTurnAt streamSession listLifecycleEvents",
			"another tenant's permission request answers 404 not_found on answerPermission and stays pending; the session's listPermissions, cancelTurnAt, streamSession and listLifecycleEvents answer 404 too",
			func(ctx context.Context, t *tester) error {
				s, p, err := t.pendingAsk(ctx)
				if err != nil {
					return err
				}
				reqs := []request{
					t.answerReq(s.SessionID, p.RequestID, "allow"),
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/permissions", s.SessionID)},
					{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns/1/cancel", s.SessionID)},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/lifecycle", s.SessionID)},
					{Method: http.MethodGet, Path: path("/v1/sessions/%s/stream", s.SessionID), Stream: true},
				}
				for _, r := range reqs {
					r.As = asSecond
					if r.Stream {
						stream, err := t.Stream(ctx, r)
						if err != nil {
							return err
						}
						if stream.Live() {
							stream.Close()
							return stream.Failf("another tenant's session streams")
						}
						if err := stream.ExpectProblem(http.StatusNotFound, gen.ProblemCodeNotFound); err != nil {
							return err
						}
						continue
					}
					resp, err := t.Do(ctx, r)
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusNotFound, gen.ProblemCodeNotFound); err != nil {
						return err
					}
				}
				now, err := t.permissionState(ctx, s.SessionID, p.RequestID)
				if err != nil {
					return err
				}
				if now.Status != gen.PermissionStatusPending {
					return Failf("after another tenant's answer the request is %q, want pending", now.Status)
				}
				tr, err := t.getTurn(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if tr.Status != gen.TurnStatusRunning {
					return Failf("after another tenant's cancelTurnAt the turn is %q, want running", tr.Status)
				}
				return nil
			}, NeedSecondToken, NeedScripted, NeedPermissions, NeedSessionStream).traces("REQ-PERM-011", "REQ-TEN-001"),
	}
}

func idempotencyChecks12() []*check {
	return []*check{
		def("IDEM-018", Must, "answerPermission",
			"answerPermission repeated with its Idempotency-Key after the turn went on and ended answers the first 200 again, marked Idempotent-Replayed",
			func(ctx context.Context, t *tester) error {
				s, p, err := t.pendingAsk(ctx)
				if err != nil {
					return err
				}
				r := t.answerReq(s.SessionID, p.RequestID, "allow")
				r.Header = map[string]string{"Idempotency-Key": t.key("answer")}
				first, err := t.Do(ctx, r)
				if err != nil {
					return err
				}
				if err := first.Expect(http.StatusOK); err != nil {
					return err
				}
				if _, err := t.waitTurn(ctx, s.SessionID, 1, false); err != nil {
					return err
				}
				again, err := t.Do(ctx, r)
				if err != nil {
					return err
				}
				if err := again.Expect(http.StatusOK); err != nil {
					return err
				}
				if d := jsonBodyDiff(again.Body, first.Body); d != "" {
					return again.Failf("the replay differs from the first answer: %s", d)
				}
				if !strings.EqualFold(again.Header.Get("Idempotent-Replayed"), "true") {
					return again.Failf("the replay lacks Idempotent-Replayed: true")
				}
				return nil
			}, NeedScripted, NeedPermissions, NeedIdempotency).traces("REQ-IDEM-001"),
		def("IDEM-019", Must, "cancelTurnAt",
			"cancelTurnAt repeated with its Idempotency-Key after later turns ran answers the first 200 (the cancelled turn) again, not 409 turn_ended",
			func(ctx context.Context, t *tester) error {
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				r := request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns/1/cancel", s.SessionID), Header: map[string]string{"Idempotency-Key": t.key("cancel-at")}}
				resp, err := t.Do(ctx, r)
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				if _, err := awaitWithin(ctx, first, cancelWait, "cancelTurnAt answered"); err != nil {
					return err
				}
				if _, err := t.turn(ctx, s.SessionID, script("", step{0, "text", "later"})); err != nil {
					return err
				}
				again, err := t.Do(ctx, r)
				if err != nil {
					return err
				}
				if err := again.Expect(http.StatusOK); err != nil {
					return err
				}
				if d := jsonBodyDiff(again.Body, resp.Body); d != "" {
					return again.Failf("the replay differs from the first answer: %s", d)
				}
				return nil
			}, NeedScripted, NeedIdempotency).traces("REQ-IDEM-001"),
	}
}
