package sessions

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/paging"
)

// ErrPermissionRequired: a turn waits for the answer to a permission
// request and no permission handler was given (WithPermissionHandler).
// The error is a *PermissionRequiredError, which names the requests.
var ErrPermissionRequired = errors.New("sessions: the turn waits for a permission answer")

// PermissionRequiredError is what Turn and WaitTurn return when the turn's
// agent asks for permission and the call has no permission handler. The
// turn goes on waiting on the server: answer each request
// (Session.AnswerPermission), then WaitTurn(ctx, e.TurnIndex) for its
// result. It matches ErrPermissionRequired with errors.Is.
type PermissionRequiredError struct {
	SessionID string
	TurnIndex int32
	// Requests are the turn's pending requests, oldest first.
	Requests []PermissionRequest
	// LastSeq is the seq of the turn's newest event when it was seen
	// waiting.
	LastSeq int64
}

func (e *PermissionRequiredError) Error() string {
	ids := make([]string, len(e.Requests))
	for i, r := range e.Requests {
		ids[i] = r.RequestID
	}
	return fmt.Sprintf("sessions: turn %d of session %s waits for a permission answer (%s)",
		e.TurnIndex, e.SessionID, strings.Join(ids, ", "))
}

// Is makes the error match ErrPermissionRequired.
func (e *PermissionRequiredError) Is(target error) bool { return target == ErrPermissionRequired }

// WithPermissionHandler lets Turn and WaitTurn answer the turn's
// permission requests: for each request the agent makes, decide returns
// the id of the option to answer with, and the turn goes on. An error from
// decide ends the call with that error; the turn keeps waiting on the
// server (Cancel it, or answer it with AnswerPermission). A TurnStream
// with a handler answers each permission_request event after yielding it.
// Without a handler, Turn and WaitTurn fail with a
// *PermissionRequiredError when the turn starts waiting.
func WithPermissionHandler(decide func(ctx context.Context, req *PermissionRequest) (optionID string, err error)) TurnOption {
	return func(c *turnConfig) { c.permission = decide }
}

// AnswerPermission answers the permission request requestID with
// optionID and returns the request as answered; the agent goes on. The
// same answer again succeeds and changes nothing; another answer to an
// answered request, or any to a cancelled one, fails with
// agentsession.ErrPermissionResolved; an option the request does not offer
// with agentsession.ErrUnknownOption; an unknown request with
// agentsession.ErrNotFound. Like every POST of the SDK it carries one
// idempotency key that its retries reuse.
func (s *Session) AnswerPermission(ctx context.Context, requestID, optionID string, opts ...agentsession.CallOption) (*PermissionRequest, error) {
	req, err := gen.NewAnswerPermissionRequest(s.c.BaseURL(), s.id, requestID, nil, gen.PermissionAnswer{OptionID: optionID})
	return do[PermissionRequest](ctx, s.c, req, err, opts)
}

// Permissions yields the session's permission requests, oldest first; a
// non-empty status (PermissionPending...) keeps only those in it.
func (s *Session) Permissions(ctx context.Context, status PermissionStatus, opts ...agentsession.CallOption) iter.Seq2[*PermissionRequest, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*PermissionRequest, string, error) {
		req, err := gen.NewListPermissionsRequest(s.c.BaseURL(), s.id, &gen.ListPermissionsParams{
			Status: paging.Ptr(status),
			Limit:  paging.Ptr(int32(100)),
			Cursor: paging.Ptr(cursor),
		})
		page, err := do[gen.PermissionRequestList](ctx, s.c, req, err, opts)
		if err != nil {
			return nil, "", err
		}
		return ptrs(page.Items), page.NextCursor, nil
	})
}

// Answer answers the permission request this permission_request event
// makes (Session.AnswerPermission with its RequestID). It works on the
// events the SDK read from a session (streams, Events, TurnEvents,
// results); reading on after the answer continues the same turn.
func (e Event) Answer(ctx context.Context, optionID string, opts ...agentsession.CallOption) (*PermissionRequest, error) {
	switch {
	case e.Type != EventPermissionRequest:
		return nil, fmt.Errorf("sessions: Answer: a %s event is not a permission request", e.Type)
	case e.s == nil:
		return nil, errors.New("sessions: Answer: the event was not read from a session; use Session.AnswerPermission")
	}
	return e.s.AnswerPermission(ctx, e.RequestID, optionID, opts...)
}

// requestOf is the pending request a permission_request event makes.
func requestOf(ev Event, sessionID string) *PermissionRequest {
	return &PermissionRequest{RequestID: ev.RequestID, SessionID: sessionID, TurnIndex: ev.TurnIndex,
		ToolCallID: ev.ToolCallID, Title: ev.Title, Options: ev.Options, Status: PermissionPending, CreatedAt: ev.CreatedAt}
}

