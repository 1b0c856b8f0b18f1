package lifecycle

import (
	"context"
	"iter"
	"net/http"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/paging"
)

// Service drives sessions through their lifecycle. It is safe for concurrent
// use. Every method takes call options (agentsession.IdempotencyKey, ...).
type Service struct {
	c *agentsession.Client
}

// New returns the lifecycle service of c.
func New(c *agentsession.Client) *Service { return &Service{c: c} }

// do sends req through the client's request path and decodes the answer.
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

// Start creates an active session.
func (s *Service) Start(ctx context.Context, p StartParams, opts ...agentsession.CallOption) (*Session, error) {
	body := gen.CreateSessionRequest{Agent: p.Agent, PlanSlug: p.PlanSlug, Context: p.Context, Meta: p.Meta}
	req, err := gen.NewCreateSessionRequest(s.c.BaseURL(), nil, body)
	return do[Session](ctx, s.c, req, err, opts)
}

// Get returns a session.
func (s *Service) Get(ctx context.Context, id string, opts ...agentsession.CallOption) (*Session, error) {
	req, err := gen.NewGetSessionRequest(s.c.BaseURL(), id)
	return do[Session](ctx, s.c, req, err, opts)
}

// List yields the tenant's sessions matching p, oldest first, fetching pages
// as the loop consumes them. An error ends the sequence.
func (s *Service) List(ctx context.Context, p ListParams, opts ...agentsession.CallOption) iter.Seq2[*Session, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*Session, string, error) {
		req, err := gen.NewListSessionsRequest(s.c.BaseURL(), &gen.ListSessionsParams{
			Status:   paging.Ptr(p.Status),
			Agent:    paging.Ptr(p.Agent),
			PlanSlug: paging.Ptr(p.PlanSlug),
			Limit:    paging.Ptr(p.PageSize),
			Cursor:   paging.Ptr(cursor),
		})
		page, err := do[gen.SessionList](ctx, s.c, req, err, opts)
		if err != nil {
			return nil, "", err
		}
		return ptrs(page.Items), page.NextCursor, nil
	})
}

// Pause moves an active session to paused; new turns answer
// agentsession.ErrSessionPaused until Resume. From any other status it fails
// with agentsession.ErrInvalidTransition.
func (s *Service) Pause(ctx context.Context, id string, opts ...agentsession.CallOption) (*Session, error) {
	req, err := gen.NewPauseSessionRequest(s.c.BaseURL(), id, nil)
	return do[Session](ctx, s.c, req, err, opts)
}

// Resume moves a paused session back to active.
func (s *Service) Resume(ctx context.Context, id string, opts ...agentsession.CallOption) (*Session, error) {
	req, err := gen.NewResumeSessionRequest(s.c.BaseURL(), id, nil)
	return do[Session](ctx, s.c, req, err, opts)
}

// End ends an active or paused session as EndCompleted or EndFailed, with an
// optional final summary. The running turn is cancelled and active children
// are closed.
func (s *Service) End(ctx context.Context, id string, status EndStatus, summary string, opts ...agentsession.CallOption) (*Session, error) {
	req, err := gen.NewEndSessionRequest(s.c.BaseURL(), id, nil, gen.EndSessionRequest{Status: status, Summary: summary})
	return do[Session](ctx, s.c, req, err, opts)
}

// Continue creates a new active session for p.Agent whose continued_from is
// id; it inherits the context summary, the handoff notes and (unless given)
// the plan. The original session is unchanged.
func (s *Service) Continue(ctx context.Context, id string, p ContinueParams, opts ...agentsession.CallOption) (*Session, error) {
	body := gen.ContinueSessionRequest{Agent: p.Agent, PlanSlug: p.PlanSlug, Meta: p.Meta}
	req, err := gen.NewContinueSessionRequest(s.c.BaseURL(), id, nil, body)
	return do[Session](ctx, s.c, req, err, opts)
}

// Handoff records the notes for the next agent and pauses the session
// (from active or paused; a paused session's notes are replaced).
func (s *Service) Handoff(ctx context.Context, id string, p HandoffParams, opts ...agentsession.CallOption) (*Session, error) {
	body := gen.HandoffRequest{Summary: p.Summary, NextSteps: p.NextSteps, Blockers: p.Blockers, ContextForNext: p.ContextForNext}
	req, err := gen.NewHandoffSessionRequest(s.c.BaseURL(), id, nil, body)
	return do[Session](ctx, s.c, req, err, opts)
}

