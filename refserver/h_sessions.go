package refserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
	"github.com/agentsession/agentsession/refserver/store"
)

func errUnknownAgent(name string) *apiError {
	return newError(http.StatusUnprocessableEntity, gen.ProblemCodeUnknownAgent,
		"No agent named %q on this server; see getCapabilities.", name)
}

func (s *Server) checkAgent(name string) error {
	if _, ok := s.agents.Get(name); !ok {
		return errUnknownAgent(name)
	}
	return nil
}

// getSessionTx reads the tenant's session, 404 when it has none.
func getSessionTx(tx store.Tx, key sessKey) (*store.Session, error) {
	sess, err := tx.GetSession(key.tenant, key.id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSessionNotFound(key.id)
	}
	return sess, err
}

// sessionScoped maps a store ErrNotFound from a session's sub-resource
// call to the session's 404.
func sessionScoped(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errSessionNotFound(id)
	}
	return err
}

// createSessionTx inserts a new active session and reads it back, so the
// answer is exactly what later reads return.
func (s *Server) createSessionTx(tx store.Tx, sess *store.Session) (*store.Session, error) {
	now := s.now()
	sess.Status = gen.SessionStatusActive
	sess.CreatedAt, sess.UpdatedAt = now, now
	if sess.Meta == nil {
		sess.Meta = map[string]any{}
	}
	if sess.Context == nil {
		sess.Context = map[string]any{}
	}
	for range 3 {
		sess.ID = newID("sess_")
		err := tx.CreateSession(sess)
		if errors.Is(err, store.ErrExists) {
			continue // a random id collided: draw another
		}
		if err != nil {
			return nil, err
		}
		return tx.GetSession(sess.Tenant, sess.ID)
	}
	return nil, errors.New("could not draw a free session id")
}

func (a api) CreateSession(ctx context.Context, req genserver.CreateSessionRequestObject) (genserver.CreateSessionResponseObject, error) {
	ri := info(ctx)
	b := req.Body
	k := idemFor(ctx, "createSession", req.Params.IdempotencyKey)
	return a.idempotent(ctx, k, func(tx store.Tx) (int, any, error) {
		if err := a.checkAgent(b.Agent); err != nil {
			return 0, nil, err
		}
		sess, err := a.createSessionTx(tx, &store.Session{
			Tenant: ri.tenant, Agent: b.Agent, Meta: b.Meta, PlanSlug: b.PlanSlug, Context: b.Context,
		})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, a.sessionJSON(sess), nil
	})
}

