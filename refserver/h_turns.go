package refserver

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
	"github.com/agentsession/agentsession/refserver/store"
)

// wantsEventStream reports whether an Accept header asks for
// text/event-stream: listed with a q above 0 and not below application/json's
// (a client names the stream only when it can read one; */* and no Accept
// get JSON, the default).
func wantsEventStream(accept string) bool {
	sseQ, jsonQ := -1.0, -1.0
	for _, r := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(r))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch mt {
		case "text/event-stream":
			if sseQ < 0 {
				sseQ = q
			}
		case "application/json":
			if jsonQ < 0 {
				jsonQ = q
			}
		}
	}
	return sseQ > 0 && sseQ >= jsonQ
}

// resumeAfter is the seq a stream resumes after: Last-Event-ID wins over
// ?after=.
func resumeAfter(lastEventID *string, after *int64) (int64, error) {
	if lastEventID != nil {
		n, err := strconv.ParseInt(*lastEventID, 10, 64)
		if err != nil || n < 0 {
			return 0, invalidField("header.Last-Event-ID", "want the seq of the last event received, a non-negative integer")
		}
		return n, nil
	}
	return deref(after), nil
}

func errTurnNotFound(sessionID string, index int) *apiError {
	return newError(http.StatusNotFound, gen.ProblemCodeNotFound, "No turn %d in session %s.", index, sessionID)
}

func (a api) SendTurn(ctx context.Context, req genserver.SendTurnRequestObject) (genserver.SendTurnResponseObject, error) {
	ri := info(ctx)
	key := sessKey{ri.tenant, req.SessionID}
	b := req.Body
	policy := gen.BusyPolicyReject
	if b.BusyPolicy != "" {
		policy = b.BusyPolicy
	}
	timeout := a.cfg.MaxTurnTimeout
	if b.TimeoutMs != 0 { // validation refuses 0: unset
		d := time.Duration(b.TimeoutMs) * time.Millisecond
		if d > a.cfg.MaxTurnTimeout {
			return nil, invalidField("body.timeout_ms", fmt.Sprintf("at most %d (limits.max_turn_timeout_ms)", a.cfg.MaxTurnTimeout.Milliseconds()))
		}
		timeout = d
	}
	after, err := resumeAfter(req.Params.LastEventID, nil)
	if err != nil {
		return nil, err
	}
	stream := wantsEventStream(ri.accept)
	files := b.Files
	k := idemFor(ctx, "sendTurn", req.Params.IdempotencyKey, req.SessionID)

	rn := a.turns.lock(key)
	var (
		ex     *turnExec
		replay *store.Idempotency
		busy   bool
	)
	// The acceptance may commit with the turn's first write (a store that
	// defers it): the turn runs at once, and nothing is acknowledged, no
	// turn.accepted and no answer, before accepted says it is committed.
	accepted, err := store.UpdateDeferred(a.store, ctx, func(tx store.Tx) error {
		rec, err := k.lookup(tx)
		if err != nil || rec != nil {
			replay = rec
			return err
		}
		sess, err := getSessionTx(tx, key)
		if err != nil {
			return err
		}
		switch {
		case sess.Ended() || rn.closing:
			return errSessionEnded(sess)
		case sess.Status == gen.SessionStatusPaused:
			return conflict(gen.ProblemCodeSessionPaused, "Session %s is paused; resume it before sending turns.", sess.ID)
		}
		if err := a.checkAgent(sess.Agent); err != nil {
			return err
		}
		metas := make([]gen.File, 0, len(files))
		for i, tok := range files {
			f, err := tx.GetFile(key.tenant, tok)
			if errors.Is(err, store.ErrNotFound) {
				e := newError(http.StatusUnprocessableEntity, gen.ProblemCodeUnknownFile, "No file %s; upload it with uploadFile first.", tok)
				e.fields = []gen.FieldError{{Location: fmt.Sprintf("body.files.%d", i), Message: "unknown file token"}}
				return e
			}
			if err != nil {
				return err
			}
			metas = append(metas, *f)
		}
		busy = rn.running.Load() != nil
		if busy {
			switch policy {
			case gen.BusyPolicyReject:
				return conflict(gen.ProblemCodeTurnInProgress, "Session %s is running turn %d; retry later, or send with busy_policy enqueue or interrupt.",
					sess.ID, rn.running.Load().index)
			case gen.BusyPolicyEnqueue:
				if len(rn.queue) >= a.cfg.MaxQueuedTurns {
					return conflict(gen.ProblemCodeTurnQueueFull, "Session %s already has %d turns queued, the most this server allows.", sess.ID, len(rn.queue))
				}
			}
		}
		now := a.now()
		t := &store.Turn{
			Tenant: key.tenant, SessionID: key.id, Index: sess.TurnCount + 1, Prompt: b.Prompt, Files: files,
			BusyPolicy: policy, TimeoutMs: int(timeout.Milliseconds()), Status: gen.TurnStatusQueued, CreatedAt: now,
		}
		if !busy {
			t.Status, t.StartedAt = gen.TurnStatusRunning, now
		}
		if err := tx.CreateTurn(t); err != nil {
			return err
		}
		sess.TurnCount++
		sess.LastTurnAt, sess.UpdatedAt = now, now
		if err := tx.UpdateSession(sess); err != nil {
			return err
		}
		if k != nil {
			rec := k.record(http.StatusOK, nil, now)
			rec.SessionID, rec.TurnIndex = key.id, t.Index
			if err := tx.PutIdempotency(rec); err != nil {
				return err
			}
		}
		ex = newTurnExec(key, t, sess.Agent, metas, timeout)
		return nil
	}, acceptDelay)
	if err != nil {
		a.turns.release(rn)
		return nil, err
	}
	if replay != nil {
		ex = rn.find(replay.TurnIndex)
		a.turns.release(rn)
		return a.turnAnswer(ctx, key, replay.TurnIndex, ex, stream, after, true, accepted)
	}
	switch {
	case !busy:
		a.startRunner(rn, ex)
	case policy == gen.BusyPolicyInterrupt:
		rn.setQueue(append([]*turnExec{ex}, rn.queue...))
		rn.running.Load().cancelWith(causeInterrupt)
	default:
		rn.setQueue(append(rn.queue, ex))
	}
	a.turns.release(rn)
	return a.turnAnswer(ctx, key, ex.index, ex, stream, 0, false, accepted)
}

