package agentsession

import "github.com/agentsession/agentsession/gen"

// The SDK's data types are the generated models (package gen, from
// openapi.yaml): the aliases below and in the service packages name them
// without copying them, so the SDK cannot drift from the contract.
type (
	// Health is the answer of Client.Health.
	Health = gen.Health
	// Capabilities is the answer of Client.Capabilities.
	Capabilities = gen.Capabilities
	// SessionStatus is where a session is in its lifecycle.
	SessionStatus = gen.SessionStatus
	// Activity says whether a session's turn is running.
	Activity = gen.Activity
	// ProblemCode is the machine-readable code of an error answer
	// (APIError.Code); the Code* constants name the known ones.
	ProblemCode = gen.ProblemCode
)

// Session statuses; completed and failed are final.
const (
	StatusActive    = gen.SessionStatusActive
	StatusPaused    = gen.SessionStatusPaused
	StatusCompleted = gen.SessionStatusCompleted
	StatusFailed    = gen.SessionStatusFailed
)

// Session activities.
const (
	ActivityIdle    = gen.ActivityIdle
	ActivityRunning = gen.ActivityRunning
	ActivityStalled = gen.ActivityStalled
)
