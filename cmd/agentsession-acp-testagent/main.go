// Command agentsession-acp-testagent is the ACP test agent of package
// internal/acptestagent over stdio: a client starts it as a subprocess and
// speaks the Agent Client Protocol on its stdin and stdout. Its prompts are
// a small command language (/say, /tool, /ask, /crash, ...; see the
// package documentation); a plain prompt is echoed.
//
//	agentsession-acp-testagent [-state DIR] [-exit-at-start CODE] [-hang-at-start] [-stderr-at-start TEXT] [-require-auth]
//
// -state keeps sessions in DIR and enables session/load. The -*-at-start
// flags make the process misbehave before it answers anything, and
// -require-auth makes session/new fail as an agent without credentials
// does, for tests of a client's start-up errors.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/agentsession/agentsession/internal/acptestagent"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agentsession-acp-testagent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "keep sessions in `DIR` and support session/load")
	exitAtStart := fs.Int("exit-at-start", -1, "exit with `CODE` before answering anything")
	hangAtStart := fs.Bool("hang-at-start", false, "never answer anything (until stdin closes)")
	stderrAtStart := fs.String("stderr-at-start", "", "write `TEXT` to stderr at start")
	requireAuth := fs.Bool("require-auth", false, "answer session/new with ACP's authentication required")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *stderrAtStart != "" {
		fmt.Fprintln(stderr, *stderrAtStart)
	}
	if *exitAtStart >= 0 {
		fmt.Fprintf(stderr, "acptestagent: exiting at start with code %d as asked\n", *exitAtStart)
		return *exitAtStart
	}
	if *hangAtStart {
		_, _ = io.Copy(io.Discard, stdin)
		return 0
	}
	if *state != "" {
		if err := os.MkdirAll(*state, 0o700); err != nil {
			fmt.Fprintf(stderr, "acptestagent: state directory: %v\n", err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := acptestagent.Serve(ctx, stdin, stdout, acptestagent.Options{StateDir: *state, Stderr: stderr, RequireAuth: *requireAuth})
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "acptestagent: %v\n", err)
		return 1
	}
	return 0
}
