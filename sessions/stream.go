package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdkclient"
	"github.com/agentsession/agentsession/sse"
)

var (
	// ErrIdleTimeout: no event arrived within WithIdleTimeout.
	ErrIdleTimeout = errors.New("sessions: no event within the idle timeout")
	// ErrStreamLost: the stream dropped and could not be resumed
	// (WithMaxResumes attempts in a row brought no new event, as when the
	// server's events carry no seq to resume after).
	ErrStreamLost = errors.New("sessions: turn stream lost")
	// ErrStreamIncomplete: Result was asked of a stream whose loop stopped
	// before the turn ended.
	ErrStreamIncomplete = errors.New("sessions: the stream was not read to its end")
	// ErrStreamReused: a Stream's events can be read only once.
	ErrStreamReused = errors.New("sessions: a Stream can be read only once")
)

// errStopped marks a loop the caller left early.
var errStopped = errors.New("stopped by the caller")

// Stream is a turn whose events arrive while the agent works. Nothing is
// sent until its events are read (Events or Result), and they can be read
// once. A Stream is used by one goroutine.
type Stream struct {
	s      *Session
	ctx    context.Context
	prompt string
	cfg    *turnConfig

	started   atomic.Bool
	turnIndex atomic.Int32
	accepted  atomic.Pointer[TurnAccepted]
	// follow: the stream follows a turn sent before (WaitTurn, a Turn the
	// server answered 202) instead of sending one.
	follow bool
	// answered holds the permission requests the handler decided.
	answered map[string]bool
	// failed ends the stream with an error that is not a dropped
	// connection (a permission handler's, PermissionRequiredError).
	failed  error
	lastSeq int64
	// unnumbered counts the events yielded after lastSeq that carried no
	// seq (a server that breaks the contract): a resumed connection replays
	// them first, and they are not yielded again.
	unnumbered int
	skip       int // unnumbered events still to skip on this connection
	events     []Event
	resumes    int
	key        string // the idempotency key of the turn's sends
	meta       *agentsession.Response
	result     *TurnResult
	err        error
}

// TurnStream sends prompt to the session's agent as a streamed turn. Range
// over Events to see each event as it arrives, then call Result for the
// finished turn:
//
//	st := s.TurnStream(ctx, "hello")
//	for ev, err := range st.Events() {
//		if err != nil {
//			return err
//		}
//		fmt.Print(ev.Text())
//	}
//	res, err := st.Result()
//
// When the connection drops, the stream resumes where it stopped (with
// Last-Event-ID), so every event is seen exactly once. Without
// WithBusyPolicy the turn takes its place in the session's order (see Turn)
// and keeps it while its events are read.
func (s *Session) TurnStream(ctx context.Context, prompt string, opts ...TurnOption) *Stream {
	return &Stream{s: s, ctx: ctx, prompt: prompt, cfg: newTurnConfig(opts)}
}

// Events yields the turn's events as they arrive. An error is yielded once
// and ends the sequence. Leaving the loop early stops listening; the turn
// keeps running on the server (Cancel it if needed).
func (st *Stream) Events() iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if !st.started.CompareAndSwap(false, true) {
			yield(Event{}, ErrStreamReused)
			return
		}
		err := st.run(yield)
		switch {
		case errors.Is(err, errStopped):
			st.err = ErrStreamIncomplete
		case err != nil:
			st.err = err
			yield(Event{}, err)
		}
	}
}

// Result returns the finished turn. Called before the events were read, it
// reads them all first. It returns ErrStreamIncomplete when the loop over
// Events stopped early, and the stream's error when it failed.
func (st *Stream) Result() (*TurnResult, error) {
	if !st.started.Load() {
		for _, err := range st.Events() {
			if err != nil {
				break
			}
		}
	}
	if st.result != nil {
		return st.result, nil
	}
	if st.err != nil {
		return nil, st.err
	}
	return nil, ErrStreamIncomplete
}

// TurnIndex returns the turn's number once the server accepted it, else 0.
func (st *Stream) TurnIndex() int32 { return st.turnIndex.Load() }

// Accepted returns the server's acceptance of the turn (its turn.accepted
// frame) once it arrived, else nil: its QueuePosition while it waits behind
// another turn (BusyEnqueue), Steered when the prompt went to the running
// turn (BusySteer, whose TurnIndex it then is), its Meta.
func (st *Stream) Accepted() *TurnAccepted { return st.accepted.Load() }

// Resumes returns how many times the stream was resumed after a drop.
func (st *Stream) Resumes() int { return st.resumes }

