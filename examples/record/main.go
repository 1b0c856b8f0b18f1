// Record: keep a local record of every turn (one JSON line per turn, one
// file per session) and read it back without the server.
//
//	AGENTSESSION_BASE_URL=http://127.0.0.1:8080 AGENTSESSION_TOKEN=dev-token go run ./examples/record
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/record"
	"github.com/agentsession/agentsession/sessions"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) (err error) {
	dir, err := os.MkdirTemp("", "agentsession-record-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()

	c, err := agentsession.NewClient(agentsession.WithUserAgent("record-example"), agentsession.WithTurnRecord(dir))
	if err != nil {
		return err
	}
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "echo"})
	if err != nil {
		return err
	}
	for _, prompt := range []string{"first", "second"} {
		if _, err := s.Turn(ctx, prompt); err != nil {
			return err
		}
	}
	if _, err := s.TurnStream(ctx, "streamed").Result(); err != nil {
		return err
	}
	if err := s.Close(ctx); err != nil {
		return err
	}
	fmt.Printf("the record of %s in %s:\n", s.ID(), dir)
	return readBack(dir, s.ID())
}

// readBack prints a session's turn record.
func readBack(dir, sessionID string) error {
	turns, err := record.Read(dir, sessionID)
	if errors.Is(err, record.ErrTornLine) {
		// The process died while writing the last line: turns holds every
		// complete one.
		fmt.Println("  the last line is torn:", err)
	} else if err != nil {
		return err
	}
	for _, t := range turns {
		fmt.Printf("  turn %d %q (stream %v): %s, %d event(s), %d attempt(s), %v\n",
			t.TurnIndex, t.Prompt, t.Stream, t.StopReason, len(t.Events), len(t.Attempts), t.Duration().Round(time.Microsecond))
	}
	if len(turns) != 3 {
		return fmt.Errorf("%d turns recorded, want 3", len(turns))
	}
	return nil
}
