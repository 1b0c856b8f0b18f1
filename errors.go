package agentsession

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/retry"
)

// Sentinel errors. Every *APIError matches the ones that fit its status and
// problem code with errors.Is, so callers never compare codes by hand:
//
//	if errors.Is(err, agentsession.ErrNotFound) { ... }
var (
	// ErrAuth: 401 or 403, the token is missing, unknown or not allowed.
	ErrAuth = errors.New("agentsession: not authorized")
	// ErrNotFound: 404, no such resource for this tenant.
	ErrNotFound = errors.New("agentsession: not found")
	// ErrConflict: any 409, the request conflicts with the resource's state.
	ErrConflict = errors.New("agentsession: conflict")
	// ErrInvalidTransition: 409 invalid_transition, the lifecycle forbids the change.
	ErrInvalidTransition = errors.New("agentsession: invalid lifecycle transition")
	// ErrBusy: 409 turn_in_progress or turn_queue_full, the session is working
	// on another turn (busy policy reject) or its queue is full (enqueue).
	ErrBusy = errors.New("agentsession: session busy")
	// ErrSessionPaused: 409 session_paused, resume the session first.
	ErrSessionPaused = errors.New("agentsession: session paused")
	// ErrSessionEnded: 409 session_ended, the session accepts no more work.
	ErrSessionEnded = errors.New("agentsession: session ended")
	// ErrSpawnLimit: 409 spawn_limit_exceeded, a child-session cap was hit.
	ErrSpawnLimit = errors.New("agentsession: spawn limit exceeded")
	// ErrPermissionResolved: 409 permission_resolved, the permission
	// request was already answered with another option, or cancelled.
	ErrPermissionResolved = errors.New("agentsession: permission request already resolved")
	// ErrTurnEnded: 409 turn_ended, the turn to cancel has already ended.
	ErrTurnEnded = errors.New("agentsession: turn already ended")
	// ErrValidation: 400, 413, 415 or 422, the server rejected the request's
	// content (invalid_request, invalid_cursor, unknown_agent, unknown_file,
	// idempotency_key_reused, payload_too_large, ...). APIError.FieldErrors
	// lists the fields.
	ErrValidation = errors.New("agentsession: invalid request")
	// ErrUnknownOption: 422 unknown_option, the permission request offers
	// no option with that id. It also matches ErrValidation.
	ErrUnknownOption = errors.New("agentsession: the permission request offers no such option")
	// ErrUnsupportedBusyPolicy: 422 unsupported_busy_policy, the session's
	// agent cannot take that busy policy (steer). It also matches
	// ErrValidation.
	ErrUnsupportedBusyPolicy = errors.New("agentsession: busy policy not supported by the agent")
	// ErrInvalidAgentOptions: 422 invalid_agent_options, an agent option
	// the agent does not declare or a value of the wrong type or outside
	// its allowed values; APIError.FieldErrors names each. It also matches
	// ErrValidation.
	ErrInvalidAgentOptions = errors.New("agentsession: invalid agent options")
	// ErrTooLarge: 413 payload_too_large, a request body or an upload is
	// larger than the server accepts (Capabilities.Limits says how large).
	// It also matches ErrValidation.
	ErrTooLarge = errors.New("agentsession: request too large")
	// ErrRateLimited: 429; APIError.RetryAfter holds the server's delay.
	ErrRateLimited = errors.New("agentsession: rate limited")
	// ErrAgentStartFailed: 502 agent_start_failed, the session's agent
	// could not be started (missing command, exited at start, or no ACP
	// initialize within its start timeout); APIError.Detail names the agent
	// and the reason. The server already waited, so it is not retried. It
	// also matches ErrServer.
	ErrAgentStartFailed = errors.New("agentsession: agent could not be started")
	// ErrServer: any 5xx.
	ErrServer = errors.New("agentsession: server error")
	// ErrUnexpectedResponse: a whole 2xx answer the SDK could not decode.
	ErrUnexpectedResponse = errors.New("agentsession: unexpected response")
	// ErrCursorLoop: a list's server handed out the page cursor it was
	// just given, which would make the walk endless; the iterator stops
	// with this error after the items it yielded.
	ErrCursorLoop = errors.New("agentsession: the server returned the same page cursor again")
)

