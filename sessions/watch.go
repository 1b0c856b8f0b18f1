package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/paging"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/sse"
)

// Position is a place in a session's stream (Watch): the newest turn
// event's seq and the newest lifecycle event's seq seen so far. The zero
// Position is the beginning.
type Position struct {
	Seq          int64
	LifecycleSeq int64
}

// String returns the position as the stream writes it, "<seq>.<lifecycle_seq>".
func (p Position) String() string {
	return strconv.FormatInt(p.Seq, 10) + "." + strconv.FormatInt(p.LifecycleSeq, 10)
}

// ParsePosition reads a position written by Position.String.
func ParsePosition(s string) (Position, error) {
	a, b, ok := strings.Cut(s, ".")
	seq, err1 := strconv.ParseInt(a, 10, 64)
	lseq, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || seq < 0 || lseq < 0 {
		return Position{}, fmt.Errorf("sessions: %q is not a stream position (<seq>.<lifecycle_seq>)", s)
	}
	return Position{Seq: seq, LifecycleSeq: lseq}, nil
}

// Frame is one item of a session's stream (Watch): a turn event or a
// lifecycle event, exactly one of the two non-nil.
type Frame struct {
	Event     *Event
	Lifecycle *lifecycle.Change
	// Position is the session's position after this frame: pass it to
	// Watch to go on from here.
	Position Position
}

// Watch yields the session-wide stream after position after: every event of
// every turn, in seq order, and every lifecycle event (turns queued,
// started and ended, status changes, handoffs, children spawned) in its
// place, across turns, until the session ends; then the loop ends and Info
// is the ended session. When the connection drops, Watch resumes after the
// last frame it yielded (Last-Event-ID), so every frame is yielded exactly
// once; after DefaultMaxResumes attempts in a row without a new frame it
// fails with ErrStreamLost. An error is yielded once and ends the loop;
// leaving the loop early stops listening.
func (s *Session) Watch(ctx context.Context, after Position, opts ...agentsession.CallOption) iter.Seq2[Frame, error] {
	return func(yield func(Frame, error) bool) {
		w := &watch{s: s, ctx: ctx, pos: after, opts: opts}
		if err := w.run(yield); err != nil && !errors.Is(err, errStopped) {
			yield(Frame{}, err)
		}
	}
}

type watch struct {
	s    *Session
	ctx  context.Context
	pos  Position
	opts []agentsession.CallOption
}

func (w *watch) run(yield func(Frame, error) bool) error {
	failures := 0
	for first := true; ; first = false {
		body, err := w.open()
		if err != nil {
			var te *agentsession.TransportError
			if first || !errors.As(err, &te) || w.ctx.Err() != nil {
				return err
			}
		}
		var progressed bool
		if err == nil {
			var done bool
			done, progressed, err = w.read(body, yield)
			switch {
			case done:
				return nil
			case errors.Is(err, errStopped), errors.Is(err, agentsession.ErrUnexpectedResponse):
				return err
			case w.ctx.Err() != nil:
				return w.ctx.Err()
			}
		}
		// Dropped: resume after the last frame yielded.
		if progressed {
			failures = 0
		}
		failures++
		if failures > DefaultMaxResumes {
			return fmt.Errorf("%w: session %s after %s, %d resumes without a new frame: %w",
				ErrStreamLost, w.s.id, w.pos, failures-1, err)
		}
		if err := sleep(w.ctx, resumeDelay(failures)); err != nil {
			return err
		}
	}
}

func (w *watch) open() (io.ReadCloser, error) {
	var params gen.StreamSessionParams
	if w.pos != (Position{}) {
		last := w.pos.String()
		params.LastEventID = &last
	}
	req, err := gen.NewStreamSessionRequest(w.s.c.BaseURL(), w.s.id, &params)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, _, err := w.s.c.Open(w.ctx, req, w.opts...)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// read consumes one connection until session.ended (done) or the
// connection ends; progressed reports a new frame.
func (w *watch) read(body io.ReadCloser, yield func(Frame, error) bool) (done, progressed bool, err error) {
	defer closeBody(body)
	r := sse.NewReader(body)
	for {
		f, err := r.Next()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // ended without session.ended
			}
			return false, progressed, err
		}
		var fr Frame
		switch f.Event {
		case "", "message":
			if f.Data == "" {
				continue
			}
			var ev Event
			if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
				return false, progressed, protocolError(f, err)
			}
			if ev.Seq <= w.pos.Seq {
				continue // replayed after a resume: already yielded
			}
			ev.s = w.s
			w.pos.Seq = ev.Seq
			fr.Event = &ev
		case "session.lifecycle":
			var le lifecycle.Change
			if err := json.Unmarshal([]byte(f.Data), &le); err != nil {
				return false, progressed, protocolError(f, err)
			}
			if le.LifecycleSeq <= w.pos.LifecycleSeq {
				continue
			}
			w.pos.LifecycleSeq = le.LifecycleSeq
			fr.Lifecycle = &le
		case "session.ended":
			var info Info
			if err := json.Unmarshal([]byte(f.Data), &info); err != nil {
				return false, progressed, protocolError(f, err)
			}
			w.s.update(&info)
			return true, progressed, nil
		default:
			continue // a frame type this SDK does not know
		}
		progressed = true
		fr.Position = w.pos
		if !yield(fr, nil) {
			return false, progressed, errStopped
		}
	}
}

// closeBody stops reading a stream: closing it ends the connection.
func closeBody(body io.ReadCloser) { _ = body.Close() }

// LifecycleEvents yields the session's lifecycle events whose
// lifecycle_seq is greater than after, in order (the history of what Watch
// streams).
func (s *Session) LifecycleEvents(ctx context.Context, after int64, opts ...agentsession.CallOption) iter.Seq2[*lifecycle.Change, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*lifecycle.Change, string, error) {
		req, err := gen.NewListLifecycleEventsRequest(s.c.BaseURL(), s.id, &gen.ListLifecycleEventsParams{
			After:  paging.Ptr(after),
			Limit:  paging.Ptr(int32(100)),
			Cursor: paging.Ptr(cursor),
		})
		page, err := do[gen.LifecycleEventList](ctx, s.c, req, err, opts)
		if err != nil {
			return nil, "", err
		}
		return ptrs(page.Items), page.NextCursor, nil
	})
}
