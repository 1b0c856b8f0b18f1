package refserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/refserver/store"
)

// Permission requests. An agent asks through its turn's Permissions
// (turnPermissions): the request is stored, with its permission_request
// event, and the agent waits for the answer. answerPermission records the
// answer and its permission_response event under the turn's write lock
// and hands the option to the agent; the turn's end (cancel, interrupt,
// close, timeout, shutdown) answers what is still pending cancelled in the
// transaction that ends the turn. Whichever commits first decides: each
// request gets exactly one permission_response.

// validPermissionID is the contract's pattern of permission request ids (RequestId).
var validPermissionID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// errTurnOver is what an agent asking after its turn ended gets.
var errTurnOver = errors.New("the turn is over")

// turnPermissions asks the client on behalf of a running turn's agent.
type turnPermissions struct {
	s       *Server
	ex      *turnExec
	turnCtx context.Context
}

// RequestPermission records the request and its permission_request event,
// then waits for the answer. When ctx ends before the turn does the agent
// has withdrawn the request: it is answered cancelled now.
func (p turnPermissions) RequestPermission(ctx context.Context, req agent.PermissionRequest) (string, error) {
	s, ex := p.s, p.ex
	rec, err := newPermissionRecord(ex, req)
	if err != nil {
		return "", err
	}
	ask := &pendingAsk{answer: make(chan string, 1)}
	ex.wmu.Lock()
	if err := p.turnOver(); err != nil {
		ex.wmu.Unlock()
		return "", err
	}
	ev, err := s.storeEventLocked(ex, gen.Event{Type: gen.EventTypePermissionRequest, RequestID: rec.RequestID,
		ToolCallID: rec.ToolCallID, Title: rec.Title, Options: rec.Options},
		func(tx store.Tx, _ *store.Session, _ *store.Turn, ev gen.Event) error {
			rec.CreatedAt = ev.CreatedAt
			err := tx.CreatePermissionRequest(&rec)
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("the request id %q is already used in this session", rec.RequestID)
			}
			return err
		})
	if err != nil {
		ex.wmu.Unlock()
		return "", err
	}
	ask.req = rec
	ex.addAsk(ask) // before the event is out: a JSON turn that sees it finds the request
	ex.publish(ev)
	ex.wmu.Unlock()

	select {
	case opt := <-ask.answer:
		return p.answered(opt)
	case <-ctx.Done():
	}
	if err := p.turnOver(); err != nil {
		return "", err // the turn's end answers it cancelled
	}
	ex.wmu.Lock()
	defer ex.wmu.Unlock()
	select {
	case opt := <-ask.answer: // answered (or cancelled) meanwhile
		return p.answered(opt)
	default:
	}
	now := s.now()
	ev, err = s.storeEventLocked(ex, gen.Event{Type: gen.EventTypePermissionResponse, RequestID: rec.RequestID,
		Outcome: gen.PermissionOutcomeCancelled},
		func(tx store.Tx, _ *store.Session, _ *store.Turn, _ gen.Event) error {
			r := rec
			r.Status, r.Outcome, r.AnsweredAt = gen.PermissionStatusCancelled, gen.PermissionOutcomeCancelled, now
			return tx.UpdatePermissionRequest(&r)
		})
	if err != nil {
		return "", err
	}
	ex.resolveAsk(rec.RequestID, "")
	ex.publish(ev)
	return "", agent.ErrPermissionCancelled
}

// turnOver returns an error once the turn is ending: no more requests, and
// a pending one is left to the end.
func (p turnPermissions) turnOver() error {
	if err := p.turnCtx.Err(); err != nil {
		return context.Cause(p.turnCtx)
	}
	p.ex.mu.Lock()
	defer p.ex.mu.Unlock()
	if p.ex.ending {
		return errTurnOver
	}
	return nil
}

func (p turnPermissions) answered(optionID string) (string, error) {
	if optionID != "" {
		return optionID, nil
	}
	if err := p.turnOver(); err != nil {
		return "", err
	}
	return "", agent.ErrPermissionCancelled
}

