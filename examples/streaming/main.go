// Streaming: watch a turn's events arrive while the agent works, cancel a
// long turn half-way, and choose what a turn sent while another one runs
// does (the busy policy).
//
// It uses the reference server's "scripted" agent, which plays the script
// given as the prompt (schema AgentScript in openapi.yaml): each step waits
// delay_ms, then emits its event.
//
//	AGENTSESSION_BASE_URL=http://127.0.0.1:8080 AGENTSESSION_TOKEN=dev-token go run ./examples/streaming
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/sessions"
)

// The scripts the agent plays.
const (
	testsTurn = `{"steps":[
		{"event":{"type":"thinking","content":"The user wants the test status."}},
		{"delay_ms":150,"event":{"type":"tool_call","tool_call_id":"call_1","name":"run_tests","args":{"pkg":"./..."},"status":"in_progress"}},
		{"delay_ms":300,"event":{"type":"tool_result","tool_call_id":"call_1","name":"run_tests","result":{"passed":41,"failed":1},"status":"completed"}},
		{"delay_ms":150,"event":{"type":"text","content":"41 tests pass, "}},
		{"delay_ms":150,"event":{"type":"text","content":"one fails: TestOrdersTotal."}}]}`
	longTurn = `{"steps":[
		{"event":{"type":"text","content":"Starting a long migration..."}},
		{"delay_ms":30000,"event":{"type":"text","content":"done (never reached)"}}]}`
	quickTurn = `{"steps":[{"event":{"type":"text","content":"quick answer"}}]}`
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "streaming:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) (err error) {
	c, err := agentsession.NewClient(agentsession.WithUserAgent("streaming-example"))
	if err != nil {
		return err
	}
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close(context.WithoutCancel(ctx))) }()
	fmt.Printf("session %s\n\nstreaming a turn:\n", s.ID())
	res, err := stream(ctx, s, testsTurn)
	if err != nil {
		return err
	}
	if res.Text() != "41 tests pass, one fails: TestOrdersTotal." || len(res.Events) != 5 {
		return fmt.Errorf("unexpected result %q with %d events", res.Text(), len(res.Events))
	}
	fmt.Println("\na long turn, cancelled after its first event:")
	if err := cancelHalfway(ctx, s); err != nil {
		return err
	}
	fmt.Println("\nturns sent while a long one runs:")
	if err := busy(ctx, s); err != nil {
		return err
	}
	fmt.Println("\nturns sent at once without a busy policy:")
	return inOrder(ctx, s)
}

// stream prints a turn's events as the agent produces them, then returns
// the finished turn.
func stream(ctx context.Context, s *sessions.Session, prompt string) (*sessions.TurnResult, error) {
	st := s.TurnStream(ctx, prompt, sessions.WithIdleTimeout(30*time.Second))
	for ev, err := range st.Events() { // each event as the agent produces it
		if err != nil {
			return nil, err
		}
		fmt.Printf("  seq %d  %-11s %s\n", ev.Seq, ev.Type, describe(ev))
	}
	res, err := st.Result() // the whole turn, as Turn returns it
	if err != nil {
		return nil, err
	}
	fmt.Printf("  %s in %v: %q\n", res.StopReason, res.Duration, res.Text())
	return res, nil
}

func cancelHalfway(ctx context.Context, s *sessions.Session) error {
	st := s.TurnStream(ctx, longTurn)
	for ev, err := range st.Events() {
		if err != nil {
			return err
		}
		fmt.Printf("  seq %d %q\n", ev.Seq, ev.Text())
		// Cancel does not wait for the running turn: the stream then ends.
		r, err := s.Cancel(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("  cancel requested: cancelled=%v turn=%d\n", r.Cancelled, r.TurnIndex)
	}
	res, err := st.Result()
	if err != nil {
		return err
	}
	fmt.Printf("  %s (by %s) after %v\n", res.StopReason, res.CancelledBy, res.Duration)
	if res.StopReason != sessions.StopCancelled {
		return fmt.Errorf("stop reason %s, want cancelled", res.StopReason)
	}
	return nil
}

// busy sends turns while a long one streams. With a busy policy a turn is
// sent at once and the server decides: reject refuses it, interrupt cancels
// the running turn and takes its place.
func busy(ctx context.Context, s *sessions.Session) error {
	st := s.TurnStream(ctx, longTurn)
	sent := false
	for _, err := range st.Events() {
		if err != nil {
			return err
		}
		if sent {
			continue
		}
		sent = true
		_, err := s.Turn(ctx, quickTurn, sessions.WithBusyPolicy(sessions.BusyReject))
		if !errors.Is(err, agentsession.ErrBusy) {
			return fmt.Errorf("a turn with BusyReject while another runs: %v, want ErrBusy", err)
		}
		fmt.Println("  reject:    refused at once (ErrBusy)")
		res, err := s.Turn(ctx, quickTurn, sessions.WithBusyPolicy(sessions.BusyInterrupt))
		if err != nil {
			return err
		}
		fmt.Printf("  interrupt: turn %d ran at once: %q\n", res.TurnIndex, res.Text())
	}
	res, err := st.Result()
	if err != nil {
		return err
	}
	fmt.Printf("  the long turn %d: %s by %s\n", res.TurnIndex, res.StopReason, res.CancelledBy)
	if res.CancelledBy != sessions.CancelledByInterrupt {
		return fmt.Errorf("the long turn ended %s by %q, want cancelled by interrupt", res.StopReason, res.CancelledBy)
	}
	return nil
}

// inOrder sends turns from several goroutines without a busy policy: the
// Client sends them one after the other, so none is refused.
func inOrder(ctx context.Context, s *sessions.Session) error {
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			res, err := s.Turn(ctx, quickTurn)
			if err == nil {
				fmt.Printf("  goroutine %d: turn %d %s\n", i, res.TurnIndex, res.StopReason)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func describe(ev sessions.Event) string {
	switch ev.Type {
	case sessions.EventToolCall:
		return fmt.Sprintf("%s(%s)", ev.Name, jsonText(ev.Args))
	case sessions.EventToolResult:
		return fmt.Sprintf("%s -> %s", ev.Name, jsonText(ev.Result))
	}
	if !ev.Known() {
		return "(unknown type) " + ev.String()
	}
	return fmt.Sprintf("%q", ev.Text())
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
