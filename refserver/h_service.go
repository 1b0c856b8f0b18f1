package refserver

import (
	"context"
	"slices"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
)

func (a api) GetHealth(ctx context.Context, _ genserver.GetHealthRequestObject) (genserver.GetHealthResponseObject, error) {
	return genserver.GetHealth200JSONResponse{Body: gen.Health{Status: gen.HealthStatusOk, Version: Version, Time: a.now()}}, nil
}

func (a api) GetCapabilities(ctx context.Context, _ genserver.GetCapabilitiesRequestObject) (genserver.GetCapabilitiesResponseObject, error) {
	c := a.cfg
	agents := a.agents.List()
	policies := []gen.BusyPolicy{gen.BusyPolicyReject, gen.BusyPolicyEnqueue, gen.BusyPolicyInterrupt}
	if slices.ContainsFunc(agents, func(ag gen.AgentInfo) bool { return ag.Steer }) {
		policies = append(policies, gen.BusyPolicySteer)
	}
	return genserver.GetCapabilities200JSONResponse{Body: gen.Capabilities{
		APIVersion: "v1",
		Server:     gen.ServerInfo{Name: ServerName, Version: Version},
		Agents:     agents,
		Features: gen.Features{
			Streaming: true, Resume: true, Files: true, Lifecycle: true,
			Children: true, Replay: true, Idempotency: true,
			Permissions: true, SessionStream: true,
			BusyPolicies: policies,
		},
		Limits: gen.Limits{
			MaxBodyBytes:     c.MaxBodyBytes,
			MaxFileBytes:     c.MaxFileBytes,
			DefaultPageSize:  DefaultPageSize,
			MaxPageSize:      MaxPageSize,
			MaxChildren:      int32(c.MaxChildren),
			MaxDepth:         int32(c.MaxDepth),
			MaxQueuedTurns:   int32(c.MaxQueuedTurns),
			MaxTurnTimeoutMs: int32(c.MaxTurnTimeout.Milliseconds()),
			StallAfterMs:     c.StallAfter.Milliseconds(),
		},
	}}, nil
}
