package agentsession

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/agentsession/agentsession/retry"
)

// NewIdempotencyKey returns a fresh random key (128 bits from crypto/rand).
// The SDK makes one per state-changing call by itself; use this to make a
// key you store and reuse across process restarts.
func NewIdempotencyKey() string { return rand.Text() }

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	query             url.Values // list filters the sessions package sets (sdkclient.Query)
	idempotencyKey    string
	requestID         string
	header            http.Header
	onAttempt         []func(retry.Attempt)
	attemptTimeout    time.Duration
	attemptTimeoutSet bool
}

// IdempotencyKey makes a state-changing call use key instead of a fresh
// random one, so that repeating the call (even from another process) never
// does the work twice. Ignored by reads.
func IdempotencyKey(key string) CallOption {
	return func(o *callOptions) { o.idempotencyKey = key }
}

// RequestID sends id as X-Request-Id; the server echoes it in its logs and
// errors (up to 128 characters of A-Z a-z 0-9 . _ -).
func RequestID(id string) CallOption {
	return func(o *callOptions) { o.requestID = id }
}

// Header sets an extra request header.
func Header(key, value string) CallOption {
	return func(o *callOptions) {
		if o.header == nil {
			o.header = make(http.Header)
		}
		o.header.Set(key, value)
	}
}

// AttemptTimeout overrides the client's per-attempt timeout for this call
// (0: none).
func AttemptTimeout(d time.Duration) CallOption {
	return func(o *callOptions) { o.attemptTimeout, o.attemptTimeoutSet = d, true }
}

// OnAttempt calls fn after every HTTP attempt of the call, retried or not,
// in order.
func OnAttempt(fn func(retry.Attempt)) CallOption {
	return func(o *callOptions) {
		if fn != nil {
			o.onAttempt = append(o.onAttempt, fn)
		}
	}
}

// Response describes the answer to a successful call.
type Response struct {
	StatusCode int
	Header     http.Header
	// RequestID is the answer's X-Request-Id.
	RequestID string
	// IdempotencyKey is the key the request carried, "" when none.
	IdempotencyKey string
	// Replayed is true when the server answered from its idempotency
	// record (Idempotent-Replayed: true) instead of doing the work again.
	Replayed bool
	// Attempts is how many HTTP attempts the call took.
	Attempts int
}

// Do sends req (typically built with a gen.New*Request builder from
// BaseURL) through the SDK's request path and decodes a 2xx JSON answer into
// out (nil: discard it). A non-2xx answer is an *APIError; no answer, or an
// answer whose body was cut short once retries ran out, is a
// *TransportError. Redirects are not followed (the API has none): a 3xx is
// an *APIError. Every service package calls Do; use it for anything they do
// not wrap.
func (c *Client) Do(ctx context.Context, req *http.Request, out any, opts ...CallOption) (*Response, error) {
	res, meta, err := c.send(ctx, req, false, opts)
	if err != nil {
		return meta, err
	}
	if out == nil {
		return meta, nil
	}
	if err := json.Unmarshal(res.Body, out); err != nil {
		return meta, fmt.Errorf("%w: %s %s: %d answer: %v", ErrUnexpectedResponse, req.Method, redactURL(req.URL), meta.StatusCode, err)
	}
	return meta, nil
}

// Open is Do for streamed answers: on a 2xx it returns the response with
// its body unread (the caller closes it). The per-attempt timeout covers
// only the wait for the response headers.
func (c *Client) Open(ctx context.Context, req *http.Request, opts ...CallOption) (*http.Response, *Response, error) {
	res, meta, err := c.send(ctx, req, true, opts)
	return res.Response, meta, err
}

// CheckResponse returns nil for a 2xx response and the SDK's typed error
// otherwise (reading and closing the body), for responses obtained through
// Gen or HTTPClient.
func (c *Client) CheckResponse(resp *http.Response) error {
	if resp.StatusCode < 300 {
		return nil
	}
	return c.apiError(resp.StatusCode, resp.Header, readErrorBody(resp), resp.Request, 0, "")
}

