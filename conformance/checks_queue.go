package conformance

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// The checks of contract 1.2's queue control (queue positions, queued_turns,
// listTurns by status, cancelTurnAt) and of steering. They belong to the
// busy group.

// turnsIn lists a session's turns in one status.
func (t *tester) turnsIn(ctx context.Context, id string, status gen.TurnStatus) ([]gen.Turn, error) {
	list, _, err := listAll[gen.Turn](ctx, t, path("/v1/sessions/%s/turns", id), url.Values{"status": {string(status)}}, 0, 10)
	return list, err
}

// indexes lists turns' indexes; positions their queue_position.
func indexes(turns []gen.Turn) []int32 {
	out := []int32{}
	for _, tr := range turns {
		out = append(out, tr.TurnIndex)
	}
	return out
}

func positions(turns []gen.Turn) []int32 {
	out := []int32{}
	for _, tr := range turns {
		out = append(out, tr.QueuePosition)
	}
	return out
}

// cancelAt sends cancelTurnAt.
func (t *tester) cancelAt(ctx context.Context, id string, index int32) (*response, error) {
	return t.post(ctx, path("/v1/sessions/%s/turns/%d/cancel", id, index), nil)
}

// expectQueue fails unless the session's queued turns are want, with
// positions 1, 2, ... in that order, and queued_turns counts them.
func (t *tester) expectQueue(ctx context.Context, id string, after string, want ...int32) error {
	queued, err := t.turnsIn(ctx, id, gen.TurnStatusQueued)
	if err != nil {
		return err
	}
	wantPos := []int32{}
	for i := range want {
		wantPos = append(wantPos, int32(i+1))
	}
	if want == nil {
		want = []int32{}
	}
	if d := jsonDiff(indexes(queued), want); d != "" {
		return Failf("after %s listTurns?status=queued: turn indexes %s", after, d)
	}
	if d := jsonDiff(positions(queued), wantPos); d != "" {
		return Failf("after %s the queued turns %v have queue_position %s", after, want, d)
	}
	for _, index := range want {
		tr, err := t.getTurn(ctx, id, index)
		if err != nil {
			return err
		}
		if tr.Status != gen.TurnStatusQueued {
			return Failf("after %s getTurn %d: status %q, want queued", after, index, tr.Status)
		}
	}
	s, err := t.session(ctx, id)
	if err != nil {
		return err
	}
	if s.QueuedTurns != int32(len(want)) {
		return Failf("after %s getSession: queued_turns %d, want %d", after, s.QueuedTurns, len(want))
	}
	return nil
}

// steerable is an agent that can be steered, and whether the scripted one is.
func (t *tester) steerSession(ctx context.Context) (gen.Session, error) {
	if !t.agentInfo(t.env.scripted).Steer {
		return gen.Session{}, NotApplicablef("the scripted agent %q does not declare steer", t.env.scripted)
	}
	return t.scriptedSession(ctx)
}

