package refserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/agentsession/agentsession/gen"
	genserver "github.com/agentsession/agentsession/gen/server"
	"github.com/agentsession/agentsession/refserver/store"
)

// problemTypeBase prefixes every problem's type URI.
const problemTypeBase = "https://agentsession.dev/problems/"

// problemTitles are the titles of the contract's problem codes; the codes
// themselves are generated from its ProblemCode schema.
var problemTitles = map[gen.ProblemCode]string{
	gen.ProblemCodeInvalidRequest:        "Invalid request",
	gen.ProblemCodeInvalidCursor:         "Invalid cursor",
	gen.ProblemCodeUnauthorized:          "Unauthorized",
	gen.ProblemCodeNotFound:              "Not found",
	gen.ProblemCodeMethodNotAllowed:      "Method not allowed",
	gen.ProblemCodeInvalidTransition:     "Invalid transition",
	gen.ProblemCodeTurnInProgress:        "Turn in progress",
	gen.ProblemCodeTurnQueueFull:         "Turn queue full",
	gen.ProblemCodeSessionPaused:         "Session paused",
	gen.ProblemCodeSessionEnded:          "Session ended",
	gen.ProblemCodeSpawnLimitExceeded:    "Spawn limit exceeded",
	gen.ProblemCodeIdempotencyInProgress: "Idempotency key in progress",
	gen.ProblemCodePayloadTooLarge:       "Payload too large",
	gen.ProblemCodeUnsupportedMediaType:  "Unsupported media type",
	gen.ProblemCodeUnknownAgent:          "Unknown agent",
	gen.ProblemCodeUnknownFile:           "Unknown file",
	gen.ProblemCodeIdempotencyKeyReused:  "Idempotency key reused",
	gen.ProblemCodeRateLimited:           "Too many requests",
	gen.ProblemCodeInternal:              "Internal server error",
	gen.ProblemCodeRequestTimeout:        "Request timeout",
	gen.ProblemCodeTurnEnded:             "Turn ended",
	gen.ProblemCodePermissionResolved:    "Permission request resolved",
	gen.ProblemCodeUnknownOption:         "Unknown option",
	gen.ProblemCodeUnsupportedBusyPolicy: "Unsupported busy policy",
	gen.ProblemCodeInvalidAgentOptions:   "Invalid agent options",
	gen.ProblemCodeAgentStartFailed:      "Agent start failed",
}

// apiError is the one error type handlers and middleware return for an
// answer other than success; writeProblem turns it into a problem document.
type apiError struct {
	status int
	code   gen.ProblemCode
	detail string
	fields []gen.FieldError
	// retryAfter, when > 0, is sent as Retry-After (seconds).
	retryAfter int
	// allow, for 405, is sent as Allow.
	allow string
	// cause is logged for 500s, never sent.
	cause error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.code, e.detail, e.cause)
	}
	return string(e.code) + ": " + e.detail
}

func (e *apiError) Unwrap() error { return e.cause }

func newError(status int, code gen.ProblemCode, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, detail: fmt.Sprintf(format, args...)}
}

// invalidField is a 400 invalid_request about one field.
func invalidField(location, message string) *apiError {
	return &apiError{
		status: http.StatusBadRequest,
		code:   gen.ProblemCodeInvalidRequest,
		detail: location + ": " + message,
		fields: []gen.FieldError{{Location: location, Message: message}},
	}
}

func conflict(code gen.ProblemCode, format string, args ...any) *apiError {
	return newError(http.StatusConflict, code, format, args...)
}

func errSessionNotFound(id string) *apiError {
	return newError(http.StatusNotFound, gen.ProblemCodeNotFound, "No session %s.", id)
}

func internalError(cause error) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: gen.ProblemCodeInternal,
		detail: "The server failed to process the request; retrying with the same Idempotency-Key is safe.", cause: cause}
}

// asAPIError maps any error a handler returns to the answer it deserves.
// It returns nil when the client went away (nothing to answer).
func asAPIError(ctx context.Context, err error) *apiError {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrNotFound):
		return newError(http.StatusNotFound, gen.ProblemCodeNotFound, "No such resource.")
	case errors.As(err, &mbe):
		return newError(http.StatusRequestEntityTooLarge, gen.ProblemCodePayloadTooLarge,
			"The request body is over the limit of %d bytes.", mbe.Limit)
	case (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) && ctx.Err() != nil:
		return nil
	default:
		return internalError(err)
	}
}

