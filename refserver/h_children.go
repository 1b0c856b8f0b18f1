package refserver

import (
	"context"
	"net/http"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
	"github.com/agentsession/agentsession/refserver/store"
)

func (a api) SpawnChild(ctx context.Context, req genserver.SpawnChildRequestObject) (genserver.SpawnChildResponseObject, error) {
	parentKey := sessKey{info(ctx).tenant, req.SessionID}
	k := idemFor(ctx, "spawnChild", req.Params.IdempotencyKey, req.SessionID)
	b := req.Body
	// While the parent's runner is held a concurrent close cannot miss this
	// child: a closing parent refuses new children.
	return a.createStarting(ctx, func(st *sessionStart) (rawResponse, error) {
		return a.spawnChild(ctx, parentKey, k, b, st)
	})
}

func (a api) spawnChild(ctx context.Context, parentKey sessKey, k *idem, b *gen.CreateSessionRequest, st *sessionStart) (rawResponse, error) {
	return a.whileOpen(parentKey, func(closing bool) (rawResponse, error) {
		return a.idempotent(ctx, k, func(tx store.Tx) (int, any, error) {
			parent, err := getSessionTx(tx, parentKey)
			if err != nil {
				return 0, nil, err
			}
			switch {
			case parent.Ended() || closing:
				return 0, nil, errSessionEnded(parent)
			case parent.Status == gen.SessionStatusPaused:
				return 0, nil, conflict(gen.ProblemCodeSessionPaused, "Session %s is paused; resume it before spawning children.", parent.ID)
			}
			opts, err := a.agentOptions(b.Agent, b.AgentOptions)
			if err != nil {
				return 0, nil, err
			}
			if parent.Depth+1 > a.cfg.MaxDepth {
				return 0, nil, conflict(gen.ProblemCodeSpawnLimitExceeded,
					"A child of session %s would have depth %d; this server allows at most %d.", parent.ID, parent.Depth+1, a.cfg.MaxDepth)
			}
			n, err := tx.CountSessions(parentKey.tenant, store.SessionQuery{
				ParentID: parent.ID, Statuses: []gen.SessionStatus{gen.SessionStatusActive, gen.SessionStatusPaused}})
			if err != nil {
				return 0, nil, err
			}
			if n >= a.cfg.MaxChildren {
				return 0, nil, conflict(gen.ProblemCodeSpawnLimitExceeded,
					"Session %s already has %d active children; this server allows at most %d.", parent.ID, n, a.cfg.MaxChildren)
			}
			if err := a.readyToCreate(st, b.Agent, opts); err != nil {
				return 0, nil, err
			}
			child, err := a.createSessionTx(tx, &store.Session{
				ID: st.id, Tenant: parentKey.tenant, Agent: b.Agent, Meta: b.Meta, PlanSlug: b.PlanSlug,
				Context: b.Context, ParentID: parent.ID, Depth: parent.Depth + 1, AgentOptions: opts,
			})
			if err != nil {
				return 0, nil, err
			}
			now := a.now()
			if err := appendLifecycleTx(tx, parent, gen.LifecycleEvent{Type: gen.LifecycleEventTypeChildSpawned, ChildSessionID: child.ID}, now); err != nil {
				return 0, nil, err
			}
			if err := tx.UpdateSession(parent); err != nil {
				return 0, nil, err
			}
			return http.StatusCreated, a.sessionJSON(child), nil
		})
	})
}

func (a api) ListChildren(ctx context.Context, req genserver.ListChildrenRequestObject) (genserver.ListChildrenResponseObject, error) {
	tenant := info(ctx).tenant
	p := req.Params
	q := store.SessionQuery{ParentID: req.SessionID}
	if p.Status != nil {
		q.Statuses = []gen.SessionStatus{*p.Status}
	}
	list, err := a.listSessions(ctx, tenant, "children", q, p.Limit, p.Cursor,
		listScope(tenant, req.SessionID, string(deref(p.Status))))
	if err != nil {
		return nil, err
	}
	return genserver.ListChildren200JSONResponse{Body: list}, nil
}
