// Quickstart: create a session, hold a short conversation, close it.
//
//	AGENTSESSION_BASE_URL=http://127.0.0.1:8080 AGENTSESSION_TOKEN=dev-token go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/sessions"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	c, err := agentsession.NewClient() // AGENTSESSION_BASE_URL, AGENTSESSION_TOKEN
	if err != nil {
		return err
	}
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "echo"})
	if err != nil {
		return err
	}
	fmt.Printf("session %s with agent %q\n", s.ID(), s.Info().Agent)
	for _, prompt := range []string{"Hello!", "Summarise the open pull requests."} {
		res, err := s.Turn(ctx, prompt)
		if err != nil {
			return err
		}
		fmt.Printf("turn %d (%s in %v): %s\n", res.TurnIndex, res.StopReason, res.Duration, res.Text())
	}
	for t, err := range s.History(ctx) {
		if err != nil {
			return err
		}
		fmt.Printf("history: turn %d %q, %d event(s)\n", t.TurnIndex, t.Prompt, t.EventCount)
	}
	if err := s.Close(ctx); err != nil {
		return err
	}
	fmt.Printf("closed: %s\n", s.Info().Status)
	return nil
}