// writeProblem writes e as an application/problem+json document. When the
// response has already started (a stream that failed midway) it can only
// log.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, e *apiError) {
	ri := info(r.Context())
	if e.status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", ri.id), slog.String("route", ri.pattern), slog.String("error", e.Error()))
	}
	if ri.wroteHeader(w) {
		return
	}
	title := problemTitles[e.code]
	if title == "" {
		title = http.StatusText(e.status)
	}
	p := gen.Problem{
		Type:      problemTypeBase + string(e.code),
		Title:     title,
		Status:    int32(e.status),
		Code:      e.code,
		Detail:    e.detail,
		Errors:    e.fields,
		RequestID: ri.id,
	}
	if r.URL != nil && r.URL.Path != "" {
		p.Instance = boundedPath(r.URL.EscapedPath())
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(p); err != nil { // cannot fail for these types
		panic(err)
	}
	h := w.Header()
	// The length is set so that the answer is complete when it is flushed,
	// before an unread body is drained (below).
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if e.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", "Bearer")
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.allow != "" {
		h.Set("Allow", e.allow)
	}
	// A body the answer does not wait for (the request failed before it was
	// read: auth, routing, a rate limit, a declared length over the limit; or
	// it did not arrive in time) must not hold the connection: net/http would
	// otherwise read what is left of it, however slowly it comes. The answer
	// goes out first; then at most drainBytes of the body are read for at
	// most drainTime, so that a client still writing a modest body reads the
	// answer instead of a connection reset, and the connection is closed.
	unread := !ri.bodyRead && (r.ContentLength != 0 || len(r.TransferEncoding) > 0)
	if unread {
		h.Set("Connection", "close")
	}
	w.WriteHeader(e.status)
	_, _ = buf.WriteTo(w)
	if unread {
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		drain := drainTime
		if ri.bodyTimedOut {
			drain = 0 // it did not come in time before; it will not now
		}
		if rc.SetReadDeadline(time.Now().Add(drain)) == nil && drain > 0 {
			_, _ = io.CopyN(io.Discard, r.Body, drainBytes)
		}
	}
}

// What an answer that did not read the request's body still reads of it
// before the connection is closed (net/http's own bound is 256 KiB).
const (
	drainBytes = 256 << 10
	drainTime  = time.Second
)

// handleError is the error handler of the strict server and of the
// generated parameter binding: one place maps errors to problems.
func (s *Server) handleError(w http.ResponseWriter, r *http.Request, err error) {
	if e := asAPIError(r.Context(), err); e != nil {
		s.writeProblem(w, r, e)
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "client went away",
		slog.String("request_id", info(r.Context()).id), slog.String("error", err.Error()))
}

// handleRequestError maps a request the strict server could not decode (a
// body that passed validation but not Go's decoder, such as an int32
// overflow) to 400 invalid_request.
func (s *Server) handleRequestError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeProblem(w, r, &apiError{status: http.StatusBadRequest, code: gen.ProblemCodeInvalidRequest,
		detail: err.Error(), fields: []gen.FieldError{{Location: "body", Message: err.Error()}}})
}

// handleParamError maps the generated wrapper's parameter binding errors
// to 400 invalid_request naming the parameter.
func (s *Server) handleParamError(w http.ResponseWriter, r *http.Request, err error) {
	name := ""
	var ipf *genserver.InvalidParamFormatError
	var req *genserver.RequiredParamError
	var rh *genserver.RequiredHeaderError
	var tm *genserver.TooManyValuesForParamError
	var um *genserver.UnmarshalingParamError
	switch {
	case errors.As(err, &ipf):
		name = ipf.ParamName
	case errors.As(err, &req):
		name = req.ParamName
	case errors.As(err, &rh):
		name = rh.ParamName
	case errors.As(err, &tm):
		name = tm.ParamName
	case errors.As(err, &um):
		name = um.ParamName
	}
	loc := "request"
	if name != "" {
		loc = s.paramLocation(info(r.Context()).route, name)
	}
	s.writeProblem(w, r, invalidField(loc, err.Error()))
}
