package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// streamed is an event stream read to its end.
type streamed struct {
	accepted  *gen.TurnAccepted
	events    []gen.Event
	ids       []string // the SSE id of each event frame
	names     []string // the event name of each event frame ("" for events)
	completed *gen.TurnSummary
	afterEnd  int       // frames after turn.completed
	order     []string  // "accepted", "event", "completed" in arrival order
	firstAt   time.Time // when the first event frame arrived
	endAt     time.Time // when turn.completed arrived
}

// readStream reads s to its end (or until stop says so after a frame),
// decoding each frame's data.
func readStream(s *eventStream, stop func(streamed) bool) (streamed, error) {
	defer s.Close()
	return readFrames(s, stop, streamed{})
}

// readFrames is readStream without closing the stream: it goes on from out
// (what an earlier call read) so a check can read on after stop.
func readFrames(s *eventStream, stop func(streamed) bool, out streamed) (streamed, error) {
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, s.Failf("reading the event stream: %v", err)
		}
		if out.completed != nil {
			out.afterEnd++
		}
		switch f.Event {
		case string(gen.TurnAcceptedFrameEventTurnAccepted):
			var a gen.TurnAccepted
			if err := json.Unmarshal([]byte(f.Data), &a); err != nil {
				return out, s.Failf("turn.accepted data does not decode: %v", err)
			}
			out.accepted = &a
			out.order = append(out.order, "accepted")
		case string(gen.TurnCompletedFrameEventTurnCompleted):
			var c gen.TurnSummary
			if err := json.Unmarshal([]byte(f.Data), &c); err != nil {
				return out, s.Failf("turn.completed data does not decode: %v", err)
			}
			out.completed = &c
			out.endAt = time.Now()
			out.order = append(out.order, "completed")
		default:
			var e gen.Event
			if err := json.Unmarshal([]byte(f.Data), &e); err != nil {
				return out, s.Failf("event frame (id %q) data does not decode as an Event: %v", f.ID, err)
			}
			if len(out.events) == 0 {
				out.firstAt = time.Now()
			}
			out.events = append(out.events, e)
			out.ids = append(out.ids, f.ID)
			out.names = append(out.names, f.Event)
			out.order = append(out.order, "event")
		}
		if stop != nil && stop(out) {
			return out, nil
		}
	}
}

// streamTurn sends a turn with Accept: text/event-stream and reads it to the end.
func (t *tester) streamTurnBody(ctx context.Context, id string, body map[string]any, header map[string]string) (streamed, *eventStream, error) {
	s, err := t.Stream(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", id), JSON: body, Header: header})
	if err != nil {
		return streamed{}, nil, err
	}
	if err := s.ExpectLive(); err != nil {
		return streamed{}, s, err
	}
	st, err := readStream(s, nil)
	return st, s, err
}

// resume calls streamTurn with Last-Event-ID and/or ?after= and reads to the end.
func (t *tester) resume(ctx context.Context, id string, index int32, lastEventID string, after string) (streamed, *eventStream, error) {
	r := request{Method: http.MethodGet, Path: path("/v1/sessions/%s/turns/%d/stream", id, index)}
	if lastEventID != "" {
		r.Header = map[string]string{"Last-Event-ID": lastEventID}
	}
	if after != "" {
		r.Query = url.Values{"after": {after}}
	}
	s, err := t.Stream(ctx, r)
	if err != nil {
		return streamed{}, nil, err
	}
	if err := s.ExpectLive(); err != nil {
		return streamed{}, s, err
	}
	st, err := readStream(s, nil)
	return st, s, err
}

// streamingSession makes the session and prompt the streaming checks use: the
// scripted agent with several events when there is one, else the echo agent.
func (t *tester) streamingSession(ctx context.Context) (gen.Session, string, error) {
	if t.env.scripted != "" {
		s, err := t.scriptedSession(ctx)
		return s, script("", step{0, "thinking", "hmm"}, step{5, "text", "one "}, step{5, "text", "two "}, step{5, "text", "three"}), err
	}
	s, err := t.echoSession(ctx)
	return s, "stream me", err
}

// streamResult is a streamed turn read to its end in the background.
type streamResult struct {
	st  streamed
	s   *eventStream // nil when there was no answer
	err error
}

// streamTurnAsync sends a streamed turn in the background and reads it to its
// end; the channel yields what it carried.
func (t *tester) streamTurnAsync(ctx context.Context, id string, body map[string]any) <-chan streamResult {
	ch := make(chan streamResult, 1)
	go func() {
		st, s, err := t.streamTurnBody(ctx, id, body, nil)
		ch <- streamResult{st, s, err}
	}()
	return ch
}

// awaitStream waits at most d for a background stream to end; when it has
// not, the check fails with "what did not end it".
func awaitStream(ctx context.Context, ch <-chan streamResult, d time.Duration, what string) (streamResult, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return streamResult{}, Failf("a stream did not end: %v", ctx.Err())
	case <-timer.C:
		return streamResult{}, Failf("%s: the turn's stream is still open %s later", what, d)
	case r := <-ch:
		return r, r.err
	}
}