// newPermissionRecord checks an agent's request and makes its record.
func newPermissionRecord(ex *turnExec, req agent.PermissionRequest) (store.PermissionRequest, error) {
	rec := store.PermissionRequest{Tenant: ex.key.tenant, SessionID: ex.key.id, RequestID: req.RequestID,
		TurnIndex: ex.index, ToolCallID: req.ToolCallID, Title: req.Title, Status: gen.PermissionStatusPending,
		Options: make([]gen.PermissionOption, 0, len(req.Options))}
	switch {
	case rec.RequestID == "":
		rec.RequestID = newID("perm_")
	case !validPermissionID.MatchString(rec.RequestID):
		return rec, fmt.Errorf("the request id %q is not 1-128 characters of A-Z a-z 0-9 _ -", rec.RequestID)
	}
	if rec.Title == "" {
		rec.Title = "Permission requested"
		if rec.ToolCallID != "" {
			rec.Title = "Permission requested for tool call " + rec.ToolCallID
		}
	}
	if len(req.Options) == 0 {
		return rec, errors.New("a permission request needs at least one option")
	}
	seen := map[string]bool{}
	for _, o := range req.Options {
		if o.ID == "" || seen[o.ID] {
			return rec, fmt.Errorf("the permission request's option ids must be unique and not empty (%q)", o.ID)
		}
		seen[o.ID] = true
		name := o.Name
		if name == "" {
			name = o.ID
		}
		rec.Options = append(rec.Options, gen.PermissionOption{OptionID: o.ID, Name: name, Kind: gen.PermissionOptionKind(o.Kind)})
	}
	return rec, nil
}

// resolvePermissionTx answers r: with optionID (selected), or cancelled
// when it is "", recording its permission_response event in t.
func resolvePermissionTx(tx store.Tx, sess *store.Session, t *store.Turn, r store.PermissionRequest, optionID string, now time.Time) (gen.Event, error) {
	ev := gen.Event{Type: gen.EventTypePermissionResponse, RequestID: r.RequestID, Outcome: gen.PermissionOutcomeCancelled}
	r.Status, r.Outcome, r.AnsweredAt = gen.PermissionStatusCancelled, gen.PermissionOutcomeCancelled, now
	if optionID != "" {
		ev.Outcome, ev.OptionID = gen.PermissionOutcomeSelected, optionID
		r.Status, r.Outcome, r.OptionID = gen.PermissionStatusAnswered, gen.PermissionOutcomeSelected, optionID
	}
	if err := tx.UpdatePermissionRequest(&r); err != nil {
		return gen.Event{}, err
	}
	return appendFullEventTx(tx, sess, t, ev, now)
}

func permissionJSON(r *store.PermissionRequest) gen.PermissionRequest {
	return gen.PermissionRequest{
		RequestID: r.RequestID, SessionID: r.SessionID, TurnIndex: int32(r.TurnIndex), ToolCallID: r.ToolCallID,
		Title: r.Title, Options: nonNil(r.Options), Status: r.Status, Outcome: r.Outcome, OptionID: r.OptionID,
		CreatedAt: r.CreatedAt, AnsweredAt: r.AnsweredAt,
	}
}

func errPermissionNotFound(sessionID, id string) *apiError {
	return newError(http.StatusNotFound, gen.ProblemCodeNotFound, "No permission request %s in session %s.", id, sessionID)
}

// judgeAnswer decides an answer to r that is not pending any more, or
// that names no option of it: 422 for an option it does not offer
// (whatever its state), 200 (nil) for the answer it already has, 409 for
// any other.
func judgeAnswer(r *store.PermissionRequest, optionID string) error {
	offered := false
	for _, o := range r.Options {
		offered = offered || o.OptionID == optionID
	}
	switch {
	case !offered:
		e := newError(http.StatusUnprocessableEntity, gen.ProblemCodeUnknownOption,
			"Permission request %s offers no option %q.", r.RequestID, optionID)
		e.fields = []gen.FieldError{{Location: "body.option_id", Message: "not one of the request's option ids"}}
		return e
	case r.Status == gen.PermissionStatusPending:
		return nil
	case r.Status == gen.PermissionStatusAnswered && r.OptionID == optionID:
		return nil
	case r.Status == gen.PermissionStatusAnswered:
		return conflict(gen.ProblemCodePermissionResolved, "Permission request %s was already answered with %q.", r.RequestID, r.OptionID)
	}
	return conflict(gen.ProblemCodePermissionResolved, "Permission request %s was cancelled; it takes no answer.", r.RequestID)
}

