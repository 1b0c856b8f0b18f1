package refserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/store"
)

// Work-log and artifact views are bounded (openapi.yaml: HandoffContext).
const (
	recentActionsMax    = 20
	handoffArtifactsMax = 100
)

func errSessionEnded(sess *store.Session) *apiError {
	return conflict(codeSessionEnded, "Session %s is %s and accepts no more work.", sess.ID, sess.Status)
}

// change runs an idempotent change of one session: mutate may refuse with
// an error or change sess, which is then stored with a new updated_at and
// returned (200, the session).
func (s *Server) change(ctx context.Context, k *idem, key sessKey, mutate func(sess *store.Session) error) (rawResponse, error) {
	return s.idempotent(ctx, k, func(tx store.Tx) (int, any, error) {
		sess, err := getSessionTx(tx, key)
		if err != nil {
			return 0, nil, err
		}
		if err := mutate(sess); err != nil {
			return 0, nil, err
		}
		sess.UpdatedAt = s.now()
		if err := tx.UpdateSession(sess); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.sessionJSON(sess), nil
	})
}

func (a api) PauseSession(ctx context.Context, req gen.PauseSessionRequestObject) (gen.PauseSessionResponseObject, error) {
	k := idemFor(ctx, "pauseSession", req.Params.IdempotencyKey, req.SessionId)
	return a.change(ctx, k, sessKey{info(ctx).tenant, req.SessionId}, func(sess *store.Session) error {
		if sess.Status != gen.SessionStatusActive {
			return invalidTransition(sess.Status, "paused")
		}
		sess.Status = gen.SessionStatusPaused
		return nil
	})
}

func (a api) ResumeSession(ctx context.Context, req gen.ResumeSessionRequestObject) (gen.ResumeSessionResponseObject, error) {
	k := idemFor(ctx, "resumeSession", req.Params.IdempotencyKey, req.SessionId)
	return a.change(ctx, k, sessKey{info(ctx).tenant, req.SessionId}, func(sess *store.Session) error {
		if sess.Status != gen.SessionStatusPaused {
			return invalidTransition(sess.Status, "resumed")
		}
		sess.Status = gen.SessionStatusActive
		return nil
	})
}

func (a api) HandoffSession(ctx context.Context, req gen.HandoffSessionRequestObject) (gen.HandoffSessionResponseObject, error) {
	k := idemFor(ctx, "handoffSession", req.Params.IdempotencyKey, req.SessionId)
	b := req.Body
	return a.change(ctx, k, sessKey{info(ctx).tenant, req.SessionId}, func(sess *store.Session) error {
		if sess.Ended() {
			return invalidTransition(sess.Status, "handed off")
		}
		h := &gen.Handoff{
			Summary:        b.Summary,
			NextSteps:      deref(b.NextSteps),
			Blockers:       deref(b.Blockers),
			ContextForNext: orEmpty(deref(b.ContextForNext)),
			CreatedAt:      a.now(),
		}
		if h.NextSteps == nil {
			h.NextSteps = []string{}
		}
		if h.Blockers == nil {
			h.Blockers = []string{}
		}
		sess.Handoff = h
		sess.Status = gen.SessionStatusPaused
		return nil
	})
}

func (a api) UpdateContext(ctx context.Context, req gen.UpdateContextRequestObject) (gen.UpdateContextResponseObject, error) {
	k := idemFor(ctx, "updateContext", req.Params.IdempotencyKey, req.SessionId)
	patch := map[string]any(deref(req.Body))
	return a.change(ctx, k, sessKey{info(ctx).tenant, req.SessionId}, func(sess *store.Session) error {
		if sess.Ended() {
			return errSessionEnded(sess)
		}
		sess.Context = mergePatch(sess.Context, patch)
		return nil
	})
}