// seqsOf lists the events' seq.
func seqsOf(events []gen.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

// turnEvents reads one turn's events from the event log.
func (t *tester) turnEvents(ctx context.Context, id string, index int32) ([]gen.Event, error) {
	events, _, err := listAll[gen.Event](ctx, t, path("/v1/sessions/%s/events", id), url.Values{"turn_index": {strconv.Itoa(int(index))}}, 0, 20)
	return events, err
}

// expectResumed fails unless a resumed stream holds exactly the events after
// `after` and then turn.completed.
func expectResumed(what string, st streamed, all []gen.Event, after int64) error {
	want := []int64{}
	for _, e := range all {
		if e.Seq > after {
			want = append(want, e.Seq)
		}
	}
	if d := jsonDiff(seqsOf(st.events), want); d != "" {
		return Failf("%s after %d: event seqs %s (every missed event exactly once)", what, after, d)
	}
	if st.completed == nil {
		return Failf("%s after %d: the stream ended without turn.completed", what, after)
	}
	return nil
}

func streamingChecks() []*check {
	return []*check{
		def("STRM-001", Must, "sendTurn",
			"sendTurn with Accept: text/event-stream answers 200 with Content-Type text/event-stream",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				_, _, err = t.streamTurnBody(ctx, s.SessionID, map[string]any{"prompt": prompt}, nil)
				return err
			}, NeedStreaming).traces("REQ-TURN-003"),
		def("STRM-002", Must, "sendTurn",
			"the stream opens with a turn.accepted frame naming the session and the new turn_index",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				if _, err := t.turn(ctx, s.SessionID, prompt); err != nil {
					return err
				}
				st, _, err := t.streamTurnBody(ctx, s.SessionID, map[string]any{"prompt": prompt}, nil)
				if err != nil {
					return err
				}
				switch {
				case len(st.order) == 0 || st.order[0] != "accepted":
					return Failf("the first frame is %v, want turn.accepted", st.order[:min(len(st.order), 1)])
				case st.accepted.SessionID != s.SessionID || st.accepted.TurnIndex != 2:
					return Failf("turn.accepted names session %q turn %d, want %q turn 2", st.accepted.SessionID, st.accepted.TurnIndex, s.SessionID)
				}
				return nil
			}, NeedStreaming).traces("REQ-STRM-001", "REQ-STRM-011"),
		def("STRM-003", Must, "sendTurn",
			"each event is an unnamed frame whose id is the event's seq; ids increase by one with no gaps",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				var prev int64
				for i := 0; i < 2; i++ {
					st, _, err := t.streamTurnBody(ctx, s.SessionID, map[string]any{"prompt": prompt}, nil)
					if err != nil {
						return err
					}
					if len(st.events) == 0 {
						return Failf("turn %d streamed no event frames", i+1)
					}
					for j, e := range st.events {
						if st.names[j] != "" {
							return Failf("event seq %d came in a frame named %q, want an unnamed frame", e.Seq, st.names[j])
						}
						if st.ids[j] != strconv.FormatInt(e.Seq, 10) {
							return Failf("the frame of event seq %d has id %q, want %q", e.Seq, st.ids[j], strconv.FormatInt(e.Seq, 10))
						}
						if e.Seq != prev+1 {
							return Failf("event ids go %d then %d, want strictly increasing by one", prev, e.Seq)
						}
						prev = e.Seq
					}
				}
				return nil
			}, NeedStreaming).traces("REQ-STRM-002", "REQ-EVT-005"),
		def("STRM-004", Must, "sendTurn",
			"the stream ends with one turn.completed frame whose TurnSummary matches the streamed events, and then closes",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				st, _, err := t.streamTurnBody(ctx, s.SessionID, map[string]any{"prompt": prompt}, nil)
				if err != nil {
					return err
				}
				if st.completed == nil {
					return Failf("the stream ended without a turn.completed frame (frames: %v)", st.order)
				}
				if st.afterEnd > 0 {
					return Failf("%d frames came after turn.completed", st.afterEnd)
				}
				c := st.completed
				if err := checkResult("turn.completed", gen.TurnResult{
					SessionID: c.SessionID, TurnIndex: c.TurnIndex, EventCount: c.EventCount, Events: st.events,
					FirstSeq: c.FirstSeq, LastSeq: c.LastSeq, StartedAt: c.StartedAt, EndedAt: c.EndedAt,
				}, s.SessionID, 1); err != nil {
					return err
				}
				if c.StopReason != gen.StopReasonEndTurn {
					return Failf("turn.completed: stop_reason %q, want end_turn", c.StopReason)
				}
				return nil
			}, NeedStreaming).traces("REQ-STRM-003", "REQ-TURN-015"),
		def("STRM-005", Must, "sendTurn listEvents",
			"the streamed events are the events the event log holds for the turn",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				st, _, err := t.streamTurnBody(ctx, s.SessionID, map[string]any{"prompt": prompt}, nil)
				if err != nil {
					return err
				}
				logged, err := t.turnEvents(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if d := jsonDiff(st.events, logged); d != "" {
					return Failf("streamed events differ from listEvents?turn_index=1: %s", d)
				}
				return nil
			}, NeedStreaming).traces("REQ-STRM-002"),
		def("STRM-006", Must, "streamTurn",
			"streamTurn with Last-Event-ID after the turn ended sends exactly the events after that seq, then turn.completed, and no turn.accepted",
			func(ctx context.Context, t *tester) error {
				return resumeAfterEnd(ctx, t, true)
			}, NeedResume, NeedStreaming).traces("REQ-STRM-008", "REQ-STRM-001"),
		def("STRM-007", Must, "streamTurn",
			"streamTurn with ?after= after the turn ended sends exactly the events after that seq, then turn.completed",
			func(ctx context.Context, t *tester) error {
				return resumeAfterEnd(ctx, t, false)
			}, NeedResume).traces("REQ-STRM-008", "REQ-EVT-003"),
		def("STRM-008", Must, "sendTurn streamTurn",
			"a client that drops the stream mid-turn and resumes with Last-Event-ID gets every missed event exactly once, then turn.completed",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				prompt := script("", step{0, "text", "a"}, step{0, "text", "b"}, step{300, "text", "c"}, step{100, "text", "d"})
				stream, err := t.Stream(ctx, request{Method: http.MethodPost, Path: path("/v1/sessions/%s/turns", s.SessionID), JSON: map[string]any{"prompt": prompt}})
				if err != nil {
					return err
				}
				if err := stream.ExpectLive(); err != nil {
					return err
				}
				// Read the first event, then drop the connection.
				first, err := readStream(stream, func(st streamed) bool { return len(st.events) > 0 || st.completed != nil })
				if err != nil {
					return err
				}
				if len(first.events) == 0 {
					return Failf("the stream ended before its first event")
				}
				seen := first.events[len(first.events)-1].Seq
				rest, _, err := t.resume(ctx, s.SessionID, 1, strconv.FormatInt(seen, 10), "")
				if err != nil {
					return err
				}
				all, err := t.turnEvents(ctx, s.SessionID, 1)
				if err != nil {
					return err
				}
				if len(all) != 4 {
					return Failf("listEvents: the turn has %d events, want the script's 4", len(all))
				}
				return expectResumed("streamTurn Last-Event-ID", rest, all, seen)
			}, NeedStreaming, NeedResume, NeedScripted).traces("REQ-STRM-008"),
		def("STRM-009", Must, "streamTurn",
			"when both Last-Event-ID and ?after= are given, Last-Event-ID wins",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				r, err := t.turn(ctx, s.SessionID, prompt)
				if err != nil {
					return err
				}
				first := r.FirstSeq
				st, _, err := t.resume(ctx, s.SessionID, r.TurnIndex, strconv.FormatInt(first, 10), strconv.FormatInt(first-1, 10))
				if err != nil {
					return err
				}
				return expectResumed("streamTurn with Last-Event-ID and after", st, r.Events, first)
			}, NeedResume).traces("REQ-STRM-009"),
		def("STRM-010", Must, "sendTurn",
			"events are sent as they happen: an event reaches the client well before the turn ends",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				st, _, err := t.streamTurnBody(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "early"}, step{1000, "text", "late"})}, nil)
				if err != nil {
					return err
				}
				if len(st.events) == 0 || st.completed == nil {
					return Failf("the stream did not carry the events and turn.completed")
				}
				if gap := st.endAt.Sub(st.firstAt); gap < 300*time.Millisecond {
					return Failf("the first event arrived only %s before turn.completed although the agent waited 1000 ms: the stream is buffered", gap.Round(time.Millisecond))
				}
				return nil
			}, NeedStreaming, NeedScripted).traces("REQ-STRM-006"),
		def("STRM-011", Must, "sendTurn",
			"re-sending a streamed sendTurn with the same Idempotency-Key and Last-Event-ID resumes the first turn's stream and starts no new turn",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				key := t.plan("key")
				body := map[string]any{"prompt": prompt}
				first, _, err := t.streamTurnBody(ctx, s.SessionID, body, map[string]string{"Idempotency-Key": key})
				if err != nil {
					return err
				}
				if len(first.events) == 0 {
					return Failf("the first stream carried no events")
				}
				after := first.events[0].Seq
				again, _, err := t.streamTurnBody(ctx, s.SessionID, body, map[string]string{"Idempotency-Key": key, "Last-Event-ID": strconv.FormatInt(after, 10)})
				if err != nil {
					return err
				}
				if err := expectResumed("the replayed sendTurn", again, first.events, after); err != nil {
					return err
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.TurnCount != 1 {
					return Failf("getSession: turn_count %d after a replayed sendTurn, want 1", got.TurnCount)
				}
				return nil
			}, NeedStreaming, NeedIdempotency).traces("REQ-TURN-007"),
		def("STRM-012", Must, "streamTurn",
			"streamTurn for a turn that does not exist answers 404 not_found, not a stream",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				st, err := t.Stream(ctx, request{Method: http.MethodGet, Path: path("/v1/sessions/%s/turns/%d/stream", s.SessionID, 1)})
				if err != nil {
					return err
				}
				if st.Live() {
					st.Close()
					return st.Failf("answered 200 with an event stream for a turn that does not exist")
				}
				return st.ExpectProblem(http.StatusNotFound, gen.ProblemCodeNotFound)
			}, NeedResume).traces("REQ-ERR-011"),
		def("STRM-013", Must, "sendTurn",
			"turn.accepted says status running for a turn that starts at once and queued for a turn that waits behind another (busy_policy enqueue)",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				first := t.streamTurnAsync(ctx, s.SessionID, map[string]any{"prompt": longScript()})
				if _, err := t.waitTurn(ctx, s.SessionID, 1, true); err != nil {
					return err
				}
				second := t.streamTurnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "queued"}), "busy_policy": "enqueue"})
				// The second turn must be accepted (and so queued) before the
				// cancel lets it run.
				if err := t.waitTurnCount(ctx, s.SessionID, 2, "enqueueing a streamed turn"); err != nil {
					return err
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				r1, err := awaitStream(ctx, first, cancelWait, "cancelTurn answered")
				if err != nil {
					return err
				}
				r2, err := awaitStream(ctx, second, cancelWait, "the turn ahead of it was cancelled")
				if err != nil {
					return err
				}
				for _, c := range []struct {
					what string
					r    streamResult
					want gen.TurnStatus
				}{
					{"the turn that started at once", r1, gen.TurnStatusRunning},
					{"the enqueued turn", r2, gen.TurnStatusQueued},
				} {
					switch a := c.r.st.accepted; {
					case a == nil:
						return c.r.s.Failf("%s: the stream has no turn.accepted frame (frames: %v)", c.what, c.r.st.order)
					case a.Status != c.want:
						return c.r.s.Failf("%s: turn.accepted says status %q, want %q", c.what, a.Status, c.want)
					}
				}
				return nil
			}, NeedStreaming, NeedScripted, NeedEnqueue).traces("REQ-STRM-011"),
		def("STRM-014", May, "sendTurn",
			"while the agent is quiet for over a second the stream carries : keep-alive comment lines",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				st, stream, err := t.streamTurnBody(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "before"}, step{1200, "text", "after a quiet second"})}, nil)
				if err != nil {
					return err
				}
				if st.completed == nil {
					return stream.Failf("the stream ended without turn.completed")
				}
				if stream.Comments() == 0 {
					return stream.Failf("no comment line in a stream quiet for 1.2 s")
				}
				return nil
			}, NeedStreaming, NeedScripted).traces("REQ-STRM-005"),
		def("STRM-015", Must, "sendTurn",
			"the stream's bytes are framed as the contract says: \\n line ends, one data: line per frame, an id: line only on event frames, nothing but comments between frames",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				if t.env.scripted != "" {
					prompt = script("", step{0, "text", "line one\nline two"}, step{300, "thinking", "after a pause"}, step{0, "text", "end"})
				}
				st, stream, err := t.streamTurnBody(ctx, s.SessionID, map[string]any{"prompt": prompt}, nil)
				if err != nil {
					return err
				}
				if st.completed == nil {
					return stream.Failf("the stream ended without turn.completed")
				}
				raw, truncated := stream.Raw()
				return checkFraming(stream, raw, truncated)
			}, NeedStreaming).traces("REQ-STRM-004"),
		def("STRM-016", Must, "streamTurn",
			"Last-Event-ID: 0 resumes from the turn's first event and 999999999999999 sends no event; 16 digits, a sign or letters answer 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				warmUp := "warm-up"
				if t.env.scripted != "" {
					warmUp = script("", step{0, "text", "warm-up"})
				}
				if _, err := t.turn(ctx, s.SessionID, warmUp); err != nil {
					return err
				}
				r, err := t.turn(ctx, s.SessionID, prompt)
				if err != nil {
					return err
				}
				for _, lei := range []string{"0", "999999999999999"} {
					st, _, err := t.resume(ctx, s.SessionID, r.TurnIndex, lei, "")
					if err != nil {
						return err
					}
					after, _ := strconv.ParseInt(lei, 10, 64)
					if err := expectResumed("streamTurn Last-Event-ID "+lei, st, r.Events, after); err != nil {
						return err
					}
				}
				for _, lei := range []string{"1000000000000000", "-1", "+1", "abc", "1.0"} {
					resp, err := t.Do(ctx, request{Method: http.MethodGet, Path: path("/v1/sessions/%s/turns/%d/stream", s.SessionID, r.TurnIndex), Stream: true,
						Header: map[string]string{"Last-Event-ID": lei}})
					if err != nil {
						return err
					}
					if err := resp.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest); err != nil {
						return fmt.Errorf("Last-Event-ID %q: %w", lei, err)
					}
				}
				return nil
			}, NeedResume).traces("REQ-STRM-010"),
		def("STRM-017", Must, "sendTurn",
			"a streamed sendTurn repeated with the same Idempotency-Key after the turn ended opens with turn.accepted status completed, then all its events and turn.completed, and starts no turn",
			func(ctx context.Context, t *tester) error {
				s, prompt, err := t.streamingSession(ctx)
				if err != nil {
					return err
				}
				header := map[string]string{"Idempotency-Key": t.plan("key")}
				body := map[string]any{"prompt": prompt}
				first, _, err := t.streamTurnBody(ctx, s.SessionID, body, header)
				if err != nil {
					return err
				}
				again, stream, err := t.streamTurnBody(ctx, s.SessionID, body, header)
				if err != nil {
					return err
				}
				switch a := again.accepted; {
				case a == nil:
					return stream.Failf("the replay has no turn.accepted frame (frames: %v)", again.order)
				case a.Status != gen.TurnStatusCompleted || a.TurnIndex != 1:
					return stream.Failf("the replay's turn.accepted says turn %d %q, want turn 1 completed", a.TurnIndex, a.Status)
				}
				if err := expectResumed("the replayed sendTurn", again, first.events, 0); err != nil {
					return err
				}
				got, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if got.TurnCount != 1 {
					return Failf("getSession: turn_count %d after a replayed sendTurn, want 1", got.TurnCount)
				}
				return nil
			}, NeedStreaming, NeedIdempotency).traces("REQ-STRM-012"),
	}
}

