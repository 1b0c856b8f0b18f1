package conformance

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// checkResult checks a TurnResult's own consistency.
func checkResult(what string, r gen.TurnResult, sessionID string, index int32) error {
	switch {
	case r.SessionID != sessionID:
		return Failf("%s: session_id %q, want %q", what, r.SessionID, sessionID)
	case index > 0 && r.TurnIndex != index:
		return Failf("%s: turn_index %d, want %d", what, r.TurnIndex, index)
	case int(r.EventCount) != len(r.Events):
		return Failf("%s: event_count %d but %d events", what, r.EventCount, len(r.Events))
	case r.EndedAt.Before(r.StartedAt):
		return Failf("%s: ended_at %s is before started_at %s", what, r.EndedAt, r.StartedAt)
	}
	if len(r.Events) > 0 {
		first, last := r.Events[0].Seq, r.Events[len(r.Events)-1].Seq
		if r.FirstSeq != first || r.LastSeq != last {
			return Failf("%s: first_seq/last_seq %d/%d, but the events run %d..%d", what, r.FirstSeq, r.LastSeq, first, last)
		}
		return checkSeqs(what, r.Events, first, r.TurnIndex)
	}
	return nil
}

func turnChecks() []*check {
	return []*check{
		def("TURN-001", Must, "sendTurn",
			"sendTurn answers 200 with a TurnResult: turn_index 1, stop_reason end_turn, events numbered from seq 1, consistent counts and times",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				r, err := t.turn(ctx, s.SessionID, "hello")
				if err != nil {
					return err
				}
				if err := checkResult("sendTurn", r, s.SessionID, 1); err != nil {
					return err
				}
				switch {
				case r.StopReason != gen.StopReasonEndTurn:
					return Failf("sendTurn: stop_reason %q, want end_turn", r.StopReason)
				case len(r.Events) == 0:
					return Failf("sendTurn: the echo agent's turn has no events")
				case r.Events[0].Seq != 1:
					return Failf("sendTurn: the first event of a new session has seq %d, want 1", r.Events[0].Seq)
				case r.CancelledBy != "":
					return Failf("sendTurn: cancelled_by %q on a turn that ended %s: only a cancelled turn says who cancelled it", r.CancelledBy, r.StopReason)
				}
				return nil
			}).traces("REQ-TURN-002", "REQ-TURN-015", "REQ-EVT-005", "REQ-TURN-001"),
		def("TURN-002", Must, "sendTurn",
			"the echo agent's turn text (its text events' content, in order) equals the prompt",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for _, prompt := range []string{"hello", "Grüße, 世界! 👋\nsecond line\ttab", `{"not":"a script"}`} {
					r, err := t.turn(ctx, s.SessionID, prompt)
					if err != nil {
						return err
					}
					if len(r.Events) != 1 || r.Events[0].Type != gen.EventTypeText {
						return Failf("sendTurn: %d events (types %v), want exactly one text event", len(r.Events), eventTypes(r.Events))
					}
					if got := textOf(r.Events); got != prompt {
						return Failf("sendTurn: text %q, want the prompt %q", got, prompt)
					}
					if r.StopReason != gen.StopReasonEndTurn {
						return Failf("sendTurn: stop_reason %q, want end_turn", r.StopReason)
					}
				}
				return nil
			}).traces("REQ-AGT-001"),
		def("TURN-003", Must, "sendTurn getSession",
			"turn_index counts 1, 2, 3; the session's turn_count, last_turn_at and last_event_seq follow; activity is idle between turns",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var last gen.TurnResult
				for i := int32(1); i <= 3; i++ {
					if last, err = t.turn(ctx, s.SessionID, "turn "+strconv.Itoa(int(i))); err != nil {
						return err
					}
					if last.TurnIndex != i {
						return Failf("turn %d: turn_index %d", i, last.TurnIndex)
					}
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				switch {
				case got.TurnCount != 3:
					return Failf("getSession: turn_count %d after 3 turns", got.TurnCount)
				case got.LastTurnAt.IsZero():
					return Failf("getSession: last_turn_at is missing after 3 turns")
				case got.LastTurnAt.Before(got.CreatedAt):
					return Failf("getSession: last_turn_at %s is before created_at %s", got.LastTurnAt, got.CreatedAt)
				case got.LastEventSeq != last.LastSeq:
					return Failf("getSession: last_event_seq %d, want the last turn's last_seq %d", got.LastEventSeq, last.LastSeq)
				case got.Activity != gen.ActivityIdle:
					return Failf("getSession: activity %q with no turn running, want idle", got.Activity)
				}
				return nil
			}).traces("REQ-TURN-018", "REQ-SESS-015", "REQ-SESS-018", "REQ-ACT-001"),
		def("TURN-004", Must, "listTurns getTurn",
			"listTurns lists the turns oldest first, completed with their prompt; getTurn returns a turn with the same events sendTurn returned",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var results []gen.TurnResult
				for _, p := range []string{"one", "two"} {
					r, err := t.turn(ctx, s.SessionID, p)
					if err != nil {
						return err
					}
					results = append(results, r)
				}
				turns, _, err := listAll[gen.Turn](ctx, t, path("/v1/sessions/%s/turns", s.SessionID), nil, 0, 5)
				if err != nil {
					return err
				}
				raw, _, err := listAll[map[string]any](ctx, t, path("/v1/sessions/%s/turns", s.SessionID), nil, 0, 5)
				if err != nil {
					return err
				}
				for _, it := range raw {
					if _, ok := it["events"]; ok {
						return Failf("listTurns: turn %v has an events member; list items carry no events", it["turn_index"])
					}
				}
				if len(turns) != 2 {
					return Failf("listTurns: %d turns, want 2", len(turns))
				}
				for i, tr := range turns {
					want := results[i]
					switch {
					case tr.TurnIndex != want.TurnIndex || tr.Prompt != []string{"one", "two"}[i]:
						return Failf("listTurns: item %d is turn %d %q, want turn %d %q (oldest first)", i, tr.TurnIndex, tr.Prompt, want.TurnIndex, []string{"one", "two"}[i])
					case tr.Status != gen.TurnStatusCompleted:
						return Failf("listTurns: turn %d status %q, want completed", tr.TurnIndex, tr.Status)
					case tr.StopReason != want.StopReason:
						return Failf("listTurns: turn %d stop_reason %q, want %q", tr.TurnIndex, tr.StopReason, want.StopReason)
					case int(tr.EventCount) != len(want.Events):
						return Failf("listTurns: turn %d event_count %d, want %d", tr.TurnIndex, tr.EventCount, len(want.Events))
					}
				}
				got, err := t.getTurn(ctx, s.SessionID, 2)
				if err != nil {
					return err
				}
				if got.Events == nil {
					return Failf("getTurn: no events member")
				}
				if d := jsonDiff(got.Events, results[1].Events); d != "" {
					return Failf("getTurn events differ from sendTurn's: %s", d)
				}
				return nil
			}).traces("REQ-TURN-008", "REQ-TURN-009"),
		def("TURN-005", Must, "getTurn",
			"getTurn for a turn that does not exist answers 404 not_found",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if _, err := t.turn(ctx, s.SessionID, "only turn"); err != nil {
					return err
				}
				for _, idx := range []int{2, 999999} {
					resp, err := t.get(ctx, path("/v1/sessions/%s/turns/%d", s.SessionID, idx), nil)
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusNotFound, gen.ProblemCodeNotFound); err != nil {
						return err
					}
				}
				return nil
			}).traces("REQ-ERR-011"),
		def("TURN-006", Must, "listEvents",
			"listEvents returns the session's events with seq 1..n without gaps across turns; after= and turn_index= filter them",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				var all []gen.Event
				for _, p := range []string{"a", "b", "c"} {
					r, err := t.turn(ctx, s.SessionID, p)
					if err != nil {
						return err
					}
					all = append(all, r.Events...)
				}
				p := path("/v1/sessions/%s/events", s.SessionID)
				got, _, err := listAll[gen.Event](ctx, t, p, nil, 0, 10)
				if err != nil {
					return err
				}
				if err := checkSeqs("listEvents", got, 1, 0); err != nil {
					return err
				}
				if d := jsonDiff(got, all); d != "" {
					return Failf("listEvents differs from the turns' events: %s", d)
				}
				after := all[0].Seq
				got, _, err = listAll[gen.Event](ctx, t, p, url.Values{"after": {strconv.FormatInt(after, 10)}}, 0, 10)
				if err != nil {
					return err
				}
				if d := jsonDiff(got, all[1:]); d != "" {
					return Failf("listEvents?after=%d: %s", after, d)
				}
				got, _, err = listAll[gen.Event](ctx, t, p, url.Values{"turn_index": {"2"}}, 0, 10)
				if err != nil {
					return err
				}
				var want []gen.Event
				for _, e := range all {
					if e.TurnIndex == 2 {
						want = append(want, e)
					}
				}
				if d := jsonDiff(got, want); d != "" {
					return Failf("listEvents?turn_index=2: %s", d)
				}
				return nil
			}).traces("REQ-EVT-002", "REQ-EVT-005", "REQ-EVT-003"),
		def("TURN-007", Must, "sendTurn",
			"the scripted agent plays its AgentScript: the events in order, then the script's stop_reason",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				prompt := script("max_tokens",
					step{0, "thinking", "planning"},
					step{10, "text", "Hello, "},
					step{0, "plan", "step 1"},
					step{10, "text", "world"},
				)
				r, err := t.turn(ctx, s.SessionID, prompt)
				if err != nil {
					return err
				}
				if err := checkResult("sendTurn", r, s.SessionID, 1); err != nil {
					return err
				}
				var got [][2]string
				for _, e := range r.Events {
					got = append(got, [2]string{string(e.Type), e.Content})
				}
				want := [][2]string{{"thinking", "planning"}, {"text", "Hello, "}, {"plan", "step 1"}, {"text", "world"}}
				if d := jsonDiff(got, want); d != "" {
					return Failf("scripted events (type, content): %s", d)
				}
				if r.StopReason != gen.StopReasonMaxTokens {
					return Failf("stop_reason %q, want the script's max_tokens", r.StopReason)
				}
				return nil
			}, NeedScripted).traces("REQ-AGT-002"),
		def("TURN-008", Must, "sendTurn",
			"a turn that outlives its timeout_ms ends with stop_reason cancelled and cancelled_by timeout",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": longScript(), "timeout_ms": 300}, nil)
				if err != nil {
					return err
				}
				r, err := expectJSON[gen.TurnResult](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if r.StopReason != gen.StopReasonCancelled || r.CancelledBy != gen.CancelledByTimeout {
					return resp.Failf("stop_reason %q, cancelled_by %q; want cancelled, timeout", r.StopReason, r.CancelledBy)
				}
				if r.DurationMs > 2000 {
					return resp.Failf("the turn ran %d ms, far beyond its timeout_ms of 300", r.DurationMs)
				}
				return nil
			}, NeedScripted).traces("REQ-TURN-012", "REQ-TURN-014"),
		def("TURN-009", Must, "sendTurn",
			"timeout_ms above limits.max_turn_timeout_ms answers 400 invalid_request and starts no turn (it is never silently capped); the maximum itself is accepted",
			func(ctx context.Context, t *tester) error {
				limit := int64(t.env.caps.Limits.MaxTurnTimeoutMs)
				if limit < 1 {
					return Skipf("max_turn_timeout_ms is %d: there is no largest timeout to exceed", limit)
				}
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": "over the limit", "timeout_ms": limit + 1}, nil)
				if err != nil {
					return err
				}
				if err := resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest); err != nil {
					return err
				}
				resp, err = t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": "at the limit", "timeout_ms": limit}, nil)
				if err != nil {
					return err
				}
				r, err := expectJSON[gen.TurnResult](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if r.TurnIndex != 1 {
					return resp.Failf("turn_index %d, want 1: the refused turn must not count", r.TurnIndex)
				}
				return nil
			}).traces("REQ-TURN-013"),
		def("TURN-010", Must, "sendTurn",
			"the scripted agent waits each step's delay_ms, ends with end_turn when the script names no stop_reason, and reports the script's usage",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				prompt := `{"steps":[{"delay_ms":150,"event":{"type":"text","content":"after a pause"}},{"event":{"type":"thinking","content":"at once"}},{"delay_ms":150}],"usage":{"input_tokens":3,"output_tokens":5}}`
				start := time.Now()
				r, err := t.turn(ctx, s.SessionID, prompt)
				if err != nil {
					return err
				}
				elapsed := time.Since(start)
				switch {
				case r.StopReason != gen.StopReasonEndTurn:
					return Failf("stop_reason %q, want end_turn (the script names none)", r.StopReason)
				case elapsed < 300*time.Millisecond:
					return Failf("the turn answered after %s although its steps wait 300 ms in all", elapsed.Round(time.Millisecond))
				case r.Usage.InputTokens == nil || *r.Usage.InputTokens != 3 || r.Usage.OutputTokens == nil || *r.Usage.OutputTokens != 5:
					return Failf("usage %s, want the script's {input_tokens: 3, output_tokens: 5}", mustJSON(r.Usage))
				}
				if d := jsonDiff(eventTypes(r.Events), []string{"text", "thinking"}); d != "" {
					return Failf("event types %s (a step without event emits nothing)", d)
				}
				return nil
			}, NeedScripted).traces("REQ-AGT-002"),
		def("TURN-011", Must, "sendTurn",
			"a script's events arrive with every member the script gave (content, tool_call_id, name, args, result, status, data) unchanged",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				given := []map[string]any{
					{"type": "plan", "content": "1. read 2. answer", "data": map[string]any{"entries": []any{"read", "answer"}}},
					{"type": "tool_call", "tool_call_id": "call_1", "name": "read_file", "args": map[string]any{"path": "a.txt", "lines": 10.0}, "status": "in_progress"},
					{"type": "tool_result", "tool_call_id": "call_1", "name": "read_file", "result": map[string]any{"bytes": 42.0, "ok": true}, "status": "completed"},
					{"type": "tool_result", "tool_call_id": "call_2", "result": "a plain string result", "status": "failed"},
					{"type": "text", "content": "done", "data": map[string]any{"n": 1.0}},
				}
				var steps []any
				for _, e := range given {
					steps = append(steps, map[string]any{"event": e})
				}
				prompt := string(mustJSON(map[string]any{"steps": steps}))
				resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": prompt}, nil)
				if err != nil {
					return err
				}
				if err := resp.Expect(http.StatusOK); err != nil {
					return err
				}
				var r struct {
					Events []map[string]any `json:"events"`
				}
				if err := resp.Decode(&r); err != nil {
					return err
				}
				if len(r.Events) != len(given) {
					return resp.Failf("%d events, want the script's %d", len(r.Events), len(given))
				}
				for i, e := range r.Events {
					got := map[string]any{}
					for k, v := range e {
						switch k {
						case "seq", "turn_index", "created_at":
						default:
							got[k] = v
						}
					}
					if d := jsonDiff(got, given[i]); d != "" {
						return resp.Failf("event %d: %s", i+1, d)
					}
				}
				return nil
			}, NeedScripted).traces("REQ-AGT-006"),
		def("TURN-012", Must, "sendTurn",
			"a turn sent without timeout_ms ends after limits.max_turn_timeout_ms with stop_reason cancelled and cancelled_by timeout (checked when the limit is at most 5 s)",
			func(ctx context.Context, t *tester) error {
				limit := time.Duration(t.env.caps.Limits.MaxTurnTimeoutMs) * time.Millisecond
				if limit > maxDefaultTimeoutWait || limit <= 0 {
					return Skipf("max_turn_timeout_ms is %d: the check waits for turns of at most %s", t.env.caps.Limits.MaxTurnTimeoutMs, maxDefaultTimeoutWait)
				}
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				start := time.Now()
				r, err := t.turn(ctx, s.SessionID, longScript())
				if err != nil {
					return err
				}
				elapsed := time.Since(start)
				switch {
				case r.StopReason != gen.StopReasonCancelled || r.CancelledBy != gen.CancelledByTimeout:
					return Failf("stop_reason %q, cancelled_by %q after %s; want cancelled by timeout", r.StopReason, r.CancelledBy, elapsed.Round(time.Millisecond))
				case elapsed < limit-25*time.Millisecond:
					return Failf("the turn was ended by timeout after %s, before max_turn_timeout_ms (%s), its default timeout", elapsed.Round(time.Millisecond), limit)
				case elapsed > limit+cancelWait:
					return Failf("the turn ran %s, far beyond max_turn_timeout_ms (%s)", elapsed.Round(time.Millisecond), limit)
				}
				return nil
			}, NeedScripted).traces("REQ-TURN-010"),
		def("TURN-013", Must, "sendTurn",
			"sendTurn without Accept, with Accept: */* and with application/json preferred over text/event-stream answers 200 application/json with the TurnResult",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for i, r := range []request{
					{NoAccept: true},
					{Accept: "*/*"},
					{Accept: "application/json"},
					{Accept: "application/json, text/event-stream;q=0.5"},
				} {
					r.Method, r.Path, r.JSON = http.MethodPost, path("/v1/sessions/%s/turns", s.SessionID), map[string]any{"prompt": "negotiated"}
					resp, err := t.Do(ctx, r)
					if err != nil {
						return err
					}
					accept := r.Accept
					if r.NoAccept {
						accept = "(none)"
					}
					if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.Status == http.StatusOK && mt != "application/json" {
						return resp.Failf("Accept %s: Content-Type %q, want application/json (the default)", accept, resp.Header.Get("Content-Type"))
					}
					tr, err := expectJSON[gen.TurnResult](resp, http.StatusOK)
					if err != nil {
						return err
					}
					if tr.TurnIndex != int32(i+1) || tr.StopReason == "" {
						return resp.Failf("Accept %s: turn_index %d, stop_reason %q; want turn %d, ended", accept, tr.TurnIndex, tr.StopReason, i+1)
					}
				}
				return nil
			}).traces("REQ-TURN-002"),
		def("TURN-014", Must, "getCapabilities sendTurn",
			"an agent listed with a script plays that script on every turn, whatever the prompt",
			func(ctx context.Context, t *tester) error {
				var agent *gen.AgentInfo
				for i, a := range t.env.caps.Agents {
					if len(a.Script.Steps) > 0 {
						agent = &t.env.caps.Agents[i]
						break
					}
				}
				if agent == nil {
					return NotApplicablef("getCapabilities lists no agent with a script")
				}
				var total int64
				for _, st := range agent.Script.Steps {
					total += int64(st.DelayMs)
				}
				if total > 5000 {
					return Skipf("agent %s's script waits %d ms: the check plays scripts of at most 5 s", agent.Name, total)
				}
				s, err := t.create(ctx, t.sessionBody(agent.Name), asPrimary)
				if err != nil {
					return err
				}
				var want [][2]string
				for _, st := range agent.Script.Steps {
					if st.Event.Type != "" {
						want = append(want, [2]string{string(st.Event.Type), st.Event.Content})
					}
				}
				stop := agent.Script.StopReason
				if stop == "" {
					stop = gen.StopReasonEndTurn
				}
				for _, prompt := range []string{"anything at all", `{"steps":[{"event":{"type":"text","content":"not this"}}]}`} {
					r, err := t.turn(ctx, s.SessionID, prompt)
					if err != nil {
						return err
					}
					var got [][2]string
					for _, e := range r.Events {
						got = append(got, [2]string{string(e.Type), e.Content})
					}
					if d := jsonDiff(got, want); d != "" {
						return Failf("agent %s with prompt %q: events (type, content) %s: it must play its own script", agent.Name, prompt, d)
					}
					if r.StopReason != stop {
						return Failf("agent %s: stop_reason %q, want its script's %q", agent.Name, r.StopReason, stop)
					}
				}
				return nil
			}).traces("REQ-AGT-005"),
		def("TURN-015", Must, "sendTurn getTurn",
			"a turn keeps its busy_policy: reject when none was sent, and the policy sent otherwise",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				bodies := []map[string]any{{"prompt": "default policy"}, {"prompt": "explicit reject", "busy_policy": "reject"}}
				want := []string{"reject", "reject"}
				for _, p := range []struct {
					need Need
					name string
				}{{NeedEnqueue, "enqueue"}, {NeedInterrupt, "interrupt"}} {
					if t.env.has(p.need) {
						bodies = append(bodies, map[string]any{"prompt": "policy " + p.name, "busy_policy": p.name})
						want = append(want, p.name)
					}
				}
				for i, b := range bodies {
					resp, err := t.sendTurn(ctx, s.SessionID, b, nil)
					if err != nil {
						return err
					}
					if _, err := expectJSON[gen.TurnResult](resp, http.StatusOK); err != nil {
						return err
					}
					tr, err := t.getTurn(ctx, s.SessionID, int32(i+1))
					if err != nil {
						return err
					}
					if string(tr.BusyPolicy) != want[i] || tr.Prompt != b["prompt"] {
						return Failf("getTurn %d: busy_policy %q, prompt %q; want %q, %q", i+1, tr.BusyPolicy, tr.Prompt, want[i], b["prompt"])
					}
				}
				return nil
			}).traces("REQ-TURN-011"),
		def("TURN-016", Must, "sendTurn getTurn getSession",
			"a turn's status, stop_reason, duration_ms, started_at and ended_at follow it (queued, running, then completed); its counts match its events; getTurn shows what the TurnResult said; last_turn_at is the newest turn's created_at",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				if t.env.scripted != "" {
					// A turn seen while it runs: not ended, nothing of an end.
					ch := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": longScript()})
					tr, err := t.waitTurn(ctx, s.SessionID, 1, true)
					if err != nil {
						return err
					}
					m, resp, err := t.rawTurn(ctx, s.SessionID, 1)
					if err != nil {
						return err
					}
					if err := expectAbsent(resp, m, "a running turn", "stop_reason", "duration_ms", "ended_at", "cancelled_by"); err != nil {
						return err
					}
					if tr.StartedAt.IsZero() {
						return resp.Failf("a running turn has no started_at")
					}
					var queued <-chan asyncResult
					if t.env.has(NeedEnqueue) {
						// A turn waiting behind it: queued, not started.
						queued = t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "queued"}), "busy_policy": "enqueue"})
						if err := t.waitTurnCount(ctx, s.SessionID, 2, "enqueueing a turn"); err != nil {
							return err
						}
						m, resp, err := t.rawTurn(ctx, s.SessionID, 2)
						if err != nil {
							return err
						}
						if m["status"] != string(gen.TurnStatusQueued) {
							return resp.Failf("a turn waiting behind another has status %v, want queued", m["status"])
						}
						if err := expectAbsent(resp, m, "a queued turn", "started_at", "stop_reason", "duration_ms", "ended_at"); err != nil {
							return err
						}
					}
					if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
						return err
					}
					if _, err := awaitWithin(ctx, ch, cancelWait, "cancelTurn answered"); err != nil {
						return err
					}
					if queued != nil {
						if _, err := await(ctx, queued); err != nil {
							return err
						}
					}
				}
				r, err := t.turn(ctx, s.SessionID, prompt)
				if err != nil {
					return err
				}
				empty := gen.TurnResult{}
				if t.env.scripted != "" {
					if empty, err = t.turn(ctx, s.SessionID, `{"steps":[]}`); err != nil {
						return err
					}
				}
				for _, res := range []gen.TurnResult{r, empty} {
					if res.TurnIndex == 0 {
						continue
					}
					got, err := t.getTurn(ctx, s.SessionID, res.TurnIndex)
					if err != nil {
						return err
					}
					if got.Status != gen.TurnStatusCompleted || got.StopReason == "" || got.DurationMs == nil || got.EndedAt.IsZero() || got.StartedAt.IsZero() {
						return Failf("getTurn %d after it ended: status %q, stop_reason %q, duration_ms set %v, started_at %v, ended_at %v; want completed with all of them",
							res.TurnIndex, got.Status, got.StopReason, got.DurationMs != nil, !got.StartedAt.IsZero(), !got.EndedAt.IsZero())
					}
					if int(got.EventCount) != len(got.Events) {
						return Failf("getTurn %d: event_count %d but %d events", res.TurnIndex, got.EventCount, len(got.Events))
					}
					if got.EventCount > 0 && int64(got.EventCount) != got.LastSeq-got.FirstSeq+1 {
						return Failf("getTurn %d: event_count %d, first_seq %d, last_seq %d: want last_seq - first_seq + 1", res.TurnIndex, got.EventCount, got.FirstSeq, got.LastSeq)
					}
					if got.EventCount == 0 && (got.FirstSeq != 0 || got.LastSeq != 0 || res.FirstSeq != 0 || res.LastSeq != 0) {
						return Failf("turn %d has no events but first_seq/last_seq %d/%d (getTurn) and %d/%d (TurnResult): absent without events", res.TurnIndex, got.FirstSeq, got.LastSeq, res.FirstSeq, res.LastSeq)
					}
					type summary struct {
						Stop           gen.StopReason
						By             gen.CancelledBy
						Duration       int64
						Usage          gen.Usage
						Count          int32
						First, Last    int64
						Started, Ended string
					}
					view := func(stop gen.StopReason, by gen.CancelledBy, d int64, u gen.Usage, n int32, f, l int64, st, en time.Time) summary {
						return summary{stop, by, d, u, n, f, l, st.UTC().Format(time.RFC3339Nano), en.UTC().Format(time.RFC3339Nano)}
					}
					want := view(res.StopReason, res.CancelledBy, res.DurationMs, res.Usage, res.EventCount, res.FirstSeq, res.LastSeq, res.StartedAt, res.EndedAt)
					have := view(got.StopReason, got.CancelledBy, *got.DurationMs, got.Usage, got.EventCount, got.FirstSeq, got.LastSeq, got.StartedAt, got.EndedAt)
					if d := jsonDiff(have, want); d != "" {
						return Failf("getTurn %d differs from the TurnResult sendTurn answered: %s", res.TurnIndex, d)
					}
				}
				newest := r
				if empty.TurnIndex != 0 {
					newest = empty
				}
				tr, err := t.getTurn(ctx, s.SessionID, newest.TurnIndex)
				if err != nil {
					return err
				}
				sess, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if !sess.LastTurnAt.Equal(tr.CreatedAt) {
					return Failf("getSession: last_turn_at %s, want the newest turn's created_at %s", sess.LastTurnAt.Format(time.RFC3339Nano), tr.CreatedAt.Format(time.RFC3339Nano))
				}
				return nil
			}).traces("REQ-TURN-015", "REQ-TURN-017", "REQ-TURN-019", "REQ-SESS-021"),
		def("TURN-017", Must, "sendTurn getTurn",
			"duration_ms is the turn's running time in milliseconds: ended_at - started_at, at least the script's delays and at most the time the client waited",
			func(ctx context.Context, t *tester) error {
				s, err := t.streamingSessionOnly(ctx)
				if err != nil {
					return err
				}
				prompt, minimum := "how long", time.Duration(0)
				if t.env.scripted != "" {
					prompt, minimum = script("", step{0, "text", "start"}, step{250, "text", "end"}), 250*time.Millisecond
				}
				start := time.Now()
				r, err := t.turn(ctx, s.SessionID, prompt)
				if err != nil {
					return err
				}
				elapsed := time.Since(start)
				d := time.Duration(r.DurationMs) * time.Millisecond
				span := r.EndedAt.Sub(r.StartedAt)
				slack := max(precision(r.StartedAt, r.EndedAt), 2*time.Millisecond)
				switch {
				case d < minimum:
					return Failf("duration_ms %d for a turn whose script waits %d ms: not milliseconds", r.DurationMs, minimum.Milliseconds())
				case d > elapsed+5*time.Millisecond:
					return Failf("duration_ms %d, but the client waited only %d ms for the whole turn: not milliseconds", r.DurationMs, elapsed.Milliseconds())
				case d < span-slack || d > span+slack:
					return Failf("duration_ms %d, but ended_at - started_at is %d ms", r.DurationMs, span.Milliseconds())
				}
				return nil
			}).traces("REQ-TURN-016"),
		def("TURN-018", Must, "sendTurn getTurn listEvents",
			"a turn's created_at, started_at and ended_at are on the server's clock and in order, and each event's created_at lies within its turn, never before the event before it",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				before, err := t.serverNow(ctx)
				if err != nil {
					return err
				}
				r, err := t.turn(ctx, s.SessionID, prompt)
				if err != nil {
					return err
				}
				after, err := t.serverNow(ctx)
				if err != nil {
					return err
				}
				tr, err := t.getTurn(ctx, s.SessionID, r.TurnIndex)
				if err != nil {
					return err
				}
				if err := expectBetween("getTurn: created_at", tr.CreatedAt, before, after); err != nil {
					return err
				}
				if err := expectBetween("getTurn: started_at", tr.StartedAt, tr.CreatedAt, after); err != nil {
					return err
				}
				if err := expectBetween("getTurn: ended_at", tr.EndedAt, tr.StartedAt, after); err != nil {
					return err
				}
				prev := tr.StartedAt
				for _, e := range tr.Events {
					if e.TurnIndex != tr.TurnIndex {
						return Failf("event seq %d of turn %d has turn_index %d", e.Seq, tr.TurnIndex, e.TurnIndex)
					}
					if err := expectBetween(fmt.Sprintf("event seq %d: created_at", e.Seq), e.CreatedAt, prev, tr.EndedAt); err != nil {
						return err
					}
					prev = e.CreatedAt
				}
				return nil
			}).traces("REQ-TURN-020", "REQ-EVT-004"),
		def("TURN-019", Must, "sendTurn",
			"a prompt that is not a valid AgentScript (not JSON, an unknown member, an unknown event type) ends the scripted turn with stop_reason error and an error event",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				for _, prompt := range []string{
					"this is not a script",
					`{"steps":[{"event":{"type":"no_such_event_type","content":"x"}}]}`,
					`{"steps":[],"no_such_member":1}`,
				} {
					r, err := t.turn(ctx, s.SessionID, prompt)
					if err != nil {
						return err
					}
					if r.StopReason != gen.StopReasonError {
						return Failf("prompt %q: stop_reason %q, want error", prompt, r.StopReason)
					}
					if n := len(r.Events); n == 0 || r.Events[n-1].Type != gen.EventTypeError {
						return Failf("prompt %q: events %v, want an error event last", prompt, eventTypes(r.Events))
					}
				}
				return nil
			}, NeedScripted).traces("REQ-AGT-003"),
	}
}

// maxDefaultTimeoutWait bounds the default turn timeout TURN-012 waits for.
const maxDefaultTimeoutWait = 5 * time.Second

// eventTypes lists the events' types.
func eventTypes(events []gen.Event) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, string(e.Type))
	}
	return out
}

// rawTurn reads a turn as a generic JSON object.
func (t *tester) rawTurn(ctx context.Context, id string, index int32) (map[string]any, *response, error) {
	resp, err := t.get(ctx, path("/v1/sessions/%s/turns/%d", id, index), nil)
	if err != nil {
		return nil, nil, err
	}
	if err := resp.Expect(http.StatusOK); err != nil {
		return nil, resp, err
	}
	m, err := rawJSON(resp)
	return m, resp, err
}

// streamingSessionOnly is streamingSession without the prompt.
func (t *tester) streamingSessionOnly(ctx context.Context) (gen.Session, error) {
	s, _, err := t.streamingSession(ctx)
	return s, err
}
