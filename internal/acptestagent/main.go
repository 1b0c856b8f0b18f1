package acptestagent

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main is the command agentsession-acp-testagent: it parses args, serves
// ACP on stdin and stdout until stdin closes or a signal comes, and
// returns the exit status. Tests that cannot build the command run their
// own binary as the agent and call Main from their TestMain.
//
//	agentsession-acp-testagent [-state DIR] [-exit-at-start CODE] [-hang-at-start] [-stderr-at-start TEXT] [-require-auth]
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
	err := Serve(ctx, stdin, stdout, Options{StateDir: *state, Stderr: stderr, RequireAuth: *requireAuth})
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "acptestagent: %v\n", err)
		return 1
	}
	return 0
}