// checkFraming checks a stream's raw bytes against the contract's framing.
func checkFraming(stream *eventStream, raw []byte, truncated bool) error {
	if i := bytes.IndexByte(raw, '\r'); i >= 0 {
		return stream.Failf("the stream has a \\r at byte %d: the server writes \\n line ends", i)
	}
	text := string(raw)
	if !truncated && !strings.HasSuffix(text, "\n\n") {
		return stream.Failf("the stream does not end with a blank line after its last frame")
	}
	for n, block := range strings.Split(strings.TrimRight(text, "\n"), "\n\n") {
		var data, ids, events int
		for _, line := range strings.Split(block, "\n") {
			field, _, _ := strings.Cut(line, ":")
			switch {
			case strings.HasPrefix(line, ":"):
			case field == "data":
				data++
			case field == "id":
				ids++
			case field == "event":
				events++
			case line == "":
				return stream.Failf("frame %d has an empty line inside it", n+1)
			default:
				return stream.Failf("frame %d has the line %q: the contract's frames have event:, id: and data: lines only", n+1, excerpt([]byte(line), 80))
			}
		}
		switch {
		case data == 0 && (ids > 0 || events > 0):
			return stream.Failf("frame %d has no data: line", n+1)
		case data > 1:
			return stream.Failf("frame %d has %d data: lines; the server writes one per frame", n+1, data)
		case ids > 0 && events > 0:
			return stream.Failf("frame %d is named (event:) and has an id: line; only event frames carry an id", n+1)
		case data == 1 && events == 0 && ids == 0:
			return stream.Failf("frame %d is an event frame without an id: line", n+1)
		}
	}
	return nil
}