// acceptDelay bounds how long a turn's acceptance may wait to be committed
// with its first write.
const acceptDelay = time.Millisecond

// turnAnswer answers sendTurn for turn index: a stream, or the TurnResult
// once the turn has ended. ex is the live turn, nil when it has ended;
// accepted returns once the acceptance is committed.
func (s *Server) turnAnswer(ctx context.Context, key sessKey, index int, ex *turnExec, stream bool, after int64, replayed bool, accepted func() error) (genserver.SendTurnResponseObject, error) {
	if stream {
		if ex == nil { // read from the store: only once it holds the turn
			if err := accepted(); err != nil {
				return nil, err
			}
		}
		st, err := s.streamOf(ctx, key, index, ex, after)
		if err != nil {
			return nil, err
		}
		st.acceptedCommit = accepted
		status := gen.TurnStatusCompleted
		if ex != nil {
			if _, final, _ := ex.since(0); final == nil {
				status = ex.turnStatus()
			}
		}
		st.accepted = &gen.TurnAccepted{SessionID: key.id, TurnIndex: int32(index), Status: status}
		st.replayed = replayed
		return st, nil
	}
	if ex != nil {
		select {
		case <-ex.done:
		case <-ctx.Done():
			return nil, ctx.Err() // the turn goes on without the client
		}
		if err := accepted(); err != nil {
			return nil, err
		}
		// The runner holds every event it stored for the turn and the
		// ended record it wrote: no need to read them back.
		events, final, _ := ex.since(0)
		resp, err := jsonAnswer(http.StatusOK, resultJSON(final, events))
		resp.replayed = replayed
		return resp, err
	}
	if err := accepted(); err != nil {
		return nil, err
	}
	var t *store.Turn
	var events []gen.Event
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if t, err = tx.GetTurn(key.tenant, key.id, index); err != nil {
			return err
		}
		events, err = turnEvents(tx, t, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	resp, err := jsonAnswer(http.StatusOK, resultJSON(t, events))
	resp.replayed = replayed
	return resp, err
}

// turnEvents reads turn t's events after seq after. The turn's counters
// bound the read: it starts at the turn's first event and stops at its
// last, however long the session's log is.
func turnEvents(tx store.Tx, t *store.Turn, after int64) ([]gen.Event, error) {
	if t.EventCount == 0 || after >= t.LastSeq {
		return nil, nil
	}
	events, _, err := tx.ListEvents(t.Tenant, t.SessionID, store.EventQuery{
		AfterSeq: max(after, t.FirstSeq-1), ThroughSeq: t.LastSeq, TurnIndex: t.Index, Limit: t.EventCount})
	return events, err
}

// turnStatus is the live status of a turn the runner holds.
func (ex *turnExec) turnStatus() gen.TurnStatus {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.final != nil {
		return gen.TurnStatusCompleted
	}
	if ex.createdRunning || ex.cancelFn != nil {
		return gen.TurnStatusRunning
	}
	return gen.TurnStatusQueued
}

// streamOf prepares the event stream of a turn after seq after: live from
// ex, or from the store once the turn has ended.
func (s *Server) streamOf(ctx context.Context, key sessKey, index int, ex *turnExec, after int64) (sseStream, error) {
	st := sseStream{ctx: ctx, keepAlive: s.cfg.KeepAlive, after: after, ex: ex}
	if s.metrics != nil {
		st.subscribers = s.metrics.streams
	}
	if ex != nil {
		return st, nil
	}
	err := s.store.View(ctx, func(tx store.Tx) error {
		t, err := tx.GetTurn(key.tenant, key.id, index)
		if err != nil {
			return err
		}
		st.final = t
		st.events, err = turnEvents(tx, t, after)
		return err
	})
	if err != nil {
		return sseStream{}, err
	}
	if st.final.Status != gen.TurnStatusCompleted {
		// Only a turn that ended before a restart and was never recovered
		// could be here; it cannot progress, so say so.
		return sseStream{}, internalError(fmt.Errorf("turn %d of %s is %s but not running", index, key.id, st.final.Status))
	}
	return st, nil
}

func (a api) StreamTurn(ctx context.Context, req genserver.StreamTurnRequestObject) (genserver.StreamTurnResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
	index := int(req.TurnIndex)
	after, err := resumeAfter(req.Params.LastEventID, req.Params.After)
	if err != nil {
		return nil, err
	}
	// The runner's lock orders this lookup with turn creation and ending:
	// a turn is either held by the runner or ended in the store.
	rn := a.turns.lock(key)
	ex := rn.find(index)
	var st sseStream
	if ex == nil {
		err = a.store.View(ctx, func(tx store.Tx) error {
			if _, err := getSessionTx(tx, key); err != nil {
				return err
			}
			if _, err := tx.GetTurn(key.tenant, key.id, index); errors.Is(err, store.ErrNotFound) {
				return errTurnNotFound(key.id, index)
			} else if err != nil {
				return err
			}
			return nil
		})
		if err == nil {
			st, err = a.streamOf(ctx, key, index, nil, after)
		}
	} else {
		st, err = a.streamOf(ctx, key, index, ex, after)
	}
	a.turns.release(rn)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (a api) CancelTurn(ctx context.Context, req genserver.CancelTurnRequestObject) (genserver.CancelTurnResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
	k := idemFor(ctx, "cancelTurn", req.Params.IdempotencyKey, req.SessionID)
	rn := a.turns.lock(key)
	var replay rawResponse
	// The answer depends on who cancels first, so the key is marked in
	// progress (status 0) while this request cancels and waits: a
	// concurrent retry gets 409 idempotency_in_progress, not its own answer.
	err := a.store.Update(ctx, func(tx store.Tx) error {
		rec, err := k.lookup(tx)
		if err != nil {
			return err
		}
		if rec != nil {
			replay = rawResponse{status: rec.StatusCode, body: rec.Body, replayed: true}
			return nil
		}
		if _, err = getSessionTx(tx, key); err != nil || k == nil {
			return err
		}
		return tx.PutIdempotency(k.record(0, nil, a.now()))
	})
	if err != nil || replay.status != 0 {
		a.turns.release(rn)
		return replay, err
	}
	result := gen.CancelTurnResult{SessionID: key.id}
	running := rn.running.Load()
	if running != nil && running.cancelWith(causeCancelRequest) {
		result.Cancelled = true
		result.TurnIndex = int32(running.index)
	}
	a.turns.release(rn)
	if result.Cancelled {
		// Answer once the turn has ended, so that reads after this call see
		// it; the turn ends promptly, so the wait outlives a gone client.
		<-running.done
	}
	resp, err := jsonAnswer(http.StatusOK, result)
	if err != nil || k == nil {
		return resp, err
	}
	err = a.store.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
		return tx.PutIdempotency(k.record(resp.status, resp.body, a.now()))
	})
	return resp, err
}

