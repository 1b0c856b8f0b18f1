package refserver

import (
	"context"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
)

func (a api) GetHealth(ctx context.Context, _ genserver.GetHealthRequestObject) (genserver.GetHealthResponseObject, error) {
	return genserver.GetHealth200JSONResponse{Body: gen.Health{Status: gen.HealthStatusOk, Version: Version, Time: a.now()}}, nil
}

func (a api) GetCapabilities(ctx context.Context, _ genserver.GetCapabilitiesRequestObject) (genserver.GetCapabilitiesResponseObject, error) {
	c := a.cfg
	return genserver.GetCapabilities200JSONResponse{Body: gen.Capabilities{
		APIVersion: "v1",
		Server:     gen.ServerInfo{Name: ServerName, Version: Version},
		Agents:     a.agents.List(),
		Features: gen.Features{
			Streaming: true, Resume: true, Files: true, Lifecycle: true,
			Children: true, Replay: true, Idempotency: true,
			BusyPolicies: []gen.BusyPolicy{gen.BusyPolicyReject, gen.BusyPolicyEnqueue, gen.BusyPolicyInterrupt},
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