// HandoffContext returns everything a new agent needs to take the session
// over: context summary, handoff notes, recent work-log entries (newest
// first) and artifacts.
func (s *Service) HandoffContext(ctx context.Context, id string, opts ...agentsession.CallOption) (*HandoffContext, error) {
	req, err := gen.NewGetHandoffContextRequest(s.c.BaseURL(), id)
	return do[HandoffContext](ctx, s.c, req, err, opts)
}

// Log appends a typed entry to the session's work log.
func (s *Service) Log(ctx context.Context, id string, e Entry, opts ...agentsession.CallOption) (*LogEntry, error) {
	body := gen.LogEntryRequest{Type: e.Type, Message: e.Message, Data: e.Data}
	req, err := gen.NewAddLogEntryRequest(s.c.BaseURL(), id, nil, body)
	return do[LogEntry](ctx, s.c, req, err, opts)
}

// LogEntries yields the session's work log, oldest first; a non-empty typ
// keeps only entries of that type.
func (s *Service) LogEntries(ctx context.Context, id string, typ LogType, opts ...agentsession.CallOption) iter.Seq2[*LogEntry, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*LogEntry, string, error) {
		req, err := gen.NewListLogEntriesRequest(s.c.BaseURL(), id, &gen.ListLogEntriesParams{
			Type:   paging.Ptr(typ),
			Limit:  paging.Ptr(int32(100)),
			Cursor: paging.Ptr(cursor),
		})
		page, err := do[gen.LogEntryList](ctx, s.c, req, err, opts)
		if err != nil {
			return nil, "", err
		}
		return ptrs(page.Items), page.NextCursor, nil
	})
}

// AddArtifact records a file the session created, modified or deleted.
func (s *Service) AddArtifact(ctx context.Context, id string, a ArtifactParams, opts ...agentsession.CallOption) (*Artifact, error) {
	body := gen.ArtifactRequest{Path: a.Path, Action: a.Action, Metadata: a.Metadata}
	req, err := gen.NewAddArtifactRequest(s.c.BaseURL(), id, nil, body)
	return do[Artifact](ctx, s.c, req, err, opts)
}

// Artifacts yields the session's artifacts, oldest first; a non-empty action
// keeps only artifacts with that action.
func (s *Service) Artifacts(ctx context.Context, id string, action ArtifactAction, opts ...agentsession.CallOption) iter.Seq2[*Artifact, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*Artifact, string, error) {
		req, err := gen.NewListArtifactsRequest(s.c.BaseURL(), id, &gen.ListArtifactsParams{
			Action: paging.Ptr(action),
			Limit:  paging.Ptr(int32(100)),
			Cursor: paging.Ptr(cursor),
		})
		page, err := do[gen.ArtifactList](ctx, s.c, req, err, opts)
		if err != nil {
			return nil, "", err
		}
		return ptrs(page.Items), page.NextCursor, nil
	})
}

// UpdateContext merges patch into the session's context summary with JSON
// Merge Patch rules (RFC 7396): members replace, nested objects merge, a nil
// value removes a member.
func (s *Service) UpdateContext(ctx context.Context, id string, patch map[string]any, opts ...agentsession.CallOption) (*Session, error) {
	if patch == nil {
		patch = map[string]any{}
	}
	req, err := gen.NewUpdateContextRequest(s.c.BaseURL(), id, nil, gen.ContextPatch(patch))
	return do[Session](ctx, s.c, req, err, opts)
}

// ReplayContext rebuilds where the session stands from its work log:
// checkpoints, decisions, errors, progress, artifacts and handoff notes.
func (s *Service) ReplayContext(ctx context.Context, id string, opts ...agentsession.CallOption) (*ReplayContext, error) {
	req, err := gen.NewGetReplayContextRequest(s.c.BaseURL(), id)
	return do[ReplayContext](ctx, s.c, req, err, opts)
}

// Replay starts a new active session from the session's replay context
// (continued_from is id; its context summary gains a "replay" member). The
// original session is unchanged.
func (s *Service) Replay(ctx context.Context, id string, p ReplayParams, opts ...agentsession.CallOption) (*Session, error) {
	body := gen.ReplaySessionRequest{Agent: p.Agent, Meta: p.Meta}
	req, err := gen.NewReplaySessionRequest(s.c.BaseURL(), id, nil, body)
	return do[Session](ctx, s.c, req, err, opts)
}

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
