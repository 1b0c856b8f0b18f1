// Human in the loop: the agent asks before it acts, the caller answers;
// and a queued turn is cancelled before it runs.
//
// It uses the reference server's "scripted" agent, whose script (the
// prompt) can ask for permission and branch on the answer (ScriptAsk in
// openapi.yaml).
//
//	AGENTSESSION_BASE_URL=http://127.0.0.1:8080 AGENTSESSION_TOKEN=dev-token go run ./examples/hitl
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/sessions"
)

// The scripts the agent plays.
const (
	dropTable = `{"steps":[
		{"event":{"type":"tool_call","tool_call_id":"call_1","name":"drop_table","args":{"table":"orders_old"}}},
		{"ask":{"tool_call_id":"call_1","title":"Drop the table orders_old?",
			"options":[{"option_id":"allow","name":"Allow","kind":"allow_once"},{"option_id":"deny","name":"Deny","kind":"reject_once"}],
			"branches":{"allow":{"steps":[{"event":{"type":"text","content":"Dropped orders_old."}}]},
				"deny":{"steps":[{"event":{"type":"text","content":"Kept orders_old."}}],"stop_reason":"refusal"}}}}]}`
	writeConfig = `{"steps":[
		{"ask":{"title":"Overwrite config.yaml?",
			"options":[{"option_id":"yes","name":"Overwrite","kind":"allow_once"},{"option_id":"no","name":"Keep it","kind":"reject_always"}],
			"branches":{"yes":{"steps":[{"event":{"type":"text","content":"Overwritten."}}]},
				"no":{"steps":[{"event":{"type":"text","content":"Left config.yaml alone."}}],"stop_reason":"refusal"}}}}]}`
	longTurn = `{"steps":[
		{"event":{"type":"text","content":"Migrating..."}},
		{"delay_ms":1500,"event":{"type":"text","content":" done."}}]}`
	queuedTurn = `{"steps":[{"event":{"type":"text","content":"never runs"}}]}`
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hitl:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) (err error) {
	c, err := agentsession.NewClient(agentsession.WithUserAgent("hitl-example"))
	if err != nil {
		return err
	}
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close(context.WithoutCancel(ctx))) }()
	fmt.Printf("session %s\n\na streamed turn asks; the answer comes from the loop:\n", s.ID())
	if err := ask(ctx, s); err != nil {
		return err
	}
	fmt.Println("\na turn with a permission handler:")
	res, err := s.Turn(ctx, writeConfig, sessions.WithPermissionHandler(keepFiles))
	if err != nil {
		return err
	}
	fmt.Printf("  %s: %q\n", res.StopReason, res.Text())
	fmt.Println("\na turn without a handler fails typed; answer, then wait for it:")
	if err := answerLater(ctx, s); err != nil {
		return err
	}
	fmt.Println("\na queued turn cancelled before it runs:")
	return cancelQueued(ctx, s)
}

// ask streams a turn whose agent asks before it drops a table, and
// answers from the loop; reading on continues the same turn.
func ask(ctx context.Context, s *sessions.Session) error {
	st := s.TurnStream(ctx, dropTable)
	for ev, err := range st.Events() {
		if err != nil {
			return err
		}
		fmt.Printf("  seq %d  %-19s %s\n", ev.Seq, ev.Type, ev.Title+ev.Content+ev.OptionID)
		if ev.Type == sessions.EventPermissionRequest {
			if _, err := ev.Answer(ctx, "allow"); err != nil {
				return err
			}
		}
	}
	res, err := st.Result()
	if err != nil {
		return err
	}
	fmt.Printf("  %s: %q\n", res.StopReason, res.Text())
	return nil
}

// keepFiles is a permission handler: it rejects whatever the agent asks,
// choosing the request's first reject option.
func keepFiles(_ context.Context, req *sessions.PermissionRequest) (string, error) {
	for _, o := range req.Options {
		if o.Kind == sessions.RejectOnce || o.Kind == sessions.RejectAlways {
			fmt.Printf("  asked %q: answering %q\n", req.Title, o.Name)
			return o.OptionID, nil
		}
	}
	return "", fmt.Errorf("no way to say no to %q", req.Title)
}

// answerLater sends a turn without a handler: Turn fails with a
// *PermissionRequiredError naming the pending requests; answer them, then
// WaitTurn returns the turn's result.
func answerLater(ctx context.Context, s *sessions.Session) error {
	_, err := s.Turn(ctx, writeConfig)
	var pr *sessions.PermissionRequiredError
	if !errors.As(err, &pr) {
		return fmt.Errorf("a turn that asks, without a handler: %v, want a *PermissionRequiredError", err)
	}
	for _, req := range pr.Requests {
		fmt.Printf("  turn %d waits: %q; answering %q\n", pr.TurnIndex, req.Title, "yes")
		if _, err := s.AnswerPermission(ctx, req.RequestID, "yes"); err != nil {
			return err
		}
	}
	res, err := s.WaitTurn(ctx, pr.TurnIndex)
	if err != nil {
		return err
	}
	fmt.Printf("  %s: %q\n", res.StopReason, res.Text())
	return nil
}

// cancelQueued queues a turn behind a long one, finds it in the queue and
// cancels it; the long turn goes on.
func cancelQueued(ctx context.Context, s *sessions.Session) error {
	long := s.TurnStream(ctx, longTurn)
	queued := make(chan error, 1)
	sent := false
	for ev, err := range long.Events() {
		if err != nil {
			return err
		}
		fmt.Printf("  long turn %d: %q\n", ev.TurnIndex, ev.Content)
		if sent {
			continue
		}
		sent = true
		go func() {
			res, err := s.Turn(ctx, queuedTurn, sessions.WithBusyPolicy(sessions.BusyEnqueue))
			if err == nil && res.StopReason != sessions.StopCancelled {
				err = fmt.Errorf("the queued turn ended %s, want cancelled", res.StopReason)
			}
			queued <- err
		}()
		t, err := waitQueued(ctx, s)
		if err != nil {
			return err
		}
		fmt.Printf("  turn %d queued at position %d (%d queued)\n", t.TurnIndex, t.QueuePosition, s.Info().QueuedTurns)
		cancelled, err := s.CancelTurnAt(ctx, t.TurnIndex)
		if err != nil {
			return err
		}
		fmt.Printf("  turn %d: %s by %s without running\n", cancelled.TurnIndex, cancelled.StopReason, cancelled.CancelledBy)
	}
	if err := <-queued; err != nil {
		return err
	}
	res, err := long.Result()
	if err != nil {
		return err
	}
	fmt.Printf("  the long turn %d: %s, %q\n", res.TurnIndex, res.StopReason, res.Text())
	return nil
}

// waitQueued polls the session until a turn waits in its queue, and
// returns the first one.
func waitQueued(ctx context.Context, s *sessions.Session) (*sessions.Turn, error) {
	for {
		info, err := s.Refresh(ctx)
		if err != nil {
			return nil, err
		}
		if info.QueuedTurns > 0 {
			for t, err := range s.History(ctx, sessions.OnlyStatus(sessions.TurnQueued)) {
				return t, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
