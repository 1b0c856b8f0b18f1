package agentsession

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// The client's HTTP stack, outermost first:
//
//	headerTransport   auth, User-Agent, Accept, Idempotency-Key (once per call);
//	                  only for Gen and HTTPClient: Client.Do sets the headers itself
//	retry transport   retries per the policy (package retry)
//	attemptTransport  the per-attempt timeout
//	base              the caller's Doer or a pooled http.Transport

// headerTransport adds the SDK's headers to requests that lack them: Client.Do
// has already set them (so nothing is copied), requests of the generated
// client get them here.
type headerTransport struct {
	c    *Client
	next http.RoundTripper
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.c.needsHeaders(req) {
		req = req.Clone(req.Context()) // a RoundTripper must not modify its request
		t.c.setHeaders(req, "")
	}
	return t.next.RoundTrip(req)
}

// stateChanging reports whether the method needs an Idempotency-Key to be
// retried safely.
func stateChanging(method string) bool {
	return method == http.MethodPost || method == http.MethodPatch
}

func (c *Client) needsHeaders(req *http.Request) bool {
	h := req.Header
	return h.Get("User-Agent") != c.userAgent ||
		(c.token != "" && h.Get("Authorization") == "") ||
		h.Get("Accept") == "" ||
		(stateChanging(req.Method) && h.Get("Idempotency-Key") == "")
}

// setHeaders sets the SDK's headers on req (which the caller owns) and returns
// the Idempotency-Key it carries: key when given, else the one it already
// has, else a fresh one for POST and PATCH.
func (c *Client) setHeaders(req *http.Request, key string) string {
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	// The value slices are built once per client and shared by every request
	// (header values are read, never written in place).
	h := req.Header
	h["User-Agent"] = c.hdrUserAgent
	if c.token != "" && h.Get("Authorization") == "" {
		h["Authorization"] = c.hdrAuthorization
	}
	if h.Get("Accept") == "" {
		h["Accept"] = hdrAcceptJSON
	}
	if key != "" {
		h.Set("Idempotency-Key", key)
		return key
	}
	if key = h.Get("Idempotency-Key"); key == "" && stateChanging(req.Method) {
		key = NewIdempotencyKey()
		h.Set("Idempotency-Key", key)
	}
	return key
}

var hdrAcceptJSON = []string{"application/json"}

// doerTransport lets any Doer (such as an *http.Client) be the base of the
// stack.
type doerTransport struct{ d Doer }

func (t doerTransport) RoundTrip(req *http.Request) (*http.Response, error) { return t.d.Do(req) }

var (
	sharedTransportOnce sync.Once
	sharedTransport     *http.Transport
)

// defaultTransport is a pooled transport shared by clients without a Doer;
// it keeps more idle connections per host than http.DefaultTransport, since
// an SDK client usually talks to one host from many goroutines.
func defaultTransport() *http.Transport {
	sharedTransportOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 64
		sharedTransport = t
	})
	return sharedTransport
}

// ErrAttemptTimeout is the network error of an attempt that ran longer than
// the per-attempt timeout (WithAttemptTimeout, AttemptTimeout). Such an
// attempt is retried like a connection failure.
var ErrAttemptTimeout = errors.New("agentsession: attempt timed out")

type attemptTimeoutError struct{}

func (attemptTimeoutError) Error() string   { return ErrAttemptTimeout.Error() }
func (attemptTimeoutError) Is(t error) bool { return t == ErrAttemptTimeout }
func (attemptTimeoutError) Timeout() bool   { return true }
func (attemptTimeoutError) Temporary() bool { return true }

var errAttemptTimeout error = attemptTimeoutError{}

// attemptTransport bounds each attempt by the per-attempt timeout. For a
// stream the bound ends when the response headers arrive; otherwise it also
// covers reading the body.
type attemptTransport struct {
	c    *Client
	next http.RoundTripper
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	d, stream := t.c.attemptTimeout, false
	if st := callFrom(req.Context()); st != nil {
		st.attempts.Add(1)
		if st.opts.attemptTimeoutSet {
			d = st.opts.attemptTimeout
		}
		stream = st.opts.stream
	}
	if d <= 0 {
		return t.next.RoundTrip(req)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(d, func() { cancel(errAttemptTimeout) })
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timer.Stop()
		timedOut := context.Cause(ctx) == errAttemptTimeout && req.Context().Err() == nil
		cancel(nil)
		if timedOut {
			return nil, errAttemptTimeout
		}
		return nil, err
	}
	if stream {
		timer.Stop()
	}
	resp.Body = &attemptBody{ReadCloser: resp.Body, ctx: ctx, parent: req.Context(), stop: func() { timer.Stop(); cancel(nil) }}
	return resp, nil
}

// attemptBody ends the attempt's context when the body is closed and reports
// a read cut by the attempt timeout as ErrAttemptTimeout.
type attemptBody struct {
	io.ReadCloser
	ctx    context.Context
	parent context.Context
	stop   func()
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && context.Cause(b.ctx) == errAttemptTimeout && b.parent.Err() == nil {
		err = errAttemptTimeout
	}
	return n, err
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.stop()
	return err
}