// decide asks the handler about one request and answers it; answered
// keeps the requests already decided, so none is asked twice. A request
// resolved meanwhile (answered elsewhere, or cancelled with its turn) is
// left as it is: the turn goes on as that says.
func (s *Session) decide(ctx context.Context, cfg *turnConfig, req *PermissionRequest, answered map[string]bool) error {
	if answered[req.RequestID] {
		return nil
	}
	answered[req.RequestID] = true
	opt, err := cfg.permission(ctx, req)
	if err != nil {
		return fmt.Errorf("sessions: permission handler, request %s of turn %d: %w", req.RequestID, req.TurnIndex, err)
	}
	if _, err := s.AnswerPermission(ctx, req.RequestID, opt, cfg.call...); err != nil && !errors.Is(err, agentsession.ErrPermissionResolved) {
		return err
	}
	return nil
}

// pending lists the turn's pending requests.
func (s *Session) pending(ctx context.Context, turnIndex int32, cfg *turnConfig) ([]PermissionRequest, error) {
	var out []PermissionRequest
	for r, err := range s.Permissions(ctx, PermissionPending, cfg.call...) {
		if err != nil {
			return nil, err
		}
		if r.TurnIndex == turnIndex {
			out = append(out, *r)
		}
	}
	return out, nil
}

// WaitTurn follows turn index of the session to its end and returns its
// result, as Turn would have: after a *PermissionRequiredError and the
// answers, or for a turn another call started. With
// WithPermissionHandler it answers the turn's pending and later requests;
// without one it fails with a *PermissionRequiredError when the turn waits
// for an answer. WithIdleTimeout, WithMaxResumes and WithCallOptions apply
// to the stream it follows; the other turn options do not.
func (s *Session) WaitTurn(ctx context.Context, index int32, opts ...TurnOption) (*TurnResult, error) {
	cfg := newTurnConfig(opts)
	if cfg.err != nil {
		return nil, cfg.err
	}
	t, err := s.GetTurn(ctx, index, cfg.call...)
	if err != nil {
		return nil, err
	}
	if t.Status == TurnCompleted {
		return t.result(), nil
	}
	last := t.LastSeq
	for _, ev := range t.Events {
		last = max(last, ev.Seq)
	}
	answered := map[string]bool{}
	pending, err := s.pending(ctx, index, cfg)
	if err != nil {
		return nil, err
	}
	if len(pending) > 0 && cfg.permission == nil {
		return nil, &PermissionRequiredError{SessionID: s.id, TurnIndex: index, Requests: pending, LastSeq: last}
	}
	for i := range pending {
		if err := s.decide(ctx, cfg, &pending[i], answered); err != nil {
			return nil, err
		}
	}
	return s.follow(ctx, cfg, index, t.Events, last, answered, nil)
}

// awaitWaiting carries on a JSON turn the server answered 202: the handler
// answers the pending requests, then the turn is followed to its end.
func (s *Session) awaitWaiting(ctx context.Context, cfg *turnConfig, w *wireTurnAnswer, meta *agentsession.Response) (*TurnResult, error) {
	idx, last := w.TurnIndex, w.LastSeq
	if cfg.permission == nil {
		return nil, &PermissionRequiredError{SessionID: s.id, TurnIndex: idx, Requests: w.PermissionRequests, LastSeq: last}
	}
	answered := map[string]bool{}
	for i := range w.PermissionRequests {
		if err := s.decide(ctx, cfg, &w.PermissionRequests[i], answered); err != nil {
			return nil, err
		}
	}
	// The events up to last_seq are in the event log; the stream brings
	// the rest.
	var prefix []Event
	for ev, err := range s.TurnEvents(ctx, idx, 0, cfg.call...) {
		if err != nil {
			return nil, err
		}
		if ev.Seq > last {
			break
		}
		prefix = append(prefix, ev)
	}
	return s.follow(ctx, cfg, idx, prefix, last, answered, meta)
}

// follow reads turn index's stream after event after to its end (prefix
// holds the events before) and returns the turn's result. It neither
// takes the turn order (the caller holds it, or sends no turn) nor writes
// the turn record (Turn writes it).
func (s *Session) follow(ctx context.Context, cfg *turnConfig, index int32, prefix []Event, after int64, answered map[string]bool, meta *agentsession.Response) (*TurnResult, error) {
	st := &Stream{s: s, ctx: ctx, cfg: cfg, follow: true, answered: answered, events: prefix, lastSeq: after, meta: meta}
	st.turnIndex.Store(index)
	st.started.Store(true)
	err := st.run(func(Event, error) bool { return true })
	if err != nil {
		return nil, err
	}
	return st.result, nil
}

// result is a finished turn of the history as a TurnResult.
func (t *Turn) result() *TurnResult {
	events := t.Events
	if events == nil {
		events = []Event{}
	}
	return &TurnResult{SessionID: t.SessionID, TurnIndex: t.TurnIndex, StopReason: t.StopReason, CancelledBy: t.CancelledBy,
		Events: events, Usage: t.Usage, StartedAt: t.StartedAt, EndedAt: t.EndedAt, Duration: t.Duration,
		EventCount: t.EventCount, FirstSeq: t.FirstSeq, LastSeq: t.LastSeq, Meta: t.Meta}
}
