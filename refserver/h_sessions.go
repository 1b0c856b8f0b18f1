package refserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"

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

// agentOptions checks the agent_options of a new session of agent name
// against the options the agent declares, and returns those in force (the
// given ones, defaults filled in; nil when none is):
// an unknown agent is 422 unknown_agent, an undeclared option or a value
// of another type or outside its enum 422 invalid_agent_options naming
// each member.
func (s *Server) agentOptions(name string, given map[string]any) (map[string]any, error) {
	ag, ok := s.agents.Get(name)
	if !ok {
		return nil, errUnknownAgent(name)
	}
	declared := ag.Info().Options
	var fields []gen.FieldError
	byName := map[string]gen.AgentOption{}
	for _, o := range declared {
		byName[o.Name] = o
	}
	for _, n := range slices.Sorted(maps.Keys(given)) {
		o, ok := byName[n]
		if !ok {
			fields = append(fields, gen.FieldError{Location: "body.agent_options." + n, Message: fmt.Sprintf("agent %q has no option %q", name, n)})
			continue
		}
		if msg := optionValueProblem(o, given[n]); msg != "" {
			fields = append(fields, gen.FieldError{Location: "body.agent_options." + n, Message: msg})
		}
	}
	if len(fields) > 0 {
		e := newError(http.StatusUnprocessableEntity, gen.ProblemCodeInvalidAgentOptions,
			"%s: %s (see the agent's options in getCapabilities)", fields[0].Location, fields[0].Message)
		if len(fields) > 1 {
			e.detail += fmt.Sprintf(" (and %d more)", len(fields)-1)
		}
		e.fields = fields
		return nil, e
	}
	var out map[string]any
	for _, o := range declared {
		v, ok := given[o.Name]
		if !ok {
			v, ok = o.Default, o.Default != nil
		}
		if ok {
			if out == nil {
				out = make(map[string]any, len(declared))
			}
			out[o.Name] = v
		}
	}
	return out, nil
}

// optionValueProblem says what is wrong with v as a value of o ("" when
// nothing is).
func optionValueProblem(o gen.AgentOption, v any) string {
	ok := false
	switch o.Type {
	case gen.AgentOptionTypeString:
		_, ok = v.(string)
	case gen.AgentOptionTypeBoolean:
		_, ok = v.(bool)
	case gen.AgentOptionTypeNumber:
		_, ok = v.(float64)
	case gen.AgentOptionTypeInteger:
		f, isNum := v.(float64)
		ok = isNum && f == math.Trunc(f) && !math.IsInf(f, 0)
	default:
		ok = true // a type this server does not know: the agent checks
	}
	if !ok {
		return fmt.Sprintf("want a value of type %s", o.Type)
	}
	if len(o.Enum) > 0 && !slices.ContainsFunc(o.Enum, func(e any) bool { return jsonEqual(e, v) }) {
		return fmt.Sprintf("want one of %v", o.Enum)
	}
	return ""
}

// jsonEqual compares two values as JSON (numbers as numbers).
func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
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
	preset := sess.ID != "" // its agent was started under this id
	for range 3 {
		if !preset {
			sess.ID = newID("sess_")
		}
		err := tx.CreateSession(sess)
		if errors.Is(err, store.ErrExists) && !preset {
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
	return a.createStarting(ctx, func(st *sessionStart) (rawResponse, error) {
		return a.idempotent(ctx, k, func(tx store.Tx) (int, any, error) {
			opts, err := a.agentOptions(b.Agent, b.AgentOptions)
			if err != nil {
				return 0, nil, err
			}
			if err := a.readyToCreate(st, b.Agent, opts); err != nil {
				return 0, nil, err
			}
			sess, err := a.createSessionTx(tx, &store.Session{
				ID: st.id, Tenant: ri.tenant, Agent: b.Agent, Meta: b.Meta, PlanSlug: b.PlanSlug, Context: b.Context, AgentOptions: opts,
			})
			if err != nil {
				return 0, nil, err
			}
			return http.StatusCreated, a.sessionJSON(sess), nil
		})
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
	return a.finishSession(ctx, sessKey{info(ctx).tenant, req.SessionID}, nil, gen.SessionStatusCompleted, "", gen.EndReasonClosed)
}

func (a api) EndSession(ctx context.Context, req genserver.EndSessionRequestObject) (genserver.EndSessionResponseObject, error) {
	k := idemFor(ctx, "endSession", req.Params.IdempotencyKey, req.SessionID)
	return a.finishSession(ctx, sessKey{info(ctx).tenant, req.SessionID}, k, gen.SessionStatus(req.Body.Status), req.Body.Summary, gen.EndReasonEnded)
}

func invalidTransition(from gen.SessionStatus, verb string) *apiError {
	article := "A"
	if from == gen.SessionStatusActive {
		article = "An"
	}
	return conflict(gen.ProblemCodeInvalidTransition, "%s %s session cannot be %s.", article, from, verb)
}

// finishSession ends a session as status for reason: closeSession (reason
// closed; an ended session answers already_closed), closing with its
// parent (parent_closed, likewise) or endSession (ended; an ended session
// is 409 invalid_transition). Through closeTurns it cancels the running
// turn and waits for it to end, closes the active children, then in one
// transaction cancels the queued turns, ends the session (with its
// status_changed lifecycle event) and stores the idempotency record. While
// it works no turn starts and no child spawns.
func (s *Server) finishSession(ctx context.Context, key sessKey, k *idem, status gen.SessionStatus, summary string, reason gen.EndReason) (rawResponse, error) {
	close := reason != gen.EndReasonEnded
	var resp rawResponse
	var childErr error
	var endedAgent string // the agent of the session this call ended
	err := s.closeTurns(key, causeSessionClosed, func() (bool, error) {
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
			return false, err
		}
		if sess.Ended() {
			if !close {
				return false, invalidTransition(sess.Status, "ended")
			}
			resp, err = s.closedAnswer(sess, true)
			return false, err
		}
		// Once started, the close completes even if the client goes away.
		ctx = context.WithoutCancel(ctx)
		return true, nil
	}, func() {
		childErr = s.closeChildren(ctx, key)
	}, func(queued []store.Turn) ([]store.Turn, error) {
		var ended []store.Turn
		err := s.store.Update(ctx, func(tx store.Tx) error {
			ended, endedAgent = nil, ""
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
			for _, t := range queued {
				if _, err := endTurnTx(tx, sess, &t, turnEnd{stop: gen.StopReasonCancelled, by: gen.CancelledBySessionClosed}, now); err != nil {
					return err
				}
				ended = append(ended, t)
			}
			old := sess.Status
			endedAgent = sess.Agent
			sess.Status, sess.EndReason = status, reason
			sess.EndedAt, sess.UpdatedAt = now, now
			if summary != "" {
				sess.FinalSummary = summary
			}
			if err := statusChangedTx(tx, sess, old, now); err != nil {
				return err
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
		return ended, err
	})
	if err == nil && childErr != nil {
		s.log.Error("close children", "session", key.id, "error", childErr.Error())
	}
	if err == nil && endedAgent != "" {
		s.stopAgentSession(endedAgent, key.id)
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
		if _, err := s.finishSession(ctx, sessKey{parent.tenant, c.ID}, nil, gen.SessionStatusCompleted, "", gen.EndReasonParentClosed); err != nil {
			errs = append(errs, fmt.Errorf("child %s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}
