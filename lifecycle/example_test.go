package lifecycle_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/refserver"
)

func Example() {
	// The reference server, in-process.
	rs, _ := refserver.New(refserver.Config{Tokens: []string{"example-token"}})
	hs := httptest.NewServer(rs)
	defer func() { _ = rs.Shutdown(context.Background()); hs.Close() }()
	c, _ := agentsession.NewClient(agentsession.WithBaseURL(hs.URL), agentsession.WithToken("example-token"))

	ctx := context.Background()
	lc := lifecycle.New(c)
	s, err := lc.Start(ctx, lifecycle.StartParams{Agent: "echo", PlanSlug: "migrate-db",
		Context: map[string]any{"repository": "acme/api"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	id := s.SessionID
	_, _ = lc.Log(ctx, id, lifecycle.Entry{Type: lifecycle.LogCheckpoint, Message: "schema migrated"})
	_, _ = lc.Log(ctx, id, lifecycle.Entry{Type: lifecycle.LogDecision, Message: "keep the old index"})
	_, _ = lc.AddArtifact(ctx, id, lifecycle.ArtifactParams{Path: "db/0042.sql", Action: lifecycle.ArtifactCreated})

	s, _ = lc.Handoff(ctx, id, lifecycle.HandoffParams{Summary: "two tests fail", NextSteps: []string{"fix test_orders"}})
	fmt.Println("after handoff:", s.Status)

	next, _ := lc.Continue(ctx, id, lifecycle.ContinueParams{Agent: "echo"})
	fmt.Println("continued from the first:", next.ContinuedFrom == id, "with notes:", next.Handoff.Summary)

	rc, _ := lc.ReplayContext(ctx, id)
	fmt.Println("replay:", rc.Progress.Summary)

	s, _ = lc.End(ctx, id, lifecycle.EndCompleted, "handed over")
	fmt.Println("finally:", s.Status)
	// Output:
	// after handoff: paused
	// continued from the first: true with notes: two tests fail
	// replay: 2 entries, 1 checkpoint, 1 decision, 0 errors.
	// finally: completed
}
