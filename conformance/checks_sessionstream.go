package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// sessFrame is one frame of a session's stream, decoded.
type sessFrame struct {
	kind    string // "event", "lifecycle" or "ended"
	id      string
	hasID   bool
	event   gen.Event
	life    gen.LifecycleEvent
	session gen.Session
}

// key names what a frame carries: "e<seq>", "l<lifecycle_seq>" or "ended".
func (f sessFrame) key() string {
	switch f.kind {
	case "event":
		return fmt.Sprintf("e%d", f.event.Seq)
	case "lifecycle":
		return fmt.Sprintf("l%d", f.life.LifecycleSeq)
	}
	return f.kind
}

func keys(frames []sessFrame) []string {
	out := []string{}
	for _, f := range frames {
		out = append(out, f.key())
	}
	return out
}

// openSessionStream calls streamSession (lastEventID and after when not
// empty) and expects a live event stream.
func (t *tester) openSessionStream(ctx context.Context, id, lastEventID, after string) (*eventStream, error) {
	r := request{Method: http.MethodGet, Path: path("/v1/sessions/%s/stream", id)}
	if lastEventID != "" {
		r.Header = map[string]string{"Last-Event-ID": lastEventID}
	}
	if after != "" {
		r.Query = url.Values{"after": {after}}
	}
	s, err := t.Stream(ctx, r)
	if err != nil {
		return nil, err
	}
	return s, s.ExpectLive()
}

// readSessionStream reads frames until the stream ends (eof true) or stop
// says so after a frame.
func readSessionStream(s *eventStream, stop func([]sessFrame) bool) (frames []sessFrame, eof bool, err error) {
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			return frames, true, nil
		}
		if err != nil {
			return frames, false, s.Failf("reading the session's stream: %v", err)
		}
		fr := sessFrame{id: f.ID, hasID: f.HasID}
		var target any
		switch f.Event {
		case "":
			fr.kind, target = "event", &fr.event
		case string(gen.SessionLifecycleFrameEventSessionLifecycle):
			fr.kind, target = "lifecycle", &fr.life
		case string(gen.SessionEndedFrameEventSessionEnded):
			fr.kind, target = "ended", &fr.session
		default:
			continue // a frame type the contract may add later
		}
		if err := json.Unmarshal([]byte(f.Data), target); err != nil {
			return frames, false, s.Failf("a %s frame's data does not decode: %v", fr.kind, err)
		}
		frames = append(frames, fr)
		if stop != nil && stop(frames) {
			return frames, false, nil
		}
	}
}

// sessionStreamAsync reads a session's stream in the background until stop
// (or its end).
type sessionRead struct {
	frames []sessFrame
	eof    bool
	err    error
}

func readSessionAsync(s *eventStream, stop func([]sessFrame) bool) <-chan sessionRead {
	ch := make(chan sessionRead, 1)
	go func() {
		frames, eof, err := readSessionStream(s, stop)
		ch <- sessionRead{frames, eof, err}
	}()
	return ch
}

func awaitSessionRead(ctx context.Context, ch <-chan sessionRead, what string) (sessionRead, error) {
	timer := time.NewTimer(cancelWait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return sessionRead{}, ctx.Err()
	case <-timer.C:
		return sessionRead{}, Failf("%s: the session's stream did not carry it within %s", what, cancelWait)
	case r := <-ch:
		return r, r.err
	}
}

// lifecycleEvents lists a session's lifecycle events after a lifecycle_seq.
func (t *tester) lifecycleEvents(ctx context.Context, id string, after int64, limit int) ([]gen.LifecycleEvent, error) {
	q := url.Values{}
	if after >= 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	list, _, err := listAll[gen.LifecycleEvent](ctx, t, path("/v1/sessions/%s/lifecycle", id), q, limit, 50)
	return list, err
}

// history is a session's turn events and lifecycle events.
func (t *tester) history(ctx context.Context, id string) ([]gen.Event, []gen.LifecycleEvent, error) {
	events, _, err := listAll[gen.Event](ctx, t, path("/v1/sessions/%s/events", id), nil, 0, 50)
	if err != nil {
		return nil, nil, err
	}
	life, err := t.lifecycleEvents(ctx, id, -1, 0)
	return events, life, err
}

