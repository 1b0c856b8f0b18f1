// Package lifecycle is the vocabulary of a session's lifecycle: its
// statuses and the state machine between them, the work log, artifacts,
// handoff notes, continuation and replay. The verbs are methods of the one
// handle a user holds, *sessions.Session, which keeps its Info current with
// each answer that carries the session:
//
//	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "echo", PlanSlug: "migrate-db"})
//	_, err = s.Log(ctx, lifecycle.LogParams{Type: lifecycle.LogCheckpoint, Message: "schema migrated"})
//	_, err = s.AddArtifact(ctx, lifecycle.ArtifactParams{Path: "db/0042.sql", Action: lifecycle.ArtifactCreated})
//	err = s.Handoff(ctx, lifecycle.HandoffParams{Summary: "tests still fail", NextSteps: []string{"fix them"}})
//	next, err := s.Continue(ctx, lifecycle.ContinueParams{Agent: "echo"})
//
// # The state machine
//
// A session is StatusActive, StatusPaused, StatusCompleted or StatusFailed;
// the last two are final:
//
//	Pause    active → paused
//	Resume   paused → active
//	Handoff  active or paused → paused (the notes are replaced)
//	End      active or paused → EndCompleted or EndFailed
//	Close    any → completed unless already ended (package sessions)
//
// Any other change fails with agentsession.ErrInvalidTransition; a turn on a
// paused session with agentsession.ErrSessionPaused; a turn, work-log entry,
// artifact or context update on an ended session with
// agentsession.ErrSessionEnded. Continue and Replay start a new session
// (continued_from the old one) and leave the old one as it is.
//
// The types and constants here are the generated models and enums of
// package gen under shorter names: one source, no drift.
package lifecycle
