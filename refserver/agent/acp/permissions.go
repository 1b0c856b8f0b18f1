package acp

import (
	"context"
	"encoding/json"

	acpsdk "github.com/coder/acp-go-sdk"
)

// The permission seam. An ACP agent asks before some tool calls
// (session/request_permission); the bridge turns the request into a
// PermissionRequest, in the contract's terms, and asks the turn's
// Permissions, given with WithPermissions on the turn's context. Without
// one, or when the answer is an error or an id the agent did not offer,
// the bridge answers ACP's "cancelled" outcome (what a client owes a
// request it will not answer), and the agent decides what that means.
//
// These types are agent-neutral on purpose: the scripted agent will ask
// too (issue 12), so they can move to package agent unchanged, with the
// contract's permission_request event built from a PermissionRequest and
// the answer's option id taken from the permission operation.

// PermissionOptionKind is the kind of an option: ACP's and the contract's
// allow_once, allow_always, reject_once, reject_always. Other values may
// come from newer agents and are passed through.
type PermissionOptionKind string

// The kinds of permission options.
const (
	PermissionAllowOnce    PermissionOptionKind = "allow_once"
	PermissionAllowAlways  PermissionOptionKind = "allow_always"
	PermissionRejectOnce   PermissionOptionKind = "reject_once"
	PermissionRejectAlways PermissionOptionKind = "reject_always"
)

// PermissionOption is one answer the agent offers.
type PermissionOption struct {
	ID   string
	Name string
	Kind PermissionOptionKind
}

// PermissionRequest is an agent's question before a tool call.
type PermissionRequest struct {
	// SessionID and TurnIndex are the server's session and turn.
	SessionID string
	TurnIndex int
	// ToolCallID is the tool call the request concerns (the tool_call
	// event's tool_call_id).
	ToolCallID string
	// Title describes the call: the request's title, else the tool call's.
	Title string
	// ToolKind is ACP's tool kind (read, edit, execute, ...), when given.
	ToolKind string
	// RawInput is the call's input as plain JSON values, when given.
	RawInput any
	// Options are the answers on offer, in the agent's order.
	Options []PermissionOption
}

// Offers reports whether id is one of the request's options.
func (r PermissionRequest) Offers(id string) bool {
	for _, o := range r.Options {
		if o.ID == id {
			return true
		}
	}
	return false
}

// Permissions answers permission requests: it returns the id of the chosen
// option. It must honour ctx, which ends when the turn does (cancel,
// interrupt, timeout, close) or the agent withdraws the request; an error
// return answers "cancelled".
type Permissions interface {
	RequestPermission(ctx context.Context, req PermissionRequest) (optionID string, err error)
}

// PermissionsFunc is a Permissions of a function.
type PermissionsFunc func(ctx context.Context, req PermissionRequest) (string, error)

// RequestPermission calls f.
func (f PermissionsFunc) RequestPermission(ctx context.Context, req PermissionRequest) (string, error) {
	return f(ctx, req)
}

type permissionsKey struct{}

// WithPermissions returns ctx carrying p for the turns run with it.
func WithPermissions(ctx context.Context, p Permissions) context.Context {
	return context.WithValue(ctx, permissionsKey{}, p)
}

// permissionsFrom is the Permissions of ctx, or nil.
func permissionsFrom(ctx context.Context) Permissions {
	p, _ := ctx.Value(permissionsKey{}).(Permissions)
	return p
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
