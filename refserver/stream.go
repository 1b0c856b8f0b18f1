package refserver

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
	"github.com/agentsession/agentsession/refserver/store"
	"github.com/agentsession/agentsession/sse"
)

// sseStream is the text/event-stream answer of sendTurn and streamTurn. It
// writes each frame with sse.Write and flushes it at once (the generated
// response would buffer through io.Copy).
type sseStream struct {
	ctx       context.Context
	keepAlive time.Duration
	// accepted, when set, opens the stream (sendTurn).
	accepted *gen.TurnAccepted
	// after is the last seq the client has; only later events are sent.
	after int64
	// ex is the live turn; when nil the turn has ended and events and
	// final come from the store.
	ex       *turnExec
	events   []gen.Event
	final    *store.Turn
	replayed bool
	// subscribers counts the open streams (nil: no metrics).
	subscribers prometheus.Gauge
	// acceptedCommit, when set, returns once the turn's acceptance is
	// committed: turn.accepted acknowledges it.
	acceptedCommit func() error
}

func (st sseStream) VisitSendTurnResponse(w http.ResponseWriter) error   { return st.serve(w) }
func (st sseStream) VisitStreamTurnResponse(w http.ResponseWriter) error { return st.serve(w) }

func (st sseStream) serve(w http.ResponseWriter) error {
	if st.acceptedCommit != nil {
		if err := st.acceptedCommit(); err != nil {
			return err
		}
	}
	if st.subscribers != nil {
		st.subscribers.Inc()
		defer st.subscribers.Dec()
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	if st.replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if st.accepted != nil {
		if err := writeData(w, "turn.accepted", "", st.accepted); err != nil {
			return err
		}
	}
	if err := rc.Flush(); err != nil {
		return err
	}
	if st.ex == nil {
		for _, ev := range st.events {
			if ev.Seq > st.after {
				if err := writeEvent(w, ev); err != nil {
					return err
				}
			}
		}
		if err := writeData(w, "turn.completed", "", summaryJSON(st.final)); err != nil {
			return err
		}
		return rc.Flush()
	}
	sent := st.after
	ticker := time.NewTicker(st.keepAlive)
	defer ticker.Stop()
	for {
		events, final, changed := st.ex.since(sent)
		for _, ev := range events {
			if err := writeEvent(w, ev); err != nil {
				return err
			}
			sent = ev.Seq
		}
		if final != nil {
			if err := writeData(w, "turn.completed", "", summaryJSON(final)); err != nil {
				return err
			}
			return rc.Flush()
		}
		if len(events) > 0 {
			if err := rc.Flush(); err != nil {
				return err
			}
			ticker.Reset(st.keepAlive)
		}
		select {
		case <-changed:
		case <-ticker.C:
			if err := sse.WriteComment(w, "keep-alive"); err != nil {
				return err
			}
			if err := rc.Flush(); err != nil {
				return err
			}
		case <-st.ctx.Done():
			return st.ctx.Err()
		}
	}
}

func writeEvent(w http.ResponseWriter, ev gen.Event) error {
	return writeData(w, "", strconv.FormatInt(ev.Seq, 10), ev)
}

func writeData(w http.ResponseWriter, event, id string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sse.Write(w, sse.Frame{Event: event, ID: id, Data: string(data), Retry: -1})
}

// sessionStream is the text/event-stream answer of streamSession: the
// session's turn events and lifecycle events, merged in order, read from
// the store (what the stream sends is what the history holds), live until
// the session ends.
type sessionStream struct {
	s         *Server
	ctx       context.Context
	key       sessKey
	keepAlive time.Duration
	// seq and lseq are the resume point: the newest turn-event seq and
	// lifecycle_seq the client has.
	seq, lseq int64
}

func (st sessionStream) VisitStreamSessionResponse(w http.ResponseWriter) error {
	if m := st.s.metrics; m != nil {
		m.streams.Inc()
		defer m.streams.Dec()
	}
	unsubscribe := st.s.hub.subscribe(st.key)
	defer unsubscribe()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return err
	}
	ticker := time.NewTicker(st.keepAlive)
	defer ticker.Stop()
	for {
		// The channel is taken before the read: a write committed after the
		// read closes it.
		changed := st.s.hub.changed(st.key)
		page, err := st.read()
		if err != nil {
			return err
		}
		if err := st.write(w, page); err != nil {
			return err
		}
		if page.more {
			continue
		}
		if page.ended != nil {
			if err := writeData(w, "session.ended", "", st.s.sessionJSON(page.ended)); err != nil {
				return err
			}
			return rc.Flush()
		}
		if page.sent() {
			if err := rc.Flush(); err != nil {
				return err
			}
			ticker.Reset(st.keepAlive)
		}
		select {
		case <-changed:
		case <-ticker.C:
			if err := sse.WriteComment(w, "keep-alive"); err != nil {
				return err
			}
			if err := rc.Flush(); err != nil {
				return err
			}
		case <-st.ctx.Done():
			return st.ctx.Err()
		}
	}
}

// sessionPage is one read of a session's logs.
type sessionPage struct {
	events    []gen.Event
	lifecycle []gen.LifecycleEvent
	// more: a log had more than a page; read again at once.
	more bool
	// ended is the session, once it has ended and everything is read.
	ended *store.Session
}

