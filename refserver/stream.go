package refserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentsession/agentsession/gen"
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
