package conformance

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

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
				}
				return nil
			}),
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
					if got := textOf(r.Events); got != prompt {
						return Failf("sendTurn: text %q, want the prompt %q", got, prompt)
					}
				}
				return nil
			}),
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
			}),
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
			}),
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
			}),
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
			}),
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
			}, NeedScripted),
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
				if r.DurationMs > 10000 {
					return resp.Failf("the turn ran %d ms, far beyond its timeout_ms of 300", r.DurationMs)
				}
				return nil
			}, NeedScripted),
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
			}),
	}
}