// resumeAfterEnd runs STRM-006 (header) and STRM-007 (query): resume a
// finished turn from before its first event, from the middle and from its
// last event.
func resumeAfterEnd(ctx context.Context, t *tester, header bool) error {
	s, prompt, err := t.streamingSession(ctx)
	if err != nil {
		return err
	}
	// A first turn, so that the resumed turn's seqs do not start at 1.
	warmUp := "warm-up"
	if t.env.scripted != "" {
		warmUp = script("", step{0, "text", "warm-up"})
	}
	if _, err := t.turn(ctx, s.SessionID, warmUp); err != nil {
		return err
	}
	r, err := t.turn(ctx, s.SessionID, prompt)
	if err != nil {
		return err
	}
	if len(r.Events) == 0 {
		return Failf("the turn has no events to resume")
	}
	first, last := r.Events[0].Seq, r.Events[len(r.Events)-1].Seq
	points := []int64{first - 1, first, (first + last) / 2, last}
	for _, after := range points {
		lei, q := "", ""
		if header {
			lei = strconv.FormatInt(after, 10)
		} else {
			q = strconv.FormatInt(after, 10)
		}
		st, _, err := t.resume(ctx, s.SessionID, r.TurnIndex, lei, q)
		if err != nil {
			return err
		}
		what := map[bool]string{true: "streamTurn Last-Event-ID", false: "streamTurn ?after="}[header]
		if err := expectResumed(what, st, r.Events, after); err != nil {
			return err
		}
		if st.accepted != nil {
			return Failf("%s: the stream has a turn.accepted frame; only a sendTurn stream opens with one", what)
		}
		if st.completed.TurnIndex != r.TurnIndex || st.completed.StopReason != r.StopReason {
			return Failf("%s: turn.completed says turn %d %q, want turn %d %q", what, st.completed.TurnIndex, st.completed.StopReason, r.TurnIndex, r.StopReason)
		}
	}
	return nil
}
