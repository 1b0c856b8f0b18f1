package sessions_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/sessions"
)

// exampleServer runs the reference server in-process (memory store, echo
// and scripted agents) and returns a client for it and a stop function.
func exampleServer() (*agentsession.Client, func()) {
	rs, err := refserver.New(refserver.Config{Tokens: []string{"example-token"}})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(rs)
	c, err := agentsession.NewClient(agentsession.WithBaseURL(hs.URL), agentsession.WithToken("example-token"))
	if err != nil {
		panic(err)
	}
	return c, func() { _ = rs.Shutdown(context.Background()); hs.Close() }
}

func Example() {
	c, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	svc := sessions.New(c)
	s, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "echo"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, prompt := range []string{"Hello", "How are you?"} {
		res, err := s.Turn(ctx, prompt)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("turn %d: %s (%s)\n", res.TurnIndex, res.Text(), res.StopReason)
	}
	if err := s.Close(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println(s.Info().Status)
	// Output:
	// turn 1: Hello (end_turn)
	// turn 2: How are you? (end_turn)
	// completed
}

func ExampleSession_TurnStream() {
	c, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	s, _ := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "scripted"})

	// The scripted agent plays the events of a script given as the prompt.
	script := `{"steps":[
		{"event":{"type":"thinking","content":"Reading the diff."}},
		{"delay_ms":10,"event":{"type":"text","content":"Two files "}},
		{"delay_ms":10,"event":{"type":"text","content":"changed."}}]}`
	st := s.TurnStream(ctx, script)
	for ev, err := range st.Events() {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%d %s %q\n", ev.Seq, ev.Type, ev.Text())
	}
	res, err := st.Result()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Text(), res.StopReason)
	// Output:
	// 1 thinking "Reading the diff."
	// 2 text "Two files "
	// 3 text "changed."
	// Two files changed. end_turn
}

func ExampleService_List() {
	c, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	svc := sessions.New(c)
	for range 3 {
		_, _ = svc.NewSession(ctx, sessions.CreateParams{Agent: "echo", PlanSlug: "docs"})
	}
	n := 0
	// Pages of 2: the iterator fetches the next page when needed.
	for s, err := range svc.List(ctx, sessions.ListOptions{PlanSlug: "docs", PageSize: 2}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		n++
		_ = s.ID()
	}
	fmt.Println(n, "sessions")
	// Output: 3 sessions
}

// askScript is a script for the scripted agent that asks before it acts.
const askScript = `{"steps":[{"ask":{"request_id":"perm_rm","title":"Delete build/?",
	"options":[{"option_id":"yes","name":"Delete","kind":"allow_once"},{"option_id":"no","name":"Keep","kind":"reject_once"}],
	"branches":{"yes":{"steps":[{"event":{"type":"text","content":"Deleted."}}]},
		"no":{"steps":[{"event":{"type":"text","content":"Kept."}}],"stop_reason":"refusal"}}}}]}`

func ExampleEvent_Answer() {
	c, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		fmt.Println(err)
		return
	}
	st := s.TurnStream(ctx, askScript)
	for ev, err := range st.Events() {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(ev.Seq, ev.Type)
		if ev.Type == sessions.EventPermissionRequest {
			if _, err := ev.Answer(ctx, "yes"); err != nil { // the turn goes on
				fmt.Println(err)
				return
			}
		}
	}
	res, err := st.Result()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Text())
	// Output:
	// 1 permission_request
	// 2 permission_response
	// 3 text
	// Deleted.
}

func ExampleWithPermissionHandler() {
	c, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := s.Turn(ctx, askScript, sessions.WithPermissionHandler(
		func(_ context.Context, req *sessions.PermissionRequest) (string, error) {
			fmt.Println("asked:", req.Title)
			return "no", nil
		}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.StopReason, res.Text())
	// Output:
	// asked: Delete build/?
	// refusal Kept.
}

func ExamplePermissionRequiredError() {
	c, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = s.Turn(ctx, askScript) // no handler
	var pr *sessions.PermissionRequiredError
	if !errors.As(err, &pr) {
		fmt.Println("unexpected:", err)
		return
	}
	for _, req := range pr.Requests {
		if _, err := s.AnswerPermission(ctx, req.RequestID, "yes"); err != nil {
			fmt.Println(err)
			return
		}
	}
	res, err := s.WaitTurn(ctx, pr.TurnIndex)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pr.TurnIndex, res.Text())
	// Output:
	// 1 Deleted.
}

func ExampleSession_CancelTurnAt() {
	c, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		fmt.Println(err)
		return
	}
	long := s.TurnStream(ctx, `{"steps":[{"event":{"type":"text","content":"working"}},{"delay_ms":500,"event":{"type":"text","content":" done"}}]}`)
	queued := s.TurnStream(ctx, "next", sessions.WithBusyPolicy(sessions.BusyEnqueue))
	for range long.Events() {
		// The long turn runs: queue a turn behind it, then cancel that one.
		go func() { _, _ = queued.Result() }()
		for {
			if a := queued.Accepted(); a != nil {
				fmt.Println("queued at position", a.QueuePosition)
				t, err := s.CancelTurnAt(ctx, a.TurnIndex)
				if err != nil {
					fmt.Println(err)
					return
				}
				fmt.Println(t.StopReason, t.CancelledBy)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		break
	}
	// Output:
	// queued at position 1
	// cancelled cancel_request
}

func ExampleSession_Watch() {
	c, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "echo"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := s.Turn(ctx, "Hello"); err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Close(ctx); err != nil {
		fmt.Println(err)
		return
	}
	// From the beginning until the session ended (here, at once).
	for f, err := range s.Watch(ctx, sessions.Position{}) {
		switch {
		case err != nil:
			fmt.Println(err)
			return
		case f.Event != nil:
			fmt.Printf("%s event %s %q\n", f.Position, f.Event.Type, f.Event.Content)
		case f.Lifecycle != nil:
			fmt.Println(strings.TrimSpace(fmt.Sprintf("%s lifecycle %s %s", f.Position, f.Lifecycle.Type, f.Lifecycle.Status)))
		}
	}
	fmt.Println(s.Info().Status, s.Info().EndReason)
	// Output:
	// 0.1 lifecycle turn_started
	// 1.1 event text "Hello"
	// 1.2 lifecycle turn_ended
	// 1.3 lifecycle status_changed completed
	// completed closed
}
