// Quickstart: create a session, hold a short multi-turn conversation, read
// the history back and close the session.
//
//	AGENTSESSION_BASE_URL=http://127.0.0.1:8080 AGENTSESSION_TOKEN=dev-token go run ./examples/quickstart
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/sessions"
)

func main() {
	agent := flag.String("agent", "echo", "the agent to talk to")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, *agent); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, agent string) error {
	// The base URL and the token come from AGENTSESSION_BASE_URL and
	// AGENTSESSION_TOKEN.
	c, err := agentsession.NewClient(agentsession.WithUserAgent("quickstart-example"))
	if err != nil {
		return err
	}
	caps, err := c.Capabilities(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("server %s %s offers %d agents\n", caps.Server.Name, caps.Server.Version, len(caps.Agents))

	svc := sessions.New(c)
	s, err := svc.NewSession(ctx, sessions.CreateParams{Agent: agent, Meta: map[string]any{"example": "quickstart"}})
	if err != nil {
		return err
	}
	fmt.Printf("created session %s with agent %q (%s)\n\n", s.ID(), s.Info().Agent, s.Info().Status)

	for _, prompt := range []string{
		"Hello! Who are you?",
		"Please summarise the open pull requests.",
		"Thanks, that is all.",
	} {
		res, err := s.Turn(ctx, prompt)
		if err != nil {
			return err
		}
		fmt.Printf("  you   > %s\n  agent < %s\n          (turn %d, %s, %d events, %d ms)\n",
			prompt, res.Text(), res.TurnIndex, res.StopReason, len(res.Events), res.DurationMs)
		if res.Text() == "" {
			return fmt.Errorf("turn %d: the agent said nothing", res.TurnIndex)
		}
	}

	n := 0
	for t, err := range s.History(ctx) {
		if err != nil {
			return err
		}
		n++
		_ = t
	}
	fmt.Printf("\nthe session's history holds %d turns\n", n)
	if n != 3 {
		return fmt.Errorf("history has %d turns, want 3", n)
	}

	if err := s.Close(ctx); err != nil {
		return err
	}
	fmt.Printf("closed the session: %s\n", s.Info().Status)
	return nil
}
