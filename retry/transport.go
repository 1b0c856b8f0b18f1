package retry

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	cleanhttp "github.com/hashicorp/go-cleanhttp"
	retryablehttp "github.com/hashicorp/go-retryablehttp"
)

// maxSnapshotBody bounds InterruptedError.LastBody.
const maxSnapshotBody = 64 << 10

// Attempt describes one finished HTTP attempt.
type Attempt struct {
	Number     int           // 1-based
	Method     string        // the request method
	URL        string        // redacted: no userinfo, no query string, no fragment
	StatusCode int           // 0 when no response arrived
	Err        error         // transport error (without the URL), nil when a response arrived
	Duration   time.Duration // how long the attempt took, up to the response headers
	Wait       time.Duration // delay before the next attempt; 0 when this was the last
}

type attemptHookKey struct{}

// WithAttemptHook returns a ctx whose requests report every attempt (retried or
// not, including the last) to fn, in order, on the goroutine that sends the
// request. Hooks added to a ctx that already has one are called after it.
func WithAttemptHook(ctx context.Context, fn func(Attempt)) context.Context {
	if fn == nil {
		return ctx
	}
	if prev := attemptHook(ctx); prev != nil {
		next := fn
		fn = func(a Attempt) { prev(a); next(a) }
	}
	return context.WithValue(ctx, attemptHookKey{}, fn)
}

func attemptHook(ctx context.Context) func(Attempt) {
	fn, _ := ctx.Value(attemptHookKey{}).(func(Attempt))
	return fn
}

// InterruptedError is returned by RoundTrip when ctx ends after an attempt
// failed in a retryable way: during the wait before the next attempt, or
// during that next attempt. The Last* fields describe the last attempt that
// completed, so a caller can still build its typed error from the server's
// answer. When ctx ends during the first attempt, RoundTrip returns that
// attempt's error as net/http does.
type InterruptedError struct {
	Err        error // ctx.Err(): context.Canceled or context.DeadlineExceeded
	Attempts   int   // attempts started, the interrupted one included
	LastStatus int   // 0 if the last completed attempt got no response
	LastHeader http.Header
	LastBody   []byte // bounded (64 KiB)
	LastErr    error  // the last completed attempt's transport error, if any
}

func (e *InterruptedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "retry: interrupted after %d attempt(s)", e.Attempts)
	switch {
	case e.LastStatus != 0:
		fmt.Fprintf(&b, " (last status %d)", e.LastStatus)
	case e.LastErr != nil:
		fmt.Fprintf(&b, " (last error: %v)", e.LastErr)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

// Unwrap returns Err, so errors.Is(err, context.DeadlineExceeded) holds.
func (e *InterruptedError) Unwrap() error { return e.Err }

// NewTransport returns a RoundTripper that retries per p on top of base (nil =
// a clean pooled transport, not http.DefaultTransport). Like any RoundTripper
// it does not follow redirects: the http.Client using it does.
func NewTransport(p Policy, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = cleanhttp.DefaultPooledTransport()
	}
	t := newTransport(p, &http.Client{Transport: base, CheckRedirect: useLastResponse})
	t.direct = base
	return t
}

// NewClient returns an *http.Client whose requests are retried per p. Each
// attempt is sent with base (nil = a clean pooled client): its Transport,
// redirect policy, cookie jar and Timeout apply to every attempt, so
// base.Timeout bounds one attempt; bound the whole call, waits included,
// with the request's context. base is used as is, not copied: a test may
// swap base.Transport (httpmock.ActivateNonDefault(base)) after NewClient.
func NewClient(p Policy, base *http.Client) *http.Client {
	if base == nil {
		base = cleanhttp.DefaultPooledClient()
	}
	// base already followed the redirects; the outer client must not again.
	return &http.Client{Transport: newTransport(p, base), CheckRedirect: useLastResponse}
}

