package lifecycle_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/sessions"
)

// The lifecycle verbs are methods of the session handle; each answer that
// carries the session updates its Info.
func Example() {
	// The reference server, in-process.
	rs, err := refserver.New(refserver.Config{Tokens: []string{"example-token"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	hs := httptest.NewServer(rs)
	defer hs.Close()
	defer func() {
		if err := rs.Shutdown(context.Background()); err != nil {
			fmt.Println(err)
		}
	}()
	c, err := agentsession.NewClient(agentsession.WithBaseURL(hs.URL), agentsession.WithToken("example-token"))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := story(context.Background(), c); err != nil {
		fmt.Println(err)
	}
	// Output:
	// after handoff: paused
	// continued from the first: true with notes: two tests fail
	// replay: 2 entries, 1 checkpoint, 1 decision, 0 errors.
	// finally: completed
}

func story(ctx context.Context, c *agentsession.Client) error {
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "echo", PlanSlug: "migrate-db",
		Context: map[string]any{"repository": "acme/api"}})
	if err != nil {
		return err
	}
	for _, e := range []lifecycle.LogParams{
		{Type: lifecycle.LogCheckpoint, Message: "schema migrated"},
		{Type: lifecycle.LogDecision, Message: "keep the old index"},
	} {
		if _, err := s.Log(ctx, e); err != nil {
			return err
		}
	}
	if _, err := s.AddArtifact(ctx, lifecycle.ArtifactParams{Path: "db/0042.sql", Action: lifecycle.ArtifactCreated}); err != nil {
		return err
	}
	if err := s.Handoff(ctx, lifecycle.HandoffParams{Summary: "two tests fail", NextSteps: []string{"fix test_orders"}}); err != nil {
		return err
	}
	fmt.Println("after handoff:", s.Info().Status)

	next, err := s.Continue(ctx, lifecycle.ContinueParams{Agent: "echo"})
	if err != nil {
		return err
	}
	fmt.Println("continued from the first:", next.Info().ContinuedFrom == s.ID(), "with notes:", next.Info().Handoff.Summary)

	rc, err := s.ReplayContext(ctx)
	if err != nil {
		return err
	}
	fmt.Println("replay:", rc.Progress.Summary)

	if err := s.End(ctx, lifecycle.EndCompleted, "handed over"); err != nil {
		return err
	}
	fmt.Println("finally:", s.Info().Status)
	return nil
}
