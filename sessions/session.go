package sessions

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/paging"
)

// Session is a handle on one session. Its methods are safe for concurrent
// use; turns (Turn, TurnStream) on one session run one at a time, in the
// order they took the session's turn lock, while turns on different
// sessions never wait for each other.
type Session struct {
	svc  *Service
	id   string
	info atomic.Pointer[Info]

	closeMu sync.Mutex
	closed  atomic.Bool
}

// ID returns the session's id.
func (s *Session) ID() string { return s.id }

// Info returns the session's state as last reported by the server (by the
// call that made the handle, Refresh, Close or Spawn's parent...), or nil
// when none was fetched yet. The value is shared: do not modify it.
func (s *Session) Info() *Info { return s.info.Load() }

// Refresh fetches the session's state.
func (s *Session) Refresh(ctx context.Context, opts ...agentsession.CallOption) (*Info, error) {
	req, err := gen.NewGetSessionRequest(s.svc.c.BaseURL(), s.id)
	if err != nil {
		return nil, err
	}
	var info Info
	if _, err := s.svc.c.Do(ctx, req, &info, opts...); err != nil {
		return nil, err
	}
	s.info.Store(&info)
	return &info, nil
}

// Cancel ends the running turn with stop reason cancelled. It is idempotent
// (Cancelled is false when nothing was running), never waits for the turn
// lock, and leaves queued turns alone.
func (s *Session) Cancel(ctx context.Context, opts ...agentsession.CallOption) (*CancelResult, error) {
	req, err := gen.NewCancelTurnRequest(s.svc.c.BaseURL(), s.id, nil)
	if err != nil {
		return nil, err
	}
	var res CancelResult
	if _, err := s.svc.c.Do(ctx, req, &res, opts...); err != nil {
		return nil, err
	}
	return &res, nil
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
	req, err := gen.NewCloseSessionRequest(s.svc.c.BaseURL(), s.id)
	if err != nil {
		return err
	}
	var res gen.CloseSessionResult
	if _, err := s.svc.c.Do(ctx, req, &res, opts...); err != nil {
		return err // closed stays false: the next Close tries again
	}
	s.info.Store(&res.Session)
	s.closed.Store(true)
	return nil
}

// GetTurn returns one turn of the session with its events.
func (s *Session) GetTurn(ctx context.Context, index int32, opts ...agentsession.CallOption) (*Turn, error) {
	req, err := gen.NewGetTurnRequest(s.svc.c.BaseURL(), s.id, index)
	if err != nil {
		return nil, err
	}
	var t Turn
	if _, err := s.svc.c.Do(ctx, req, &t, opts...); err != nil {
		return nil, err
	}
	return &t, nil
}

// History yields the session's turns, oldest first, without their events
// (read them with Events or GetTurn).
func (s *Session) History(ctx context.Context, opts ...agentsession.CallOption) iter.Seq2[*Turn, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*Turn, string, error) {
		req, err := gen.NewListTurnsRequest(s.svc.c.BaseURL(), s.id, &gen.ListTurnsParams{Cursor: paging.Ptr(cursor)})
		if err != nil {
			return nil, "", err
		}
		var page gen.TurnList
		if _, err := s.svc.c.Do(ctx, req, &page, opts...); err != nil {
			return nil, "", err
		}
		ts := make([]*Turn, len(page.Items))
		for i := range page.Items {
			ts[i] = &page.Items[i]
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
		req, err := gen.NewListEventsRequest(s.svc.c.BaseURL(), s.id, &gen.ListEventsParams{
			After:     paging.Ptr(after),
			TurnIndex: paging.Ptr(turnIndex),
			Limit:     paging.Ptr(int32(100)),
			Cursor:    paging.Ptr(cursor),
		})
		if err != nil {
			return nil, "", err
		}
		var page struct {
			Items      []Event `json:"items"`
			NextCursor string  `json:"next_cursor"`
		}
		if _, err := s.svc.c.Do(ctx, req, &page, opts...); err != nil {
			return nil, "", err
		}
		return page.Items, page.NextCursor, nil
	})
}

// Spawn creates an active child session under this one and returns its
// handle. Over the server's caps it fails with ErrSpawnLimit.
func (s *Session) Spawn(ctx context.Context, p CreateParams, opts ...agentsession.CallOption) (*Session, error) {
	req, err := gen.NewSpawnChildRequest(s.svc.c.BaseURL(), s.id, nil, p.body())
	if err != nil {
		return nil, err
	}
	var info Info
	if _, err := s.svc.c.Do(ctx, req, &info, opts...); err != nil {
		return nil, err
	}
	return s.svc.handle(&info), nil
}

// Children yields the session's child sessions, oldest first; a non-empty
// status keeps only the children in that status.
func (s *Session) Children(ctx context.Context, status agentsession.SessionStatus, opts ...agentsession.CallOption) iter.Seq2[*Session, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*Session, string, error) {
		req, err := gen.NewListChildrenRequest(s.svc.c.BaseURL(), s.id, &gen.ListChildrenParams{
			Status: paging.Ptr(status),
			Cursor: paging.Ptr(cursor),
		})
		if err != nil {
			return nil, "", err
		}
		return s.svc.listPage(ctx, req, opts)
	})
}