func (a api) GetSession(ctx context.Context, req genserver.GetSessionRequestObject) (genserver.GetSessionResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
	var sess *store.Session
	err := a.store.View(ctx, func(tx store.Tx) (err error) {
		sess, err = getSessionTx(tx, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	return genserver.GetSession200JSONResponse{SessionOKJSONResponse: genserver.SessionOKJSONResponse{Body: a.sessionJSON(sess)}}, nil
}

func (a api) ListSessions(ctx context.Context, req genserver.ListSessionsRequestObject) (genserver.ListSessionsResponseObject, error) {
	tenant := info(ctx).tenant
	p := req.Params
	q := store.SessionQuery{Agent: deref(p.Agent), PlanSlug: deref(p.PlanSlug)}
	if p.Status != nil {
		q.Statuses = []gen.SessionStatus{*p.Status}
	}
	list, err := a.listSessions(ctx, tenant, "sessions", q, p.Limit, p.Cursor,
		listScope(tenant, string(deref(p.Status)), q.Agent, q.PlanSlug))
	if err != nil {
		return nil, err
	}
	return genserver.ListSessions200JSONResponse{Body: list}, nil
}

// listSessions reads one page of sessions for listSessions and listChildren.
func (s *Server) listSessions(ctx context.Context, tenant, list string, q store.SessionQuery, limit *int32, cursor *string, scope string) (gen.SessionList, error) {
	items, next, err := readPage(ctx, s.store, list, scope, cursor, limit,
		func(tx store.Tx, after int64, limit int) ([]*store.Session, int64, error) {
			if q.ParentID != "" {
				if _, err := getSessionTx(tx, sessKey{tenant, q.ParentID}); err != nil {
					return nil, 0, err
				}
			}
			q.Page = store.Page{AfterOrd: after, Limit: limit}
			return tx.ListSessions(tenant, q)
		})
	if err != nil {
		return gen.SessionList{}, err
	}
	out := gen.SessionList{Items: make([]gen.Session, 0, len(items)), NextCursor: next}
	for _, it := range items {
		out.Items = append(out.Items, s.sessionJSON(it))
	}
	return out, nil
}

func (a api) CloseSession(ctx context.Context, req genserver.CloseSessionRequestObject) (genserver.CloseSessionResponseObject, error) {
	return a.finishSession(ctx, sessKey{info(ctx).tenant, req.SessionID}, nil, gen.SessionStatusCompleted, "", true)
}

func (a api) EndSession(ctx context.Context, req genserver.EndSessionRequestObject) (genserver.EndSessionResponseObject, error) {
	k := idemFor(ctx, "endSession", req.Params.IdempotencyKey, req.SessionID)
	return a.finishSession(ctx, sessKey{info(ctx).tenant, req.SessionID}, k, gen.SessionStatus(req.Body.Status), req.Body.Summary, false)
}

func invalidTransition(from gen.SessionStatus, verb string) *apiError {
	article := "A"
	if from == gen.SessionStatusActive {
		article = "An"
	}
	return conflict(gen.ProblemCodeInvalidTransition, "%s %s session cannot be %s.", article, from, verb)
}

// finishSession ends a session as status: closeSession (close=true; an
// ended session answers already_closed) or endSession (an ended session is
// 409 invalid_transition). It cancels the running turn and waits for it to
// end, closes the active children, then in one transaction cancels the
// queued turns, ends the session and stores the idempotency record. While
// it works the runner is "closing": no turn starts and no child spawns.
func (s *Server) finishSession(ctx context.Context, key sessKey, k *idem, status gen.SessionStatus, summary string, close bool) (rawResponse, error) {
	rn := s.turns.lock(key)
	var resp rawResponse
	var sess *store.Session
	err := s.store.View(ctx, func(tx store.Tx) error {
		rec, err := k.lookup(tx)
		if err != nil || rec != nil {
			if rec != nil {
				resp = rawResponse{status: rec.StatusCode, body: rec.Body, replayed: true}
			}
			return err
		}
		sess, err = getSessionTx(tx, key)
		return err
	})
	if err != nil || resp.status != 0 {
		s.turns.release(rn)
		return resp, err
	}
	if sess.Ended() {
		s.turns.release(rn)
		if !close {
			return rawResponse{}, invalidTransition(sess.Status, "ended")
		}
		return s.closedAnswer(sess, true)
	}

	rn.closing = true
	running := rn.running.Load()
	if running != nil {
		running.cancelWith(causeSessionClosed)
	}
	rn.mu.Unlock()
	// Once started, the close completes even if the client goes away.
	ctx = context.WithoutCancel(ctx)
	if running != nil {
		<-running.done // agents honour their context: this is prompt
	}
	childErr := s.closeChildren(ctx, key)

	rn.mu.Lock()
	queued := rn.queue
	var ended []store.Turn
	err = s.store.Update(ctx, func(tx store.Tx) error {
		ended = nil
		rec, err := k.lookup(tx)
		if err != nil || rec != nil {
			if rec != nil {
				resp = rawResponse{status: rec.StatusCode, body: rec.Body, replayed: true}
			}
			return err
		}
		sess, err := getSessionTx(tx, key)
		if err != nil {
			return err
		}
		if sess.Ended() { // a concurrent request ended it first
			if !close {
				return invalidTransition(sess.Status, "ended")
			}
			resp, err = s.closedAnswer(sess, true)
			return err
		}
		now := s.now()
		for _, ex := range queued {
			t := ex.turn
			if _, err := endTurnTx(tx, sess, &t, turnEnd{stop: gen.StopReasonCancelled, by: gen.CancelledBySessionClosed}, now); err != nil {
				return err
			}
			ended = append(ended, t)
		}
		sess.Status = status
		sess.EndedAt, sess.UpdatedAt = now, now
		if summary != "" {
			sess.FinalSummary = summary
		}
		if err := tx.UpdateSession(sess); err != nil {
			return err
		}
		if close {
			resp, err = s.closedAnswer(sess, false)
		} else {
			resp, err = jsonAnswer(http.StatusOK, s.sessionJSON(sess))
		}
		if err != nil || k == nil {
			return err
		}
		return tx.PutIdempotency(k.record(resp.status, resp.body, now))
	})
	if err == nil && len(ended) == len(queued) {
		rn.setQueue(nil)
		for i, ex := range queued {
			ex.turn = ended[i]
			ex.end(ended[i])
		}
	}
	rn.closing = false
	if err != nil {
		s.kick(rn)
	}
	s.turns.release(rn)
	if err == nil && childErr != nil {
		s.log.Error("close children", "session", key.id, "error", childErr.Error())
	}
	return resp, err
}

func (s *Server) closedAnswer(sess *store.Session, already bool) (rawResponse, error) {
	return jsonAnswer(http.StatusOK, gen.CloseSessionResult{Session: s.sessionJSON(sess), AlreadyClosed: already})
}

func jsonAnswer(status int, v any) (rawResponse, error) {
	body, err := encodeJSON(v)
	if err != nil {
		return rawResponse{}, err
	}
	return rawResponse{status: status, body: body}, nil
}

// closeChildren closes the session's children that have not ended, and
// theirs (closeSession recurses).
func (s *Server) closeChildren(ctx context.Context, parent sessKey) error {
	var children []*store.Session
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		children, _, err = tx.ListSessions(parent.tenant, store.SessionQuery{
			ParentID: parent.id, Statuses: []gen.SessionStatus{gen.SessionStatusActive, gen.SessionStatusPaused},
		})
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range children {
		if _, err := s.finishSession(ctx, sessKey{parent.tenant, c.ID}, nil, gen.SessionStatusCompleted, "", true); err != nil {
			errs = append(errs, fmt.Errorf("child %s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}
