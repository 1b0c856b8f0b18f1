// Lifecycle: track a session's work — work log, artifacts, context — hand it
// off, continue it with another agent, replay it, and end it.
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
	lc := lifecycle.New(c)

	s, err := lc.Start(ctx, lifecycle.StartParams{Agent: "echo", PlanSlug: "migrate-orders-db",
		Context: map[string]any{"repository": "github.com/acme/api", "branch": "main"}})
	if err != nil {
		return err
	}
	id := s.SessionID
	fmt.Printf("started %s on plan %q (%s)\n", id, s.PlanSlug, s.Status)

	// The work log: typed entries.
	for _, e := range []lifecycle.Entry{
		{Type: lifecycle.LogInfo, Message: "read the schema"},
		{Type: lifecycle.LogDecision, Message: "add a column instead of a new table", Data: map[string]any{"why": "fewer joins"}},
		{Type: lifecycle.LogCheckpoint, Message: "migration 0042 written", Data: map[string]any{"tables": 1}},
		{Type: lifecycle.LogError, Message: "TestOrdersTotal fails"},
	} {
		if _, err := lc.Log(ctx, id, e); err != nil {
			return err
		}
	}
	// Artifacts, by action.
	for _, a := range []lifecycle.ArtifactParams{
		{Path: "db/migrations/0042_orders.sql", Action: lifecycle.ArtifactCreated, Metadata: map[string]any{"lines": 87}},
		{Path: "internal/orders/total.go", Action: lifecycle.ArtifactModified},
	} {
		if _, err := lc.AddArtifact(ctx, id, a); err != nil {
			return err
		}
	}
	fmt.Print("work log:")
	for e, err := range lc.LogEntries(ctx, id, "") {
		if err != nil {
			return err
		}
		fmt.Printf(" [%s] %s;", e.Type, e.Message)
	}
	fmt.Print("\ncreated artifacts:")
	for a, err := range lc.Artifacts(ctx, id, lifecycle.ArtifactCreated) {
		if err != nil {
			return err
		}
		fmt.Printf(" %s", a.Path)
	}
	fmt.Println()

	// Merge-update the context summary (nil removes a member).
	s, err = lc.UpdateContext(ctx, id, map[string]any{"branch": nil, "current_task": "fix TestOrdersTotal"})
	if err != nil {
		return err
	}
	fmt.Printf("context now: %v\n", s.ContextSummary)

	// Pause and resume; the state machine refuses what makes no sense.
	if _, err := lc.Pause(ctx, id); err != nil {
		return err
	}
	if _, err := lc.Pause(ctx, id); !errors.Is(err, agentsession.ErrInvalidTransition) {
		return fmt.Errorf("pausing twice: %v, want ErrInvalidTransition", err)
	}
	fmt.Println("paused; pausing again is refused: invalid_transition")
	if _, err := lc.Resume(ctx, id); err != nil {
		return err
	}

	// Hand off: notes for the next agent; the session pauses.
	s, err = lc.Handoff(ctx, id, lifecycle.HandoffParams{
		Summary:        "Migration written; one test fails.",
		NextSteps:      []string{"fix TestOrdersTotal", "run the migration on staging"},
		Blockers:       []string{"staging is read-only until Monday"},
		ContextForNext: map[string]any{"failing_test": "TestOrdersTotal"},
	})
	if err != nil {
		return err
	}
	hc, err := lc.HandoffContext(ctx, id)
	if err != nil {
		return err
	}
	fmt.Printf("handed off (%s): %q; next steps %s; %d recent actions, %d artifacts\n",
		s.Status, hc.Handoff.Summary, strings.Join(hc.Handoff.NextSteps, ", "), len(hc.RecentActions), len(hc.Artifacts))

	// Continue with another agent: it inherits the context and the notes.
	next, err := lc.Continue(ctx, id, lifecycle.ContinueParams{Agent: "scripted"})
	if err != nil {
		return err
	}
	fmt.Printf("continued as %s (agent %s, continued from %s, task %q)\n",
		next.SessionID, next.Agent, next.ContinuedFrom, next.ContextSummary["current_task"])

	// Replay: where the first session stands, and a fresh session from it.
	rc, err := lc.ReplayContext(ctx, id)
	if err != nil {
		return err
	}
	fmt.Printf("replay context: %s last checkpoint %q\n", rc.Progress.Summary, rc.LastCheckpoint.Message)
	replayed, err := lc.Replay(ctx, id, lifecycle.ReplayParams{})
	if err != nil {
		return err
	}
	fmt.Printf("replayed as %s (its context has a replay member: %v)\n", replayed.SessionID, replayed.ContextSummary["replay"] != nil)

	// End the three sessions of this story.
	for _, sid := range []string{id, next.SessionID, replayed.SessionID} {
		if s, err = lc.End(ctx, sid, lifecycle.EndCompleted, "story told"); err != nil {
			return err
		}
		fmt.Printf("ended %s: %s, %q\n", sid, s.Status, s.FinalSummary)
	}
	n := 0
	for _, err := range lc.List(ctx, lifecycle.ListParams{PlanSlug: "migrate-orders-db", Status: lifecycle.StatusCompleted}) {
		if err != nil {
			return err
		}
		n++
	}
	fmt.Printf("%d completed sessions on the plan\n", n)
	return nil
}
