package sessions

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/lifecycle"
)

// The session's data are the generated models (package gen), named here
// once, so they cannot drift from the contract. Turns are the exception:
// TurnResult and Turn read as Go (durations, usage counts, no pointers) and
// keep each event's JSON.
type (
	// Info is a session's state as the server last reported it.
	Info = gen.Session
	// Activity says whether a session's turn is running (Info.Activity).
	Activity = gen.Activity
	// File is an uploaded file's metadata; pass its FileToken to WithFiles.
	File = gen.File
	// CancelResult is the answer of Session.Cancel.
	CancelResult = gen.CancelTurnResult
	// BusyPolicy says what a turn does while another one runs.
	BusyPolicy = gen.BusyPolicy
	// StopReason says why a turn ended.
	StopReason = gen.StopReason
	// CancelledBy says what cancelled a cancelled turn.
	CancelledBy = gen.CancelledBy
	// TurnStatus is where a turn of the history is: queued, running or
	// completed.
	TurnStatus = gen.TurnStatus
	// EventType is the kind of an event; new kinds may appear.
	EventType = gen.EventType
	// PermissionRequest is a permission request of an agent and where it
	// stands (AnswerPermission, Permissions, PermissionRequiredError).
	PermissionRequest = gen.PermissionRequest
	// PermissionOption is one answer a permission request offers.
	PermissionOption = gen.PermissionOption
	// PermissionOptionKind says what an option means: allow or reject,
	// once or always.
	PermissionOptionKind = gen.PermissionOptionKind
	// PermissionStatus is where a permission request stands.
	PermissionStatus = gen.PermissionStatus
	// TurnAccepted is the server's acceptance of a streamed turn
	// (Stream.Accepted): its index, whether it is queued and where, whether
	// the prompt steered the running turn, its meta.
	TurnAccepted = gen.TurnAccepted
)

// Session activities.
const (
	ActivityIdle    = gen.ActivityIdle
	ActivityRunning = gen.ActivityRunning
	ActivityStalled = gen.ActivityStalled
	// ActivityWaitingForInput: the running turn waits for the answer to a
	// permission request (AnswerPermission).
	ActivityWaitingForInput = gen.ActivityWaitingForInput
)

