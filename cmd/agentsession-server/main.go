// Command agentsession-server runs the Agent Session API reference server.
//
//	AGENTSESSION_TOKENS=dev-token agentsession-server -addr 127.0.0.1:8080 -db agentsession.db
//
// Every setting is a flag and an environment variable; a flag given on the
// command line wins over the variable, which wins over the default. At
// least one bearer token is required (-tokens, -tokens-file, or their
// variables); without one the command exits with status 2. `-db :memory:`
// keeps everything in memory. Once listening it prints
// "listening on http://HOST:PORT" on stdout (the real port when -addr asks
// for port 0). SIGINT or SIGTERM shut it down gracefully: running turns end
// (their streams finish with turn.completed), open requests complete, the
// database is closed. Logs go to stderr and never contain a token.
//
// Run `agentsession-server -h` for every setting.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