// lifeKey describes a lifecycle event by what the checks expect of it.
func lifeKey(e gen.LifecycleEvent) string {
	switch e.Type {
	case gen.LifecycleEventTypeTurnStarted:
		return fmt.Sprintf("turn_started %d", e.TurnIndex)
	case gen.LifecycleEventTypeTurnEnded:
		return fmt.Sprintf("turn_ended %d %s", e.TurnIndex, e.StopReason)
	case gen.LifecycleEventTypeTurnQueued:
		return fmt.Sprintf("turn_queued %d at %d", e.TurnIndex, e.QueuePosition)
	case gen.LifecycleEventTypeStatusChanged:
		return "status_changed " + string(e.Status)
	case gen.LifecycleEventTypeChildSpawned:
		return "child_spawned " + e.ChildSessionID
	}
	return string(e.Type)
}

// expectLifecycle fails unless the session's lifecycle events are want
// (lifeKey), numbered from 1 without gaps.
func (t *tester) expectLifecycle(ctx context.Context, id string, after string, want []string) ([]gen.LifecycleEvent, error) {
	list, err := t.lifecycleEvents(ctx, id, -1, 0)
	if err != nil {
		return nil, err
	}
	got := []string{}
	for i, e := range list {
		got = append(got, lifeKey(e))
		if e.LifecycleSeq != int64(i+1) {
			return list, Failf("listLifecycleEvents after %s: lifecycle_seq %v: numbered from 1 without gaps", after, lifeSeqs(list))
		}
	}
	// A handoff pauses an active session: the contract orders neither of
	// its two lifecycle events before the other.
	for i := 0; i+1 < len(got); i++ {
		if got[i] == "handoff" && got[i+1] == "status_changed paused" {
			got[i], got[i+1] = got[i+1], got[i]
		}
	}
	if d := jsonDiff(got, want); d != "" {
		return list, Failf("listLifecycleEvents after %s: %s", after, d)
	}
	return list, nil
}

func lifeSeqs(list []gen.LifecycleEvent) []int64 {
	out := []int64{}
	for _, e := range list {
		out = append(out, e.LifecycleSeq)
	}
	return out
}

// position is a session stream's resume point.
func position(seq, lseq int64) string { return fmt.Sprintf("%d.%d", seq, lseq) }

// endedSession makes a session with two turns, ends it with closeSession
// and returns its history.
func (t *tester) endedSession(ctx context.Context) (gen.Session, []gen.Event, []gen.LifecycleEvent, error) {
	s, err := t.echoSession(ctx)
	if err != nil {
		return s, nil, nil, err
	}
	for _, p := range []string{"one", "two"} {
		if _, err := t.turn(ctx, s.SessionID, p); err != nil {
			return s, nil, nil, err
		}
	}
	if err := t.closeSession(ctx, s.SessionID); err != nil {
		return s, nil, nil, err
	}
	events, life, err := t.history(ctx, s.SessionID)
	return s, events, life, err
}

// expectEnded fails unless frames end with exactly one session.ended frame
// (no id, the ended session) and the stream then closed.
func expectEnded(what string, r sessionRead, id string) error {
	n := len(r.frames)
	if n == 0 || r.frames[n-1].kind != "ended" {
		return Failf("%s: the stream's last frame is not session.ended (%v)", what, keys(r.frames))
	}
	for _, f := range r.frames[:n-1] {
		if f.kind == "ended" {
			return Failf("%s: session.ended is not the last frame (%v)", what, keys(r.frames))
		}
	}
	last := r.frames[n-1]
	switch {
	case last.hasID:
		return Failf("%s: the session.ended frame has id %q, want none", what, last.id)
	case last.session.SessionID != id || (last.session.Status != gen.SessionStatusCompleted && last.session.Status != gen.SessionStatusFailed):
		return Failf("%s: session.ended carries session %q in status %q, want %q ended", what, last.session.SessionID, last.session.Status, id)
	case !r.eof:
		return Failf("%s: the stream stayed open after session.ended", what)
	}
	return nil
}

