package acp

import (
	"context"
	"encoding/json"

	acpsdk "github.com/coder/acp-go-sdk"

	"github.com/agentsession/agentsession/refserver/agent"
)

// The permission seam. An ACP agent asks before some tool calls
// (session/request_permission); the bridge turns the request into an
// agent.PermissionRequest, in the contract's terms, and asks the turn's
// Permissions: the one given with WithPermissions on the turn's context,
// else the server's (agent.Input.Permissions), which records the request
// as the contract's permission_request event and waits for the client's
// answerPermission. Without either, or when the answer is an error or an
// id the agent did not offer, the bridge answers ACP's "cancelled" outcome
// (what a client owes a request it will not answer), and the agent decides
// what that means.
//
// The types are package agent's, which the scripted agent asks through
// too; the names here are kept for the bridge's users.

// PermissionOptionKind is agent.PermissionOptionKind.
type PermissionOptionKind = agent.PermissionOptionKind

// The kinds of permission options.
const (
	PermissionAllowOnce    = agent.PermissionAllowOnce
	PermissionAllowAlways  = agent.PermissionAllowAlways
	PermissionRejectOnce   = agent.PermissionRejectOnce
	PermissionRejectAlways = agent.PermissionRejectAlways
)

// PermissionOption is agent.PermissionOption.
type PermissionOption = agent.PermissionOption

// PermissionRequest is agent.PermissionRequest.
type PermissionRequest = agent.PermissionRequest

// Permissions is agent.Permissions.
type Permissions = agent.Permissions

// PermissionsFunc is agent.PermissionsFunc.
type PermissionsFunc = agent.PermissionsFunc

type permissionsKey struct{}

// WithPermissions returns ctx carrying p for the turns run with it; it
// takes precedence over the turn's agent.Input.Permissions.
func WithPermissions(ctx context.Context, p Permissions) context.Context {
	return context.WithValue(ctx, permissionsKey{}, p)
}

// permissionsOf is the Permissions of a turn: ctx's, else in's, else nil.
func permissionsOf(ctx context.Context, in agent.Input) Permissions {
	if p, _ := ctx.Value(permissionsKey{}).(Permissions); p != nil {
		return p
	}
	return in.Permissions
}

// permissionRequest is req in the contract's terms; title is the tool
// call's remembered title, used when the request has none.
func permissionRequest(req acpsdk.RequestPermissionRequest, sessionID string, turnIndex int, title string) PermissionRequest {
	out := PermissionRequest{
		SessionID:  sessionID,
		TurnIndex:  turnIndex,
		ToolCallID: string(req.ToolCall.ToolCallId),
		Title:      title,
		RawInput:   plainJSON(req.ToolCall.RawInput),
		Options:    make([]PermissionOption, 0, len(req.Options)),
	}
	if req.ToolCall.Title != nil && *req.ToolCall.Title != "" {
		out.Title = *req.ToolCall.Title
	}
	if req.ToolCall.Kind != nil {
		out.ToolKind = string(*req.ToolCall.Kind)
	}
	for _, o := range req.Options {
		out.Options = append(out.Options, PermissionOption{ID: string(o.OptionId), Name: o.Name, Kind: PermissionOptionKind(o.Kind)})
	}
	return out
}

var (
	permissionCancelled = acpsdk.RequestPermissionResponse{Outcome: acpsdk.NewRequestPermissionOutcomeCancelled()}
)

func permissionSelected(id string) acpsdk.RequestPermissionResponse {
	return acpsdk.RequestPermissionResponse{Outcome: acpsdk.NewRequestPermissionOutcomeSelected(acpsdk.PermissionOptionId(id))}
}

// plainJSON turns v (decoded from JSON into SDK types) into plain JSON
// values: maps, slices, strings, float64, bool, nil.
func plainJSON(v any) any {
	if v == nil {
		return nil
	}
	switch v.(type) {
	case map[string]any, []any, string, float64, bool:
		return v
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(data, &out) != nil {
		return nil
	}
	return out
}