func (st *Stream) run(yield func(Event, error) bool) (err error) {
	cfg, ctx := st.cfg, st.ctx
	if cfg.err != nil {
		return cfg.err
	}
	var rec *turnRecord
	if !st.follow {
		state := sdkclient.Of(st.s.c)
		if cfg.busy == "" {
			held, err := state.TurnOrder.Lock(ctx, st.s.id)
			if err != nil {
				return err
			}
			defer held.Unlock()
		}
		rec = startRecord(state, st.s.id, st.prompt, cfg, true)
		defer func() { st.record(rec, err) }()
	}

	resp, err := st.open(rec, true)
	if err != nil {
		return err
	}
	failures := 0
	for {
		done, progressed, rerr := st.read(resp, yield)
		switch {
		case done:
			return nil
		case st.failed != nil:
			return st.failed
		case errors.Is(rerr, errStopped):
			return rerr
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(rerr, ErrIdleTimeout), errors.Is(rerr, agentsession.ErrUnexpectedResponse):
			return rerr
		}
		// The connection dropped: resume after the last event seen. Only a
		// new seq is progress: a stream whose events carry none cannot be
		// resumed past them, so it backs off and gives up at the bound.
		if progressed {
			failures = 0
		}
		for {
			failures++
			if failures > cfg.maxResumes {
				why := ""
				if st.unnumbered > 0 {
					why = fmt.Sprintf(" (%d events after it carry no seq, so the stream cannot resume past them)", st.unnumbered)
				}
				return fmt.Errorf("%w: turn %d after event %d%s, %d resumes without a new event: %w",
					ErrStreamLost, st.turnIndex.Load(), st.lastSeq, why, failures-1, rerr)
			}
			if err := sleep(ctx, resumeDelay(failures)); err != nil {
				return err
			}
			st.resumes++
			if resp, err = st.open(rec, false); err == nil {
				break
			}
			var te *agentsession.TransportError
			if !errors.As(err, &te) || ctx.Err() != nil {
				return err
			}
			rerr = err
		}
	}
}