func (a api) AddLogEntry(ctx context.Context, req gen.AddLogEntryRequestObject) (gen.AddLogEntryResponseObject, error) {
	b := req.Body
	return a.addToSession(ctx, "addLogEntry", req.Params.IdempotencyKey, req.SessionId,
		func(tx store.Tx, sess *store.Session, now time.Time) (any, error) {
			e := gen.LogEntry{Id: newID("log_"), SessionId: sess.ID, Type: b.Type, Message: b.Message,
				Data: orEmpty(deref(b.Data)), CreatedAt: now}
			sess.ActionCount++
			_, err := tx.AddLogEntry(sess.Tenant, e)
			return e, err
		})
}

func (a api) AddArtifact(ctx context.Context, req gen.AddArtifactRequestObject) (gen.AddArtifactResponseObject, error) {
	b := req.Body
	return a.addToSession(ctx, "addArtifact", req.Params.IdempotencyKey, req.SessionId,
		func(tx store.Tx, sess *store.Session, now time.Time) (any, error) {
			art := gen.Artifact{Id: newID("art_"), SessionId: sess.ID, Path: b.Path, Action: b.Action,
				Metadata: orEmpty(deref(b.Metadata)), CreatedAt: now}
			sess.ArtifactCount++
			_, err := tx.AddArtifact(sess.Tenant, art)
			return art, err
		})
}

// addToSession records one item (a work-log entry, an artifact) on a session
// that has not ended, under the request's idempotency key: add stores the
// item and bumps the session's counter; the answer is 201 with the item.
func (a api) addToSession(ctx context.Context, op string, idemKey *string, sessionID string,
	add func(tx store.Tx, sess *store.Session, now time.Time) (any, error)) (rawResponse, error) {
	key := sessKey{info(ctx).tenant, sessionID}
	return a.idempotent(ctx, idemFor(ctx, op, idemKey, sessionID), func(tx store.Tx) (int, any, error) {
		sess, err := getSessionTx(tx, key)
		if err != nil {
			return 0, nil, err
		}
		if sess.Ended() {
			return 0, nil, errSessionEnded(sess)
		}
		now := a.now()
		item, err := add(tx, sess, now)
		if err != nil {
			return 0, nil, err
		}
		sess.UpdatedAt = now
		return http.StatusCreated, item, tx.UpdateSession(sess)
	})
}

func (a api) ListLogEntries(ctx context.Context, req gen.ListLogEntriesRequestObject) (gen.ListLogEntriesResponseObject, error) {
	tenant, p := info(ctx).tenant, req.Params
	items, next, err := readPage(ctx, a.store, "log", listScope(tenant, req.SessionId, string(deref(p.Type))), p.Cursor, p.Limit,
		func(tx store.Tx, after int64, limit int) ([]gen.LogEntry, int64, error) {
			items, next, err := tx.ListLogEntries(tenant, req.SessionId, store.LogQuery{
				Page: store.Page{AfterOrd: after, Limit: limit}, Type: deref(p.Type)})
			return items, next, sessionScoped(err, req.SessionId)
		})
	if err != nil {
		return nil, err
	}
	return gen.ListLogEntries200JSONResponse{Body: gen.LogEntryList{Items: items, NextCursor: next}}, nil
}

