package conformance

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// runningTurn starts the long script as turn 1 of a fresh scripted session
// and waits until it runs.
func (t *tester) runningTurn(ctx context.Context) (gen.Session, <-chan asyncResult, error) {
	s, err := t.scriptedSession(ctx)
	if err != nil {
		return s, nil, err
	}
	ch := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": longScript()})
	if _, err := t.waitTurn(ctx, s.SessionID, 1, true); err != nil {
		return s, ch, err
	}
	return s, ch, nil
}

// waitTurnCount polls getSession until the session counts at least n turns
// (queued ones included), within a few seconds: a check that enqueues turns
// goes on only once the server has accepted them. after says what the check
// did, for the failure message.
func (t *tester) waitTurnCount(ctx context.Context, id string, n int32, after string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := t.session(ctx, id)
		if err != nil {
			return err
		}
		if got.TurnCount >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return Failf("turn_count %d after %s, want %d", got.TurnCount, after, n)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// cancel sends cancelTurn and decodes its 200 answer.
func (t *tester) cancel(ctx context.Context, id string) (gen.CancelTurnResult, *response, error) {
	resp, err := t.post(ctx, path("/v1/sessions/%s/cancel", id), nil)
	if err != nil {
		return gen.CancelTurnResult{}, nil, err
	}
	r, err := expectJSON[gen.CancelTurnResult](resp, http.StatusOK)
	return r, resp, err
}

// expectCancelled fails unless a turn ended cancelled by who.
func expectCancelled(what string, r gen.TurnResult, who gen.CancelledBy) error {
	if r.StopReason != gen.StopReasonCancelled || r.CancelledBy != who {
		return Failf("%s: stop_reason %q, cancelled_by %q; want cancelled, %s", what, r.StopReason, r.CancelledBy, who)
	}
	if r.DurationMs >= 20000 {
		return Failf("%s: the turn ran %d ms: it was not ended when cancelled", what, r.DurationMs)
	}
	return nil
}

func busyChecks() []*check {
	return []*check{
		def("BUSY-001", Must, "sendTurn",
			"while a turn runs, another turn with busy_policy reject (or none: reject is the default) answers 409 turn_in_progress and is not counted",
			func(ctx context.Context, t *tester) error {
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				for _, body := range []map[string]any{
					{"prompt": script("", step{0, "text", "x"})},
					{"prompt": script("", step{0, "text", "x"}), "busy_policy": "reject"},
				} {
					resp, err := t.refusedTurn(ctx, s.SessionID, body)
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeTurnInProgress); err != nil {
						return err
					}
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				if _, err := awaitWithin(ctx, first, cancelWait, "cancelTurn answered"); err != nil {
					return err
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.TurnCount != 1 {
					return Failf("getSession: turn_count %d, want 1 (rejected turns are not accepted)", got.TurnCount)
				}
				return nil
			}, NeedScripted).traces("REQ-BUSY-002", "REQ-SESS-015"),
		def("BUSY-002", Must, "sendTurn",
			"a turn with busy_policy enqueue waits and runs after the running turn: both complete, in order",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				first := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "first"}, step{500, "text", "first, later"})})
				if _, err := t.waitTurn(ctx, s.SessionID, 1, true); err != nil {
					return err
				}
				second := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "second"}), "busy_policy": "enqueue"})
				r1, err := await(ctx, first)
				if err != nil {
					return err
				}
				r2, err := await(ctx, second)
				if err != nil {
					return err
				}
				switch {
				case r1.StopReason != gen.StopReasonEndTurn || r2.StopReason != gen.StopReasonEndTurn:
					return Failf("stop reasons %q and %q, want end_turn for both", r1.StopReason, r2.StopReason)
				case r1.TurnIndex != 1 || r2.TurnIndex != 2:
					return Failf("turn indexes %d and %d, want 1 and 2", r1.TurnIndex, r2.TurnIndex)
				case textOf(r2.Events) != "second":
					return Failf("the queued turn's text is %q, want %q", textOf(r2.Events), "second")
				case r2.FirstSeq <= r1.LastSeq:
					return Failf("the queued turn's first seq %d is not after the running turn's last seq %d", r2.FirstSeq, r1.LastSeq)
				case r2.StartedAt.Before(r1.EndedAt.Add(-time.Millisecond)):
					return Failf("the queued turn started at %s, before the running turn ended at %s", r2.StartedAt, r1.EndedAt)
				}
				return nil
			}, NeedScripted, NeedEnqueue).traces("REQ-BUSY-003", "REQ-BUSY-001"),
		def("BUSY-003", Must, "sendTurn",
			"a turn with busy_policy interrupt ends the running turn (stop_reason cancelled, cancelled_by interrupt) and runs next",
			func(ctx context.Context, t *tester) error {
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				second := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "interrupter"}), "busy_policy": "interrupt"})
				r1, err := awaitWithin(ctx, first, cancelWait, "a turn with busy_policy interrupt arrived")
				if err != nil {
					return err
				}
				if err := expectCancelled("the interrupted turn", r1, gen.CancelledByInterrupt); err != nil {
					return err
				}
				r2, err := await(ctx, second)
				if err != nil {
					return err
				}
				if r2.StopReason != gen.StopReasonEndTurn || textOf(r2.Events) != "interrupter" {
					return Failf("the interrupting turn: stop_reason %q, text %q; want end_turn, %q", r2.StopReason, textOf(r2.Events), "interrupter")
				}
				return nil
			}, NeedScripted, NeedInterrupt).traces("REQ-BUSY-004", "REQ-TURN-014"),
		def("BUSY-004", Must, "cancelTurn",
			"cancelTurn ends the running turn: 200 with cancelled true and its turn_index; the turn ends (and getTurn shows it) cancelled by cancel_request",
			func(ctx context.Context, t *tester) error {
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				c, resp, err := t.cancel(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if !c.Cancelled || c.TurnIndex != 1 {
					return resp.Failf("cancelled %v, turn_index %d; want true, 1", c.Cancelled, c.TurnIndex)
				}
				r, err := awaitWithin(ctx, first, cancelWait, "cancelTurn answered")
				if err != nil {
					return err
				}
				if err := expectCancelled("the cancelled turn", r, gen.CancelledByCancelRequest); err != nil {
					return err
				}
				tr, err := t.getTurn(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if tr.Status != gen.TurnStatusCompleted || tr.StopReason != gen.StopReasonCancelled || tr.CancelledBy != gen.CancelledByCancelRequest {
					return Failf("getTurn after the cancel: status %q, stop_reason %q, cancelled_by %q; want completed, cancelled, cancel_request", tr.Status, tr.StopReason, tr.CancelledBy)
				}
				return nil
			}, NeedScripted).traces("REQ-BUSY-005", "REQ-AGT-004", "REQ-TURN-014"),
		def("BUSY-005", Must, "cancelTurn",
			"cancelTurn is idempotent: with no turn running it answers 200 with cancelled false, every time",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				for i := 0; i < 2; i++ {
					c, resp, err := t.cancel(ctx, s.SessionID)
					if err != nil {
						return err
					}
					if c.Cancelled || c.SessionID != s.SessionID {
						return resp.Failf("cancelled %v, session_id %q; want false, %q", c.Cancelled, c.SessionID, s.SessionID)
					}
					if c.TurnIndex != 0 {
						return resp.Failf("turn_index %d although no turn was cancelled", c.TurnIndex)
					}
				}
				if _, err := t.turn(ctx, s.SessionID, "after the cancels"); err != nil {
					return err
				}
				c, resp, err := t.cancel(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if c.Cancelled {
					return resp.Failf("cancelled true after the turn had ended")
				}
				return nil
			}).traces("REQ-BUSY-006"),
		def("BUSY-006", Must, "closeSession",
			"closeSession cancels the running turn (cancelled_by session_closed) and, with enqueue, every queued turn, and completes the session",
			func(ctx context.Context, t *tester) error {
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				var queued <-chan asyncResult
				if t.env.has(NeedEnqueue) {
					queued = t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "queued"}), "busy_policy": "enqueue"})
					if err := t.waitTurnCount(ctx, s.SessionID, 2, "enqueueing a turn"); err != nil {
						return err
					}
				}
				resp, err := t.Do(ctx, opClose.req(s.SessionID))
				if err != nil {
					return err
				}
				res, err := expectJSON[gen.CloseSessionResult](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if res.Session.Status != gen.SessionStatusCompleted {
					return resp.Failf("session.status %q, want completed", res.Session.Status)
				}
				r, err := awaitWithin(ctx, first, cancelWait, "closeSession answered")
				if err != nil {
					return err
				}
				if err := expectCancelled("the running turn", r, gen.CancelledBySessionClosed); err != nil {
					return err
				}
				if queued == nil {
					return nil
				}
				q, err := awaitWithin(ctx, queued, cancelWait, "closeSession answered")
				if err != nil {
					return err
				}
				if q.StopReason != gen.StopReasonCancelled || q.CancelledBy != gen.CancelledBySessionClosed || len(q.Events) != 0 {
					return Failf("the queued turn: stop_reason %q, cancelled_by %q, %d events; want cancelled by session_closed before it ran", q.StopReason, q.CancelledBy, len(q.Events))
				}
				return nil
			}, NeedScripted).traces("REQ-SESS-007", "REQ-TURN-014"),
		def("BUSY-007", Must, "getSession",
			"a session's activity is running while a turn runs and idle once it ended",
			func(ctx context.Context, t *tester) error {
				start := time.Now()
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				// A turn quiet for longer than stall_after_ms is rightly
				// stalled; the long script is quiet from its first event on.
				quiet := time.Since(start) > time.Duration(t.env.caps.Limits.StallAfterMs)*time.Millisecond
				if got.Activity != gen.ActivityRunning && !(quiet && got.Activity == gen.ActivityStalled) {
					return Failf("getSession: activity %q while a turn runs, want running", got.Activity)
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				if _, err := awaitWithin(ctx, first, cancelWait, "cancelTurn answered"); err != nil {
					return err
				}
				got, err = t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.Activity != gen.ActivityIdle {
					return Failf("getSession: activity %q after the turn ended, want idle", got.Activity)
				}
				return nil
			}, NeedScripted).traces("REQ-ACT-001"),
		def("BUSY-008", Must, "sendTurn",
			"with limits.max_queued_turns turns waiting, one more enqueued turn answers 409 turn_queue_full",
			func(ctx context.Context, t *tester) error {
				limit := int(t.env.caps.Limits.MaxQueuedTurns)
				if limit < 1 || limit > 32 {
					return Skipf("max_queued_turns is %d: the check fills queues of 1 to 32 turns", limit)
				}
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				var wg sync.WaitGroup
				queued := make([]<-chan asyncResult, limit)
				for i := range queued {
					queued[i] = t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "queued"}), "busy_policy": "enqueue"})
				}
				// Wait until the server counts every queued turn.
				if err := t.waitTurnCount(ctx, s.SessionID, int32(limit+1), "enqueueing "+strconv.Itoa(limit)+" turns"); err != nil {
					return err
				}
				var failure error
				resp, err := t.refusedTurn(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "one too many"}), "busy_policy": "enqueue"})
				if err != nil {
					failure = err
				} else {
					failure = resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeTurnQueueFull)
				}
				// Closing cancels the running and the queued turns.
				if _, err := t.Do(ctx, opClose.req(s.SessionID)); err != nil {
					return err
				}
				for _, ch := range append(queued, first) {
					wg.Add(1)
					go func() { defer wg.Done(); <-ch }()
				}
				wg.Wait()
				return failure
			}, NeedScripted, NeedEnqueue).traces("REQ-BUSY-008"),
		def("BUSY-009", Must, "cancelTurn sendTurn",
			"cancelTurn leaves queued turns alone: the running turn ends cancelled, the queued one then runs to end_turn",
			func(ctx context.Context, t *tester) error {
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				second := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "queued"}), "busy_policy": "enqueue"})
				// The queued turn must be accepted before the cancel.
				if err := t.waitTurnCount(ctx, s.SessionID, 2, "enqueueing a turn"); err != nil {
					return err
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				r1, err := awaitWithin(ctx, first, cancelWait, "cancelTurn answered")
				if err != nil {
					return err
				}
				if err := expectCancelled("the running turn", r1, gen.CancelledByCancelRequest); err != nil {
					return err
				}
				r2, err := await(ctx, second)
				if err != nil {
					return err
				}
				if r2.StopReason != gen.StopReasonEndTurn {
					return Failf("the queued turn: stop_reason %q, want end_turn", r2.StopReason)
				}
				return nil
			}, NeedScripted, NeedEnqueue).traces("REQ-BUSY-007"),
		def("BUSY-010", Must, "getSession",
			"a session whose running turn has shown no event for longer than limits.stall_after_ms has activity stalled (checked when the threshold is at most 3 s)",
			func(ctx context.Context, t *tester) error {
				stall := time.Duration(t.env.caps.Limits.StallAfterMs) * time.Millisecond
				if stall <= 0 || stall > maxStallWait {
					return Skipf("stall_after_ms is %d: the check waits for thresholds of at most %s", t.env.caps.Limits.StallAfterMs, maxStallWait)
				}
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				since := time.Now() // the turn's first event came before this
				var last gen.Session
				for deadline := since.Add(stall + 2*time.Second); time.Now().Before(deadline); {
					if last, err = t.session(ctx, s.SessionID); err != nil {
						return err
					}
					if last.Activity == gen.ActivityStalled {
						break
					}
					if err := sleep(ctx, 25*time.Millisecond); err != nil {
						return err
					}
				}
				failure := error(nil)
				if last.Activity != gen.ActivityStalled {
					failure = Failf("getSession: activity %q %s after the turn's last event, want stalled (stall_after_ms %d)", last.Activity, time.Since(since).Round(time.Millisecond), stall.Milliseconds())
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				if _, err := awaitWithin(ctx, first, cancelWait, "cancelTurn answered"); err != nil {
					return err
				}
				return failure
			}, NeedScripted).traces("REQ-ACT-002"),
	}
}

// maxStallWait bounds the stall threshold BUSY-010 waits for.
const maxStallWait = 3 * time.Second
