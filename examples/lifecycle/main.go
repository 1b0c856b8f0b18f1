// Lifecycle: track a session's work (work log, artifacts, context), pause
// and resume it, hand it off, continue it with another agent, replay it and
// end it, all through the one handle a session has.
//
//	AGENTSESSION_BASE_URL=http://127.0.0.1:8080 AGENTSESSION_TOKEN=dev-token go run ./examples/lifecycle
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/sessions"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "lifecycle:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	c, err := agentsession.NewClient(agentsession.WithUserAgent("lifecycle-example"))
	if err != nil {
		return err
	}
	svc := sessions.New(c)
	plan := "migrate-orders-db-" + agentsession.NewIdempotencyKey()[:8] // a plan of this run alone
	s, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "echo", PlanSlug: plan,
		Context: map[string]any{"repository": "github.com/acme/api", "branch": "main"}})
	if err != nil {
		return err
	}
	fmt.Printf("started %s on plan %q (%s)\n", s.ID(), s.Info().PlanSlug, s.Info().Status)

	// Pause and resume; the state machine refuses what makes no sense.
	if err := s.Pause(ctx); err != nil {
		return err
	}
	if _, err := s.Turn(ctx, "are you there?"); !errors.Is(err, agentsession.ErrSessionPaused) {
		return fmt.Errorf("a turn on a paused session: %v, want ErrSessionPaused", err)
	}
	if err := s.Pause(ctx); !errors.Is(err, agentsession.ErrInvalidTransition) {
		return fmt.Errorf("pausing twice: %v, want ErrInvalidTransition", err)
	}
	fmt.Printf("paused (%s): turns are refused, pausing again is an invalid transition\n", s.Info().Status)
	if err := s.Resume(ctx); err != nil {
		return err
	}

	next, err := work(ctx, s)
	if err != nil {
		return err
	}
	fmt.Printf("continued as %s (agent %s, continued from %s, task %q)\n",
		next.ID(), next.Info().Agent, next.Info().ContinuedFrom, next.Info().ContextSummary["current_task"])

	hc, err := s.HandoffContext(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("handoff context: next steps %s; %d recent actions, %d artifacts\n",
		strings.Join(hc.Handoff.NextSteps, ", "), len(hc.RecentActions), len(hc.Artifacts))

	fmt.Print("work log:")
	for e, err := range s.LogEntries(ctx, "") {
		if err != nil {
			return err
		}
		fmt.Printf(" [%s] %s;", e.Type, e.Message)
	}
	fmt.Print("\ncreated artifacts:")
	for a, err := range s.Artifacts(ctx, lifecycle.ArtifactCreated) {
		if err != nil {
			return err
		}
		fmt.Printf(" %s", a.Path)
	}
	fmt.Println()

	// Replay: where the first session stands, and a fresh session from it.
	rc, err := s.ReplayContext(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("replay context: %s last checkpoint %q\n", rc.Progress.Summary, rc.LastCheckpoint.Message)
	replayed, err := s.Replay(ctx, lifecycle.ReplayParams{})
	if err != nil {
		return err
	}
	fmt.Printf("replayed as %s (its context has a replay member: %v)\n", replayed.ID(), replayed.Info().ContextSummary["replay"] != nil)

	// End the three sessions of this story.
	for _, h := range []*sessions.Session{s, next, replayed} {
		if err := h.End(ctx, lifecycle.EndCompleted, "story told"); err != nil {
			return err
		}
		fmt.Printf("ended %s: %s, %q\n", h.ID(), h.Info().Status, h.Info().FinalSummary)
	}
	n := 0
	for _, err := range svc.List(ctx, sessions.ListOptions{PlanSlug: plan, Status: lifecycle.StatusCompleted}) {
		if err != nil {
			return err
		}
		n++
	}
	fmt.Printf("%d completed sessions on the plan\n", n)
	if n != 3 {
		return fmt.Errorf("%d completed sessions on the plan, want 3", n)
	}
	return nil
}

// work records a session's progress, hands it off and continues it with
// another agent, whose handle it returns.
func work(ctx context.Context, s *sessions.Session) (*sessions.Session, error) {
	for _, e := range []lifecycle.LogParams{
		{Type: lifecycle.LogDecision, Message: "add a column instead of a new table", Data: map[string]any{"why": "fewer joins"}},
		{Type: lifecycle.LogCheckpoint, Message: "migration 0042 written"},
		{Type: lifecycle.LogError, Message: "TestOrdersTotal fails"},
	} {
		if _, err := s.Log(ctx, e); err != nil {
			return nil, err
		}
	}
	if _, err := s.AddArtifact(ctx, lifecycle.ArtifactParams{Path: "db/migrations/0042_orders.sql",
		Action: lifecycle.ArtifactCreated, Metadata: map[string]any{"lines": 87}}); err != nil {
		return nil, err
	}
	// A merge patch: members replace, nested objects merge, nil removes.
	if err := s.UpdateContext(ctx, map[string]any{"current_task": "fix TestOrdersTotal", "branch": nil}); err != nil {
		return nil, err
	}
	fmt.Printf("context now: %v (%d actions, %d artifacts)\n",
		s.Info().ContextSummary, s.Info().ActionCount, s.Info().ArtifactCount)
	err := s.Handoff(ctx, lifecycle.HandoffParams{
		Summary:   "Migration written; one test fails.",
		NextSteps: []string{"fix TestOrdersTotal", "run the migration on staging"},
		Blockers:  []string{"staging is read-only until Monday"},
	})
	if err != nil {
		return nil, err
	}
	fmt.Printf("handed off (%s): %q\n", s.Info().Status, s.Info().Handoff.Summary)
	return s.Continue(ctx, lifecycle.ContinueParams{Agent: "scripted"})
}
