package sessions

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/paging"
	"github.com/agentsession/agentsession/internal/sdkclient"
	"github.com/agentsession/agentsession/lifecycle"
)

// Session is a handle on one session: the one value that carries every verb
// (turns and streams, cancel and close, history, child sessions, files, and
// the lifecycle: pause, resume, end, continue, handoff, work log, artifacts,
// context, replay). A verb whose answer carries the session updates Info.
// Its methods are safe for concurrent use.
//
// Turns sent without a busy policy run one at a time per session, in the
// order they were sent, through every handle of the Client (see Turn);
// turns on different sessions never wait for each other.
type Session struct {
	c    *agentsession.Client
	id   string
	info atomic.Pointer[Info]

	closeMu sync.Mutex
	closed  atomic.Bool
}

// ID returns the session's id.
func (s *Session) ID() string { return s.id }

// Info returns the session as the server last described it (in the answer
// that made the handle, or the latest of Refresh, Close, Pause, Resume, End,
// Handoff and UpdateContext), or nil when none arrived yet. The value is
// shared: do not modify it.
func (s *Session) Info() *Info { return s.info.Load() }

// update keeps the handle's Info from an answer that carries the session.
func (s *Session) update(info *Info) { s.info.Store(info) }

// service returns a Service over the handle's client, for the verbs that
// make handles.
func (s *Session) service() *Service { return &Service{c: s.c} }

// Refresh fetches the session's state.
func (s *Session) Refresh(ctx context.Context, opts ...agentsession.CallOption) (*Info, error) {
	req, err := gen.NewGetSessionRequest(s.c.BaseURL(), s.id)
	info, err := do[Info](ctx, s.c, req, err, opts)
	if err != nil {
		return nil, err
	}
	s.update(info)
	return info, nil
}

// Cancel ends the running turn with stop reason cancelled. It is idempotent
// (Cancelled is false when nothing was running), never waits for the
// running turn, and leaves queued turns alone.
func (s *Session) Cancel(ctx context.Context, opts ...agentsession.CallOption) (*CancelResult, error) {
	req, err := gen.NewCancelTurnRequest(s.c.BaseURL(), s.id, nil)
	return do[CancelResult](ctx, s.c, req, err, opts)
}

// Close soft-closes the session: the server cancels a running turn, ends the
// session as completed unless it already ended, and closes its active
// children; the history stays readable. Close is idempotent: once a Close of
// this handle succeeded, later ones return nil at once without a request.
// When the request fails, the handle stays open and Close can be retried.
func (s *Session) Close(ctx context.Context, opts ...agentsession.CallOption) error {
	if s.closed.Load() {
		return nil
	}
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed.Load() {
		return nil
	}
	req, err := gen.NewCloseSessionRequest(s.c.BaseURL(), s.id)
	res, err := do[gen.CloseSessionResult](ctx, s.c, req, err, opts)
	if err != nil {
		return err // closed stays false: the next Close tries again
	}
	s.update(&res.Session)
	s.closed.Store(true)
	return nil
}

// GetTurn returns one turn of the session with its events.
func (s *Session) GetTurn(ctx context.Context, index int32, opts ...agentsession.CallOption) (*Turn, error) {
	req, err := gen.NewGetTurnRequest(s.c.BaseURL(), s.id, index)
	t, err := do[wireTurn](ctx, s.c, req, err, opts)
	if err != nil {
		return nil, err
	}
	s.bind(t.Events)
	return turnFrom(t), nil
}

// CancelTurnAt cancels turn index: a queued turn ends at once, cancelled
// without running (the turns behind it move up the queue); the running
// turn is cancelled as Cancel cancels it. It returns the turn as it
// ended. A turn that has already ended fails with
// agentsession.ErrTurnEnded.
func (s *Session) CancelTurnAt(ctx context.Context, index int32, opts ...agentsession.CallOption) (*Turn, error) {
	req, err := gen.NewCancelTurnAtRequest(s.c.BaseURL(), s.id, index, nil)
	t, err := do[wireTurn](ctx, s.c, req, err, opts)
	if err != nil {
		return nil, err
	}
	s.bind(t.Events)
	return turnFrom(t), nil
}

