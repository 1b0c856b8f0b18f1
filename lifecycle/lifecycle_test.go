package lifecycle_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/google/go-cmp/cmp"
)

type seen struct {
	Method, Path, Query string
	Body                any
	HasKey              bool
}

// TestRequests checks the request each method sends: one shared path, the
// contract's paths and bodies, an Idempotency-Key on every state change.
func TestRequests(t *testing.T) {
	logEntry := map[string]any{"id": "log_1", "session_id": "s1", "type": "checkpoint", "message": "m", "data": map[string]any{}, "created_at": "2026-01-01T00:00:00Z"}
	artifact := map[string]any{"id": "art_1", "session_id": "s1", "path": "a.go", "action": "created", "metadata": map[string]any{}, "created_at": "2026-01-01T00:00:00Z"}
	tests := []struct {
		name   string
		call   func(ctx context.Context, s *lifecycle.Service) error
		answer any
		want   seen
	}{
		{"Start", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.Start(ctx, lifecycle.StartParams{Agent: "echo", PlanSlug: "p", Context: map[string]any{"k": "v"}})
			return err
		}, sdktest.Session("s1", "active"), seen{"POST", "/v1/sessions", "", map[string]any{"agent": "echo", "plan_slug": "p", "context": map[string]any{"k": "v"}}, true}},
		{"Get", func(ctx context.Context, s *lifecycle.Service) error { _, err := s.Get(ctx, "s1"); return err },
			sdktest.Session("s1", "active"), seen{"GET", "/v1/sessions/s1", "", nil, false}},
		{"Pause", func(ctx context.Context, s *lifecycle.Service) error { _, err := s.Pause(ctx, "s1"); return err },
			sdktest.Session("s1", "paused"), seen{"POST", "/v1/sessions/s1/pause", "", nil, true}},
		{"Resume", func(ctx context.Context, s *lifecycle.Service) error { _, err := s.Resume(ctx, "s1"); return err },
			sdktest.Session("s1", "active"), seen{"POST", "/v1/sessions/s1/resume", "", nil, true}},
		{"End", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.End(ctx, "s1", lifecycle.EndFailed, "gave up")
			return err
		}, sdktest.Session("s1", "failed"), seen{"POST", "/v1/sessions/s1/end", "", map[string]any{"status": "failed", "summary": "gave up"}, true}},
		{"End without summary", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.End(ctx, "s1", lifecycle.EndCompleted, "")
			return err
		}, sdktest.Session("s1", "completed"), seen{"POST", "/v1/sessions/s1/end", "", map[string]any{"status": "completed"}, true}},
		{"Continue", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.Continue(ctx, "s1", lifecycle.ContinueParams{Agent: "echo", Meta: map[string]any{"shift": "night"}})
			return err
		}, sdktest.Session("s2", "active"), seen{"POST", "/v1/sessions/s1/continue", "", map[string]any{"agent": "echo", "meta": map[string]any{"shift": "night"}}, true}},
		{"Handoff", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.Handoff(ctx, "s1", lifecycle.HandoffParams{Summary: "half done", NextSteps: []string{"a"}, Blockers: []string{"b"}, ContextForNext: map[string]any{"c": 1.0}})
			return err
		}, sdktest.Session("s1", "paused"), seen{"POST", "/v1/sessions/s1/handoff", "", map[string]any{"summary": "half done", "next_steps": []any{"a"}, "blockers": []any{"b"}, "context_for_next": map[string]any{"c": 1.0}}, true}},
		{"HandoffContext", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.HandoffContext(ctx, "s1")
			return err
		},
			map[string]any{"session_id": "s1", "agent": "echo", "status": "paused", "context_summary": map[string]any{}, "recent_actions": []any{}, "artifacts": []any{}, "turn_count": 0, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"},
			seen{"GET", "/v1/sessions/s1/handoff", "", nil, false}},
		{"Log", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.Log(ctx, "s1", lifecycle.Entry{Type: lifecycle.LogCheckpoint, Message: "m", Data: map[string]any{"n": 1.0}})
			return err
		}, logEntry, seen{"POST", "/v1/sessions/s1/log", "", map[string]any{"type": "checkpoint", "message": "m", "data": map[string]any{"n": 1.0}}, true}},
		{"LogEntries", func(ctx context.Context, s *lifecycle.Service) error {
			for _, err := range s.LogEntries(ctx, "s1", lifecycle.LogDecision) {
				return err
			}
			return nil
		}, map[string]any{"items": []any{logEntry}}, seen{"GET", "/v1/sessions/s1/log", "limit=100&type=decision", nil, false}},
		{"AddArtifact", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.AddArtifact(ctx, "s1", lifecycle.ArtifactParams{Path: "a.go", Action: lifecycle.ArtifactCreated})
			return err
		}, artifact, seen{"POST", "/v1/sessions/s1/artifacts", "", map[string]any{"path": "a.go", "action": "created"}, true}},
		{"Artifacts", func(ctx context.Context, s *lifecycle.Service) error {
			for _, err := range s.Artifacts(ctx, "s1", lifecycle.ArtifactDeleted) {
				return err
			}
			return nil
		}, map[string]any{"items": []any{artifact}}, seen{"GET", "/v1/sessions/s1/artifacts", "action=deleted&limit=100", nil, false}},
		{"UpdateContext", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.UpdateContext(ctx, "s1", map[string]any{"task": "x", "old": nil})
			return err
		}, sdktest.Session("s1", "active"), seen{"PATCH", "/v1/sessions/s1/context", "", map[string]any{"task": "x", "old": nil}, true}},
		{"ReplayContext", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.ReplayContext(ctx, "s1")
			return err
		},
			map[string]any{"session_id": "s1"}, seen{"GET", "/v1/sessions/s1/replay", "", nil, false}},
		{"Replay", func(ctx context.Context, s *lifecycle.Service) error {
			_, err := s.Replay(ctx, "s1", lifecycle.ReplayParams{})
			return err
		}, sdktest.Session("s3", "active"), seen{"POST", "/v1/sessions/s1/replay", "", map[string]any{}, true}},
		{"List", func(ctx context.Context, s *lifecycle.Service) error {
			for _, err := range s.List(ctx, lifecycle.ListParams{Status: lifecycle.StatusPaused, PlanSlug: "p"}) {
				return err
			}
			return nil
		}, map[string]any{"items": []any{sdktest.Session("s1", "paused")}}, seen{"GET", "/v1/sessions", "plan_slug=p&status=paused", nil, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := sdktest.Setup(t)
			var got seen
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got = seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query().Encode(), HasKey: r.Header.Get("Idempotency-Key") != ""}
				if len(b) > 0 {
					_ = json.Unmarshal(b, &got.Body)
				}
				status := 200
				if r.Method == "POST" && (r.URL.Path == "/v1/sessions" || r.URL.Path == "/v1/sessions/s1/log" ||
					r.URL.Path == "/v1/sessions/s1/artifacts" || r.URL.Path == "/v1/sessions/s1/continue" || r.URL.Path == "/v1/sessions/s1/replay") {
					status = 201
				}
				sdktest.JSON(w, status, tt.answer)
			})
			if err := tt.call(context.Background(), lifecycle.New(c)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTypedErrors(t *testing.T) {
	c, mux := sdktest.Setup(t)
	mux.HandleFunc("POST /v1/sessions/{id}/pause", func(w http.ResponseWriter, r *http.Request) {
		sdktest.Problem(w, 409, gen.ProblemCodeInvalidTransition, "A completed session cannot be paused.")
	})
	_, err := lifecycle.New(c).Pause(context.Background(), "s1", agentsession.IdempotencyKey("pause-1"))
	var ae *agentsession.APIError
	if !errors.Is(err, agentsession.ErrInvalidTransition) || !errors.As(err, &ae) || ae.IdempotencyKey != "pause-1" {
		t.Errorf("err = %v, want ErrInvalidTransition carrying the key", err)
	}
}
