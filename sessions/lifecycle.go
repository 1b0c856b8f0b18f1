package sessions

import (
	"context"
	"iter"
	"net/http"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/paging"
	"github.com/agentsession/agentsession/internal/sdkclient"
	"github.com/agentsession/agentsession/lifecycle"
)

// The lifecycle verbs of the handle; package lifecycle holds their
// vocabulary and describes the state machine.

// Pause moves an active session to paused; its turns fail with
// agentsession.ErrSessionPaused until Resume. From any other status it fails
// with agentsession.ErrInvalidTransition.
func (s *Session) Pause(ctx context.Context, opts ...agentsession.CallOption) error {
	req, err := gen.NewPauseSessionRequest(s.c.BaseURL(), s.id, nil)
	return s.change(ctx, req, err, opts)
}

// Resume moves a paused session back to active.
func (s *Session) Resume(ctx context.Context, opts ...agentsession.CallOption) error {
	req, err := gen.NewResumeSessionRequest(s.c.BaseURL(), s.id, nil)
	return s.change(ctx, req, err, opts)
}

// End ends an active or paused session as lifecycle.EndCompleted or
// lifecycle.EndFailed, with an optional final summary. The running turn is
// cancelled and active children are closed.
func (s *Session) End(ctx context.Context, status lifecycle.EndStatus, summary string, opts ...agentsession.CallOption) error {
	req, err := gen.NewEndSessionRequest(s.c.BaseURL(), s.id, nil, gen.EndSessionRequest{Status: status, Summary: summary})
	return s.change(ctx, req, err, opts)
}

// Handoff records the notes for the next agent and pauses the session
// (from active or paused; a paused session's notes are replaced).
func (s *Session) Handoff(ctx context.Context, p lifecycle.HandoffParams, opts ...agentsession.CallOption) error {
	body := gen.HandoffRequest{Summary: p.Summary, NextSteps: p.NextSteps, Blockers: p.Blockers, ContextForNext: p.ContextForNext}
	req, err := gen.NewHandoffSessionRequest(s.c.BaseURL(), s.id, nil, body)
	return s.change(ctx, req, err, opts)
}

// UpdateContext merges patch into the session's context summary with JSON
// Merge Patch rules (RFC 7396): members replace, nested objects merge, a nil
// value removes a member.
func (s *Session) UpdateContext(ctx context.Context, patch map[string]any, opts ...agentsession.CallOption) error {
	if patch == nil {
		patch = map[string]any{}
	}
	req, err := gen.NewUpdateContextRequest(s.c.BaseURL(), s.id, nil, gen.ContextPatch(patch))
	return s.change(ctx, req, err, opts)
}

// change sends a verb whose answer is the session and keeps it as Info.
func (s *Session) change(ctx context.Context, req *http.Request, err error, opts []agentsession.CallOption) error {
	info, err := do[Info](ctx, s.c, req, err, opts)
	if err != nil {
		return err
	}
	s.update(info)
	return nil
}

// Continue creates a new active session for p.Agent whose continued_from is
// this one; it inherits the context summary, the handoff notes and (unless
// p.PlanSlug is set) the plan. This session is unchanged.
func (s *Session) Continue(ctx context.Context, p lifecycle.ContinueParams, opts ...agentsession.CallOption) (*Session, error) {
	body := gen.ContinueSessionRequest{Agent: p.Agent, PlanSlug: p.PlanSlug, Meta: p.Meta, AgentOptions: p.AgentOptions}
	req, err := gen.NewContinueSessionRequest(s.c.BaseURL(), s.id, nil, body)
	info, err := do[Info](ctx, s.c, req, err, opts)
	if err != nil {
		return nil, err
	}
	return s.service().handle(info), nil
}

// Replay starts a new active session from this one's replay context
// (continued_from this one; its context summary gains a "replay" member).
// This session is unchanged.
func (s *Session) Replay(ctx context.Context, p lifecycle.ReplayParams, opts ...agentsession.CallOption) (*Session, error) {
	req, err := gen.NewReplaySessionRequest(s.c.BaseURL(), s.id, nil, gen.ReplaySessionRequest{Agent: p.Agent, Meta: p.Meta, AgentOptions: p.AgentOptions})
	info, err := do[Info](ctx, s.c, req, err, opts)
	if err != nil {
		return nil, err
	}
	return s.service().handle(info), nil
}

// HandoffContext returns everything a new agent needs to take the session
// over: context summary, handoff notes, recent work-log entries (newest
// first) and artifacts.
func (s *Session) HandoffContext(ctx context.Context, opts ...agentsession.CallOption) (*lifecycle.HandoffContext, error) {
	req, err := gen.NewGetHandoffContextRequest(s.c.BaseURL(), s.id)
	return do[lifecycle.HandoffContext](ctx, s.c, req, err, opts)
}

// ReplayContext rebuilds where the session stands from its work log:
// checkpoints, decisions, errors, progress, artifacts and handoff notes.
func (s *Session) ReplayContext(ctx context.Context, opts ...agentsession.CallOption) (*lifecycle.ReplayContext, error) {
	req, err := gen.NewGetReplayContextRequest(s.c.BaseURL(), s.id)
	return do[lifecycle.ReplayContext](ctx, s.c, req, err, opts)
}

// Log appends a typed entry to the session's work log.
func (s *Session) Log(ctx context.Context, p lifecycle.LogParams, opts ...agentsession.CallOption) (*lifecycle.LogEntry, error) {
	req, err := gen.NewAddLogEntryRequest(s.c.BaseURL(), s.id, nil, gen.LogEntryRequest{Type: p.Type, Message: p.Message, Data: p.Data})
	return do[lifecycle.LogEntry](ctx, s.c, req, err, opts)
}

// LogEntries yields the session's work log, oldest first (NewestFirst
// turns it round); a non-empty typ keeps only entries of that type.
func (s *Session) LogEntries(ctx context.Context, typ lifecycle.LogType, opts ...agentsession.CallOption) iter.Seq2[*lifecycle.LogEntry, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*lifecycle.LogEntry, string, error) {
		req, err := gen.NewListLogEntriesRequest(s.c.BaseURL(), s.id, &gen.ListLogEntriesParams{
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

// NewestFirst is a call option of LogEntries: the newest entry first.
func NewestFirst() agentsession.CallOption {
	return sdkclient.Query("order", string(gen.LogOrderNewestFirst)).(agentsession.CallOption)
}

// AddArtifact records a file the session created, modified or deleted.
func (s *Session) AddArtifact(ctx context.Context, p lifecycle.ArtifactParams, opts ...agentsession.CallOption) (*lifecycle.Artifact, error) {
	req, err := gen.NewAddArtifactRequest(s.c.BaseURL(), s.id, nil, gen.ArtifactRequest{Path: p.Path, Action: p.Action, Metadata: p.Metadata})
	return do[lifecycle.Artifact](ctx, s.c, req, err, opts)
}

// Artifacts yields the session's artifacts, oldest first; a non-empty action
// keeps only artifacts with that action.
func (s *Session) Artifacts(ctx context.Context, action lifecycle.ArtifactAction, opts ...agentsession.CallOption) iter.Seq2[*lifecycle.Artifact, error] {
	return paging.Seq(ctx, func(ctx context.Context, cursor string) ([]*lifecycle.Artifact, string, error) {
		req, err := gen.NewListArtifactsRequest(s.c.BaseURL(), s.id, &gen.ListArtifactsParams{
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

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