// bind makes events answerable (Event.Answer).
func (s *Session) bind(events []Event) {
	for i := range events {
		events[i].s = s
	}
}

// OnlyStatus is a call option of History: only the turns in status
// (TurnQueued, TurnRunning or TurnCompleted), such as the queue:
//
//	for t, err := range s.History(ctx, sessions.OnlyStatus(sessions.TurnQueued)) {
func OnlyStatus(status TurnStatus) agentsession.CallOption {
	return sdkclient.Query("status", string(status)).(agentsession.CallOption)
}

// History yields the session's turns, oldest first, without their events
// (read them with TurnEvents or GetTurn); OnlyStatus keeps the turns in
// one status.
func (s *Session) History(ctx context.Context, opts ...agentsession.CallOption) iter.Seq2[*Turn, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*Turn, string, error) {
		req, err := gen.NewListTurnsRequest(s.c.BaseURL(), s.id, &gen.ListTurnsParams{Cursor: paging.Ptr(cursor)})
		page, err := do[struct {
			Items      []wireTurn `json:"items"`
			NextCursor string     `json:"next_cursor"`
		}](ctx, s.c, req, err, opts)
		if err != nil {
			return nil, "", err
		}
		ts := make([]*Turn, len(page.Items))
		for i := range page.Items {
			ts[i] = turnFrom(&page.Items[i])
		}
		return ts, page.NextCursor, nil
	})
}

// Events yields the session's events whose seq is greater than after, in seq
// order (the event log: seq starts at 1 and has no gaps).
func (s *Session) Events(ctx context.Context, after int64, opts ...agentsession.CallOption) iter.Seq2[Event, error] {
	return s.events(ctx, after, 0, opts)
}

// TurnEvents yields the events of one turn whose seq is greater than after.
func (s *Session) TurnEvents(ctx context.Context, turnIndex int32, after int64, opts ...agentsession.CallOption) iter.Seq2[Event, error] {
	return s.events(ctx, after, turnIndex, opts)
}

func (s *Session) events(ctx context.Context, after int64, turnIndex int32, opts []agentsession.CallOption) iter.Seq2[Event, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]Event, string, error) {
		req, err := gen.NewListEventsRequest(s.c.BaseURL(), s.id, &gen.ListEventsParams{
			After:     paging.Ptr(after),
			TurnIndex: paging.Ptr(turnIndex),
			Limit:     paging.Ptr(int32(100)),
			Cursor:    paging.Ptr(cursor),
		})
		page, err := do[struct {
			Items      []Event `json:"items"`
			NextCursor string  `json:"next_cursor"`
		}](ctx, s.c, req, err, opts)
		if err != nil {
			return nil, "", err
		}
		s.bind(page.Items)
		return page.Items, page.NextCursor, nil
	})
}

// Spawn creates an active child session under this one and returns its
// handle. Over the server's caps it fails with ErrSpawnLimit.
func (s *Session) Spawn(ctx context.Context, p CreateParams, opts ...agentsession.CallOption) (*Session, error) {
	req, err := gen.NewSpawnChildRequest(s.c.BaseURL(), s.id, nil, p.body())
	info, err := do[Info](ctx, s.c, req, err, opts)
	if err != nil {
		return nil, err
	}
	return s.service().handle(info), nil
}

// Children yields the session's child sessions, oldest first; a non-empty
// status keeps only the children in that status.
func (s *Session) Children(ctx context.Context, status lifecycle.Status, opts ...agentsession.CallOption) iter.Seq2[*Session, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*Session, string, error) {
		req, err := gen.NewListChildrenRequest(s.c.BaseURL(), s.id, &gen.ListChildrenParams{
			Status: paging.Ptr(status),
			Cursor: paging.Ptr(cursor),
		})
		return s.service().page(ctx, req, err, opts)
	})
}