// wantAfter is the reference frames (those of a stream from 0.0) that come
// after a resume point: turn events with a greater seq, lifecycle events with
// a greater lifecycle_seq, then session.ended.
func wantAfter(all []sessFrame, seq, lseq int64) []string {
	out := []string{}
	for _, f := range all {
		switch {
		case f.kind == "event" && f.event.Seq <= seq, f.kind == "lifecycle" && f.life.LifecycleSeq <= lseq:
		default:
			out = append(out, f.key())
		}
	}
	return out
}

func sessionStreamChecks() []*check {
	return []*check{
		def("SSTR-001", Must, "listLifecycleEvents sendTurn cancelTurn closeSession",
			"listLifecycleEvents records, once each change is visible, turn_started, turn_ended (stop_reason), turn_queued (queue_position), status_changed, handoff and child_spawned, numbered from 1, with after_seq the newest turn event's seq; after keeps the later ones",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				want := []string{}
				if _, err := t.expectLifecycle(ctx, s.SessionID, "createSession", want); err != nil {
					return err
				}
				r1, err := t.turn(ctx, s.SessionID, script("", step{0, "text", "a"}, step{0, "text", "b"}))
				if err != nil {
					return err
				}
				want = append(want, "turn_started 1", "turn_ended 1 end_turn")
				if _, err := t.expectLifecycle(ctx, s.SessionID, "turn 1", want); err != nil {
					return err
				}
				long := t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": longScript()})
				t2, err := t.waitTurn(ctx, s.SessionID, 2, true)
				if err != nil {
					return err
				}
				want = append(want, "turn_started 2")
				var queued <-chan asyncResult
				if t.env.has(NeedEnqueue) {
					queued = t.turnAsync(ctx, s.SessionID, map[string]any{"prompt": script("", step{0, "text", "c"}), "busy_policy": "enqueue"})
					if err := t.waitTurnCount(ctx, s.SessionID, 3, "enqueueing turn 3"); err != nil {
						return err
					}
					want = append(want, "turn_queued 3 at 1")
				}
				if _, err := t.expectLifecycle(ctx, s.SessionID, "turn 2 started", want); err != nil {
					return err
				}
				if _, _, err := t.cancel(ctx, s.SessionID); err != nil {
					return err
				}
				r2, err := awaitWithin(ctx, long, cancelWait, "cancelTurn answered")
				if err != nil {
					return err
				}
				want = append(want, "turn_ended 2 cancelled")
				var r3 gen.TurnResult
				if queued != nil {
					if r3, err = await(ctx, queued); err != nil {
						return err
					}
					want = append(want, "turn_started 3", "turn_ended 3 end_turn")
				}
				if t.env.has(NeedChildren) {
					resp, err := t.post(ctx, path("/v1/sessions/%s/children", s.SessionID), t.sessionBody(t.env.echo))
					if err != nil {
						return err
					}
					child, err := expectJSON[gen.Session](resp, http.StatusCreated)
					if err != nil {
						return err
					}
					want = append(want, "child_spawned "+child.SessionID)
				}
				if t.env.has(NeedLifecycle) {
					for _, op := range []string{"pause", "resume"} {
						resp, err := t.post(ctx, path("/v1/sessions/%s/"+op, s.SessionID), nil)
						if err != nil {
							return err
						}
						if err := resp.Expect(http.StatusOK); err != nil {
							return err
						}
					}
					want = append(want, "status_changed paused", "status_changed active")
					resp, err := t.post(ctx, path("/v1/sessions/%s/handoff", s.SessionID), handoffBody("for the lifecycle events"))
					if err != nil {
						return err
					}
					if err := resp.Expect(http.StatusOK); err != nil {
						return err
					}
					want = append(want, "status_changed paused", "handoff")
				}
				if _, err := t.expectLifecycle(ctx, s.SessionID, "the turns and lifecycle operations", want); err != nil {
					return err
				}
				if err := t.closeSession(ctx, s.SessionID); err != nil {
					return err
				}
				want = append(want, "status_changed completed")
				list, err := t.expectLifecycle(ctx, s.SessionID, "closeSession", want)
				if err != nil {
					return err
				}
				final, err := t.session(ctx, s.SessionID)
				if err != nil {
					return err
				}
				// after_seq places each event among the turn events.
				afterSeq := map[string]int64{
					"turn_started 1": 0, "turn_ended 1 end_turn": r1.LastSeq,
					"turn_started 2": r1.LastSeq, "turn_ended 2 cancelled": r2.LastSeq,
					"turn_queued 3 at 1": t2.FirstSeq, "status_changed completed": final.LastEventSeq,
				}
				if queued != nil {
					afterSeq["turn_started 3"], afterSeq["turn_ended 3 end_turn"] = r2.LastSeq, r3.LastSeq
				}
				prev := int64(0)
				for _, e := range list {
					if want, ok := afterSeq[lifeKey(e)]; ok && e.AfterSeq != want {
						return Failf("lifecycle event %d (%s) has after_seq %d, want %d: the newest turn event's seq when it happened", e.LifecycleSeq, lifeKey(e), e.AfterSeq, want)
					}
					if e.AfterSeq < prev || e.AfterSeq > final.LastEventSeq {
						return Failf("lifecycle event %d (%s) has after_seq %d after one with %d (the session's last seq is %d)", e.LifecycleSeq, lifeKey(e), e.AfterSeq, prev, final.LastEventSeq)
					}
					prev = e.AfterSeq
				}
				n := int64(len(list))
				for _, after := range []int64{0, n / 2, n - 1, n} {
					got, err := t.lifecycleEvents(ctx, s.SessionID, after, 0)
					if err != nil {
						return err
					}
					if d := jsonDiff(lifeSeqs(got), lifeSeqs(list[after:])); d != "" {
						return Failf("listLifecycleEvents?after=%d: lifecycle_seq %s", after, d)
					}
				}
				paged, err := t.lifecycleEvents(ctx, s.SessionID, -1, 2)
				if err != nil {
					return err
				}
				if d := jsonDiff(paged, list); d != "" {
					return Failf("listLifecycleEvents?limit=2 walked: %s", d)
				}
				return nil
			}, NeedScripted, NeedSessionStream).traces("REQ-EVT-006", "REQ-EVT-007", "REQ-EVT-008"),
		def("SSTR-002", Must, "streamSession sendTurn closeSession",
			"streamSession carries every turn event (unnamed frames) and lifecycle event (session.lifecycle frames) of the session across turns, each with id <seq>.<lifecycle_seq> of the newest sent, a lifecycle event right after the turn event of its after_seq, then session.ended once the session ended, and closes",
			func(ctx context.Context, t *tester) error {
				s, err := t.scriptedSession(ctx)
				if err != nil {
					return err
				}
				stream, err := t.openSessionStream(ctx, s.SessionID, "", "")
				if err != nil {
					return err
				}
				defer stream.Close()
				read := readSessionAsync(stream, nil)
				for _, p := range []string{script("", step{0, "thinking", "t"}, step{0, "text", "one"}), script("", step{20, "text", "two"})} {
					if _, err := t.turn(ctx, s.SessionID, p); err != nil {
						return err
					}
				}
				if err := t.closeSession(ctx, s.SessionID); err != nil {
					return err
				}
				r, err := awaitSessionRead(ctx, read, "the session ended")
				if err != nil {
					return err
				}
				if err := expectEnded("streamSession", r, s.SessionID); err != nil {
					return stream.Failf("%v", err)
				}
				var seq, lseq int64
				for _, f := range r.frames[:len(r.frames)-1] {
					switch f.kind {
					case "event":
						seq = f.event.Seq
					case "lifecycle":
						if f.life.AfterSeq != seq {
							return stream.Failf("lifecycle event %d (after_seq %d) comes after turn event %d: it belongs right after turn event %d", f.life.LifecycleSeq, f.life.AfterSeq, seq, f.life.AfterSeq)
						}
						lseq = f.life.LifecycleSeq
					}
					if want := position(seq, lseq); !f.hasID || f.id != want {
						return stream.Failf("the frame of %s has id %q, want %q (the newest seq and lifecycle_seq sent so far)", f.key(), f.id, want)
					}
				}
				events, life, err := t.history(ctx, s.SessionID)
				if err != nil {
					return err
				}
				var gotEvents []gen.Event
				var gotLife []gen.LifecycleEvent
				for _, f := range r.frames {
					switch f.kind {
					case "event":
						gotEvents = append(gotEvents, f.event)
					case "lifecycle":
						gotLife = append(gotLife, f.life)
					}
				}
				if d := jsonDiff(gotEvents, events); d != "" {
					return stream.Failf("the stream's turn events differ from listEvents: %s", d)
				}
				if d := jsonDiff(gotLife, life); d != "" {
					return stream.Failf("the stream's lifecycle events differ from listLifecycleEvents: %s", d)
				}
				return nil
			}, NeedScripted, NeedSessionStream).traces("REQ-STRM-013", "REQ-STRM-014", "REQ-STRM-016"),
		def("SSTR-003", Must, "streamSession",
			"streamSession resumed at 0.0, mid-stream, 0.<newest>, <newest>.0 and the newest position (Last-Event-ID or after; the header wins) sends exactly what follows in order, once, then session.ended",
			func(ctx context.Context, t *tester) error {
				s, events, life, err := t.endedSession(ctx)
				if err != nil {
					return err
				}
				if len(events) < 2 || len(life) < 2 {
					return Failf("a session of two turns has %d events and %d lifecycle events", len(events), len(life))
				}
				read := func(header, after string) (sessionRead, *eventStream, error) {
					stream, err := t.openSessionStream(ctx, s.SessionID, header, after)
					if err != nil {
						return sessionRead{}, stream, err
					}
					defer stream.Close()
					frames, eof, err := readSessionStream(stream, nil)
					return sessionRead{frames, eof, err}, stream, err
				}
				all, stream, err := read(position(0, 0), "")
				if err != nil {
					return err
				}
				if err := expectEnded("from 0.0", all, s.SessionID); err != nil {
					return stream.Failf("%v", err)
				}
				seq, lseq := events[len(events)-1].Seq, life[len(life)-1].LifecycleSeq
				if d := jsonDiff(keys(all.frames), wantAfter(all.frames, 0, 0)); d != "" || len(all.frames) != len(events)+len(life)+1 {
					return stream.Failf("from 0.0: frames %v for %d events and %d lifecycle events", keys(all.frames), len(events), len(life))
				}
				midSeq, midL := events[len(events)/2-1].Seq, life[len(life)/2-1].LifecycleSeq
				for _, c := range []struct {
					header, after string
					seq, lseq     int64
				}{
					{position(midSeq, midL), "", midSeq, midL},
					{"", position(midSeq, midL), midSeq, midL},
					{position(0, lseq), "", 0, lseq},
					{position(seq, 0), "", seq, 0},
					{position(seq, lseq), "", seq, lseq},
					{"", position(seq, lseq), seq, lseq},
					{position(seq, lseq), position(0, 0), seq, lseq},
					{position(midSeq, midL), position(seq, 0), midSeq, midL},
				} {
					what := fmt.Sprintf("Last-Event-ID %q, after %q", c.header, c.after)
					r, stream, err := read(c.header, c.after)
					if err != nil {
						return err
					}
					if d := jsonDiff(keys(r.frames), wantAfter(all.frames, c.seq, c.lseq)); d != "" {
						return stream.Failf("%s: frames %s (what follows %s, exactly once, in order)", what, d, position(c.seq, c.lseq))
					}
					if err := expectEnded(what, r, s.SessionID); err != nil {
						return stream.Failf("%v", err)
					}
				}
				return nil
			}, NeedSessionStream).traces("REQ-STRM-015", "REQ-STRM-016"),
		def("SSTR-004", Must, "streamSession sendTurn",
			"streamSession resumed at the newest position of an active session sends nothing old, then the live frames of the next turn, and stays open",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				if _, err := t.turn(ctx, s.SessionID, "old"); err != nil {
					return err
				}
				events, life, err := t.history(ctx, s.SessionID)
				if err != nil {
					return err
				}
				if len(events) == 0 || len(life) == 0 {
					return Failf("after a turn the session has %d events and %d lifecycle events", len(events), len(life))
				}
				seq, lseq := events[len(events)-1].Seq, life[len(life)-1].LifecycleSeq
				stream, err := t.openSessionStream(ctx, s.SessionID, position(seq, lseq), "")
				if err != nil {
					return err
				}
				defer stream.Close()
				read := readSessionAsync(stream, func(fs []sessFrame) bool {
					l := fs[len(fs)-1]
					return l.kind == "lifecycle" && l.life.Type == gen.LifecycleEventTypeTurnEnded
				})
				r2, err := t.turn(ctx, s.SessionID, "new")
				if err != nil {
					return err
				}
				r, err := awaitSessionRead(ctx, read, "a new turn ended")
				if err != nil {
					return err
				}
				want := []string{fmt.Sprintf("l%d", lseq+1)}
				for _, e := range r2.Events {
					want = append(want, fmt.Sprintf("e%d", e.Seq))
				}
				want = append(want, fmt.Sprintf("l%d", lseq+2))
				if d := jsonDiff(keys(r.frames), want); d != "" {
					return stream.Failf("resumed at %s: frames %s (turn 2 started, its events, ended)", position(seq, lseq), d)
				}
				if r.frames[0].life.Type != gen.LifecycleEventTypeTurnStarted || r.frames[0].life.TurnIndex != 2 {
					return stream.Failf("the first live frame is %s, want turn 2's turn_started", lifeKey(r.frames[0].life))
				}
				return nil
			}, NeedSessionStream).traces("REQ-STRM-015", "REQ-STRM-016"),
		def("SSTR-005", Must, "streamSession",
			"streamSession takes <seq>.<lifecycle_seq> of 1 to 15 digits each (0.0 and 999999999999999.999999999999999 accepted); anything else, as Last-Event-ID or after, answers 400 invalid_request",
			func(ctx context.Context, t *tester) error {
				s, _, _, err := t.endedSession(ctx)
				if err != nil {
					return err
				}
				for _, good := range []string{"0.0", "999999999999999.999999999999999", "000000000000000.1"} {
					stream, err := t.openSessionStream(ctx, s.SessionID, good, "")
					if err != nil {
						return err
					}
					frames, eof, err := readSessionStream(stream, nil)
					stream.Close()
					if err != nil {
						return err
					}
					if err := expectEnded("Last-Event-ID "+good, sessionRead{frames, eof, nil}, s.SessionID); err != nil {
						return stream.Failf("%v", err)
					}
				}
				for _, bad := range []string{"1", "1.", ".1", "a.b", "1.2.3", "-1.0", "1.-1", "+1.0", "1.0x", "1,0", "1234567890123456.0", "0.1234567890123456", "0x1.0"} {
					for _, asHeader := range []bool{true, false} {
						r := request{Method: http.MethodGet, Path: path("/v1/sessions/%s/stream", s.SessionID)}
						what := "after=" + bad
						if asHeader {
							r.Header, what = map[string]string{"Last-Event-ID": bad}, "Last-Event-ID "+bad
						} else {
							r.Query = url.Values{"after": {bad}}
						}
						stream, err := t.Stream(ctx, r)
						if err != nil {
							return err
						}
						if stream.Live() {
							stream.Close()
							return stream.Failf("%s: a live stream, want 400 invalid_request", what)
						}
						if err := stream.ExpectProblem(http.StatusBadRequest, gen.ProblemCodeInvalidRequest); err != nil {
							return err
						}
					}
				}
				return nil
			}, NeedSessionStream).traces("REQ-STRM-018"),
		def("SSTR-006", May, "streamSession",
			"while a session is quiet its stream carries : keep-alive comment lines",
			func(ctx context.Context, t *tester) error {
				s, err := t.echoSession(ctx)
				if err != nil {
					return err
				}
				stream, err := t.openSessionStream(ctx, s.SessionID, "", "")
				if err != nil {
					return err
				}
				defer stream.Close()
				read := readSessionAsync(stream, func(fs []sessFrame) bool {
					l := fs[len(fs)-1]
					return l.kind == "lifecycle" && l.life.Type == gen.LifecycleEventTypeTurnEnded
				})
				if err := sleep(ctx, 1200*time.Millisecond); err != nil {
					return err
				}
				if _, err := t.turn(ctx, s.SessionID, "after a quiet second"); err != nil {
					return err
				}
				if _, err := awaitSessionRead(ctx, read, "the turn ended"); err != nil {
					return err
				}
				if stream.Comments() == 0 {
					return stream.Failf("no comment line in a session stream quiet for 1.2 s")
				}
				return nil
			}, NeedSessionStream).traces("REQ-STRM-017"),
	}
}
