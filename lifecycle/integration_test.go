package lifecycle_test

import (
	"context"
	"errors"
	"testing"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sessions"
	"github.com/google/go-cmp/cmp"
)

func refService(t *testing.T, srv *refservertest.Server, tenant int) *lifecycle.Service {
	t.Helper()
	c, err := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithToken(srv.Tokens[tenant]),
		agentsession.WithoutEnvironment(), agentsession.WithRetryPolicy(sdktest.FastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	return lifecycle.New(c)
}

// must returns v, and panics (failing the test with a stack) on err.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestIntegrationLifecycle(t *testing.T) {
	srv := refservertest.Start(t)
	lc := refService(t, srv, 0)
	ctx := context.Background()

	s := must(lc.Start(ctx, lifecycle.StartParams{Agent: "echo", PlanSlug: "migrate-db",
		Context: map[string]any{"repo": "acme/api", "nested": map[string]any{"a": 1.0, "b": 2.0}}}))
	id := s.SessionID
	if s.Status != lifecycle.StatusActive || s.PlanSlug != "migrate-db" {
		t.Fatalf("Start = %+v", s)
	}
	if got := must(lc.Get(ctx, id)); got.SessionID != id {
		t.Errorf("Get = %+v", got)
	}

	// Work log.
	for _, e := range []lifecycle.Entry{
		{Type: lifecycle.LogInfo, Message: "started"},
		{Type: lifecycle.LogCheckpoint, Message: "schema migrated", Data: map[string]any{"tables": 12.0}},
		{Type: lifecycle.LogDecision, Message: "keep the old index"},
		{Type: lifecycle.LogError, Message: "test failed"},
		{Type: lifecycle.LogCheckpoint, Message: "tests fixed"},
	} {
		le := must(lc.Log(ctx, id, e))
		if le.Type != e.Type || le.Message != e.Message || le.SessionID != id {
			t.Errorf("Log = %+v", le)
		}
	}
	var checkpoints []string
	for le, err := range lc.LogEntries(ctx, id, lifecycle.LogCheckpoint) {
		checkpoints = append(checkpoints, must(le, err).Message)
	}
	if diff := cmp.Diff([]string{"schema migrated", "tests fixed"}, checkpoints); diff != "" {
		t.Errorf("checkpoints (-want +got):\n%s", diff)
	}
	n := 0
	for _, err := range lc.LogEntries(ctx, id, "") {
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
		got := must(lc.AddArtifact(ctx, id, a))
		if got.Path != a.Path || got.Action != a.Action {
			t.Errorf("AddArtifact = %+v", got)
		}
	}
	var modified []string
	for a, err := range lc.Artifacts(ctx, id, lifecycle.ArtifactModified) {
		modified = append(modified, must(a, err).Path)
	}
	if diff := cmp.Diff([]string{"db/schema.go"}, modified); diff != "" {
		t.Errorf("modified artifacts (-want +got):\n%s", diff)
	}

	// Context merge patch: replace, merge nested, delete with nil.
	s = must(lc.UpdateContext(ctx, id, map[string]any{"task": "fix tests", "nested": map[string]any{"b": nil, "c": 3.0}, "repo": nil}))
	want := gen.JSONObject{"task": "fix tests", "nested": map[string]any{"a": 1.0, "c": 3.0}}
	if diff := cmp.Diff(want, s.ContextSummary); diff != "" {
		t.Errorf("context after UpdateContext (-want +got):\n%s", diff)
	}
	if s.ActionCount != 5 || s.ArtifactCount != 3 {
		t.Errorf("counters = %d actions, %d artifacts", s.ActionCount, s.ArtifactCount)
	}

	// Pause / resume, and the state machine's refusals.
	if s = must(lc.Pause(ctx, id)); s.Status != lifecycle.StatusPaused {
		t.Errorf("Pause = %q", s.Status)
	}
	if _, err := lc.Pause(ctx, id); !errors.Is(err, agentsession.ErrInvalidTransition) {
		t.Errorf("Pause of a paused session = %v, want ErrInvalidTransition", err)
	}
	if s = must(lc.Resume(ctx, id)); s.Status != lifecycle.StatusActive {
		t.Errorf("Resume = %q", s.Status)
	}
	if _, err := lc.Resume(ctx, id); !errors.Is(err, agentsession.ErrInvalidTransition) {
		t.Errorf("Resume of an active session = %v, want ErrInvalidTransition", err)
	}

	// Handoff pauses and records the notes.
	s = must(lc.Handoff(ctx, id, lifecycle.HandoffParams{Summary: "schema done; tests next",
		NextSteps: []string{"fix test_orders"}, Blockers: []string{"staging read-only"}, ContextForNext: map[string]any{"branch": "feat/x"}}))
	if s.Status != lifecycle.StatusPaused || s.Handoff.CreatedAt.IsZero() || s.Handoff.Summary != "schema done; tests next" {
		t.Errorf("Handoff = %+v", s)
	}
	hc := must(lc.HandoffContext(ctx, id))
	if hc.Handoff.CreatedAt.IsZero() || hc.Handoff.NextSteps[0] != "fix test_orders" || len(hc.RecentActions) != 5 ||
		hc.RecentActions[0].Message != "tests fixed" || len(hc.Artifacts) != 3 {
		t.Errorf("HandoffContext = %+v", hc)
	}

	// Continue with another agent: inherits context and notes.
	next := must(lc.Continue(ctx, id, lifecycle.ContinueParams{Agent: "scripted"}))
	if next.Agent != "scripted" || next.ContinuedFrom != id || next.Handoff.CreatedAt.IsZero() ||
		next.ContextSummary["task"] != "fix tests" || next.PlanSlug != "migrate-db" {
		t.Errorf("Continue = %+v", next)
	}

	// Replay context and replay.
	rc := must(lc.ReplayContext(ctx, id))
	if rc.Progress.TotalEntries != 5 || rc.Progress.CheckpointCount != 2 || len(rc.Decisions) != 1 || len(rc.Errors) != 1 ||
		rc.LastCheckpoint.ID == "" || rc.LastCheckpoint.Message != "tests fixed" || len(rc.ArtifactsByAction.Deleted) != 1 {
		t.Errorf("ReplayContext = %+v", rc)
	}
	replayed := must(lc.Replay(ctx, id, lifecycle.ReplayParams{}))
	if replayed.Agent != "echo" || replayed.ContinuedFrom != id || replayed.ContextSummary["replay"] == nil {
		t.Errorf("Replay = %+v", replayed)
	}

	// End, then nothing more.
	s = must(lc.End(ctx, id, lifecycle.EndCompleted, "migrated"))
	if s.Status != lifecycle.StatusCompleted || s.FinalSummary != "migrated" || s.EndedAt.IsZero() {
		t.Errorf("End = %+v", s)
	}
	if _, err := lc.End(ctx, id, lifecycle.EndFailed, ""); !errors.Is(err, agentsession.ErrInvalidTransition) {
		t.Errorf("End of an ended session = %v, want ErrInvalidTransition", err)
	}
	if _, err := lc.Log(ctx, id, lifecycle.Entry{Type: lifecycle.LogInfo, Message: "late"}); !errors.Is(err, agentsession.ErrSessionEnded) {
		t.Errorf("Log on an ended session = %v, want ErrSessionEnded", err)
	}
	if _, err := lc.Log(ctx, id, lifecycle.Entry{Type: "gossip", Message: "x"}); !errors.Is(err, agentsession.ErrValidation) {
		t.Errorf("unknown log type = %v, want ErrValidation", err)
	}

	// List with filters.
	var ids []string
	for s, err := range lc.List(ctx, lifecycle.ListParams{PlanSlug: "migrate-db", Agent: "echo", PageSize: 1}) {
		ids = append(ids, must(s, err).SessionID)
	}
	if diff := cmp.Diff([]string{id, replayed.SessionID}, ids); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	ids = nil
	for s, err := range lc.List(ctx, lifecycle.ListParams{Status: lifecycle.StatusCompleted}) {
		ids = append(ids, must(s, err).SessionID)
	}
	if diff := cmp.Diff([]string{id}, ids); diff != "" {
		t.Errorf("List completed (-want +got):\n%s", diff)
	}

	// Another tenant cannot touch it.
	if _, err := refService(t, srv, 1).Pause(ctx, next.SessionID); !errors.Is(err, agentsession.ErrNotFound) {
		t.Errorf("other tenant Pause = %v, want ErrNotFound", err)
	}
}

func TestIntegrationEndFailedFromPaused(t *testing.T) {
	srv := refservertest.Start(t)
	lc := refService(t, srv, 0)
	ctx := context.Background()
	s := must(lc.Start(ctx, lifecycle.StartParams{Agent: "echo"}))
	must(lc.Pause(ctx, s.SessionID))
	if s = must(lc.End(ctx, s.SessionID, lifecycle.EndFailed, "")); s.Status != lifecycle.StatusFailed {
		t.Errorf("End(failed) from paused = %q", s.Status)
	}
	if _, err := lc.Handoff(ctx, s.SessionID, lifecycle.HandoffParams{Summary: "x"}); !errors.Is(err, agentsession.ErrInvalidTransition) {
		t.Errorf("Handoff of an ended session = %v, want ErrInvalidTransition", err)
	}
}
