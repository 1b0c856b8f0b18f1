package sessions

import (
	"context"
	"iter"
	"net/http"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/paging"
)

// Service creates and finds sessions. It is a thin view over a Client: safe
// for concurrent use, and any number of them (and of the handles they
// return) may share one Client.
type Service struct {
	c *agentsession.Client
}

// New returns the sessions service of c.
func New(c *agentsession.Client) *Service { return &Service{c: c} }

// Session returns a handle for the session id without calling the server;
// its Info is nil until an answer that carries the session (Refresh, Pause,
// Close...).
func (s *Service) Session(id string) *Session { return &Session{c: s.c, id: id} }

func (s *Service) handle(info *Info) *Session {
	h := s.Session(info.SessionID)
	h.info.Store(info)
	return h
}

// NewSession creates an active session with p.Agent and returns its handle.
func (s *Service) NewSession(ctx context.Context, p CreateParams, opts ...agentsession.CallOption) (*Session, error) {
	req, err := gen.NewCreateSessionRequest(s.c.BaseURL(), nil, p.body())
	info, err := do[Info](ctx, s.c, req, err, opts)
	if err != nil {
		return nil, err
	}
	return s.handle(info), nil
}

// Get fetches the session id and returns its handle.
func (s *Service) Get(ctx context.Context, id string, opts ...agentsession.CallOption) (*Session, error) {
	h := s.Session(id)
	if _, err := h.Refresh(ctx, opts...); err != nil {
		return nil, err
	}
	return h, nil
}

// List yields the tenant's sessions matching o, oldest first, fetching pages
// as the loop consumes them. An error ends the sequence.
func (s *Service) List(ctx context.Context, o ListOptions, opts ...agentsession.CallOption) iter.Seq2[*Session, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*Session, string, error) {
		req, err := gen.NewListSessionsRequest(s.c.BaseURL(), &gen.ListSessionsParams{
			Status:   paging.Ptr(o.Status),
			Agent:    paging.Ptr(o.Agent),
			PlanSlug: paging.Ptr(o.PlanSlug),
			Limit:    paging.Ptr(o.PageSize),
			Cursor:   paging.Ptr(cursor),
		})
		return s.page(ctx, req, err, opts)
	})
}

// page fetches one page of sessions and makes a handle of each.
func (s *Service) page(ctx context.Context, req *http.Request, err error, opts []agentsession.CallOption) ([]*Session, string, error) {
	page, err := do[gen.SessionList](ctx, s.c, req, err, opts)
	if err != nil {
		return nil, "", err
	}
	hs := make([]*Session, len(page.Items))
	for i := range page.Items {
		hs[i] = s.handle(&page.Items[i])
	}
	return hs, page.NextCursor, nil
}

// do sends req through the client's request path and decodes the answer;
// err is the error of building req.
func do[T any](ctx context.Context, c *agentsession.Client, req *http.Request, err error, opts []agentsession.CallOption) (*T, error) {
	if err != nil {
		return nil, err
	}
	var v T
	if _, err := c.Do(ctx, req, &v, opts...); err != nil {
		return nil, err
	}
	return &v, nil
}