// resumeDelay: the first resume after progress goes at once, later ones
// back off.
func resumeDelay(failures int) time.Duration {
	if failures <= 1 {
		return 0
	}
	return min(100*time.Millisecond<<(failures-2), 2*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// conn is one open event stream.
type conn struct {
	resp   *http.Response
	cancel context.CancelFunc
}

func (c *conn) close() {
	c.cancel()
	_ = c.resp.Body.Close()
}

// open starts the turn (first) or resumes it: with streamTurn once the turn
// index is known, else by sending the turn again with the same idempotency
// key, which replays the stream instead of starting a second turn.
func (st *Stream) open(rec *turnRecord, first bool) (*conn, error) {
	base, id := st.s.c.BaseURL(), st.s.id
	var (
		req *http.Request
		err error
	)
	extra := make([]agentsession.CallOption, 0, 2)
	idx := st.turnIndex.Load()
	switch {
	case first && !st.follow:
		req, err = st.s.sendTurnRequest(st.prompt, st.cfg, -1)
	case idx > 0:
		last := strconv.FormatInt(st.lastSeq, 10)
		req, err = gen.NewStreamTurnRequest(base, id, idx, &gen.StreamTurnParams{LastEventID: &last})
	default:
		req, err = st.s.sendTurnRequest(st.prompt, st.cfg, st.lastSeq)
		extra = append(extra, agentsession.IdempotencyKey(st.key))
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if rec != nil {
		extra = append(extra, agentsession.OnAttempt(rec.attempt))
	}
	ctx, cancel := context.WithCancel(st.ctx)
	resp, meta, err := st.s.c.Open(ctx, req, st.cfg.callOptions(extra...)...)
	if first && st.meta == nil {
		// The key the SDK (or the caller's IdempotencyKey) gave the send:
		// every resend of the turn reuses it.
		st.meta, st.key = meta, meta.IdempotencyKey
	}
	if err != nil {
		cancel()
		return nil, err
	}
	st.skip = st.unnumbered
	return &conn{resp: resp, cancel: cancel}, nil
}

// read consumes one connection until the turn completes or the connection
// ends. progressed reports whether a new event arrived.
func (st *Stream) read(c *conn, yield func(Event, error) bool) (done, progressed bool, err error) {
	defer c.close()
	if mt, _, _ := mime.ParseMediaType(c.resp.Header.Get("Content-Type")); mt == "application/json" {
		// A server that does not stream answers with the whole turn.
		var res wireTurnResult
		if err := json.NewDecoder(c.resp.Body).Decode(&res); err != nil {
			return false, false, err // read as a dropped connection
		}
		for _, ev := range res.Events {
			if ok, stop := st.accept(ev, yield); stop {
				return false, progressed, errStopped
			} else if ok {
				progressed = true
			}
		}
		if !st.complete(res.TurnSummary, yield) {
			return false, progressed, errStopped
		}
		return true, progressed, nil
	}

	var idleFired atomic.Bool
	var idle *time.Timer
	if st.cfg.idle > 0 {
		idle = time.AfterFunc(st.cfg.idle, func() { idleFired.Store(true); c.cancel() })
		defer idle.Stop()
	}
	r := sse.NewReader(c.resp.Body)
	for {
		f, err := r.Next()
		if err != nil {
			if idleFired.Load() {
				return false, progressed, fmt.Errorf("%w (%v, turn %d after event %d)", ErrIdleTimeout, st.cfg.idle, st.turnIndex.Load(), st.lastSeq)
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the stream ended without turn.completed
			}
			return false, progressed, err
		}
		switch f.Event {
		case "turn.accepted":
			var a TurnAccepted
			if err := json.Unmarshal([]byte(f.Data), &a); err != nil {
				return false, progressed, protocolError(f, err)
			}
			st.turnIndex.Store(a.TurnIndex)
			st.accepted.Store(&a)
		case "", "message":
			if f.Data == "" {
				continue
			}
			var ev Event
			if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
				return false, progressed, protocolError(f, err)
			}
			if ev.Seq == 0 && f.HasID {
				ev.Seq, _ = strconv.ParseInt(f.ID, 10, 64)
			}
			if idle != nil {
				idle.Reset(st.cfg.idle)
			}
			ok, stop := st.accept(ev, yield)
			if stop {
				return false, progressed, errStopped
			}
			progressed = progressed || ok
			if ok && ev.Type == EventPermissionRequest {
				if err := st.permissionAsked(ev, idle); err != nil {
					st.failed = err
					return false, progressed, err
				}
			}
		case "turn.completed":
			var sum gen.TurnSummary
			if err := json.Unmarshal([]byte(f.Data), &sum); err != nil {
				return false, progressed, protocolError(f, err)
			}
			if !st.complete(sum, yield) {
				return false, progressed, errStopped
			}
			return true, progressed, nil
		default:
			// A frame type this SDK does not know: skip it.
		}
	}
}

// accept yields ev unless it was already seen. ok reports a new seq (the
// stream's progress); stop that the caller left the loop.
func (st *Stream) accept(ev Event, yield func(Event, error) bool) (ok, stop bool) {
	switch {
	case ev.Seq != 0 && ev.Seq <= st.lastSeq:
		return false, false // replayed after a resume: already yielded
	case ev.Seq != 0:
		st.lastSeq, st.unnumbered, st.skip, ok = ev.Seq, 0, 0, true
	case st.skip > 0:
		st.skip-- // an unnumbered event this connection replays
		return false, false
	default:
		st.unnumbered++
	}
	if st.turnIndex.Load() == 0 && ev.TurnIndex > 0 {
		st.turnIndex.Store(ev.TurnIndex)
	}
	ev.s = st.s
	st.events = append(st.events, ev)
	return ok, !yield(ev, nil)
}

// complete ends the turn. If the summary says events are missing (a server
// that skipped some while resuming), they are read from the event log first.
// It returns false when the caller left the loop.
func (st *Stream) complete(sum gen.TurnSummary, yield func(Event, error) bool) bool {
	if sum.TurnIndex > 0 {
		st.turnIndex.Store(sum.TurnIndex)
	}
	if sum.LastSeq > st.lastSeq && sum.TurnIndex > 0 {
		for ev, err := range st.s.TurnEvents(st.ctx, sum.TurnIndex, st.lastSeq) {
			if err != nil {
				break // the summary still ends the turn; the gap stays visible in seq
			}
			if _, stop := st.accept(ev, yield); stop {
				return false
			}
		}
	}
	st.result = turnResultFrom(sum, st.events, st.meta)
	return true
}

// permissionAsked handles a permission_request the stream yielded: the
// handler answers it; without one, a followed turn (Turn, WaitTurn) fails
// with a *PermissionRequiredError while the request is pending, and a
// TurnStream leaves it to the caller (Event.Answer).
func (st *Stream) permissionAsked(ev Event, idle *time.Timer) error {
	if st.answered[ev.RequestID] {
		return nil
	}
	if st.cfg.permission == nil {
		if !st.follow {
			return nil
		}
		idx := st.turnIndex.Load()
		pending, err := st.s.pending(st.ctx, idx, st.cfg)
		if err != nil || len(pending) == 0 {
			return err // nil: answered meanwhile, the turn goes on
		}
		return &PermissionRequiredError{SessionID: st.s.id, TurnIndex: idx, Requests: pending, LastSeq: st.lastSeq}
	}
	if st.answered == nil {
		st.answered = map[string]bool{}
	}
	// A person may take a while to decide: that is not the stream idling.
	if idle != nil {
		idle.Stop()
		defer idle.Reset(st.cfg.idle)
	}
	return st.s.decide(st.ctx, st.cfg, requestOf(ev, st.s.id), st.answered)
}

func protocolError(f sse.Frame, err error) error {
	name := f.Event
	if name == "" {
		name = "event"
	}
	return fmt.Errorf("%w: bad %s frame: %v", agentsession.ErrUnexpectedResponse, name, err)
}

// record writes the stream's turn record.
func (st *Stream) record(rec *turnRecord, err error) {
	if rec == nil {
		return
	}
	res := st.result
	if res == nil {
		res = &TurnResult{Events: st.events, TurnIndex: st.turnIndex.Load()}
	}
	rec.mu.Lock()
	rec.t.Resumes = st.resumes
	rec.mu.Unlock()
	if errors.Is(err, errStopped) {
		err = ErrStreamIncomplete
	}
	rec.finish(st.meta, res, err)
}
