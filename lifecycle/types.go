package lifecycle

import (
	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
)

// Data types are the generated models (package gen), named here without
// being copied, so they cannot drift from the contract.
type (
	// Session is a session's state.
	Session = gen.Session
	// Status is where a session is in its lifecycle.
	Status = agentsession.SessionStatus
	// EndStatus is the final status End sets.
	EndStatus = gen.EndStatus
	// LogType is the kind of a work-log entry.
	LogType = gen.LogEntryType
	// LogEntry is a work-log entry.
	LogEntry = gen.LogEntry
	// ArtifactAction is what a session did to an artifact.
	ArtifactAction = gen.ArtifactAction
	// Artifact is a file the session created, modified or deleted.
	Artifact = gen.Artifact
	// Handoff holds the notes for the agent that takes over.
	Handoff = gen.Handoff
	// HandoffContext is everything a new agent needs to take a session over.
	HandoffContext = gen.HandoffContext
	// ReplayContext is where a session stands, rebuilt from its work log.
	ReplayContext = gen.ReplayContext
)

// Session statuses; completed and failed are final.
const (
	StatusActive    = agentsession.StatusActive
	StatusPaused    = agentsession.StatusPaused
	StatusCompleted = agentsession.StatusCompleted
	StatusFailed    = agentsession.StatusFailed
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

// StartParams describes a session to start.
type StartParams struct {
	// Agent is the agent's name; required.
	Agent string
	// PlanSlug names the plan the session works on.
	PlanSlug string
	// Context seeds the session's context summary.
	Context map[string]any
	// Meta is free-form metadata kept with the session.
	Meta map[string]any
}

// ListParams filters List. Zero fields do not filter.
type ListParams struct {
	Status   Status
	Agent    string
	PlanSlug string
	// PageSize is how many sessions each request fetches (server default
	// when 0, at most 100).
	PageSize int32
}

// ContinueParams describes the session that continues another one.
type ContinueParams struct {
	// Agent is the new session's agent; required.
	Agent string
	// Meta is the new session's metadata.
	Meta map[string]any
	// PlanSlug is the new session's plan; "" keeps the old one's.
	PlanSlug string
}

// HandoffParams are the notes for the agent that takes over.
type HandoffParams struct {
	// Summary says where the work stands; required.
	Summary        string
	NextSteps      []string
	Blockers       []string
	ContextForNext map[string]any
}

// Entry is a new work-log entry.
type Entry struct {
	Type    LogType
	Message string
	Data    map[string]any
}

// ArtifactParams records an artifact.
type ArtifactParams struct {
	// Path is the artifact's path or URI.
	Path     string
	Action   ArtifactAction
	Metadata map[string]any
}

// ReplayParams describes the session a replay starts.
type ReplayParams struct {
	// Agent is the new session's agent; "" keeps the replayed one's.
	Agent string
	// Meta is the new session's metadata.
	Meta map[string]any
}
