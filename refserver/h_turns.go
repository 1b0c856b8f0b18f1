package refserver

import (
	"bytes"
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

// steeredRecord marks an idempotency record of a sendTurn whose prompt
// steered the running turn (the record names that turn), so that a replay
// says steered too. sendTurn records keep no body otherwise: the answer is
// rebuilt from the turn.
var steeredRecord = []byte("steered")

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

	var replayed, steered bool
	// The acceptance may commit with the turn's first write (a store that
	// defers it): the turn runs at once, and nothing is acknowledged, no
	// turn.accepted and no answer, before accepted says it is committed.
	var accepted func() error
	sub, err := a.submitTurn(key, policy, func(rs runnerState) (admission, error) {
		var adm admission
		var err error
		accepted, err = store.UpdateDeferred(a.store, ctx, func(tx store.Tx) error {
			adm = admission{}
			rec, err := k.lookup(tx)
			if err != nil {
				return err
			}
			if rec != nil {
				replayed, steered = true, bytes.Equal(rec.Body, steeredRecord)
				adm.existing = rec.TurnIndex
				return nil
			}
			sess, err := getSessionTx(tx, key)
			if err != nil {
				return err
			}
			switch {
			case sess.Ended() || rs.closing:
				return errSessionEnded(sess)
			case sess.Status == gen.SessionStatusPaused:
				return conflict(gen.ProblemCodeSessionPaused, "Session %s is paused; resume it before sending turns.", sess.ID)
			}
			ag, ok := a.agents.Get(sess.Agent)
			if !ok {
				return errUnknownAgent(sess.Agent)
			}
			if policy == gen.BusyPolicySteer && !ag.Info().Steer {
				e := newError(http.StatusUnprocessableEntity, gen.ProblemCodeUnsupportedBusyPolicy,
					"Agent %q cannot be steered; send the prompt with busy_policy reject, enqueue or interrupt.", sess.Agent)
				e.fields = []gen.FieldError{{Location: "body.busy_policy", Message: "the session's agent cannot be steered"}}
				return e
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
			now := a.now()
			busy := rs.running != nil
			if busy {
				switch policy {
				case gen.BusyPolicyReject:
					return conflict(gen.ProblemCodeTurnInProgress, "Session %s is running turn %d; retry later, or send with busy_policy enqueue, interrupt or steer.",
						sess.ID, rs.running.index)
				case gen.BusyPolicyEnqueue:
					if rs.queued >= a.cfg.MaxQueuedTurns {
						return conflict(gen.ProblemCodeTurnQueueFull, "Session %s already has %d turns queued, the most this server allows.", sess.ID, rs.queued)
					}
				case gen.BusyPolicySteer:
					// No new turn: the prompt goes to the running one.
					adm.existing, adm.guidance, steered = rs.running.index, b.Prompt, true
					if k == nil {
						return nil
					}
					rec := k.record(http.StatusOK, steeredRecord, now)
					rec.SessionID, rec.TurnIndex = key.id, rs.running.index
					return tx.PutIdempotency(rec)
				}
			}
			timeout := agentTurnTimeout(ag, timeout)
			t := &store.Turn{
				Tenant: key.tenant, SessionID: key.id, Index: sess.TurnCount + 1, Prompt: b.Prompt, Files: files,
				BusyPolicy: policy, TimeoutMs: int(timeout.Milliseconds()), Status: gen.TurnStatusQueued, CreatedAt: now,
				Meta: b.Meta,
			}
			lc := gen.LifecycleEvent{Type: gen.LifecycleEventTypeTurnQueued, TurnIndex: int32(t.Index), QueuePosition: int32(rs.queued + 1)}
			switch {
			case !busy:
				t.Status, t.StartedAt = gen.TurnStatusRunning, now
				lc = gen.LifecycleEvent{Type: gen.LifecycleEventTypeTurnStarted, TurnIndex: int32(t.Index)}
			case policy == gen.BusyPolicyInterrupt:
				lc.QueuePosition = 1 // it goes before the turns queued already
			}
			if err := tx.CreateTurn(t); err != nil {
				return err
			}
			sess.TurnCount++
			sess.LastTurnAt, sess.UpdatedAt = now, now
			if err := appendLifecycleTx(tx, sess, lc, now); err != nil {
				return err
			}
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
			adm.turn = newTurnExec(key, t, sess.Agent, metas, timeout, sess.AgentOptions)
			return nil
		}, acceptDelay)
		return adm, err
	})
	if err != nil {
		return nil, err
	}
	if !replayed {
		after = 0 // a new turn (or a steered one) streams from its start (steered: from now)
	}
	return a.turnAnswer(ctx, key, sub, stream, after, replayed, steered, accepted)
}

// acceptDelay bounds how long a turn's acceptance may wait to be committed
// with its first write.
const acceptDelay = time.Millisecond

// turnAnswer answers sendTurn with the turn sub: a stream, the TurnResult
// once the turn has ended, or a TurnWaiting (202) while it waits for an
// answer to a permission request (JSON). accepted returns once the
// acceptance is committed.
func (s *Server) turnAnswer(ctx context.Context, key sessKey, sub submitted, stream bool, after int64, replayed, steered bool, accepted func() error) (genserver.SendTurnResponseObject, error) {
	ex, index := sub.ex, sub.index
	if stream {
		if ex == nil { // read from the store: only once it holds the turn
			if err := accepted(); err != nil {
				return nil, err
			}
		}
		if steered && !replayed && ex != nil {
			// A steered stream carries the running turn's events from now on.
			if events, _, _ := ex.since(0); len(events) > 0 {
				after = events[len(events)-1].Seq
			}
		}
		st, err := s.streamOf(ctx, key, index, ex, after)
		if err != nil {
			return nil, err
		}
		st.acceptedCommit = accepted
		acc := gen.TurnAccepted{SessionID: key.id, TurnIndex: int32(index), Status: gen.TurnStatusCompleted, Steered: steered}
		if ex != nil {
			acc.Meta = ex.meta
			if _, final, _ := ex.since(0); final == nil {
				acc.Status = ex.turnStatus()
			}
			if acc.Status == gen.TurnStatusQueued && !steered {
				acc.QueuePosition = int32(sub.position)
				if replayed || acc.QueuePosition == 0 {
					acc.QueuePosition = int32(s.turns.positions(key)[index])
				}
			}
		} else if st.final != nil {
			acc.Meta = st.final.Meta
		}
		st.accepted = &acc
		st.replayed = replayed
		return st, nil
	}
	if ex != nil {
		for {
			_, final, changed := ex.since(0)
			if final != nil {
				break
			}
			if ex.waiting.Load() > 0 {
				waiting := ex.waitingOn()
				if err := accepted(); err != nil {
					return nil, err
				}
				return waitingAnswer(key, ex, waiting, replayed)
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return nil, ctx.Err() // the turn goes on without the client
			}
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

// waitingAnswer is the 202 of a JSON turn that waits for input.
func waitingAnswer(key sessKey, ex *turnExec, waiting []store.PermissionRequest, replayed bool) (rawResponse, error) {
	out := gen.TurnWaiting{SessionID: key.id, TurnIndex: int32(ex.index), Status: gen.ActivityWaitingForInput,
		PermissionRequests: make([]gen.PermissionRequest, 0, len(waiting))}
	for i := range waiting {
		out.PermissionRequests = append(out.PermissionRequests, permissionJSON(&waiting[i]))
	}
	if events, _, _ := ex.since(0); len(events) > 0 {
		out.LastSeq = events[len(events)-1].Seq
	}
	resp, err := jsonAnswer(http.StatusAccepted, out)
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
	// A turn is either held by the runner or ended in the store.
	ex, err := a.heldTurn(key, index, func() error {
		return a.store.View(ctx, func(tx store.Tx) error {
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
	})
	if err != nil {
		return nil, err
	}
	st, err := a.streamOf(ctx, key, index, ex, after)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// beginCancel starts a cancel under its Idempotency-Key k. Its answer
// depends on who cancels first, so the key is marked in progress (status
// 0) while the request cancels and waits: a concurrent retry gets 409
// idempotency_in_progress, not an answer of its own. check runs in the same
// transaction (the session, the turn). A stored answer is returned to
// replay.
func (s *Server) beginCancel(ctx context.Context, k *idem, check func(tx store.Tx) error) (rawResponse, error) {
	var replay rawResponse
	err := s.store.Update(ctx, func(tx store.Tx) error {
		rec, err := k.lookup(tx)
		if err != nil {
			return err
		}
		if rec != nil {
			replay = rawResponse{status: rec.StatusCode, body: rec.Body, replayed: true}
			return nil
		}
		if err := check(tx); err != nil || k == nil {
			return err
		}
		return tx.PutIdempotency(k.record(0, nil, s.now()))
	})
	return replay, err
}

// finishCancel stores a cancel's answer under k; after an error it frees
// the key instead (an in-progress record from the zero time is abandoned),
// since a failed request stores nothing.
func (s *Server) finishCancel(ctx context.Context, k *idem, resp rawResponse, err error) (rawResponse, error) {
	if k == nil {
		return resp, err
	}
	rec := k.record(resp.status, resp.body, s.now())
	if err != nil {
		rec = k.record(0, nil, time.Time{})
	}
	if perr := s.store.Update(context.WithoutCancel(ctx), func(tx store.Tx) error { return tx.PutIdempotency(rec) }); err == nil {
		err = perr
	}
	return resp, err
}

func (a api) CancelTurn(ctx context.Context, req genserver.CancelTurnRequestObject) (genserver.CancelTurnResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
	k := idemFor(ctx, "cancelTurn", req.Params.IdempotencyKey, req.SessionID)
	var replay rawResponse
	// The key is marked with the runner locked, so who cancels first and
	// the stored answer agree.
	ex, err := a.cancelRunning(key, causeCancelRequest, func() (bool, error) {
		var err error
		replay, err = a.beginCancel(ctx, k, func(tx store.Tx) error {
			_, err := getSessionTx(tx, key)
			return err
		})
		return err == nil && replay.status == 0, err
	})
	if err != nil || replay.status != 0 {
		return replay, err
	}
	result := gen.CancelTurnResult{SessionID: key.id}
	if ex != nil {
		result.Cancelled, result.TurnIndex = true, int32(ex.index)
		// Answer once the turn has ended, so that reads after this call see
		// it; the turn ends promptly, so the wait outlives a gone client.
		<-ex.done
	}
	resp, err := jsonAnswer(http.StatusOK, result)
	return a.finishCancel(ctx, k, resp, err)
}

func errTurnEnded(index int) *apiError {
	return conflict(gen.ProblemCodeTurnEnded, "Turn %d has already ended; there is nothing to cancel.", index)
}

func (a api) CancelTurnAt(ctx context.Context, req genserver.CancelTurnAtRequestObject) (genserver.CancelTurnAtResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
	index := int(req.TurnIndex)
	k := idemFor(ctx, "cancelTurnAt", req.Params.IdempotencyKey, req.SessionID, strconv.Itoa(index))
	// ended reads the turn from the store: 404 without it, 409 once it ended.
	ended := func(tx store.Tx) (*store.Turn, error) {
		if _, err := getSessionTx(tx, key); err != nil {
			return nil, err
		}
		t, err := tx.GetTurn(key.tenant, key.id, index)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errTurnNotFound(key.id, index)
		}
		if err == nil && t.Status == gen.TurnStatusCompleted {
			err = errTurnEnded(index)
		}
		return t, err
	}
	replay, err := a.beginCancel(ctx, k, func(tx store.Tx) error {
		_, err := ended(tx)
		return err
	})
	if err != nil || replay.status != 0 {
		return replay, err
	}
	t, err := a.cancelTurnAt(key, index, func(t store.Turn) (store.Turn, []gen.Event, error) {
		var events []gen.Event
		err := a.store.Update(storeCtx, func(tx store.Tx) error {
			sess, err := tx.GetSession(key.tenant, key.id)
			if err != nil {
				return err
			}
			if events, err = endTurnTx(tx, sess, &t, turnEnd{stop: gen.StopReasonCancelled, by: gen.CancelledByCancelRequest}, a.now()); err != nil {
				return err
			}
			return tx.UpdateSession(sess)
		})
		return t, events, err
	})
	if errors.Is(err, errTurnNotHeld) {
		// It ended between the check and the runner (or was never held).
		err = a.store.View(ctx, func(tx store.Tx) error {
			_, err := ended(tx)
			if err == nil {
				err = internalError(fmt.Errorf("turn %d of %s is neither held nor ended", index, key.id))
			}
			return err
		})
	}
	var resp rawResponse
	if err == nil {
		resp, err = jsonAnswer(http.StatusOK, turnJSON(&t))
	}
	return a.finishCancel(ctx, k, resp, err)
}

func (a api) ListTurns(ctx context.Context, req genserver.ListTurnsRequestObject) (genserver.ListTurnsResponseObject, error) {
	tenant, p := info(ctx).tenant, req.Params
	items, next, err := readPage(ctx, a.store, "turns", listScope(tenant, req.SessionID, string(deref(p.Status))), p.Cursor, p.Limit,
		func(tx store.Tx, after int64, limit int) ([]*store.Turn, int64, error) {
			items, next, err := tx.ListTurns(tenant, req.SessionID, store.TurnQuery{Page: store.Page{AfterOrd: after, Limit: limit}, Status: deref(p.Status)})
			return items, next, sessionScoped(err, req.SessionID)
		})
	if err != nil {
		return nil, err
	}
	out := gen.TurnList{Items: make([]gen.Turn, 0, len(items)), NextCursor: next}
	var positions map[int]int // asked after the read: the runner is not asked inside a transaction
	for _, t := range items {
		tj := turnJSON(t)
		if t.Status == gen.TurnStatusQueued {
			if positions == nil {
				positions = a.turns.positions(sessKey{tenant, req.SessionID})
			}
			tj.QueuePosition = int32(positions[t.Index])
		}
		out.Items = append(out.Items, tj)
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
	if out.Status == gen.TurnStatusQueued {
		out.QueuePosition = int32(a.turns.positions(key)[index])
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
