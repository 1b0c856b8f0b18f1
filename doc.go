// Package agentsession is the Go SDK of the Agent Session API: create
// sessions with an AI agent, send turns and stream their events, and track
// the work through its lifecycle.
//
// This package is the shared plumbing: the Client, its options, the typed
// errors and the one request path every call takes. The rest lives beside
// it:
//
//   - sessions: the session handle, *sessions.Session, which carries every
//     verb (turns and streams, cancel, close, history, child sessions,
//     files, and the lifecycle: pause, resume, end, continue, handoff, work
//     log, artifacts, context, replay);
//   - lifecycle: the lifecycle's vocabulary (statuses and the state machine,
//     work-log entries, artifacts, handoff notes);
//   - retry: the retry policy (usable on its own);
//   - record: the local JSONL record of every turn;
//   - gen: the bindings generated from openapi.yaml, for anything else.
//
// # Client
//
//	c, err := agentsession.NewClient(
//		agentsession.WithBaseURL("https://agents.example.com"),
//		agentsession.WithToken(token),
//	)
//	s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: "echo"})
//	res, err := s.Turn(ctx, "Summarise the open pull requests.")
//
// Without WithBaseURL and WithToken, NewClient reads AGENTSESSION_BASE_URL
// and AGENTSESSION_TOKEN (WithoutEnvironment turns that off). Other options
// set the HTTP client or any Doer, the retry policy, a User-Agent suffix, a
// *slog.Logger, a per-attempt timeout and the turn record directory. An
// invalid option is an error, never a panic. A Client is safe for concurrent
// use; create one and share it: it also keeps the order of each session's
// turns (see sessions.Session.Turn).
//
// # One request path
//
// Every call goes through Client.Do (Client.Open for event streams): it
// sets the Authorization and User-Agent ("agentsession-go/<Version>")
// headers, gives each POST and PATCH one random Idempotency-Key (crypto/rand)
// that every retry of the call reuses, retries per the policy (reading each
// answer within its attempt, so that one cut short is retried), records the
// X-Request-Id, turns non-2xx answers into typed errors and decodes the
// answer. Per-call options (IdempotencyKey, RequestID, AttemptTimeout,
// OnAttempt, Header) adjust one call. Build any request with the gen
// package's New*Request builders and BaseURL to use the same path; Gen
// returns the generated client, wired to the same HTTP stack.
//
// # Errors
//
// A call fails with one of:
//
//   - *APIError: the server answered non-2xx. It carries the status, the
//     problem's code, title and detail, field errors, the request id, the
//     idempotency key, the number of attempts, the server's Retry-After and
//     a bounded copy of the body (also when it was empty or not JSON).
//     errors.Is matches it against ErrAuth (401/403), ErrNotFound,
//     ErrConflict, ErrInvalidTransition, ErrBusy, ErrSessionPaused,
//     ErrSessionEnded, ErrSpawnLimit, ErrValidation (400/413/415/422),
//     ErrTooLarge (413), ErrRateLimited, ErrServer (5xx) and
//     ErrAgentStartFailed (502 agent_start_failed). Its Code is a
//     gen.ProblemCode: compare it with the gen.ProblemCode* constants; a
//     code newer than this SDK is kept as sent.
//   - *TransportError: no answer arrived (connection failure, timeout), or
//     every attempt's answer was cut short; it wraps the network error.
//
// A cancelled context gives an error matching context.Canceled. When the
// context's deadline passes while retries wait, the error matches
// context.DeadlineExceeded and errors.As still finds the last *APIError.
// No error string, log line or turn record ever contains the token, even
// when a server echoes it.
//
//	_, err := s.Turn(ctx, prompt, sessions.WithBusyPolicy(sessions.BusyEnqueue))
//	var ae *agentsession.APIError
//	switch {
//	case errors.Is(err, agentsession.ErrNotFound):
//		// gone, or another tenant's
//	case errors.As(err, &ae) && ae.Code == gen.ProblemCodeTurnQueueFull:
//		// ErrBusy, and more precisely: the session's turn queue is full
//	case errors.As(err, &ae):
//		log.Printf("status %d code %s request %s", ae.StatusCode, ae.Code, ae.RequestID)
//	}
//
// # Retries and timeouts
//
// By default (retry.DefaultPolicy) a call makes up to 4 attempts: after a
// connection failure, an answer cut short, or a 408, 429, 500, 502, 503 or
// 504, with exponential backoff and full jitter, honouring Retry-After up to
// a cap, within a retry budget shared by the client; never after a problem
// whose code is final (retry.DefaultFinalProblemCodes: 502
// agent_start_failed, for which the server already waited). GET and DELETE are
// retried; POST and PATCH are retried because the SDK always sends an
// Idempotency-Key, so the server answers a retry with the stored result.
// The context's deadline covers every attempt and wait; WithAttemptTimeout
// bounds each attempt.
package agentsession