// maxErrorBody bounds how much of an error response is kept in APIError.Body.
const maxErrorBody = 64 << 10

// maxSnippet bounds the part of a non-problem body quoted in Error().
const maxSnippet = 200

// APIError is a non-2xx answer from the server. It carries the RFC 9457
// problem document when the server sent one, and a bounded copy of the raw
// body in any case (also when it was empty or not JSON).
//
// When the call's context ended while retries were waiting, Err holds the
// context's error, so errors.Is(err, context.DeadlineExceeded) holds and
// errors.As still finds the last answer.
type APIError struct {
	StatusCode int // the HTTP status of the last answer
	// Code is the problem's machine-readable code, "" when the body had
	// none: compare it with the gen.ProblemCode constants (a code newer than
	// this SDK is kept as sent).
	Code     gen.ProblemCode
	Title    string
	Detail   string
	Type     string
	Instance string
	// FieldErrors lists the offending fields of a validation failure.
	FieldErrors []gen.FieldError
	// RequestID is the X-Request-Id header (or the problem's request_id):
	// quote it when reporting a problem.
	RequestID string
	// IdempotencyKey is the key the request carried, "" when none.
	IdempotencyKey string
	// Attempts is how many HTTP attempts the call made (1 without retries).
	Attempts int
	// RetryAfter is the delay the server asked for (Retry-After or
	// Retry-After-Ms), 0 when it asked for none.
	RetryAfter time.Duration
	// Method and URL identify the request; URL has no query and no userinfo.
	Method string
	URL    string
	// Header is the last answer's header.
	Header http.Header
	// Body is the start of the raw body (at most 64 KiB).
	Body []byte
	// Err is the context's error when the call was interrupted while
	// retrying, nil otherwise.
	Err error
}

// Error describes the failure in one line; it never contains the token.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("agentsession: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.URL + ": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" " + string(e.Code))
	} else if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	switch {
	case e.Detail != "":
		b.WriteString(": " + e.Detail)
	case e.Title != "":
		b.WriteString(": " + e.Title)
	case e.Code == "":
		b.WriteString(": " + snippet(e.Body))
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Err != nil {
		b.WriteString("; gave up: " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the context error of an interrupted call, or nil.
func (e *APIError) Unwrap() error { return e.Err }

// Is reports whether the error is in the class of the sentinel target.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrAuth:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrInvalidTransition:
		return e.StatusCode == http.StatusConflict && e.Code == gen.ProblemCodeInvalidTransition
	case ErrBusy:
		return e.StatusCode == http.StatusConflict && (e.Code == gen.ProblemCodeTurnInProgress || e.Code == gen.ProblemCodeTurnQueueFull)
	case ErrSessionPaused:
		return e.StatusCode == http.StatusConflict && e.Code == gen.ProblemCodeSessionPaused
	case ErrSessionEnded:
		return e.StatusCode == http.StatusConflict && e.Code == gen.ProblemCodeSessionEnded
	case ErrSpawnLimit:
		return e.StatusCode == http.StatusConflict && e.Code == gen.ProblemCodeSpawnLimitExceeded
	case ErrPermissionResolved:
		return e.StatusCode == http.StatusConflict && e.Code == gen.ProblemCodePermissionResolved
	case ErrTurnEnded:
		return e.StatusCode == http.StatusConflict && e.Code == gen.ProblemCodeTurnEnded
	case ErrUnknownOption:
		return e.StatusCode == http.StatusUnprocessableEntity && e.Code == gen.ProblemCodeUnknownOption
	case ErrUnsupportedBusyPolicy:
		return e.StatusCode == http.StatusUnprocessableEntity && e.Code == gen.ProblemCodeUnsupportedBusyPolicy
	case ErrInvalidAgentOptions:
		return e.StatusCode == http.StatusUnprocessableEntity && e.Code == gen.ProblemCodeInvalidAgentOptions
	case ErrValidation:
		switch e.StatusCode {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			return true
		}
		return false
	case ErrTooLarge:
		return e.StatusCode == http.StatusRequestEntityTooLarge
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrAgentStartFailed:
		return e.StatusCode == http.StatusBadGateway && e.Code == gen.ProblemCodeAgentStartFailed
	case ErrServer:
		return e.StatusCode >= 500
	}
	return false
}

// Temporary reports whether the same request may succeed later (the statuses
// the default retry policy retries, without its final problem codes).
func (e *APIError) Temporary() bool {
	if slices.Contains(retry.DefaultFinalProblemCodes(), string(e.Code)) {
		return false
	}
	switch e.StatusCode {
	case 408, 429, 500, 502, 503, 504:
		return true
	}
	return false
}

// RetryAfter returns the delay the server asked for when err is (or wraps)
// an *APIError that carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter, true
	}
	return 0, false
}

