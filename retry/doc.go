// Package retry retries HTTP requests safely: bounded attempts, exponential
// backoff with full jitter, the server's Retry-After honoured but capped, and
// a retry budget shared by the whole client so an outage does not multiply the
// load. It is built on github.com/hashicorp/go-retryablehttp and is usable on
// its own: NewClient returns a plain *http.Client, NewTransport a *Transport
// (an http.RoundTripper).
//
//	client := retry.NewClient(retry.DefaultPolicy(), nil)
//	resp, err := client.Do(req) // req's context bounds every attempt and wait
//
// Transport.Do sends one request with the settings of a Call: a per-attempt
// timeout, a function that sees every attempt and, unless the answer is a
// stream, the body of a successful answer read within the attempt, so that a
// body cut short is retried like a dropped connection:
//
//	res, err := tr.Do(req, retry.Call{AttemptTimeout: 10 * time.Second,
//		OnAttempt: func(a retry.Attempt) { log.Println(a.Number, a.StatusCode, a.Err) }})
//	// res.Body is the whole answer; res.Attempts counts the attempts
//
// # What is retried
//
// A request is retried only when all of these hold (DefaultCheckRetry):
//
//   - its method is GET, HEAD, OPTIONS, PUT or DELETE, or it carries a
//     non-empty Idempotency-Key header (POST, PATCH and any other method);
//     every attempt sends the same headers, key included, and the same body;
//   - the attempt failed with a connection error (refused, reset, EOF, DNS,
//     timeout, including a per-attempt http.Client.Timeout or
//     Call.AttemptTimeout), got one of 408, 429, 500, 502, 503, 504, or (with
//     Transport.Do) got a 2xx answer whose body was cut short: a reset, an
//     unexpected EOF, fewer bytes than its Content-Length;
//   - the answer is not final: an application/problem+json document whose
//     "code" is in Policy.FinalProblemCodes (default DefaultFinalProblemCodes:
//     agent_start_failed) is final whatever its status; only the body of an
//     answer about to be retried is read to tell, at most 64 KiB, and the
//     caller reads it whole;
//   - fewer than Policy.MaxAttempts attempts were made (default 4 in total);
//   - the budget (Policy.Budget) can pay for the retry: 5 tokens, 10 after a
//     timeout; a request that finally succeeds pays back 1 token, or the cost
//     of its last retry;
//   - the request's context is not done.
//
// A custom Policy.CheckRetry replaces the first two rules (method and
// failure); the final problem codes, the attempt limit, the budget and the
// context still apply.
// Request bodies are resent through req.GetBody when it is set (as
// http.NewRequest does for in-memory readers), else read once into memory.
//
// # What is not retried
//
//   - POST, PATCH and other non-idempotent methods without an Idempotency-Key,
//     whatever happened: not after a 503, not after a connection error, since
//     the server may have done the work;
//   - 501 and every other status: 1xx, 2xx, 3xx, 4xx other than 408 and 429;
//   - a problem document with a final code, such as 502 agent_start_failed:
//     the server already tried to start the agent, with its own timeout, and
//     stored nothing, so a retry would repeat that wait or fail the same way;
//   - TLS and certificate errors, an unsupported URL scheme, too many
//     redirects, an invalid header or URL: they would fail the same way again;
//   - anything once the context is done.
//
// # Waits
//
// Before retry n (n = 1 after the first attempt) the wait is drawn uniformly
// from [0, min(MaxWait, MinWait·2ⁿ⁻¹)] (full jitter, default 250ms doubling
// up to 8s). When the response carries Retry-After-Ms (milliseconds) or
// Retry-After (seconds or an HTTP date), that delay is used instead, capped at
// MaxServerDelay (default 30s). A custom Policy.Backoff is capped the same way:
// at MaxServerDelay when the response asked for a delay, else at MaxWait.
//
// # What the caller gets
//
// When retrying stops, the last response is returned as a normal response with
// its body readable, so the caller can build its typed error from it; after a
// transport error, that error, never wrapped in a *url.Error (the layers
// http.Client adds are removed). A 2xx body cut short on the last attempt is
// such an error: "reading the body of the 200 answer: unexpected EOF".
// When the context ends during a wait, or during an attempt that follows a
// failed one, the wait ends at once and the error is an *InterruptedError that
// unwraps to ctx.Err() and carries the last status, header and (bounded) body.
//
// # Observing attempts
//
// Policy.OnRetry is called before each wait; Call.OnAttempt reports every
// attempt of one Transport.Do call, the last one included, with its status or
// error, duration and the wait that followed. Policy.Logger logs
// attempts through log/slog with the method, the URL without userinfo or query
// string, the status or error and the wait: never a header value, so never a
// token.
package retry
