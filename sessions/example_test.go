package sessions_test

import (
	"context"
	"fmt"
	"net/http/httptest"

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
