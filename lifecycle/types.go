package lifecycle

import "github.com/agentsession/agentsession/gen"

// The lifecycle's data are the generated models (package gen), named here
// once, so they cannot drift from the contract.
type (
	// Status is where a session is in its lifecycle (Info.Status).
	Status = gen.SessionStatus
	// EndStatus is the final status End sets.
	EndStatus = gen.EndStatus
	// LogType is the kind of a work-log entry.
	LogType = gen.LogEntryType
	// LogEntry is an entry of a session's work log.
	LogEntry = gen.LogEntry
	// ArtifactAction is what a session did to an artifact.
	ArtifactAction = gen.ArtifactAction
	// Artifact is a file the session created, modified or deleted.
	Artifact = gen.Artifact
	// Handoff holds the notes for the agent that takes over (Info.Handoff).
	Handoff = gen.Handoff
	// HandoffContext is everything a new agent needs to take a session over.
	HandoffContext = gen.HandoffContext
	// ReplayContext is where a session stands, rebuilt from its work log.
	ReplayContext = gen.ReplayContext
	// EndReason says why a session ended (Info.EndReason).
	EndReason = gen.EndReason
	// Change is a lifecycle event (the contract's LifecycleEvent):
	// something that happened to a session besides its agent's work,
	// numbered in the session's own lifecycle sequence
	// (Session.LifecycleEvents, Session.Watch). (Event is the name of a
	// turn's event, in package sessions.)
	Change = gen.LifecycleEvent
	// ChangeType is the kind of a lifecycle event; new kinds may appear.
	ChangeType = gen.LifecycleEventType
)

// Why a session ended.
const (
	EndReasonEnded        = gen.EndReasonEnded        // End
	EndReasonClosed       = gen.EndReasonClosed       // Close
	EndReasonFailed       = gen.EndReasonFailed       // the server failed it
	EndReasonParentClosed = gen.EndReasonParentClosed // closed with its parent
)

// Lifecycle event types (Change.Type).
const (
	ChangeTurnQueued    = gen.LifecycleEventTypeTurnQueued
	ChangeTurnStarted   = gen.LifecycleEventTypeTurnStarted
	ChangeTurnEnded     = gen.LifecycleEventTypeTurnEnded
	ChangeStatusChanged = gen.LifecycleEventTypeStatusChanged
	ChangeHandoff       = gen.LifecycleEventTypeHandoff
	ChangeChildSpawned  = gen.LifecycleEventTypeChildSpawned
)

// Session statuses; completed and failed are final.
const (
	StatusActive    = gen.SessionStatusActive
	StatusPaused    = gen.SessionStatusPaused
	StatusCompleted = gen.SessionStatusCompleted
	StatusFailed    = gen.SessionStatusFailed
)

// Final statuses for End.
const (
	EndCompleted = gen.EndStatusCompleted
	EndFailed    = gen.EndStatusFailed
)

// Work-log entry types.
const (
	LogInfo       = gen.LogEntryTypeInfo
	LogWarning    = gen.LogEntryTypeWarning
	LogError      = gen.LogEntryTypeError
	LogSuccess    = gen.LogEntryTypeSuccess
	LogCheckpoint = gen.LogEntryTypeCheckpoint
	LogDecision   = gen.LogEntryTypeDecision
)

// Artifact actions.
const (
	ArtifactCreated  = gen.ArtifactActionCreated
	ArtifactModified = gen.ArtifactActionModified
	ArtifactDeleted  = gen.ArtifactActionDeleted
)

// LogParams is a new work-log entry (Session.Log).
type LogParams struct {
	Type    LogType
	Message string
	// Data is free-form detail kept with the entry.
	Data map[string]any
}

// ArtifactParams records an artifact (Session.AddArtifact).
type ArtifactParams struct {
	// Path is the artifact's path or URI.
	Path     string
	Action   ArtifactAction
	Metadata map[string]any
}

// HandoffParams are the notes for the agent that takes over
// (Session.Handoff).
type HandoffParams struct {
	// Summary says where the work stands; required.
	Summary        string
	NextSteps      []string
	Blockers       []string
	ContextForNext map[string]any
}

// ContinueParams describes the session that continues another one
// (Session.Continue).
type ContinueParams struct {
	// Agent is the new session's agent; required.
	Agent string
	// Meta is the new session's metadata.
	Meta map[string]any
	// PlanSlug is the new session's plan; "" keeps the old one's.
	PlanSlug string
	// AgentOptions are the new session's agent options (see
	// sessions.CreateParams.AgentOptions).
	AgentOptions map[string]any
}

// ReplayParams describes the session a replay starts (Session.Replay).
type ReplayParams struct {
	// Agent is the new session's agent; "" keeps the replayed one's.
	Agent string
	// Meta is the new session's metadata.
	Meta map[string]any
	// AgentOptions are the new session's agent options (see
	// sessions.CreateParams.AgentOptions).
	AgentOptions map[string]any
}