// send is the one request path: headers, one idempotency key for every
// attempt, the retry layer (which counts the attempts), typed errors and the
// log line. res.Response is nil unless err is.
func (c *Client) send(ctx context.Context, req *http.Request, stream bool, opts []CallOption) (retry.Result, *Response, error) {
	var o callOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	for k, v := range o.header {
		req.Header[k] = v
	}
	if len(o.query) > 0 {
		q := req.URL.Query()
		for k, v := range o.query {
			q[k] = v
		}
		req.URL.RawQuery = q.Encode()
	}
	if o.requestID != "" {
		req.Header.Set("X-Request-Id", o.requestID)
	}
	key := c.setHeaders(req, o.idempotencyKey)
	if !stateChanging(req.Method) && o.idempotencyKey == "" {
		key = ""
	}
	call := retry.Call{AttemptTimeout: c.attemptTimeout, Stream: stream}
	if o.attemptTimeoutSet {
		call.AttemptTimeout = o.attemptTimeout
	}
	switch hooks := o.onAttempt; len(hooks) {
	case 0:
	case 1:
		call.OnAttempt = hooks[0]
	default:
		call.OnAttempt = func(a retry.Attempt) {
			for _, fn := range hooks {
				fn(a)
			}
		}
	}

	req = req.WithContext(ctx)
	start := time.Now()
	// Straight to the retry layer: the headers are set, and the API has no
	// redirects to follow (a 3xx is returned as an *APIError).
	res, err := c.retry.Do(req, call)
	meta := &Response{IdempotencyKey: key, Attempts: res.Attempts}
	if err != nil {
		err = c.transportFailure(ctx, req, meta, err)
		c.log(ctx, req, 0, meta, start, err)
		return res, meta, err
	}
	resp := res.Response
	meta.StatusCode, meta.Header = resp.StatusCode, c.redactHeader(resp.Header)
	meta.RequestID = c.redact(resp.Header.Get("X-Request-Id"))
	meta.Replayed = resp.Header.Get("Idempotent-Replayed") == "true"
	if resp.StatusCode >= 300 {
		body := res.Body // read within the attempt, unless the call is a stream
		if stream {
			body = readErrorBody(resp)
		}
		err := c.apiError(resp.StatusCode, resp.Header, body, req, meta.Attempts, key)
		c.log(ctx, req, resp.StatusCode, meta, start, err)
		return retry.Result{Attempts: res.Attempts}, meta, err
	}
	c.log(ctx, req, resp.StatusCode, meta, start, nil)
	return res, meta, nil
}

// apiError builds the typed error of a non-2xx answer.
func (c *Client) apiError(status int, header http.Header, body []byte, req *http.Request, attempts int, key string) error {
	e := c.newAPIError(status, header, body)
	e.Attempts, e.IdempotencyKey = attempts, key
	if req != nil {
		e.Method, e.URL = req.Method, redactURL(req.URL)
	}
	return e
}

// readErrorBody reads (a bounded part of) an answer's body and closes it.
func readErrorBody(resp *http.Response) []byte {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	closeBody(resp.Body)
	return body
}

// transportFailure turns an error of the retry layer into the SDK's typed
// error: the last answer when retries were interrupted, else a
// *TransportError.
func (c *Client) transportFailure(ctx context.Context, req *http.Request, meta *Response, err error) error {
	method, u := req.Method, redactURL(req.URL)
	var ie *retry.InterruptedError
	if errors.As(err, &ie) {
		if ie.LastStatus > 0 {
			e := c.newAPIError(ie.LastStatus, ie.LastHeader, ie.LastBody)
			e.Method, e.URL, e.Attempts, e.IdempotencyKey, e.Err = method, u, meta.Attempts, meta.IdempotencyKey, ie.Err
			return e
		}
		return &TransportError{Method: method, URL: u, Attempts: meta.Attempts, Err: ie.LastErr, ContextErr: ie.Err}
	}
	return &TransportError{Method: method, URL: u, Attempts: meta.Attempts, Err: err, ContextErr: ctx.Err()}
}

func (c *Client) log(ctx context.Context, req *http.Request, status int, meta *Response, start time.Time, err error) {
	if c.logger == nil {
		return
	}
	// A 4xx is an answer the caller handles; a 5xx or no answer is trouble.
	level := slog.LevelDebug
	if err != nil && (status == 0 || status >= 500) {
		level = slog.LevelWarn
	}
	if !c.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int("status", status),
		slog.Int("attempts", meta.Attempts),
		slog.Duration("duration", time.Since(start)),
	}
	if meta.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", meta.RequestID))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, level, "agentsession call", attrs...)
}

// redactURL returns u without userinfo, query and fragment.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return v.String()
}

// closeBody drains a little of the body so the connection can be reused.
func closeBody(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 4<<10)
	_ = rc.Close()
}
