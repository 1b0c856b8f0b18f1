// Command agentsession-faultproxy forwards HTTP to one target and injects
// the faults of a rules file: connection resets mid-body, truncated
// bodies, stalls, server-sent-event streams cut after N events, made-up
// 429/502/503 answers and dropped connections, before or after the request
// reached the server. Package internal/faultproxy documents the rules.
//
//	agentsession-faultproxy -target http://127.0.0.1:8080 -listen 127.0.0.1:0 -config faults.yaml -seed 7
//
// Once listening it prints "listening on http://HOST:PORT" on stdout (the
// real port when -listen asks for port 0). The admin endpoints
// (GET /__faultproxy/stats, POST /__faultproxy/reset,
// GET and PUT /__faultproxy/config) are answered by the proxy and never
// forwarded. SIGINT or SIGTERM stop it gracefully. Logs go to stderr and
// never contain a header, so never a token.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