func (a api) ListArtifacts(ctx context.Context, req gen.ListArtifactsRequestObject) (gen.ListArtifactsResponseObject, error) {
	tenant, p := info(ctx).tenant, req.Params
	items, next, err := readPage(ctx, a.store, "artifacts", listScope(tenant, req.SessionId, string(deref(p.Action))), p.Cursor, p.Limit,
		func(tx store.Tx, after int64, limit int) ([]gen.Artifact, int64, error) {
			items, next, err := tx.ListArtifacts(tenant, req.SessionId, store.ArtifactQuery{
				Page: store.Page{AfterOrd: after, Limit: limit}, Action: deref(p.Action)})
			return items, next, sessionScoped(err, req.SessionId)
		})
	if err != nil {
		return nil, err
	}
	return gen.ListArtifacts200JSONResponse{Body: gen.ArtifactList{Items: items, NextCursor: next}}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a api) GetHandoffContext(ctx context.Context, req gen.GetHandoffContextRequestObject) (gen.GetHandoffContextResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionId}
	var out gen.HandoffContext
	err := a.store.View(ctx, func(tx store.Tx) error {
		sess, err := getSessionTx(tx, key)
		if err != nil {
			return err
		}
		recent, _, err := tx.ListLogEntries(key.tenant, key.id, store.LogQuery{Page: store.Page{Limit: recentActionsMax}, NewestFirst: true})
		if err != nil {
			return err
		}
		arts, _, err := tx.ListArtifacts(key.tenant, key.id, store.ArtifactQuery{Page: store.Page{Limit: handoffArtifactsMax}})
		if err != nil {
			return err
		}
		out = gen.HandoffContext{
			SessionId: sess.ID, Agent: sess.Agent, Status: sess.Status, PlanSlug: optString(sess.PlanSlug),
			ContextSummary: orEmpty(sess.Context), Handoff: sess.Handoff,
			RecentActions: nonNil(recent), Artifacts: nonNil(arts), TurnCount: int32(sess.TurnCount),
			FinalSummary: optString(sess.FinalSummary), CreatedAt: sess.CreatedAt, UpdatedAt: sess.UpdatedAt,
			LastTurnAt: optTime(sess.LastTurnAt),
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return gen.GetHandoffContext200JSONResponse{Body: out}, nil
}

// replayContextTx reconstructs where sess stands from its work log.
func replayContextTx(tx store.Tx, sess *store.Session) (gen.ReplayContext, error) {
	entries, _, err := tx.ListLogEntries(sess.Tenant, sess.ID, store.LogQuery{})
	if err != nil {
		return gen.ReplayContext{}, err
	}
	arts, _, err := tx.ListArtifacts(sess.Tenant, sess.ID, store.ArtifactQuery{})
	if err != nil {
		return gen.ReplayContext{}, err
	}
	rc := gen.ReplayContext{
		SessionId: sess.ID, Agent: sess.Agent, Status: sess.Status, PlanSlug: optString(sess.PlanSlug),
		ContextSummary: orEmpty(sess.Context), Handoff: sess.Handoff, FinalSummary: optString(sess.FinalSummary),
		CreatedAt: sess.CreatedAt, EndedAt: optTime(sess.EndedAt),
		Checkpoints: []gen.LogEntry{}, Decisions: []gen.LogEntry{}, Errors: []gen.LogEntry{},
		Artifacts:         nonNil(arts),
		ArtifactsByAction: gen.ArtifactsByAction{Created: []gen.Artifact{}, Modified: []gen.Artifact{}, Deleted: []gen.Artifact{}},
		RecentActions:     []gen.LogEntry{},
	}
	for _, e := range entries {
		switch e.Type {
		case gen.LogEntryTypeCheckpoint:
			rc.Checkpoints = append(rc.Checkpoints, e)
		case gen.LogEntryTypeDecision:
			rc.Decisions = append(rc.Decisions, e)
		case gen.LogEntryTypeError:
			rc.Errors = append(rc.Errors, e)
		}
	}
	for i := len(entries) - 1; i >= 0 && len(rc.RecentActions) < recentActionsMax; i-- {
		rc.RecentActions = append(rc.RecentActions, entries[i])
	}
	for _, art := range arts {
		switch art.Action {
		case gen.ArtifactActionCreated:
			rc.ArtifactsByAction.Created = append(rc.ArtifactsByAction.Created, art)
		case gen.ArtifactActionModified:
			rc.ArtifactsByAction.Modified = append(rc.ArtifactsByAction.Modified, art)
		case gen.ArtifactActionDeleted:
			rc.ArtifactsByAction.Deleted = append(rc.ArtifactsByAction.Deleted, art)
		}
	}
	if n := len(rc.Checkpoints); n > 0 {
		last := rc.Checkpoints[n-1]
		rc.LastCheckpoint = &last
	}
	rc.Progress = gen.ReplayProgress{
		TotalEntries:    int32(len(entries)),
		CheckpointCount: int32(len(rc.Checkpoints)),
		DecisionCount:   int32(len(rc.Decisions)),
		ErrorCount:      int32(len(rc.Errors)),
		Summary: fmt.Sprintf("%s, %s, %s, %s.", plural(len(entries), "entry", "entries"),
			plural(len(rc.Checkpoints), "checkpoint", "checkpoints"),
			plural(len(rc.Decisions), "decision", "decisions"), plural(len(rc.Errors), "error", "errors")),
	}
	if n := len(entries); n > 0 {
		last := entries[n-1]
		rc.Progress.LastEntry = &last
	}
	return rc, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (a api) GetReplayContext(ctx context.Context, req gen.GetReplayContextRequestObject) (gen.GetReplayContextResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionId}
	var rc gen.ReplayContext
	err := a.store.View(ctx, func(tx store.Tx) error {
		sess, err := getSessionTx(tx, key)
		if err != nil {
			return err
		}
		rc, err = replayContextTx(tx, sess)
		return err
	})
	if err != nil {
		return nil, err
	}
	return gen.GetReplayContext200JSONResponse{Body: rc}, nil
}

func (a api) ContinueSession(ctx context.Context, req gen.ContinueSessionRequestObject) (gen.ContinueSessionResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionId}
	k := idemFor(ctx, "continueSession", req.Params.IdempotencyKey, req.SessionId)
	b := req.Body
	return a.idempotent(ctx, k, func(tx store.Tx) (int, any, error) {
		old, err := getSessionTx(tx, key)
		if err != nil {
			return 0, nil, err
		}
		if err := a.checkAgent(b.Agent); err != nil {
			return 0, nil, err
		}
		plan := old.PlanSlug
		if b.PlanSlug != nil {
			plan = *b.PlanSlug
		}
		var handoff *gen.Handoff
		if old.Handoff != nil {
			h := *old.Handoff
			h.ContextForNext = cloneJSON(h.ContextForNext)
			handoff = &h
		}
		sess, err := a.createSessionTx(tx, &store.Session{
			Tenant: key.tenant, Agent: b.Agent, Meta: deref(b.Meta), PlanSlug: plan,
			ContinuedFrom: old.ID, Context: cloneJSON(old.Context), Handoff: handoff,
		})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, a.sessionJSON(sess), nil
	})
}

func (a api) ReplaySession(ctx context.Context, req gen.ReplaySessionRequestObject) (gen.ReplaySessionResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionId}
	k := idemFor(ctx, "replaySession", req.Params.IdempotencyKey, req.SessionId)
	var b gen.ReplaySessionRequest
	if req.Body != nil {
		b = *req.Body
	}
	return a.idempotent(ctx, k, func(tx store.Tx) (int, any, error) {
		old, err := getSessionTx(tx, key)
		if err != nil {
			return 0, nil, err
		}
		agentName := old.Agent
		if b.Agent != nil {
			agentName = *b.Agent
		}
		if err := a.checkAgent(agentName); err != nil {
			return 0, nil, err
		}
		rc, err := replayContextTx(tx, old)
		if err != nil {
			return 0, nil, err
		}
		replay := map[string]any{"progress": rc.Progress, "decisions": rc.Decisions, "errors": rc.Errors}
		if rc.LastCheckpoint != nil {
			replay["last_checkpoint"] = rc.LastCheckpoint
		}
		member, err := toJSONValue(replay)
		if err != nil {
			return 0, nil, err
		}
		context := cloneJSON(old.Context)
		if context == nil {
			context = map[string]any{}
		}
		context["replay"] = member
		sess, err := a.createSessionTx(tx, &store.Session{
			Tenant: key.tenant, Agent: agentName, Meta: deref(b.Meta), PlanSlug: old.PlanSlug,
			ContinuedFrom: old.ID, Context: context,
		})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, a.sessionJSON(sess), nil
	})
}

// toJSONValue converts v to the generic form encoding/json decodes into.
func toJSONValue(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(data, &out)
}
