// Package lifecycle tracks the work of agent sessions: start them with a
// plan and context, pause, resume and end them, keep a typed work log and
// the artifacts they touch, merge-update their context summary, hand them
// off to another agent and replay them.
//
//	lc := lifecycle.New(c) // c is an *agentsession.Client
//	s, err := lc.Start(ctx, lifecycle.StartParams{Agent: "coder", PlanSlug: "migrate-db"})
//	_, err = lc.Log(ctx, s.SessionID, lifecycle.Entry{Type: lifecycle.LogCheckpoint, Message: "schema migrated"})
//	_, err = lc.AddArtifact(ctx, s.SessionID, lifecycle.ArtifactParams{Path: "db/0042.sql", Action: lifecycle.ArtifactCreated})
//	_, err = lc.Handoff(ctx, s.SessionID, lifecycle.HandoffParams{Summary: "tests still fail", NextSteps: []string{"fix them"}})
//	next, err := lc.Continue(ctx, s.SessionID, lifecycle.ContinueParams{Agent: "reviewer"})
//
// # The state machine
//
// A session is StatusActive, StatusPaused, StatusCompleted or StatusFailed;
// the last two are final. Pause (active → paused), Resume (paused → active),
// Handoff (active or paused → paused) and End (active or paused → completed
// or failed) fail with agentsession.ErrInvalidTransition from any other
// status; the work log, artifacts and context of an ended session fail with
// agentsession.ErrSessionEnded.
//
// The constants (Status*, End*, Log*, Artifact*) are the generated enums of
// package gen under shorter names: one source, no drift. Lists (List,
// LogEntries, Artifacts) are iterators that fetch pages as the loop
// consumes them. Every method takes agentsession.CallOption values, such as
// agentsession.IdempotencyKey for a key that survives a process restart.
package lifecycle
