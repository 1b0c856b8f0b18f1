package refserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
	"github.com/agentsession/agentsession/refserver/store"
)

// Work-log and artifact views are bounded (openapi.yaml: HandoffContext).
const (
	recentActionsMax    = 20
	handoffArtifactsMax = 100
)

func errSessionEnded(sess *store.Session) *apiError {
	return conflict(gen.ProblemCodeSessionEnded, "Session %s is %s and accepts no more work.", sess.ID, sess.Status)
}

// change runs an idempotent change of one session: mutate may refuse with
// an error or change sess, which is then stored with a new updated_at and
// returned (200, the session). A change of status is recorded as a
// status_changed lifecycle event, after the events lifecycle adds (when
// set) before it.
func (s *Server) change(ctx context.Context, k *idem, key sessKey, mutate func(sess *store.Session) error, lifecycle ...gen.LifecycleEventType) (rawResponse, error) {
	return s.idempotent(ctx, k, func(tx store.Tx) (int, any, error) {
		sess, err := getSessionTx(tx, key)
		if err != nil {
			return 0, nil, err
		}
		old := sess.Status
		if err := mutate(sess); err != nil {
			return 0, nil, err
		}
		now := s.now()
		sess.UpdatedAt = now
		for _, typ := range lifecycle {
			if err := appendLifecycleTx(tx, sess, gen.LifecycleEvent{Type: typ}, now); err != nil {
				return 0, nil, err
			}
		}
		if err := statusChangedTx(tx, sess, old, now); err != nil {
			return 0, nil, err
		}
		if err := tx.UpdateSession(sess); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.sessionJSON(sess), nil
	})
}

func (a api) PauseSession(ctx context.Context, req genserver.PauseSessionRequestObject) (genserver.PauseSessionResponseObject, error) {
	k := idemFor(ctx, "pauseSession", req.Params.IdempotencyKey, req.SessionID)
	return a.change(ctx, k, sessKey{info(ctx).tenant, req.SessionID}, func(sess *store.Session) error {
		if sess.Status != gen.SessionStatusActive {
			return invalidTransition(sess.Status, "paused")
		}
		sess.Status = gen.SessionStatusPaused
		return nil
	})
}

func (a api) ResumeSession(ctx context.Context, req genserver.ResumeSessionRequestObject) (genserver.ResumeSessionResponseObject, error) {
	k := idemFor(ctx, "resumeSession", req.Params.IdempotencyKey, req.SessionID)
	return a.change(ctx, k, sessKey{info(ctx).tenant, req.SessionID}, func(sess *store.Session) error {
		if sess.Status != gen.SessionStatusPaused {
			return invalidTransition(sess.Status, "resumed")
		}
		sess.Status = gen.SessionStatusActive
		return nil
	})
}

func (a api) HandoffSession(ctx context.Context, req genserver.HandoffSessionRequestObject) (genserver.HandoffSessionResponseObject, error) {
	k := idemFor(ctx, "handoffSession", req.Params.IdempotencyKey, req.SessionID)
	b := req.Body
	return a.change(ctx, k, sessKey{info(ctx).tenant, req.SessionID}, func(sess *store.Session) error {
		if sess.Ended() {
			return invalidTransition(sess.Status, "handed off")
		}
		sess.Handoff = gen.Handoff{
			Summary:        b.Summary,
			NextSteps:      nonNil(b.NextSteps),
			Blockers:       nonNil(b.Blockers),
			ContextForNext: orEmpty(b.ContextForNext),
			CreatedAt:      a.now(),
		}
		sess.Status = gen.SessionStatusPaused
		return nil
	}, gen.LifecycleEventTypeHandoff)
}

func (a api) UpdateContext(ctx context.Context, req genserver.UpdateContextRequestObject) (genserver.UpdateContextResponseObject, error) {
	k := idemFor(ctx, "updateContext", req.Params.IdempotencyKey, req.SessionID)
	patch := map[string]any(deref(req.Body))
	return a.change(ctx, k, sessKey{info(ctx).tenant, req.SessionID}, func(sess *store.Session) error {
		if sess.Ended() {
			return errSessionEnded(sess)
		}
		sess.Context = mergePatch(sess.Context, patch)
		return nil
	})
}