// TransportError means no answer arrived: the connection failed, timed out or
// the call's context ended before a response. Err is the underlying network
// or context error, so errors.Is(err, context.Canceled) works.
type TransportError struct {
	Method string
	URL    string // no query, no userinfo
	// Attempts is how many HTTP attempts the call made.
	Attempts int
	// Err is the last network error (unwrapped from *url.Error, whose text
	// would repeat the URL with its query).
	Err error
	// ContextErr is the call context's error when it ended, nil otherwise.
	ContextErr error
}

// Error describes the failure in one line; it never contains the token.
func (e *TransportError) Error() string {
	var b strings.Builder
	b.WriteString("agentsession: " + e.Method + " " + e.URL + ": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else if e.ContextErr != nil {
		b.WriteString(e.ContextErr.Error())
	} else {
		b.WriteString("no response")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.ContextErr != nil && e.Err != nil && !errors.Is(e.Err, e.ContextErr) {
		b.WriteString("; gave up: " + e.ContextErr.Error())
	}
	return b.String()
}

// Unwrap returns the network error and, when the context ended, its error.
func (e *TransportError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.ContextErr != nil {
		errs = append(errs, e.ContextErr)
	}
	return errs
}

// Timeout reports whether the failure was a timeout.
func (e *TransportError) Timeout() bool {
	var te interface{ Timeout() bool }
	return errors.As(e.Err, &te) && te.Timeout()
}

// newAPIError builds an *APIError from a status, header and (bounded) body,
// with the token redacted from every text the server sent back.
func (c *Client) newAPIError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status, Header: c.redactHeader(header), Body: body}
	if header != nil {
		e.RequestID = header.Get("X-Request-Id")
		e.RetryAfter, _ = retry.ServerDelay(&http.Response{Header: header})
	}
	if len(body) > 0 {
		var p gen.Problem
		if json.Unmarshal(body, &p) == nil {
			e.Code, e.Title, e.Type = p.Code, p.Title, p.Type
			e.Detail, e.Instance, e.FieldErrors = p.Detail, p.Instance, p.Errors
			if e.RequestID == "" {
				e.RequestID = p.RequestID
			}
		}
	}
	e.Code = gen.ProblemCode(c.redact(string(e.Code)))
	e.Title, e.Detail, e.Type, e.Instance = c.redact(e.Title), c.redact(e.Detail), c.redact(e.Type), c.redact(e.Instance)
	e.RequestID = c.redact(e.RequestID)
	e.Body = []byte(c.redact(string(e.Body)))
	for i := range e.FieldErrors {
		e.FieldErrors[i].Location = c.redact(e.FieldErrors[i].Location)
		e.FieldErrors[i].Message = c.redact(e.FieldErrors[i].Message)
	}
	return e
}

// snippet quotes the start of a body for an error message.
func snippet(body []byte) string {
	if len(body) == 0 {
		return "empty body"
	}
	s := body
	cut := false
	if len(s) > maxSnippet {
		s, cut = s[:maxSnippet], true
		for len(s) > 0 && !utf8.Valid(s) {
			s = s[:len(s)-1]
		}
	}
	q := strconv.Quote(string(s))
	if cut {
		q += "..."
	}
	return "body " + q
}
