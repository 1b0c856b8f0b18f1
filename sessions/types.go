package sessions

import (
	"encoding/json"
	"strings"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
)

// Data types are the generated models (package gen), named here without
// being copied, so they cannot drift from the contract.
type (
	// Info is a session's state as the server reported it.
	Info = gen.Session
	// Turn is a turn of a session's history (History, GetTurn).
	Turn = gen.Turn
	// File is an uploaded file's metadata; pass its FileToken to WithFiles.
	File = gen.File
	// CancelResult is the answer of Session.Cancel.
	CancelResult = gen.CancelTurnResult
	// TurnSummary is how a turn ended.
	TurnSummary = gen.TurnSummary
	// BusyPolicy says what a turn does while another one runs.
	BusyPolicy = gen.BusyPolicy
	// StopReason says why a turn ended.
	StopReason = gen.StopReason
	// EventType is the kind of an event; new kinds may appear.
	EventType = gen.EventType
	// CancelledBy says what cancelled a cancelled turn.
	CancelledBy = gen.CancelledBy
)

// Busy policies (WithBusyPolicy).
const (
	BusyReject    = gen.BusyPolicyReject    // 409 turn_in_progress (ErrBusy): the default
	BusyEnqueue   = gen.BusyPolicyEnqueue   // wait behind the running turn
	BusyInterrupt = gen.BusyPolicyInterrupt // cancel the running turn and run next
)

// Stop reasons.
const (
	StopEndTurn         = gen.StopReasonEndTurn
	StopMaxTokens       = gen.StopReasonMaxTokens
	StopMaxTurnRequests = gen.StopReasonMaxTurnRequests
	StopRefusal         = gen.StopReasonRefusal
	StopCancelled       = gen.StopReasonCancelled
	StopError           = gen.StopReasonError
)

// Event types known to this version of the SDK.
const (
	EventText       = gen.EventTypeText
	EventThinking   = gen.EventTypeThinking
	EventToolCall   = gen.EventTypeToolCall
	EventToolResult = gen.EventTypeToolResult
	EventPlan       = gen.EventTypePlan
	EventUsage      = gen.EventTypeUsage
	EventError      = gen.EventTypeError
)

// Event is one thing the agent did during a turn. The typed fields come from
// the contract; Raw keeps the event exactly as the server sent it, so event
// types and fields this SDK does not know pass through untouched.
type Event struct {
	gen.Event
	// Raw is the event's JSON as received.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the typed fields and keeps a copy of the raw JSON.
func (e *Event) UnmarshalJSON(b []byte) error {
	e.Raw = append(e.Raw[:0], b...)
	return json.Unmarshal(b, &e.Event)
}

// MarshalJSON writes the raw JSON when there is one, so that a re-encoded
// event keeps the fields this SDK does not know.
func (e Event) MarshalJSON() ([]byte, error) {
	if len(e.Raw) > 0 {
		return e.Raw, nil
	}
	return json.Marshal(e.Event)
}

// Known reports whether this SDK knows the event's type.
func (e Event) Known() bool { return e.Type.Valid() }

// Text returns the event's content ("" when it has none).
func (e Event) Text() string { return e.Content }

// TurnResult is a finished turn: how it ended and all its events.
type TurnResult struct {
	gen.TurnSummary
	// Events are the turn's events in seq order.
	Events []Event `json:"events"`
	// Response describes the HTTP answer (request id, idempotency key,
	// attempts); for a stream, the answer that started it.
	Response *agentsession.Response `json:"-"`
}

// Text concatenates the content of the turn's text events, in order.
func (r *TurnResult) Text() string {
	var b strings.Builder
	for _, e := range r.Events {
		if e.Type == EventText {
			b.WriteString(e.Content)
		}
	}
	return b.String()
}

// CreateParams describes a new session (NewSession, Spawn).
type CreateParams struct {
	// Agent is the agent's name (see Client.Capabilities); required.
	Agent string
	// Meta is free-form metadata kept with the session.
	Meta map[string]any
	// PlanSlug names the plan the session works on.
	PlanSlug string
	// Context seeds the session's context summary.
	Context map[string]any
}

func (p CreateParams) body() gen.CreateSessionRequest {
	return gen.CreateSessionRequest{Agent: p.Agent, Meta: p.Meta, PlanSlug: p.PlanSlug, Context: p.Context}
}

// ListOptions filters List. Zero fields do not filter.
type ListOptions struct {
	Status   agentsession.SessionStatus
	Agent    string
	PlanSlug string
	// PageSize is how many sessions each request fetches (server default
	// when 0, at most 100).
	PageSize int32
}