func useLastResponse(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// transport runs each request through a retryablehttp.Client configured for
// that request: the hooks below share the request's retry state.
type transport struct {
	policy Policy // defaults applied
	budget *Budget
	inner  *http.Client
	// direct, when set, is inner's Transport, and inner adds nothing to it
	// (no redirects, cookie jar or timeout: NewTransport): first attempts go
	// straight to it instead of through http.Client.Do.
	direct http.RoundTripper
	// sleep waits d or until ctx is done (test seam).
	sleep func(ctx context.Context, d time.Duration) error
}

func newTransport(p Policy, inner *http.Client) *transport {
	p = p.withDefaults()
	b := p.Budget
	if b == nil {
		b = NewBudget(DefaultBudgetCapacity)
	}
	return &transport{policy: p, budget: b, inner: inner, sleep: sleepContext}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// CloseIdleConnections closes the idle connections of the inner client, so
// http.Client.CloseIdleConnections reaches them.
func (t *transport) CloseIdleConnections() { t.inner.CloseIdleConnections() }

// RoundTrip sends req, retrying per the policy. When retrying stops it returns
// the last response as a normal response (body readable) or the last transport
// error; see InterruptedError for a ctx that ends in between.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		// Attempts send copies of the body (see retryableRequest).
		defer req.Body.Close()
	}
	c := &call{t: t, hook: attemptHook(req.Context()), url: redactURL(req.URL)}
	if rewindable(req) {
		// Most requests succeed at once: the first attempt skips
		// retryablehttp's per-request set-up, which costs more than the rest
		// of the SDK's client side together. Only a request the policy
		// retries continues below, from its second attempt.
		resp, err, retry := c.first(req)
		if !retry {
			return resp, err
		}
	}
	rreq, err := retryableRequest(req)
	if err != nil {
		return nil, err
	}
	client := &retryablehttp.Client{
		HTTPClient:     t.attemptClient(),
		Logger:         nil, // we log through slog, without secrets
		RetryWaitMin:   t.policy.MinWait,
		RetryWaitMax:   t.policy.MaxWait,
		RetryMax:       t.policy.MaxAttempts - 1,
		RequestLogHook: c.beforeAttempt,
		CheckRetry:     c.afterAttempt,
		// retryablehttp's own wait can neither be faked in tests nor keep the
		// last response when ctx ends; it waits 0 and PrepareRetry does the
		// real wait.
		Backoff:      func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		PrepareRetry: c.wait,
		// The default ErrorHandler drains and drops the last response; keep it.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	resp, err := client.Do(rreq)
	return c.result(req.Context(), resp, err)
}

// rewindable reports whether req's body can be sent again after a first
// attempt consumed it (no body, or one GetBody recreates).
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// first sends the first attempt with the same client and the same hooks
// retryablehttp would use. When the policy retries, it drains the answer,
// waits, and reports retry=true: the caller goes on from the second attempt.
// Otherwise resp and err are RoundTrip's answer.
func (c *call) first(req *http.Request) (resp *http.Response, err error, retry bool) {
	ctx := req.Context()
	c.beforeAttempt(nil, req, 0)
	if c.t.direct != nil {
		resp, err = c.t.direct.RoundTrip(req)
		if resp == nil && err == nil {
			err = errors.New("retry: the base RoundTripper returned neither a response nor an error")
		}
	} else {
		resp, err = c.t.attemptClient().Do(req)
	}
	retry, checkErr := c.afterAttempt(ctx, resp, err)
	if checkErr != nil {
		err = checkErr // as retryablehttp: the policy's error wins
	}
	if !retry || checkErr != nil {
		resp, err = c.result(ctx, resp, err)
		return resp, err, false
	}
	if resp != nil {
		// Read a little so the connection can be reused, as retryablehttp does.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}
	if err := c.wait(req); err != nil {
		resp, err = c.result(ctx, nil, err)
		return resp, err, false
	}
	return nil, nil, true
}

// attemptClient returns the client retryablehttp sends the attempts with:
// t.inner as configured now (Transport, redirects, Jar, Timeout), except that
// retryablehttp calls CloseIdleConnections whenever a request ends in an
// error, which would empty the connection pool every other request shares.
func (t *transport) attemptClient() *http.Client {
	hc := *t.inner
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = keepIdle{rt}
	return &hc
}

// keepIdle hides the CloseIdleConnections method of the transport it wraps.
type keepIdle struct{ http.RoundTripper }

// retryableRequest wraps a shallow copy of req (retryablehttp sets Body on the
// request it is given; the caller's must stay untouched) whose body can be
// sent again on every attempt: through req.GetBody when set (nothing is
// buffered), else read once into memory by retryablehttp.
func retryableRequest(req *http.Request) (*retryablehttp.Request, error) {
	r := req.WithContext(req.Context())
	if req.Body == nil || req.Body == http.NoBody || req.GetBody == nil {
		return retryablehttp.FromRequest(r)
	}
	getBody := req.GetBody
	r.Body = nil
	rr, err := retryablehttp.FromRequest(r)
	if err != nil {
		return nil, err
	}
	if err := rr.SetBody(retryablehttp.ReaderFunc(func() (io.Reader, error) { return getBody() })); err != nil {
		return nil, err
	}
	rr.ContentLength = req.ContentLength // SetBody only knows the length of in-memory readers
	return rr, nil
}

// call is the retry state of one RoundTrip.
type call struct {
	t    *transport
	hook func(Attempt)
	url  string

	req      *http.Request // the attempt in flight
	start    time.Time
	attempts int
	nextWait time.Duration // wait before the next attempt
	lastCost int           // budget tokens paid for the latest retry
	retried  bool          // a failed attempt was followed by a retry decision
	last     snapshot      // the latest failed attempt that was retried

	interrupted error // ctx error that ended the retries after a failed attempt
}

// snapshot keeps what InterruptedError reports about a failed attempt, whose
// response retryablehttp drains and closes before the next attempt.
type snapshot struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (c *call) beforeAttempt(_ retryablehttp.Logger, req *http.Request, _ int) {
	c.req = req
	c.start = timeNow()
}

// afterAttempt is retryablehttp's CheckRetry: it decides whether to retry,
// pays the budget, computes the wait and reports the attempt. It returns a
// non-nil error only when the policy's CheckRetry does.
func (c *call) afterAttempt(ctx context.Context, resp *http.Response, err error) (bool, error) {
	p := c.t.policy
	c.attempts++
	a := Attempt{
		Number:   c.attempts,
		Method:   cmp.Or(c.req.Method, http.MethodGet),
		URL:      c.url,
		Err:      unwrapURLError(err),
		Duration: timeNow().Sub(c.start),
	}
	if resp != nil {
		a.StatusCode = resp.StatusCode
	}

	if ctxErr := ctx.Err(); ctxErr != nil {
		if err != nil && c.retried {
			c.interrupted = ctxErr
		}
		c.report(ctx, a)
		return false, nil
	}

	retry, checkErr := p.CheckRetry(ctx, c.req, resp, err)
	if checkErr != nil {
		c.report(ctx, a)
		return false, checkErr
	}
	var giveUp string
	if retry && c.attempts >= p.MaxAttempts {
		retry, giveUp = false, "attempts exhausted"
	}
	if retry {
		cost, ok := c.t.budget.take(isTimeout(err))
		if ok {
			c.lastCost = cost
		} else {
			retry, giveUp = false, "retry budget exhausted"
		}
	}
	if !retry {
		if err == nil && resp != nil && !IsRetryableStatus(resp.StatusCode) {
			c.t.budget.succeeded(c.lastCost)
		}
		c.report(ctx, a)
		if giveUp != "" {
			c.log(ctx, slog.LevelWarn, "giving up retrying HTTP request", a, slog.String("reason", giveUp))
		}
		return false, nil
	}

	wait := p.Backoff(p.MinWait, p.MaxWait, c.attempts-1, resp)
	limit := p.MaxWait
	if _, asked := ServerDelay(resp); asked {
		limit = p.MaxServerDelay
	}
	wait = max(0, min(wait, limit))
	a.Wait = wait
	c.nextWait = wait
	c.retried = true
	c.last = takeSnapshot(resp, a.Err)
	c.report(ctx, a)
	if p.OnRetry != nil {
		p.OnRetry(a)
	}
	c.log(ctx, slog.LevelInfo, "retrying HTTP request", a, slog.Duration("wait", wait))
	return true, nil
}

// wait is retryablehttp's PrepareRetry: the backoff wait before the next attempt.
func (c *call) wait(req *http.Request) error {
	if err := c.t.sleep(req.Context(), c.nextWait); err != nil {
		c.interrupted = err
		return err
	}
	return nil
}

func (c *call) report(ctx context.Context, a Attempt) {
	if c.hook != nil {
		c.hook(a)
	}
	c.log(ctx, slog.LevelDebug, "HTTP attempt", a)
}

// log writes one record with the attempt's redacted facts: never a header.
func (c *call) log(ctx context.Context, level slog.Level, msg string, a Attempt, extra ...slog.Attr) {
	l := c.t.policy.Logger
	if l == nil || !l.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", a.Method),
		slog.String("url", a.URL),
		slog.Int("attempt", a.Number),
		slog.Duration("duration", a.Duration),
	}
	if a.StatusCode != 0 {
		attrs = append(attrs, slog.Int("status", a.StatusCode))
	}
	if a.Err != nil {
		attrs = append(attrs, slog.String("error", a.Err.Error()))
	}
	l.LogAttrs(ctx, level, msg, append(attrs, extra...)...)
}

// result turns what retryablehttp.Client.Do returned into RoundTrip's answer.
func (c *call) result(ctx context.Context, resp *http.Response, err error) (*http.Response, error) {
	if c.interrupted == nil && err != nil && c.retried && ctx.Err() != nil {
		// retryablehttp saw ctx end during its own (zero) wait.
		c.interrupted = ctx.Err()
	}
	if c.interrupted != nil {
		if resp != nil {
			resp.Body.Close()
		}
		a := Attempt{Number: c.attempts, Method: cmp.Or(c.req.Method, http.MethodGet), URL: c.url}
		c.log(ctx, slog.LevelInfo, "HTTP request interrupted while retrying", a,
			slog.String("cause", c.interrupted.Error()))
		return nil, &InterruptedError{
			Err:        c.interrupted,
			Attempts:   c.attempts,
			LastStatus: c.last.status,
			LastHeader: c.last.header,
			LastBody:   c.last.body,
			LastErr:    c.last.err,
		}
	}
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, unwrapURLError(err)
	}
	return resp, nil
}

// takeSnapshot copies a failed attempt's status, header and up to 64 KiB of
// body, and puts the bytes it read back in front of resp.Body.
func takeSnapshot(resp *http.Response, err error) snapshot {
	s := snapshot{err: err}
	if resp == nil {
		return s
	}
	s.status = resp.StatusCode
	s.header = resp.Header.Clone()
	if resp.Body != nil {
		s.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxSnapshotBody))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(s.body), resp.Body), resp.Body}
	}
	return s
}

// unwrapURLError drops the *url.Error that http.Client adds: it carries the
// full URL (query string included), and http.Client wraps RoundTrip's error
// in one again.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok && ue.Err != nil {
		return ue.Err
	}
	return err
}

// redactURL keeps scheme, host and path: no userinfo, query or fragment.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}
