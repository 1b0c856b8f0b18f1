// Package faultproxy is an HTTP proxy that injects faults between a client
// and one target server, so that a client (each SDK's scenario runner) can
// be shown to lose nothing and duplicate nothing when the network and the
// server misbehave. Package cmd/agentsession-faultproxy runs it as a
// command; README.md shows it in front of the reference server.
//
//	p, err := faultproxy.New(target, faultproxy.Config{Rules: []faultproxy.Rule{{
//		Match:    faultproxy.Match{Methods: []string{"POST"}, Path: `^/v1/sessions/[^/]+/turns$`},
//		Schedule: faultproxy.Schedule{PerRequest: 1},
//		Fault:    faultproxy.Fault{Kind: faultproxy.KindReset, AfterBytes: 16},
//	}}})
//
// In tests, Start(t, targetURL, cfg) serves a proxy on loopback and closes
// it at the end of the test.
//
// # Forwarding
//
// A request that no rule faults is forwarded as it came (method, path below
// the target's path prefix, query, headers but the hop-by-hop ones, body)
// and its answer copied back as the server sent it: status, headers,
// Content-Length or chunked, the body not recompressed. Every read of the
// answer's body is written and flushed at once, so a text/event-stream
// (keep-alive comments included) passes frame by frame, never held back.
// The request body is read ahead (up to 32 MiB) for the request's identity
// (below). A target that does not answer gives a 502 with a text body,
// counted in Stats.UpstreamErrors, not as a fault.
//
// # Faults
//
// Each rule has one fault. "Never reaches the server" and "reaches it, the
// answer is lost" differ on purpose: the first tests that a client
// retries, the second that its retry is idempotent (the Idempotency-Key
// makes the server replay its first answer instead of doing the work
// twice).
//
//   - reset (after_bytes N): the request is forwarded; the status line,
//     headers (with the server's Content-Length, if any) and the first N
//     body bytes are sent, then the connection is closed with a TCP reset
//     (SO_LINGER 0). The client sees its body read fail with "connection
//     reset by peer" (ECONNRESET); its kernel may drop some of the N bytes.
//     The cut is always inside the body: N at or beyond a known length L
//     becomes L-1; a chunked body shorter than N is reset before its last
//     chunk. N = 0 resets right after the headers. An answer without a body
//     (HEAD, 204, 304, Content-Length 0) is left alone and counted as
//     skipped.
//   - truncate (after_bytes N): like reset, but the answer declares its
//     whole length in Content-Length (a chunked, non-stream answer of up to
//     16 MiB is read whole first to learn it), only min(N, L-1) bytes are
//     sent and the connection is closed in order (FIN). The client reads a
//     short body and io.ErrUnexpectedEOF (or its language's equivalent). A
//     stream is sent N bytes without its last chunk.
//   - stall (duration D, then deliver|drop, after_response): the response
//     headers are held back for D. Without after_response the stall comes
//     before forwarding: "deliver" then forwards and copies the answer,
//     "drop" closes the connection and the request never reaches the
//     server. With after_response the request is forwarded first and the
//     server's answer held back for D, then delivered or dropped (the
//     request reached the server, its answer is lost). A client that gives
//     up during the stall ends it: nothing more is forwarded. rst makes the
//     drop a TCP reset.
//   - sse_cut (after_events N, mid_frame, rst): the request is forwarded and
//     the text/event-stream answer parsed as it passes (lines end with LF,
//     CRLF or CR). Frames that have an "id" field are counted; right after
//     the blank line that dispatches the Nth, the connection is closed (FIN,
//     or a reset with rst), without the last chunk, so the client sees the
//     stream end early. Comment lines (": keep-alive") and frames without an
//     id (turn.accepted, turn.completed) pass through and never count; a
//     keep-alive right after the Nth frame is not sent. With mid_frame the
//     next frame that has any field (the N+1th event, or turn.completed) is
//     also sent, all but the blank line that would dispatch it, so a correct
//     client must discard it. A stream with fewer than N id frames passes
//     whole and the fault counts as skipped.
//   - status (status S, retry_after, retry_after_ms, after_response): the
//     proxy answers S itself. Without after_response the request never
//     reaches the server; with it the request is forwarded, the server's
//     answer read (a stream only to its headers) and discarded, then S is
//     sent. Retry-After is retry_after seconds when given, 1 for a 429
//     without it, absent otherwise; retry_after_ms adds Retry-After-Ms. A
//     429 has an application/problem+json body shaped like the reference
//     server's (code rate_limited); any other status a short text/plain body,
//     as a gateway would send. Both carry X-Request-Id (faultproxy-<n>) and
//     X-Faultproxy-Rule (the rule's name).
//   - drop (after_response, rst): the connection is closed without any
//     answer: before forwarding (the request never reaches the server) or,
//     with after_response, once the server has answered (read and
//     discarded as for status). rst makes the close a TCP reset. Note that
//     an HTTP client may resend a request dropped on a reused keep-alive
//     connection by itself (Go does for idempotent requests, and treats a
//     request with an Idempotency-Key header as idempotent); the proxy sees
//     and counts that resend as another attempt.
//
// Cuts and drops need an HTTP/1.x connection the proxy can take over; on
// HTTP/2 the handler aborts instead, which resets the stream.
//
// # Rules
//
// A Config holds rules and a seed. A Match selects a request when each
// field given matches: methods, case-insensitive; path, an RE2 regexp
// searched in the URL path (anchor it with ^ and $); path_prefix; stream,
// true when the Accept header lists text/event-stream, false when it does
// not; body, an RE2 regexp searched in the request body (a marker a test
// puts in a prompt addresses that one request, whatever its session id).
// For each request (admin requests excepted) the rules are tried from
// the highest priority down, ties in config order, like firewall rules:
// each rule that matches sees the request and counts it, and the first
// whose Schedule fires takes it; the rules after it never see that
// request, and a request gets at most one fault. With n the number of
// requests the rule has seen, a Schedule fires when all of these hold:
//
//   - n > skip;
//   - first is 0, or n - skip <= first;
//   - every is 0, or (n - skip) is a multiple of every;
//   - limit is 0, or the rule has chosen fewer than limit requests;
//   - per_request is 0, or this rule has faulted fewer than per_request
//     attempts of the same logical request;
//   - probability is absent, or a draw from the rule's generator (seeded
//     by Config.Seed and the rule's position in the config) is below it;
//     the draw is made for every request the rule sees.
//
// Config.MaxPerRequest caps the faults of one logical request across all
// rules: once reached, no rule takes that request (each matching rule still
// counts it). A logical request is identified by method, path and the
// Idempotency-Key header, or method, path and a SHA-256 of the body when
// there is no key: the attempts of one SDK call share it (an SDK makes up
// to 4), so per_request 1 to 3 lets a correct client through while each
// new call is faulted again. The same seed and the same sequence of
// requests inject the same faults.
//
// # Admin endpoints and counters
//
// Paths under /__faultproxy/ are answered by the proxy and never forwarded:
//
//	GET  /__faultproxy/stats   Stats as JSON: requests seen, forwarded,
//	                           upstream errors, faults in total and by kind,
//	                           and per rule matched, faults and skipped
//	POST /__faultproxy/reset   zero the counters and restart the schedules (204)
//	GET  /__faultproxy/config  the Config in force, as JSON
//	PUT  /__faultproxy/config  replace it with a JSON or YAML document (200
//	                           with the new Config; 400 and no change when it
//	                           is invalid); counters start from zero
//
// A fault counts in Stats when it is carried out; one chosen but given
// nothing to act on (an empty body, a short stream, a client that left
// first) counts as skipped. Proxy.Stats, Reset and SetConfig do the same in
// Go.
//
// # Secrets
//
// Headers are forwarded but never logged, counted or kept: logs (WithLogger)
// carry method, path, rule, kind and a short digest of the request's
// identity, so a bearer token never appears in them or in the stats.
package faultproxy