func (a api) ListTurns(ctx context.Context, req genserver.ListTurnsRequestObject) (genserver.ListTurnsResponseObject, error) {
	tenant, p := info(ctx).tenant, req.Params
	items, next, err := readPage(ctx, a.store, "turns", listScope(tenant, req.SessionID), p.Cursor, p.Limit,
		func(tx store.Tx, after int64, limit int) ([]*store.Turn, int64, error) {
			items, next, err := tx.ListTurns(tenant, req.SessionID, store.Page{AfterOrd: after, Limit: limit})
			return items, next, sessionScoped(err, req.SessionID)
		})
	if err != nil {
		return nil, err
	}
	out := gen.TurnList{Items: make([]gen.Turn, 0, len(items)), NextCursor: next}
	for _, t := range items {
		out.Items = append(out.Items, turnJSON(t))
	}
	return genserver.ListTurns200JSONResponse{Body: out}, nil
}

func (a api) GetTurn(ctx context.Context, req genserver.GetTurnRequestObject) (genserver.GetTurnResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
	index := int(req.TurnIndex)
	var out gen.Turn
	err := a.store.View(ctx, func(tx store.Tx) error {
		if _, err := getSessionTx(tx, key); err != nil {
			return err
		}
		t, err := tx.GetTurn(key.tenant, key.id, index)
		if errors.Is(err, store.ErrNotFound) {
			return errTurnNotFound(key.id, index)
		}
		if err != nil {
			return err
		}
		events, err := turnEvents(tx, t, 0)
		if err != nil {
			return err
		}
		out = turnJSON(t)
		out.Events = nonNil(events)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return genserver.GetTurn200JSONResponse{Body: out}, nil
}

func (a api) ListEvents(ctx context.Context, req genserver.ListEventsRequestObject) (genserver.ListEventsResponseObject, error) {
	tenant, p := info(ctx).tenant, req.Params
	scope := listScope(tenant, req.SessionID, strconv.Itoa(int(deref(p.TurnIndex))))
	items, next, err := readPage(ctx, a.store, "events", scope, p.Cursor, p.Limit,
		func(tx store.Tx, cur int64, limit int) ([]gen.Event, int64, error) {
			q := store.EventQuery{AfterSeq: max(cur, deref(p.After)), TurnIndex: int(deref(p.TurnIndex)), Limit: limit}
			if q.TurnIndex > 0 {
				// The turn's seq range bounds the read (events have no index by turn).
				t, err := tx.GetTurn(tenant, req.SessionID, q.TurnIndex)
				switch {
				case err == nil && t.EventCount == 0:
					return nil, 0, nil
				case err == nil:
					q.AfterSeq, q.ThroughSeq = max(q.AfterSeq, t.FirstSeq-1), t.LastSeq
				case !errors.Is(err, store.ErrNotFound):
					return nil, 0, err
				}
			}
			items, next, err := tx.ListEvents(tenant, req.SessionID, q)
			return items, next, sessionScoped(err, req.SessionID)
		})
	if err != nil {
		return nil, err
	}
	return genserver.ListEvents200JSONResponse{Body: gen.EventList{Items: items, NextCursor: next}}, nil
}
