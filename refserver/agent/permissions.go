package agent

import (
	"context"
	"errors"
)

// Permission requests: an agent asks before it acts (ACP's
// session/request_permission) through Input.Permissions and blocks until
// the client answers or the request is cancelled. The server records the
// request as a permission_request event and the answer as a
// permission_response event; agents only ask and wait.

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
	// RequestID, when set, is the id the request is to have in the
	// session (the scripted agent's ask names one); empty lets the server
	// make one.
	RequestID string
	// ToolCallID is the tool call the request concerns (the tool_call
	// event's tool_call_id), when it concerns one.
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

// ErrPermissionCancelled is what Permissions return for a request answered
// "cancelled" while the turn goes on (the agent withdrew it: its ctx ended
// before the turn's did).
var ErrPermissionCancelled = errors.New("agent: the permission request was cancelled")

// Permissions answers permission requests: it returns the id of the chosen
// option. It must honour ctx, which ends when the turn does (cancel,
// interrupt, timeout, close) or when the agent withdraws the request; the
// error is then ctx's (the turn ended) or ErrPermissionCancelled (a
// withdrawn request, answered "cancelled"). Any other error means the
// request could not be asked.
type Permissions interface {
	RequestPermission(ctx context.Context, req PermissionRequest) (optionID string, err error)
}

// PermissionsFunc is a Permissions of a function.
type PermissionsFunc func(ctx context.Context, req PermissionRequest) (string, error)

// RequestPermission calls f.
func (f PermissionsFunc) RequestPermission(ctx context.Context, req PermissionRequest) (string, error) {
	return f(ctx, req)
}
