// Streaming: watch a turn's events arrive while the agent works, then cancel
// a long turn half-way.
//
// It uses the reference server's "scripted" agent, which plays the events of
// a script given as the prompt.
//
//	AGENTSESSION_BASE_URL=http://127.0.0.1:8080 AGENTSESSION_TOKEN=dev-token go run ./examples/streaming
package main

import (
	"context"
	"encoding/json"
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
		fmt.Fprintln(os.Stderr, "streaming:", err)
		os.Exit(1)
	}
}

// step is one step of the scripted agent's script.
type step struct {
	DelayMs int            `json:"delay_ms"`
	Event   map[string]any `json:"event"`
}

func script(steps ...step) string {
	b, _ := json.Marshal(map[string]any{"steps": steps})
	return string(b)
}

func run(ctx context.Context) error {
	c, err := agentsession.NewClient(agentsession.WithUserAgent("streaming-example"))
	if err != nil {
		return err
	}
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		return err
	}
	defer s.Close(context.Background())
	fmt.Printf("session %s\n\n", s.ID())

	// 1. A turn whose events arrive one by one.
	prompt := script(
		step{0, map[string]any{"type": "thinking", "content": "The user wants the test status."}},
		step{150, map[string]any{"type": "tool_call", "tool_call_id": "call_1", "name": "run_tests", "args": map[string]any{"pkg": "./..."}, "status": "in_progress"}},
		step{300, map[string]any{"type": "tool_result", "tool_call_id": "call_1", "name": "run_tests", "result": map[string]any{"passed": 41, "failed": 1}, "status": "completed"}},
		step{150, map[string]any{"type": "text", "content": "41 tests pass, "}},
		step{150, map[string]any{"type": "text", "content": "one fails: TestOrdersTotal."}},
	)
	start := time.Now()
	st := s.TurnStream(ctx, prompt, sessions.WithIdleTimeout(30*time.Second))
	fmt.Println("streaming turn 1:")
	for ev, err := range st.Events() {
		if err != nil {
			return err
		}
		fmt.Printf("  +%4d ms  seq %d  %-11s %s\n", time.Since(start).Milliseconds(), ev.Seq, ev.Type, describe(ev))
	}
	res, err := st.Result()
	if err != nil {
		return err
	}
	fmt.Printf("  done: %s in %d ms; the text: %q\n\n", res.StopReason, res.DurationMs, res.Text())
	if res.Text() != "41 tests pass, one fails: TestOrdersTotal." || len(res.Events) != 5 {
		return fmt.Errorf("unexpected result %q with %d events", res.Text(), len(res.Events))
	}

	// 2. A long turn, cancelled after its first event.
	long := script(
		step{0, map[string]any{"type": "text", "content": "Starting a long migration..."}},
		step{30_000, map[string]any{"type": "text", "content": "done (never reached)"}},
	)
	fmt.Println("streaming turn 2, cancelled after its first event:")
	st = s.TurnStream(ctx, long)
	for ev, err := range st.Events() {
		if err != nil {
			return err
		}
		fmt.Printf("  seq %d %s %q\n", ev.Seq, ev.Type, ev.Text())
		// Cancel does not wait for the running turn: the stream then ends.
		r, err := s.Cancel(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("  cancel requested: cancelled=%v turn=%d\n", r.Cancelled, r.TurnIndex)
	}
	res, err = st.Result()
	if err != nil {
		return err
	}
	fmt.Printf("  done: %s (cancelled by %s) after %d ms\n", res.StopReason, res.CancelledBy, res.DurationMs)
	if res.StopReason != sessions.StopCancelled {
		return fmt.Errorf("stop reason %s, want cancelled", res.StopReason)
	}
	return nil
}

func describe(ev sessions.Event) string {
	switch ev.Type {
	case sessions.EventToolCall:
		args, _ := json.Marshal(ev.Args)
		return fmt.Sprintf("%s(%s)", ev.Name, args)
	case sessions.EventToolResult:
		out, _ := json.Marshal(ev.Result)
		return fmt.Sprintf("%s -> %s", ev.Name, out)
	}
	if !ev.Known() {
		return "(unknown type) " + string(ev.Raw)
	}
	return fmt.Sprintf("%q", ev.Text())
}
