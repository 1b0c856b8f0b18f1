// ACP: a real agent process behind a session. The reference server runs an
// agent that speaks the Agent Client Protocol (ACP), one process per
// session, and turns what it streams into the session's events; this
// example drives the repository's ACP test agent, configured in the server
// under the name acp-test (README: "Real agents behind the server"):
//
//	go build -o bin/ ./cmd/agentsession-server ./cmd/agentsession-acp-testagent
//	bin/agentsession-server -tokens dev-token -acp-agent "acp-test=$PWD/bin/agentsession-acp-testagent"
//	AGENTSESSION_BASE_URL=http://127.0.0.1:8080 AGENTSESSION_TOKEN=dev-token go run ./examples/acp
//
// The test agent's prompts are a small command language (/say, /tool,
// /crash, ...); a plain prompt is echoed. A real agent (claude-code-acp)
// takes the same calls with plain prompts.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/sessions"
)

// agentName is the ACP agent's name on the server; ACP_EXAMPLE_AGENT
// names another.
func agentName() string {
	if n := os.Getenv("ACP_EXAMPLE_AGENT"); n != "" {
		return n
	}
	return "acp-test"
}

// workTurn makes the test agent think, plan, call a tool and answer.
const workTurn = `/think The user wants the tests run.
/plan > run the tests | report
/tool run_tests {"pkg":"./..."}
/say 41 tests pass, one fails: TestOrdersTotal.`

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "acp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) (err error) {
	c, err := agentsession.NewClient(agentsession.WithUserAgent("acp-example"))
	if err != nil {
		return err
	}
	// Creating the session starts the agent's process: an agent that cannot
	// start answers 502 agent_start_failed here, naming the reason.
	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: agentName()})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close(context.WithoutCancel(ctx))) }()
	fmt.Printf("session %s: agent %s, its process started\n\nstreaming a turn:\n", s.ID(), agentName())

	st := s.TurnStream(ctx, workTurn, sessions.WithIdleTimeout(30*time.Second))
	var types []string
	for ev, err := range st.Events() { // each ACP session/update, as an event
		if err != nil {
			return err
		}
		types = append(types, string(ev.Type))
		fmt.Printf("  seq %d  %-11s %s\n", ev.Seq, ev.Type, oneLine(ev.Text()+" "+ev.Name))
	}
	res, err := st.Result()
	if err != nil {
		return err
	}
	fmt.Printf("  %s: %q\n", res.StopReason, res.Text())
	if want := "thinking plan tool_call tool_result tool_result text"; strings.Join(types, " ") != want {
		return fmt.Errorf("event types %v, want %s", types, want)
	}

	fmt.Println("\na plain prompt (the test agent echoes it):")
	res, err = s.Turn(ctx, "hello from the ACP example")
	if err != nil {
		return err
	}
	fmt.Printf("  %s: %q\n", res.StopReason, res.Text())
	if res.Text() != "hello from the ACP example" {
		return fmt.Errorf("echo %q", res.Text())
	}

	fmt.Println("\nthe agent's process dies mid-turn:")
	res, err = s.Turn(ctx, "/stderr out of memory\n/crash 3")
	if err != nil {
		return err
	}
	last := res.Events[len(res.Events)-1]
	fmt.Printf("  %s: %s\n", res.StopReason, oneLine(last.Text()))
	if res.StopReason != sessions.StopError || last.Type != sessions.EventError || !strings.Contains(last.Text(), "out of memory") {
		return fmt.Errorf("crashed turn %s, last event %s %q", res.StopReason, last.Type, last.Text())
	}
	res, err = s.Turn(ctx, "and the next turn gets a new process")
	if err != nil {
		return err
	}
	fmt.Printf("  next turn, %s: %q\n", res.StopReason, res.Text())
	if res.StopReason != sessions.StopEndTurn {
		return fmt.Errorf("the turn after the crash: %s", res.StopReason)
	}
	fmt.Println("\nclosing the session stops the agent's process")
	return nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 110 {
		s = s[:110] + "..."
	}
	return s
}
