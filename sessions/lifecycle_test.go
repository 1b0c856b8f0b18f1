package sessions_test

import (
	"context"
	"errors"
	"testing"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sessions"
	"github.com/google/go-cmp/cmp"
)

// must returns v, and panics (failing the test with a stack) on err; must(0,
// err) checks a call that returns only an error.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestIntegrationLifecycleFromTheHandle(t *testing.T) {
	srv := refservertest.Start(t)
	svc := sessions.New(refClient(t, srv, 0))
	ctx := context.Background()

	s := must(svc.NewSession(ctx, sessions.CreateParams{Agent: "echo", PlanSlug: "migrate-db",
		Context: map[string]any{"repo": "acme/api", "nested": map[string]any{"a": 1.0, "b": 2.0}}}))
	id := s.ID()
	if s.Info().Status != lifecycle.StatusActive || s.Info().PlanSlug != "migrate-db" {
		t.Fatalf("NewSession = %+v", s.Info())
	}

	// Work log.
	for _, e := range []lifecycle.LogParams{
		{Type: lifecycle.LogInfo, Message: "started"},
		{Type: lifecycle.LogCheckpoint, Message: "schema migrated", Data: map[string]any{"tables": 12.0}},
		{Type: lifecycle.LogDecision, Message: "keep the old index"},
		{Type: lifecycle.LogError, Message: "test failed"},
		{Type: lifecycle.LogCheckpoint, Message: "tests fixed"},
	} {
		le := must(s.Log(ctx, e))
		if le.Type != e.Type || le.Message != e.Message || le.SessionID != id {
			t.Errorf("Log = %+v", le)
		}
	}
	var checkpoints []string
	for le, err := range s.LogEntries(ctx, lifecycle.LogCheckpoint) {
		checkpoints = append(checkpoints, must(le, err).Message)
	}
	if diff := cmp.Diff([]string{"schema migrated", "tests fixed"}, checkpoints); diff != "" {
		t.Errorf("checkpoints (-want +got):\n%s", diff)
	}
	n := 0
	for _, err := range s.LogEntries(ctx, "") {
		must(0, err)
		n++
	}
	if n != 5 {
		t.Errorf("LogEntries = %d entries, want 5", n)
	}

	// Artifacts.
	for _, a := range []lifecycle.ArtifactParams{
		{Path: "db/0042.sql", Action: lifecycle.ArtifactCreated, Metadata: map[string]any{"lines": 87.0}},
		{Path: "db/schema.go", Action: lifecycle.ArtifactModified},
		{Path: "db/old.sql", Action: lifecycle.ArtifactDeleted},
	} {
		got := must(s.AddArtifact(ctx, a))
		if got.Path != a.Path || got.Action != a.Action {
			t.Errorf("AddArtifact = %+v", got)
		}
	}
	var modified []string
	for a, err := range s.Artifacts(ctx, lifecycle.ArtifactModified) {
		modified = append(modified, must(a, err).Path)
	}
	if diff := cmp.Diff([]string{"db/schema.go"}, modified); diff != "" {
		t.Errorf("modified artifacts (-want +got):\n%s", diff)
	}

	// Context merge patch: replace, merge nested, delete with nil.
	must(0, s.UpdateContext(ctx, map[string]any{"task": "fix tests", "nested": map[string]any{"b": nil, "c": 3.0}, "repo": nil}))
	want := gen.JSONObject{"task": "fix tests", "nested": map[string]any{"a": 1.0, "c": 3.0}}
	if diff := cmp.Diff(want, s.Info().ContextSummary); diff != "" {
		t.Errorf("context after UpdateContext (-want +got):\n%s", diff)
	}
	if s.Info().ActionCount != 5 || s.Info().ArtifactCount != 3 {
		t.Errorf("counters = %d actions, %d artifacts", s.Info().ActionCount, s.Info().ArtifactCount)
	}
	// Another handle of the session sees the change once it asks.
	if other := must(svc.Get(ctx, id)); other.Info().ContextSummary["task"] != "fix tests" {
		t.Errorf("Get after UpdateContext = %+v", other.Info())
	}

	// Pause / resume, and the state machine's refusals.
	if must(0, s.Pause(ctx)); s.Info().Status != lifecycle.StatusPaused {
		t.Errorf("Pause: Info().Status = %q", s.Info().Status)
	}
	if _, err := s.Turn(ctx, "while paused"); !errors.Is(err, agentsession.ErrSessionPaused) {
		t.Errorf("turn on a paused session = %v, want ErrSessionPaused", err)
	}
	if err := s.Pause(ctx); !errors.Is(err, agentsession.ErrInvalidTransition) {
		t.Errorf("Pause of a paused session = %v, want ErrInvalidTransition", err)
	}
	if s.Info().Status != lifecycle.StatusPaused {
		t.Errorf("a refused Pause changed Info: %q", s.Info().Status)
	}
	if must(0, s.Resume(ctx)); s.Info().Status != lifecycle.StatusActive {
		t.Errorf("Resume: Info().Status = %q", s.Info().Status)
	}
	if err := s.Resume(ctx); !errors.Is(err, agentsession.ErrInvalidTransition) {
		t.Errorf("Resume of an active session = %v, want ErrInvalidTransition", err)
	}

	// Handoff pauses and records the notes.
	must(0, s.Handoff(ctx, lifecycle.HandoffParams{Summary: "schema done; tests next",
		NextSteps: []string{"fix test_orders"}, Blockers: []string{"staging read-only"}, ContextForNext: map[string]any{"branch": "feat/x"}}))
	if info := s.Info(); info.Status != lifecycle.StatusPaused || info.Handoff.CreatedAt.IsZero() || info.Handoff.Summary != "schema done; tests next" {
		t.Errorf("Handoff: Info() = %+v", info)
	}
	hc := must(s.HandoffContext(ctx))
	if hc.Handoff.CreatedAt.IsZero() || hc.Handoff.NextSteps[0] != "fix test_orders" || len(hc.RecentActions) != 5 ||
		hc.RecentActions[0].Message != "tests fixed" || len(hc.Artifacts) != 3 {
		t.Errorf("HandoffContext = %+v", hc)
	}

	// Continue with another agent: inherits context and notes.
	nextHandle := must(s.Continue(ctx, lifecycle.ContinueParams{Agent: "scripted"}))
	next := nextHandle.Info()
	if next.Agent != "scripted" || next.ContinuedFrom != id || next.Handoff.CreatedAt.IsZero() ||
		next.ContextSummary["task"] != "fix tests" || next.PlanSlug != "migrate-db" {
		t.Errorf("Continue = %+v", next)
	}
	// The new handle sends turns at once.
	if res, err := nextHandle.Turn(ctx, script(0, "taking over")); err != nil || res.Text() != "taking over" {
		t.Errorf("turn on the continued session = %v, %v", res, err)
	}

	// Replay context and replay.
	rc := must(s.ReplayContext(ctx))
	if rc.Progress.TotalEntries != 5 || rc.Progress.CheckpointCount != 2 || len(rc.Decisions) != 1 || len(rc.Errors) != 1 ||
		rc.LastCheckpoint.ID == "" || rc.LastCheckpoint.Message != "tests fixed" || len(rc.ArtifactsByAction.Deleted) != 1 {
		t.Errorf("ReplayContext = %+v", rc)
	}
	replayed := must(s.Replay(ctx, lifecycle.ReplayParams{})).Info()
	if replayed.Agent != "echo" || replayed.ContinuedFrom != id || replayed.ContextSummary["replay"] == nil {
		t.Errorf("Replay = %+v", replayed)
	}

	// End, then nothing more.
	must(0, s.End(ctx, lifecycle.EndCompleted, "migrated"))
	if info := s.Info(); info.Status != lifecycle.StatusCompleted || info.FinalSummary != "migrated" || info.EndedAt.IsZero() {
		t.Errorf("End: Info() = %+v", info)
	}
	if err := s.End(ctx, lifecycle.EndFailed, ""); !errors.Is(err, agentsession.ErrInvalidTransition) {
		t.Errorf("End of an ended session = %v, want ErrInvalidTransition", err)
	}
	if _, err := s.Log(ctx, lifecycle.LogParams{Type: lifecycle.LogInfo, Message: "late"}); !errors.Is(err, agentsession.ErrSessionEnded) {
		t.Errorf("Log on an ended session = %v, want ErrSessionEnded", err)
	}
	if _, err := s.Log(ctx, lifecycle.LogParams{Type: "gossip", Message: "x"}); !errors.Is(err, agentsession.ErrValidation) {
		t.Errorf("unknown log type = %v, want ErrValidation", err)
	}

	// List with filters.
	var ids []string
	for h, err := range svc.List(ctx, sessions.ListOptions{PlanSlug: "migrate-db", Agent: "echo", PageSize: 1}) {
		ids = append(ids, must(h, err).ID())
	}
	if diff := cmp.Diff([]string{id, replayed.SessionID}, ids); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	ids = nil
	for h, err := range svc.List(ctx, sessions.ListOptions{Status: lifecycle.StatusCompleted}) {
		ids = append(ids, must(h, err).ID())
	}
	if diff := cmp.Diff([]string{id}, ids); diff != "" {
		t.Errorf("List completed (-want +got):\n%s", diff)
	}

	// Another tenant cannot touch it.
	if err := sessions.New(refClient(t, srv, 1)).Session(next.SessionID).Pause(ctx); !errors.Is(err, agentsession.ErrNotFound) {
		t.Errorf("other tenant Pause = %v, want ErrNotFound", err)
	}
}

func TestIntegrationEndFailedFromPaused(t *testing.T) {
	srv := refservertest.Start(t)
	ctx := context.Background()
	// A handle made from the id alone: Info comes with the first answer.
	id := must(sessions.New(refClient(t, srv, 0)).NewSession(ctx, sessions.CreateParams{Agent: "echo"})).ID()
	s := sessions.New(refClient(t, srv, 0)).Session(id)
	if s.Info() != nil {
		t.Fatalf("a handle without an answer has Info %+v", s.Info())
	}
	must(0, s.Pause(ctx))
	if must(0, s.End(ctx, lifecycle.EndFailed, "")); s.Info().Status != lifecycle.StatusFailed {
		t.Errorf("End(failed) from paused = %q", s.Info().Status)
	}
	if err := s.Handoff(ctx, lifecycle.HandoffParams{Summary: "x"}); !errors.Is(err, agentsession.ErrInvalidTransition) {
		t.Errorf("Handoff of an ended session = %v, want ErrInvalidTransition", err)
	}
}