func (p sessionPage) sent() bool { return len(p.events)+len(p.lifecycle) > 0 }

// sessionPageSize bounds one read of each log.
const sessionPageSize = 500

// read takes the next page of both logs, and the session, in one read
// transaction: a consistent view, so the merge below orders them right.
func (st *sessionStream) read() (sessionPage, error) {
	var p sessionPage
	err := st.s.store.View(st.ctx, func(tx store.Tx) error {
		sess, err := getSessionTx(tx, st.key)
		if err != nil {
			return err
		}
		var nextEv, nextLc int64
		if sess.LastEventSeq > st.seq {
			if p.events, nextEv, err = tx.ListEvents(st.key.tenant, st.key.id, store.EventQuery{AfterSeq: st.seq, Limit: sessionPageSize}); err != nil {
				return err
			}
		}
		if sess.LastLifecycleSeq > st.lseq {
			if p.lifecycle, nextLc, err = tx.ListLifecycleEvents(st.key.tenant, st.key.id, store.LifecycleQuery{AfterSeq: st.lseq, Limit: sessionPageSize}); err != nil {
				return err
			}
		}
		// A full page may stop before what belongs between its items: keep
		// what is certain to come first, read the rest next.
		if nextEv != 0 {
			p.more = true
			last := p.events[len(p.events)-1].Seq
			p.lifecycle = slices.DeleteFunc(p.lifecycle, func(e gen.LifecycleEvent) bool { return e.AfterSeq > last })
		}
		if nextLc != 0 {
			p.more = true
			last := p.lifecycle[len(p.lifecycle)-1].AfterSeq
			p.events = slices.DeleteFunc(p.events, func(e gen.Event) bool { return e.Seq > last })
		}
		if !p.more && sess.Ended() {
			p.ended = sess
		}
		return nil
	})
	return p, err
}

// write sends the page's frames in order: a lifecycle event whose after_seq
// is s after turn event s and before turn event s+1.
func (st *sessionStream) write(w http.ResponseWriter, p sessionPage) error {
	evs, lcs := p.events, p.lifecycle
	for len(evs) > 0 || len(lcs) > 0 {
		if len(lcs) > 0 && (len(evs) == 0 || lcs[0].AfterSeq < evs[0].Seq) {
			st.lseq = lcs[0].LifecycleSeq
			if err := writeData(w, "session.lifecycle", st.position(), lcs[0]); err != nil {
				return err
			}
			lcs = lcs[1:]
			continue
		}
		st.seq = evs[0].Seq
		if err := writeData(w, "", st.position(), evs[0]); err != nil {
			return err
		}
		evs = evs[1:]
	}
	return nil
}

// position is the id of the frame just sent: <seq>.<lifecycle_seq>.
func (st *sessionStream) position() string {
	return strconv.FormatInt(st.seq, 10) + "." + strconv.FormatInt(st.lseq, 10)
}

// parseSessionPosition reads a streamSession resume point,
// <seq>.<lifecycle_seq>; the spec's pattern has been checked.
func parseSessionPosition(loc, v string) (int64, int64, error) {
	a, b, ok := strings.Cut(v, ".")
	seq, err1 := strconv.ParseInt(a, 10, 64)
	lseq, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || seq < 0 || lseq < 0 {
		return 0, 0, invalidField(loc, "want <seq>.<lifecycle_seq>, the id of the last frame received, such as 41.7")
	}
	return seq, lseq, nil
}

func (a api) StreamSession(ctx context.Context, req genserver.StreamSessionRequestObject) (genserver.StreamSessionResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
	st := sessionStream{s: a.Server, ctx: ctx, key: key, keepAlive: a.cfg.KeepAlive}
	var err error
	switch {
	case req.Params.LastEventID != nil: // the header wins
		st.seq, st.lseq, err = parseSessionPosition("header.Last-Event-ID", *req.Params.LastEventID)
	case req.Params.After != nil:
		st.seq, st.lseq, err = parseSessionPosition("query.after", *req.Params.After)
	}
	if err != nil {
		return nil, err
	}
	if err := a.store.View(ctx, func(tx store.Tx) error {
		_, err := getSessionTx(tx, key)
		return err
	}); err != nil {
		return nil, err
	}
	return st, nil
}

func (a api) ListLifecycleEvents(ctx context.Context, req genserver.ListLifecycleEventsRequestObject) (genserver.ListLifecycleEventsResponseObject, error) {
	tenant, p := info(ctx).tenant, req.Params
	items, next, err := readPage(ctx, a.store, "lifecycle", listScope(tenant, req.SessionID), p.Cursor, p.Limit,
		func(tx store.Tx, cur int64, limit int) ([]gen.LifecycleEvent, int64, error) {
			items, next, err := tx.ListLifecycleEvents(tenant, req.SessionID, store.LifecycleQuery{AfterSeq: max(cur, deref(p.After)), Limit: limit})
			return items, next, sessionScoped(err, req.SessionID)
		})
	if err != nil {
		return nil, err
	}
	return genserver.ListLifecycleEvents200JSONResponse{Body: gen.LifecycleEventList{Items: items, NextCursor: next}}, nil
}
