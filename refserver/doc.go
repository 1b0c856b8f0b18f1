// Package refserver is the reference server of the Agent Session API: it
// implements every operation of openapi.yaml through the generated strict
// server (package gen/server), so the SDK can be tried on one machine and the
// conformance suite has a known-good target.
//
// Use it as an http.Handler:
//
//	st, err := store.OpenSQLite("agentsession.db")
//	...
//	srv, err := refserver.New(refserver.Config{Store: st, Tokens: []string{"dev-token"}})
//	...
//	hs := &http.Server{Addr: "127.0.0.1:8080", Handler: srv}
//	go hs.ListenAndServe()
//	...
//	srv.Shutdown(ctx) // ends running turns so streams finish cleanly
//	hs.Shutdown(ctx)
//	st.Close()
//
// Tests start it with package refservertest; cmd/agentsession-server is the
// binary.
//
// # What it does per request
//
// Middleware, in order: X-Request-Id (echoed when valid, else generated;
// set on every response) and one access-log line per request → panic
// recovery (500 problem) → bearer auth (every token is a tenant, known by a
// digest of the token; getHealth needs none) → optional per-tenant rate
// limit → routing (an unknown route is a 404 problem, a known path with
// another method a 405 problem with Allow) → body limit (413) and media
// type (415) → validation against the embedded spec (400 invalid_request
// listing each field) → the operation. Every error is an RFC 9457 problem
// document whose code is one of the contract's ProblemCode list
// (gen.ProblemCode*).
//
// State-changing requests honour Idempotency-Key: the answer is stored in
// the same transaction as the change it reports and replayed with
// Idempotent-Replayed: true; a failed request stores nothing.
//
// Turns run in a per-session runner (one running turn, a FIFO queue) that
// stores every event before broadcasting it; streams read live events from
// the runner and ended turns from the store, and a JSON turn is answered
// from the runner's memory. A turn's acceptance may be committed with its
// first write (store.Deferrer); turn.accepted and the JSON answer wait for
// that commit. On start the server ends the turns an unclean stop left
// running; Shutdown ends the running ones.
//
// # Metrics
//
// With Config.Metrics (NewMetrics), the server records Prometheus metrics:
// requests by operation and status, turns running and queued, open
// streams, store writes and (with store.WithCommitObserver) SQLite commits.
// Serve Metrics.Handler on a listener of its own: the API never serves it.
package refserver