func queueChecks() []*check {
	return []*check{
		def("BUSY-011", Must, "sendTurn listTurns getTurn getSession cancelTurnAt",
			"queued turns carry queue_position 1, 2, 3 in run order (listTurns?status=queued, getTurn) and queued_turns counts them; cancelTurnAt on a queued one ends it cancelled without events, those behind it move up, and the rest run in order",
			func(ctx context.Context, t *tester) error {
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				if err := t.expectQueue(ctx, s.SessionID, "one running turn"); err != nil {
					return err
				}
				var queued []<-chan asyncResult
				for i := int32(2); i <= 4; i++ {
					queued = append(queued, t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "queued"}), "busy_policy": "enqueue"}))
					if err := t.waitTurnCount(ctx, s.SessionID, i, "enqueueing a turn"); err != nil {
						return err
					}
				}
				if err := t.expectQueue(ctx, s.SessionID, "enqueueing three turns", 2, 3, 4); err != nil {
					return err
				}
				running, err := t.turnsIn(ctx, s.SessionID, gen.TurnStatusRunning)
				if err != nil {
					return err
				}
				if len(running) != 1 || running[0].TurnIndex != 1 || running[0].QueuePosition != 0 {
					return Failf("listTurns?status=running: turns %v with queue_position %v, want turn 1 without one", indexes(running), positions(running))
				}
				resp, err := t.cancelAt(ctx, s.SessionID, 3)
				if err != nil {
					return err
				}
				c, err := expectJSON[gen.Turn](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if c.TurnIndex != 3 || c.Status != gen.TurnStatusCompleted || c.StopReason != gen.StopReasonCancelled || c.CancelledBy != gen.CancelledByCancelRequest || c.EventCount != 0 || c.QueuePosition != 0 {
					return resp.Failf("turn %d: status %q, stop_reason %q, cancelled_by %q, event_count %d, queue_position %d; want turn 3 completed, cancelled, cancel_request, no events, no position", c.TurnIndex, c.Status, c.StopReason, c.CancelledBy, c.EventCount, c.QueuePosition)
				}
				r3, err := awaitWithin(ctx, queued[1], cancelWait, "cancelTurnAt cancelled the queued turn")
				if err != nil {
					return err
				}
				if r3.StopReason != gen.StopReasonCancelled || len(r3.Events) != 0 {
					return Failf("the cancelled queued turn's sendTurn answered stop_reason %q with %d events, want cancelled without events", r3.StopReason, len(r3.Events))
				}
				if err := t.expectQueue(ctx, s.SessionID, "cancelTurnAt 3", 2, 4); err != nil {
					return err
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				if _, err := awaitWithin(ctx, first, cancelWait, "cancelTurn answered"); err != nil {
					return err
				}
				r2, err := await(ctx, queued[0])
				if err != nil {
					return err
				}
				r4, err := await(ctx, queued[2])
				if err != nil {
					return err
				}
				if r2.StopReason != gen.StopReasonEndTurn || r4.StopReason != gen.StopReasonEndTurn || r4.FirstSeq <= r2.LastSeq {
					return Failf("turns 2 and 4 ended %q and %q, seqs %d-%d and %d-%d: want both end_turn, 2 before 4", r2.StopReason, r4.StopReason, r2.FirstSeq, r2.LastSeq, r4.FirstSeq, r4.LastSeq)
				}
				events, err := t.turnEvents(ctx, s.SessionID, 3)
				if err != nil {
					return err
				}
				if len(events) != 0 {
					return Failf("the cancelled queued turn 3 has events %v: it must never run", eventTypes(events))
				}
				if err := t.expectQueue(ctx, s.SessionID, "every turn ended"); err != nil {
					return err
				}
				done, err := t.turnsIn(ctx, s.SessionID, gen.TurnStatusCompleted)
				if err != nil {
					return err
				}
				if d := jsonDiff(indexes(done), []int32{1, 2, 3, 4}); d != "" {
					return Failf("listTurns?status=completed: %s (oldest first)", d)
				}
				if d := jsonDiff(positions(done), []int32{0, 0, 0, 0}); d != "" {
					return Failf("ended turns carry queue_position: %s", d)
				}
				return nil
			}, NeedScripted, NeedEnqueue).traces("REQ-BUSY-012", "REQ-BUSY-016", "REQ-SESS-026", "REQ-TURN-021"),
		def("BUSY-012", Must, "sendTurn",
			"turn.accepted of a queued turn carries its queue_position (1 runs next, then 2); that of a turn that runs at once has none",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				accepted := func(body map[string]any) (gen.TurnAccepted, *eventStream, error) {
					stream, err := t.Stream(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: body})
					if err != nil {
						return gen.TurnAccepted{}, nil, err
					}
					if err := stream.ExpectLive(); err != nil {
						return gen.TurnAccepted{}, stream, err
					}
					st, err := readStream(stream, func(st streamed) bool { return st.accepted != nil })
					if err != nil {
						return gen.TurnAccepted{}, stream, err
					}
					if st.accepted == nil {
						return gen.TurnAccepted{}, stream, stream.Failf("no turn.accepted frame")
					}
					return *st.accepted, stream, nil
				}
				a1, stream, err := accepted(map[string]any{"prompt": longScript()})
				if err != nil {
					return err
				}
				if a1.Status != gen.TurnStatusRunning || a1.QueuePosition != 0 {
					return stream.Failf("the turn that runs at once: status %q, queue_position %d; want running, none", a1.Status, a1.QueuePosition)
				}
				if _, err := t.waitTurn(ctx, s.SessionID, 1, true); err != nil {
					return err
				}
				for want := int32(1); want <= 2; want++ {
					a, stream, err := accepted(map[string]any{"prompt": script("", step{0, "text", "queued"}), "busy_policy": "enqueue"})
					if err != nil {
						return err
					}
					if a.Status != gen.TurnStatusQueued || a.QueuePosition != want || a.TurnIndex != want+1 {
						return stream.Failf("queued turn %d: status %q, queue_position %d; want queued at %d", a.TurnIndex, a.Status, a.QueuePosition, want)
					}
				}
				return t.closeSession(ctx, s.SessionID)
			}, NeedScripted, NeedEnqueue, NeedStreaming).traces("REQ-BUSY-015"),
		def("BUSY-013", Must, "cancelTurnAt getTurn",
			"cancelTurnAt on the running turn ends it as cancelTurn does (stop_reason cancelled, cancelled_by cancel_request) and answers 200 with the ended turn",
			func(ctx context.Context, t *tester) error {
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				resp, err := t.cancelAt(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				c, err := expectJSON[gen.Turn](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if c.TurnIndex != 1 || c.Status != gen.TurnStatusCompleted || c.StopReason != gen.StopReasonCancelled || c.CancelledBy != gen.CancelledByCancelRequest {
					return resp.Failf("turn %d: status %q, stop_reason %q, cancelled_by %q; want turn 1 completed, cancelled, cancel_request", c.TurnIndex, c.Status, c.StopReason, c.CancelledBy)
				}
				r, err := awaitWithin(ctx, first, cancelWait, "cancelTurnAt answered")
				if err != nil {
					return err
				}
				if err := expectCancelled("the turn cancelTurnAt cancelled", r, gen.CancelledByCancelRequest); err != nil {
					return err
				}
				got, err := t.getTurn(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if got.Status != gen.TurnStatusCompleted || got.EventCount != c.EventCount {
					return Failf("getTurn: status %q, event_count %d; cancelTurnAt answered completed with %d", got.Status, got.EventCount, c.EventCount)
				}
				return nil
			}, NeedScripted).traces("REQ-BUSY-013"),
		def("BUSY-014", Must, "cancelTurnAt getTurn",
			"cancelTurnAt on an ended turn answers 409 turn_ended and changes nothing; on a turn index the session does not have, 404 not_found",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if _, err := t.turn(ctx, s.SessionID, "ended"); err != nil {
					return err
				}
				before, err := t.getTurn(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				for i := 0; i < 2; i++ {
					resp, err := t.cancelAt(ctx, s.SessionID, 1)
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusConflict, gen.ProblemCodeTurnEnded); err != nil {
						return err
					}
				}
				after, err := t.getTurn(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if d := jsonDiff(after, before); d != "" {
					return Failf("cancelTurnAt on the ended turn changed it: %s", d)
				}
				for _, index := range []int32{2, 99} {
					resp, err := t.cancelAt(ctx, s.SessionID, index)
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusNotFound, gen.ProblemCodeNotFound); err != nil {
						return err
					}
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.TurnCount != 1 {
					return Failf("turn_count %d after cancelTurnAt on turns it does not have, want 1", got.TurnCount)
				}
				return nil
			}).traces("REQ-BUSY-014"),
		def("BUSY-015", Must, "getSession sendTurn",
			"queued_turns is 0 on a new session, while a turn runs with none waiting, and after it ended",
			func(ctx context.Context, t *tester) error {
				s, first, err := t.runningTurn(ctx)
				if err != nil {
					return err
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.QueuedTurns != 0 {
					return Failf("getSession: queued_turns %d while one turn runs and none waits, want 0", got.QueuedTurns)
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				if _, err := awaitWithin(ctx, first, cancelWait, "cancelTurn answered"); err != nil {
					return err
				}
				fresh, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				for _, id := range []string{s.SessionID, fresh.SessionID} {
					raw, resp, err := t.rawSession(ctx, id)
					if err != nil {
						return err
					}
					if n, ok := raw["queued_turns"].(float64); !ok || n != 0 {
						return resp.Failf("queued_turns is %v, want 0 (always sent)", raw["queued_turns"])
					}
				}
				return nil
			}, NeedScripted).traces("REQ-SESS-026"),
		def("BUSY-016", Must, "sendTurn getSession listEvents",
			"a steer prompt sent while a turn runs starts no turn: the running turn records a guidance event with the prompt and the JSON sendTurn answers that turn's TurnResult once it ends",
			func(ctx context.Context, t *tester) error {
				s, err := t.steerSession(ctx)
				if err != nil {
					return err
				}
				first := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "one"}, step{400, "text", "two"}, step{0, "text", "three"})})
				if _, err := t.waitTurn(ctx, s.SessionID, 1, true); err != nil {
					return err
				}
				steer := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": "go left", "busy_policy": "steer"})
				r, err := awaitWithin(ctx, steer, cancelWait, "the steered turn ended")
				if err != nil {
					return err
				}
				r1, err := await(ctx, first)
				if err != nil {
					return err
				}
				if r.TurnIndex != 1 || r.LastSeq != r1.LastSeq {
					return Failf("the steer prompt's sendTurn answered turn %d (seqs %d-%d), want the running turn 1 (%d-%d)", r.TurnIndex, r.FirstSeq, r.LastSeq, r1.FirstSeq, r1.LastSeq)
				}
				guidance := 0
				for _, e := range r1.Events {
					if e.Type == gen.EventTypeGuidance {
						guidance++
						if e.Content != "go left" {
							return Failf("the guidance event's content is %q, want the prompt %q", e.Content, "go left")
						}
					}
				}
				if guidance != 1 {
					return Failf("the steered turn has %d guidance events (%v), want 1", guidance, eventTypes(r1.Events))
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.TurnCount != 1 {
					return Failf("turn_count %d after a steer prompt, want 1: steering starts no turn", got.TurnCount)
				}
				return nil
			}, NeedScripted, NeedSteer).traces("REQ-BUSY-009"),
		def("BUSY-017", Must, "sendTurn",
			"a streamed steer prompt answers turn.accepted with steered true and the running turn's index, then that turn's events (the guidance among them) and its turn.completed",
			func(ctx context.Context, t *tester) error {
				s, err := t.steerSession(ctx)
				if err != nil {
					return err
				}
				first := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "one"}, step{400, "text", "two"}, step{0, "text", "three"})})
				if _, err := t.waitTurn(ctx, s.SessionID, 1, true); err != nil {
					return err
				}
				st, stream, err := t.streamTurnBody(ctx, s.SessionID, map[string]any{"prompt": "go right", "busy_policy": "steer"}, nil)
				if err != nil {
					return err
				}
				r1, err := await(ctx, first)
				if err != nil {
					return err
				}
				switch {
				case st.accepted == nil || !st.accepted.Steered || st.accepted.TurnIndex != 1:
					return stream.Failf("turn.accepted %+v, want steered true for turn 1", st.accepted)
				case st.completed == nil || st.completed.TurnIndex != 1 || st.completed.LastSeq != r1.LastSeq:
					return stream.Failf("turn.completed %+v, want the running turn 1's summary", st.completed)
				}
				// The events from then on: a gap-free tail of the turn's events.
				if len(st.events) == 0 || st.events[len(st.events)-1].Seq != r1.LastSeq {
					return stream.Failf("the stream's events %v do not run to the turn's last seq %d", seqsOf(st.events), r1.LastSeq)
				}
				if err := checkSeqs("the steered stream", st.events, st.events[0].Seq, 1); err != nil {
					return err
				}
				if !containsType(st.events, gen.EventTypeGuidance) {
					return stream.Failf("the steered stream's events %v hold no guidance event", eventTypes(st.events))
				}
				return nil
			}, NeedScripted, NeedSteer, NeedStreaming).traces("REQ-BUSY-009"),
		def("BUSY-018", Must, "sendTurn",
			"a steer prompt sent while no turn runs starts a new turn, like any prompt",
			func(ctx context.Context, t *tester) error {
				s, err := t.steerSession(ctx)
				if err != nil {
					return err
				}
				resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "steered alone"}), "busy_policy": "steer"}, nil)
				if err != nil {
					return err
				}
				r, err := expectJSON[gen.TurnResult](resp, http.StatusOK)
				if err != nil {
					return err
				}
				if r.TurnIndex != 1 || r.StopReason != gen.StopReasonEndTurn || textOf(r.Events) != "steered alone" {
					return resp.Failf("turn_index %d, stop_reason %q, text %q; want a new turn 1 that plays the prompt", r.TurnIndex, r.StopReason, textOf(r.Events))
				}
				return nil
			}, NeedScripted, NeedSteer).traces("REQ-BUSY-010"),
		def("BUSY-019", Must, "sendTurn getSession",
			"busy_policy steer to a session whose agent cannot be steered answers 422 unsupported_busy_policy and starts nothing",
			func(ctx context.Context, t *tester) error {
				agent := ""
				for _, a := range t.env.caps.Agents {
					if !a.Steer {
						agent = a.Name
						break
					}
				}
				if agent == "" {
					return NotApplicablef("every agent declares steer")
				}
				s, err := t.create(ctx, t.sessionBody(agent), asPrimary)
				if err != nil {
					return err
				}
				for i := 0; i < 2; i++ {
					resp, err := t.sendTurn(ctx, s.SessionID, map[string]any{"prompt": "steer me", "busy_policy": "steer"}, nil)
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusUnprocessableEntity, gen.ProblemCodeUnsupportedBusyPolicy); err != nil {
						return err
					}
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.TurnCount != 0 || !got.LastTurnAt.IsZero() {
					return Failf("after refused steer prompts turn_count %d, last_turn_at %v; want nothing started", got.TurnCount, got.LastTurnAt)
				}
				return nil
			}).traces("REQ-BUSY-011"),
		def("BUSY-020", Must, "sendTurn",
			"the scripted agent takes guidance at step boundaries: a steer prompt sent during a step's delay is recorded after that step's event and before the next step's",
			func(ctx context.Context, t *tester) error {
				s, err := t.steerSession(ctx)
				if err != nil {
					return err
				}
				first := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "one"}, step{500, "text", "two"}, step{0, "text", "three"})})
				if _, err := t.waitTurn(ctx, s.SessionID, 1, true); err != nil {
					return err
				}
				started := time.Now()
				steer := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": "mind the gap", "busy_policy": "steer"})
				r1, err := await(ctx, first)
				if err != nil {
					return err
				}
				if _, err := await(ctx, steer); err != nil {
					return err
				}
				if time.Since(started) > 10*time.Second {
					return Failf("the steered turn took %s", time.Since(started))
				}
				got := []string{}
				for _, e := range r1.Events {
					got = append(got, string(e.Type)+":"+e.Content)
				}
				if d := jsonDiff(got, []string{"text:one", "text:two", "guidance:mind the gap", "text:three"}); d != "" {
					return Failf("the steered turn's events %s: guidance sent during step 2's delay belongs after step 2's event", d)
				}
				return nil
			}, NeedScripted, NeedSteer).traces("REQ-AGT-009"),
	}
}

// containsType reports whether an event of type typ is among events.
func containsType(events []gen.Event, typ gen.EventType) bool {
	for _, e := range events {
		if e.Type == typ {
			return true
		}
	}
	return false
}