// Busy policies (WithBusyPolicy).
const (
	BusyReject    = gen.BusyPolicyReject    // 409 turn_in_progress (ErrBusy) at once
	BusyEnqueue   = gen.BusyPolicyEnqueue   // wait behind the running turn
	BusyInterrupt = gen.BusyPolicyInterrupt // cancel the running turn and run next
	// BusySteer gives the prompt to the running turn as guidance instead of
	// starting a turn (agentsession.ErrUnsupportedBusyPolicy when its agent
	// cannot be steered); with no turn running it starts one.
	BusySteer = gen.BusyPolicySteer
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

// What cancelled a turn (CancelledBy).
const (
	CancelledByCancelRequest = gen.CancelledByCancelRequest // Session.Cancel
	CancelledByInterrupt     = gen.CancelledByInterrupt     // a turn sent with BusyInterrupt
	CancelledByTimeout       = gen.CancelledByTimeout       // the turn's WithTimeout
	CancelledBySessionClosed = gen.CancelledBySessionClosed // Close or End
)

// Turn statuses (Turn.Status).
const (
	TurnQueued    = gen.TurnStatusQueued
	TurnRunning   = gen.TurnStatusRunning
	TurnCompleted = gen.TurnStatusCompleted
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
	// EventPermissionRequest: the agent asks and its turn waits; answer
	// with Event.Answer or Session.AnswerPermission.
	EventPermissionRequest = gen.EventTypePermissionRequest
	// EventPermissionResponse: how a permission request was answered.
	EventPermissionResponse = gen.EventTypePermissionResponse
	// EventGuidance: the running turn took a BusySteer prompt.
	EventGuidance = gen.EventTypeGuidance
)

// Permission request statuses (Permissions).
const (
	PermissionPending   = gen.PermissionStatusPending
	PermissionAnswered  = gen.PermissionStatusAnswered
	PermissionCancelled = gen.PermissionStatusCancelled
)

// Permission option kinds (PermissionOption.Kind).
const (
	AllowOnce    = gen.PermissionOptionKindAllowOnce
	AllowAlways  = gen.PermissionOptionKindAllowAlways
	RejectOnce   = gen.PermissionOptionKindRejectOnce
	RejectAlways = gen.PermissionOptionKindRejectAlways
)

// Event is one thing the agent did during a turn. The typed fields come from
// the contract; Raw keeps the event exactly as the server sent it, so event
// types and fields this SDK does not know pass through untouched. An Event
// prints (%v, %+v) as that JSON.
type Event struct {
	gen.Event
	// Raw is the event's JSON as received.
	Raw json.RawMessage `json:"-"`
	// s is the session the event was read from, for Answer.
	s *Session
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

// String returns the event's JSON.
func (e Event) String() string {
	b, err := e.MarshalJSON()
	if err != nil {
		return "{}"
	}
	return string(b)
}

// Known reports whether this SDK knows the event's type.
func (e Event) Known() bool { return e.Type.Valid() }

// Text returns the event's content ("" when it has none).
func (e Event) Text() string { return e.Content }

// Usage is what a turn cost, as the agent reported it.
type Usage struct {
	InputTokens  int64
	OutputTokens int64
	// Reported is false when the agent reported no usage (both counts are
	// then 0); a count it left out is 0.
	Reported bool
}

// wire returns the contract's Usage: both counts when the agent reported
// usage, none otherwise.
func (u Usage) wire() gen.Usage {
	if !u.Reported {
		return gen.Usage{}
	}
	in, out := u.InputTokens, u.OutputTokens
	return gen.Usage{InputTokens: &in, OutputTokens: &out}
}

func usageFrom(u gen.Usage) Usage {
	var out Usage
	if u.InputTokens != nil {
		out.InputTokens, out.Reported = *u.InputTokens, true
	}
	if u.OutputTokens != nil {
		out.OutputTokens, out.Reported = *u.OutputTokens, true
	}
	return out
}

// TurnResult is a finished turn: how it ended and every event, in seq order
// (Turn, Stream.Result).
type TurnResult struct {
	SessionID  string
	TurnIndex  int32
	StopReason StopReason
	// CancelledBy says what cancelled a turn that stopped with
	// StopCancelled, "" otherwise.
	CancelledBy CancelledBy
	Events      []Event
	Usage       Usage
	StartedAt   time.Time
	EndedAt     time.Time
	// Duration is how long the turn ran, as the server measured it.
	Duration time.Duration
	// EventCount, FirstSeq and LastSeq describe the turn's events in the
	// session's event log (the seqs are 0 when it had none).
	EventCount int32
	FirstSeq   int64
	LastSeq    int64
	// Meta is the meta the turn was sent with (nil without one).
	Meta map[string]any
	// Response describes the HTTP answer (request id, idempotency key,
	// attempts); for a stream, the answer that started it.
	Response agentsession.Response
}

// Text concatenates the content of the turn's text events, in order.
func (r *TurnResult) Text() string { return textOf(r.Events) }

func textOf(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		if e.Type == EventText {
			b.WriteString(e.Content)
		}
	}
	return b.String()
}

// MarshalJSON writes the turn as the contract's TurnResult (snake_case
// members, duration_ms, each event as received).
func (r TurnResult) MarshalJSON() ([]byte, error) {
	events := r.Events
	if events == nil {
		events = []Event{}
	}
	return json.Marshal(wireTurnResult{TurnSummary: gen.TurnSummary{
		SessionID: r.SessionID, TurnIndex: r.TurnIndex, StopReason: r.StopReason, CancelledBy: r.CancelledBy,
		Usage: r.Usage.wire(), StartedAt: r.StartedAt, EndedAt: r.EndedAt, DurationMs: r.Duration.Milliseconds(),
		EventCount: r.EventCount, FirstSeq: r.FirstSeq, LastSeq: r.LastSeq, Meta: r.Meta,
	}, Events: events})
}

// wireTurnResult is the contract's TurnResult, events kept raw.
type wireTurnResult struct {
	gen.TurnSummary
	Events []Event `json:"events"`
}

// wireTurnAnswer is a JSON sendTurn's answer: a TurnResult (200) or a
// TurnWaiting (202), whose session_id, turn_index and last_seq land in
// the summary.
type wireTurnAnswer struct {
	wireTurnResult
	PermissionRequests []PermissionRequest `json:"permission_requests"`
}

func turnResultFrom(s gen.TurnSummary, events []Event, resp *agentsession.Response) *TurnResult {
	if events == nil {
		events = []Event{}
	}
	r := &TurnResult{
		SessionID: s.SessionID, TurnIndex: s.TurnIndex, StopReason: s.StopReason, CancelledBy: s.CancelledBy,
		Events: events, Usage: usageFrom(s.Usage), StartedAt: s.StartedAt, EndedAt: s.EndedAt,
		Duration:   time.Duration(s.DurationMs) * time.Millisecond,
		EventCount: s.EventCount, FirstSeq: s.FirstSeq, LastSeq: s.LastSeq, Meta: s.Meta,
	}
	if resp != nil {
		r.Response = *resp
	}
	return r
}

// Turn is a turn of a session's history (History, GetTurn).
type Turn struct {
	SessionID  string
	TurnIndex  int32
	Prompt     string
	Files      []string
	BusyPolicy BusyPolicy
	Status     TurnStatus
	// StopReason is why the turn ended, "" until it has.
	StopReason  StopReason
	CancelledBy CancelledBy
	// Events are the turn's events: GetTurn fills them, History does not
	// (read them with Session.TurnEvents).
	Events     []Event
	Usage      Usage
	CreatedAt  time.Time
	StartedAt  time.Time // zero while queued
	EndedAt    time.Time // zero until it ends
	Duration   time.Duration
	EventCount int32
	FirstSeq   int64
	LastSeq    int64
	// QueuePosition is the turn's place in the queue while it is queued
	// (1 runs next), 0 otherwise.
	QueuePosition int32
	// Meta is the meta the turn was sent with (nil without one).
	Meta map[string]any
}

// MarshalJSON writes the turn as the contract's Turn (snake_case members,
// duration_ms once it ended, each event as received).
func (t Turn) MarshalJSON() ([]byte, error) {
	w := wireTurn{Turn: gen.Turn{
		SessionID: t.SessionID, TurnIndex: t.TurnIndex, Prompt: t.Prompt, Files: t.Files, BusyPolicy: t.BusyPolicy,
		Status: t.Status, StopReason: t.StopReason, CancelledBy: t.CancelledBy, Usage: t.Usage.wire(),
		CreatedAt: t.CreatedAt, StartedAt: t.StartedAt, EndedAt: t.EndedAt,
		EventCount: t.EventCount, FirstSeq: t.FirstSeq, LastSeq: t.LastSeq, QueuePosition: t.QueuePosition, Meta: t.Meta,
	}, Events: t.Events}
	if !t.EndedAt.IsZero() {
		ms := t.Duration.Milliseconds()
		w.DurationMs = &ms
	}
	return json.Marshal(w)
}

// wireTurn is the contract's Turn, events kept raw.
type wireTurn struct {
	gen.Turn
	Events []Event `json:"events,omitzero"`
}

func turnFrom(w *wireTurn) *Turn {
	t := &w.Turn
	out := &Turn{
		SessionID: t.SessionID, TurnIndex: t.TurnIndex, Prompt: t.Prompt, Files: t.Files, BusyPolicy: t.BusyPolicy,
		Status: t.Status, StopReason: t.StopReason, CancelledBy: t.CancelledBy, Events: w.Events,
		Usage: usageFrom(t.Usage), CreatedAt: t.CreatedAt, StartedAt: t.StartedAt, EndedAt: t.EndedAt,
		EventCount: t.EventCount, FirstSeq: t.FirstSeq, LastSeq: t.LastSeq, QueuePosition: t.QueuePosition, Meta: t.Meta,
	}
	if t.DurationMs != nil {
		out.Duration = time.Duration(*t.DurationMs) * time.Millisecond
	}
	return out
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
	// AgentOptions are the session's agent options, among those the agent
	// declares (Capabilities: AgentInfo.Options); an unknown option or a
	// value of the wrong type fails with agentsession.ErrInvalidAgentOptions.
	AgentOptions map[string]any
}

func (p CreateParams) body() gen.CreateSessionRequest {
	return gen.CreateSessionRequest{Agent: p.Agent, Meta: p.Meta, PlanSlug: p.PlanSlug, Context: p.Context, AgentOptions: p.AgentOptions}
}

// ListOptions filters List. Zero fields do not filter.
type ListOptions struct {
	Status   lifecycle.Status
	Agent    string
	PlanSlug string
	// PageSize is how many sessions each request fetches (server default
	// when 0, at most 100).
	PageSize int32
}