func (a api) AnswerPermission(ctx context.Context, req genserver.AnswerPermissionRequestObject) (genserver.AnswerPermissionResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
	id, optionID := req.RequestID, req.Body.OptionID
	k := idemFor(ctx, "answerPermission", req.Params.IdempotencyKey, req.SessionID, id)
	// Where the request stands decides whose lock the answer takes: a
	// pending one belongs to its running turn.
	var rec *store.PermissionRequest
	var replay rawResponse
	err := a.store.View(ctx, func(tx store.Tx) error {
		r, err := k.lookup(tx)
		if err != nil || r != nil {
			if r != nil {
				replay = rawResponse{status: r.StatusCode, body: r.Body, replayed: true}
			}
			return err
		}
		if _, err := getSessionTx(tx, key); err != nil {
			return err
		}
		rec, err = tx.GetPermissionRequest(key.tenant, key.id, id)
		if errors.Is(err, store.ErrNotFound) {
			return errPermissionNotFound(key.id, id)
		}
		return err
	})
	if err != nil || replay.status != 0 {
		return replay, err
	}
	var ex *turnExec
	if rec.Status == gen.PermissionStatusPending {
		if cur := a.turns.current(key); cur != nil && cur.index == rec.TurnIndex {
			ex = cur
			ex.wmu.Lock()
			defer ex.wmu.Unlock()
		}
	}
	var resp rawResponse
	var answered *gen.Event
	var t store.Turn
	err = a.store.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
		answered = nil
		r, err := k.lookup(tx)
		if err != nil || r != nil {
			if r != nil {
				resp = rawResponse{status: r.StatusCode, body: r.Body, replayed: true}
			}
			return err
		}
		rec, err := tx.GetPermissionRequest(key.tenant, key.id, id)
		if err != nil {
			return err
		}
		if err := judgeAnswer(rec, optionID); err != nil {
			return err
		}
		now := a.now()
		if rec.Status == gen.PermissionStatusPending {
			if ex == nil || ex.index != rec.TurnIndex {
				// Its turn ended since the read above; the end answered it.
				return conflict(gen.ProblemCodePermissionResolved, "Permission request %s was cancelled: its turn ended.", rec.RequestID)
			}
			sess, err := tx.GetSession(key.tenant, key.id)
			if err != nil {
				return err
			}
			t = ex.turn
			ev, err := resolvePermissionTx(tx, sess, &t, *rec, optionID, now)
			if err != nil {
				return err
			}
			if err := tx.UpdateTurn(&t); err != nil {
				return err
			}
			if err := tx.UpdateSession(sess); err != nil {
				return err
			}
			answered = &ev
			rec.Status, rec.Outcome, rec.OptionID, rec.AnsweredAt = gen.PermissionStatusAnswered, gen.PermissionOutcomeSelected, optionID, now
		}
		if resp, err = jsonAnswer(http.StatusOK, permissionJSON(rec)); err != nil || k == nil {
			return err
		}
		return tx.PutIdempotency(k.record(resp.status, resp.body, now))
	})
	if err != nil {
		return nil, err
	}
	if answered != nil {
		ex.turn = t
		ex.resolveAsk(id, optionID)
		ex.publish(*answered)
	}
	return resp, nil
}

func (a api) ListPermissions(ctx context.Context, req genserver.ListPermissionsRequestObject) (genserver.ListPermissionsResponseObject, error) {
	tenant, p := info(ctx).tenant, req.Params
	items, next, err := readPage(ctx, a.store, "permissions", listScope(tenant, req.SessionID, string(deref(p.Status))), p.Cursor, p.Limit,
		func(tx store.Tx, after int64, limit int) ([]*store.PermissionRequest, int64, error) {
			items, next, err := tx.ListPermissionRequests(tenant, req.SessionID, store.PermissionQuery{
				Page: store.Page{AfterOrd: after, Limit: limit}, Status: deref(p.Status)})
			return items, next, sessionScoped(err, req.SessionID)
		})
	if err != nil {
		return nil, err
	}
	out := gen.PermissionRequestList{Items: make([]gen.PermissionRequest, 0, len(items)), NextCursor: next}
	for _, r := range items {
		out.Items = append(out.Items, permissionJSON(r))
	}
	return genserver.ListPermissions200JSONResponse{Body: out}, nil
}