func (a api) AddLogEntry(ctx context.Context, req genserver.AddLogEntryRequestObject) (genserver.AddLogEntryResponseObject, error) {
	b := req.Body
	return a.addToSession(ctx, "addLogEntry", req.Params.IdempotencyKey, req.SessionID,
		func(tx store.Tx, sess *store.Session, now time.Time) (any, error) {
			e := gen.LogEntry{ID: newID("log_"), SessionID: sess.ID, Type: b.Type, Message: b.Message,
				Data: orEmpty(b.Data), CreatedAt: now}
			sess.ActionCount++
			_, err := tx.AddLogEntry(sess.Tenant, e)
			return e, err
		})
}

func (a api) AddArtifact(ctx context.Context, req genserver.AddArtifactRequestObject) (genserver.AddArtifactResponseObject, error) {
	b := req.Body
	return a.addToSession(ctx, "addArtifact", req.Params.IdempotencyKey, req.SessionID,
		func(tx store.Tx, sess *store.Session, now time.Time) (any, error) {
			art := gen.Artifact{ID: newID("art_"), SessionID: sess.ID, Path: b.Path, Action: b.Action,
				Metadata: orEmpty(b.Metadata), CreatedAt: now}
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

func (a api) ListLogEntries(ctx context.Context, req genserver.ListLogEntriesRequestObject) (genserver.ListLogEntriesResponseObject, error) {
	tenant, p := info(ctx).tenant, req.Params
	newest := deref(p.Order) == gen.LogOrderNewestFirst
	items, next, err := readPage(ctx, a.store, "log", listScope(tenant, req.SessionID, string(deref(p.Type)), string(deref(p.Order))), p.Cursor, p.Limit,
		func(tx store.Tx, after int64, limit int) ([]gen.LogEntry, int64, error) {
			items, next, err := tx.ListLogEntries(tenant, req.SessionID, store.LogQuery{
				Page: store.Page{AfterOrd: after, Limit: limit}, Type: deref(p.Type), NewestFirst: newest})
			return items, next, sessionScoped(err, req.SessionID)
		})
	if err != nil {
		return nil, err
	}
	return genserver.ListLogEntries200JSONResponse{Body: gen.LogEntryList{Items: items, NextCursor: next}}, nil
}

func (a api) ListArtifacts(ctx context.Context, req genserver.ListArtifactsRequestObject) (genserver.ListArtifactsResponseObject, error) {
	tenant, p := info(ctx).tenant, req.Params
	items, next, err := readPage(ctx, a.store, "artifacts", listScope(tenant, req.SessionID, string(deref(p.Action))), p.Cursor, p.Limit,
		func(tx store.Tx, after int64, limit int) ([]gen.Artifact, int64, error) {
			items, next, err := tx.ListArtifacts(tenant, req.SessionID, store.ArtifactQuery{
				Page: store.Page{AfterOrd: after, Limit: limit}, Action: deref(p.Action)})
			return items, next, sessionScoped(err, req.SessionID)
		})
	if err != nil {
		return nil, err
	}
	return genserver.ListArtifacts200JSONResponse{Body: gen.ArtifactList{Items: items, NextCursor: next}}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a api) GetHandoffContext(ctx context.Context, req genserver.GetHandoffContextRequestObject) (genserver.GetHandoffContextResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
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
			SessionID: sess.ID, Agent: sess.Agent, Status: sess.Status, PlanSlug: sess.PlanSlug,
			ContextSummary: orEmpty(sess.Context), Handoff: sess.Handoff,
			RecentActions: nonNil(recent), Artifacts: nonNil(arts), TurnCount: int32(sess.TurnCount),
			FinalSummary: sess.FinalSummary, CreatedAt: sess.CreatedAt, UpdatedAt: sess.UpdatedAt,
			LastTurnAt: sess.LastTurnAt,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return genserver.GetHandoffContext200JSONResponse{Body: out}, nil
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
		SessionID: sess.ID, Agent: sess.Agent, Status: sess.Status, PlanSlug: sess.PlanSlug,
		ContextSummary: orEmpty(sess.Context), Handoff: sess.Handoff, FinalSummary: sess.FinalSummary,
		CreatedAt: sess.CreatedAt, EndedAt: sess.EndedAt,
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
		rc.LastCheckpoint = rc.Checkpoints[n-1]
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
		rc.Progress.LastEntry = entries[n-1]
	}
	return rc, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (a api) GetReplayContext(ctx context.Context, req genserver.GetReplayContextRequestObject) (genserver.GetReplayContextResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
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
	return genserver.GetReplayContext200JSONResponse{Body: rc}, nil
}

func (a api) ContinueSession(ctx context.Context, req genserver.ContinueSessionRequestObject) (genserver.ContinueSessionResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
	k := idemFor(ctx, "continueSession", req.Params.IdempotencyKey, req.SessionID)
	b := req.Body
	return a.createStarting(ctx, func(st *sessionStart) (rawResponse, error) {
		return a.continueSession(ctx, key, k, b, st)
	})
}

func (a api) continueSession(ctx context.Context, key sessKey, k *idem, b *gen.ContinueSessionRequest, st *sessionStart) (rawResponse, error) {
	return a.idempotent(ctx, k, func(tx store.Tx) (int, any, error) {
		old, err := getSessionTx(tx, key)
		if err != nil {
			return 0, nil, err
		}
		opts, err := a.agentOptions(b.Agent, b.AgentOptions)
		if err != nil {
			return 0, nil, err
		}
		if err := a.readyToCreate(st, b.Agent, opts); err != nil {
			return 0, nil, err
		}
		plan := old.PlanSlug
		if b.PlanSlug != "" {
			plan = b.PlanSlug
		}
		// The store copies what it is given: old's handoff can be passed on as is.
		sess, err := a.createSessionTx(tx, &store.Session{
			ID: st.id, Tenant: key.tenant, Agent: b.Agent, Meta: b.Meta, PlanSlug: plan,
			ContinuedFrom: old.ID, Context: cloneJSON(old.Context), Handoff: old.Handoff, AgentOptions: opts,
		})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, a.sessionJSON(sess), nil
	})
}

func (a api) ReplaySession(ctx context.Context, req genserver.ReplaySessionRequestObject) (genserver.ReplaySessionResponseObject, error) {
	key := sessKey{info(ctx).tenant, req.SessionID}
	k := idemFor(ctx, "replaySession", req.Params.IdempotencyKey, req.SessionID)
	var b gen.ReplaySessionRequest
	if req.Body != nil {
		b = *req.Body
	}
	return a.createStarting(ctx, func(st *sessionStart) (rawResponse, error) {
		return a.replaySession(ctx, key, k, b, st)
	})
}

func (a api) replaySession(ctx context.Context, key sessKey, k *idem, b gen.ReplaySessionRequest, st *sessionStart) (rawResponse, error) {
	return a.idempotent(ctx, k, func(tx store.Tx) (int, any, error) {
		old, err := getSessionTx(tx, key)
		if err != nil {
			return 0, nil, err
		}
		agentName := old.Agent
		if b.Agent != "" {
			agentName = b.Agent
		}
		opts, err := a.agentOptions(agentName, b.AgentOptions)
		if err != nil {
			return 0, nil, err
		}
		if err := a.readyToCreate(st, agentName, opts); err != nil {
			return 0, nil, err
		}
		rc, err := replayContextTx(tx, old)
		if err != nil {
			return 0, nil, err
		}
		replay := map[string]any{"progress": rc.Progress, "decisions": rc.Decisions, "errors": rc.Errors}
		if rc.LastCheckpoint.ID != "" {
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
			ID: st.id, Tenant: key.tenant, Agent: agentName, Meta: b.Meta, PlanSlug: old.PlanSlug,
			ContinuedFrom: old.ID, Context: context, AgentOptions: opts,
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
