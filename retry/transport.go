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
	Number     int    // 1-based
	Method     string // the request method
	URL        string // redacted: no userinfo, no query string, no fragment
	StatusCode int    // 0 when no response arrived
	// Err is the attempt's transport error (without the URL), nil when it
	// got a whole answer. A successful answer whose body was cut short (see
	// Call) has both its StatusCode and an Err.
	Err error
	// Duration is how long the attempt took: up to the response headers, or
	// to the end of the body when Transport.Do read it.
	Duration time.Duration
	Wait     time.Duration // delay before the next attempt; 0 when this was the last
}

// ErrAttemptTimeout is matched (errors.Is) by the error of an attempt that
// ran longer than Call.AttemptTimeout. Such an attempt is retried like a
// connection failure.
var ErrAttemptTimeout = errors.New("retry: attempt timed out")

type attemptTimeoutError struct{}

func (attemptTimeoutError) Error() string   { return ErrAttemptTimeout.Error() }
func (attemptTimeoutError) Is(t error) bool { return t == ErrAttemptTimeout }
func (attemptTimeoutError) Timeout() bool   { return true }
func (attemptTimeoutError) Temporary() bool { return true }

var errAttemptTimeout error = attemptTimeoutError{}

// InterruptedError is returned when the request's context ends after an
// attempt failed in a retryable way: during the wait before the next attempt,
// or during that next attempt. The Last* fields describe the last attempt that
// completed, so a caller can still build its typed error from the server's
// answer. When the context ends during the first attempt, the error is that
// attempt's, as net/http gives it.
type InterruptedError struct {
	Err        error // ctx.Err(): context.Canceled or context.DeadlineExceeded
	Attempts   int   // attempts started, the interrupted one included
	LastStatus int   // 0 if the last completed attempt got no usable response
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

// Call adjusts one request sent with Transport.Do.
type Call struct {
	// AttemptTimeout bounds each attempt; 0 means no bound beyond the
	// request's context. A timed-out attempt fails with an error matching
	// ErrAttemptTimeout and is retried like a connection failure.
	AttemptTimeout time.Duration
	// Stream leaves the body of the answer to the caller, who reads it as
	// it arrives: the attempt timeout then ends with the response headers.
	// Otherwise Do reads the final answer's body within the attempt, so that
	// a body cut short (a connection reset, fewer bytes than its
	// Content-Length) fails the attempt like a dropped connection: an
	// idempotent request is sent again. When it cannot be, a 2xx answer cut
	// short is an error and another answer keeps the part that arrived.
	Stream bool
	// OnAttempt is called after every attempt, retried or not, in order, on
	// the goroutine that called Do.
	OnAttempt func(Attempt)
}

// Result is what Transport.Do got.
type Result struct {
	// Response is the last answer, nil when Do returned an error. Unless
	// Call.Stream, its body has been read into Body (a 2xx body whole,
	// another one up to 64 KiB) and Response.Body is http.NoBody.
	Response *http.Response
	Body     []byte
	// Attempts is how many attempts were made, also when Do failed.
	Attempts int
}

// Transport is an http.RoundTripper that retries requests per a Policy. Like
// any RoundTripper it does not follow redirects: the http.Client using it
// does. It is safe for concurrent use.
type Transport struct {
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

// NewTransport returns a Transport that retries per p on top of base (nil =
// a clean pooled transport, not http.DefaultTransport).
func NewTransport(p Policy, base http.RoundTripper) *Transport {
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
// The client's Transport is a *Transport.
func NewClient(p Policy, base *http.Client) *http.Client {
	if base == nil {
		base = cleanhttp.DefaultPooledClient()
	}
	// base already followed the redirects; the outer client must not again.
	return &http.Client{Transport: newTransport(p, base), CheckRedirect: useLastResponse}
}

func useLastResponse(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func newTransport(p Policy, inner *http.Client) *Transport {
	p = p.withDefaults()
	b := p.Budget
	if b == nil {
		b = NewBudget(DefaultBudgetCapacity)
	}
	return &Transport{policy: p, budget: b, inner: inner, sleep: sleepContext}
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
func (t *Transport) CloseIdleConnections() { t.inner.CloseIdleConnections() }

// RoundTrip sends req, retrying per the policy. When retrying stops it returns
// the last response as a normal response (body unread) or the last transport
// error; see InterruptedError for a context that ends in between.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := &call{t: t, url: redactURL(req.URL)}
	return c.run(req)
}

// Do is RoundTrip with the settings of one call: a per-attempt timeout, an
// observer of every attempt and, unless the answer is a stream, the body of
// a successful answer read within the attempt. The Result counts the
// attempts also when the call failed.
func (t *Transport) Do(req *http.Request, opts Call) (Result, error) {
	c := &call{t: t, url: redactURL(req.URL), opts: opts, readBody: !opts.Stream}
	resp, err := c.run(req)
	return Result{Response: resp, Body: c.body, Attempts: c.attempts}, err
}

// call is the retry state of one request: the one place its attempts are
// counted and reported.
type call struct {
	t        *Transport
	url      string
	opts     Call
	readBody bool // read a final answer's body within the attempt

	req      *http.Request // the attempt in flight
	start    time.Time
	attempts int
	nextWait time.Duration // wait before the next attempt
	lastCost int           // budget tokens paid for the latest retry
	retried  bool          // a failed attempt was followed by a retry decision
	last     snapshot      // the latest failed attempt that was retried
	body     []byte        // the body read by the last attempt (readBody)
	bodyErr  error         // why the last attempt's 2xx body could not be read

	interrupted error // ctx error that ended the retries after a failed attempt
}

func (c *call) run(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		// Attempts send copies of the body (see retryableRequest).
		defer req.Body.Close()
	}
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
	p := c.t.policy
	client := &retryablehttp.Client{
		HTTPClient:     c.attemptClient(),
		Logger:         nil, // we log through slog, without secrets
		RetryWaitMin:   p.MinWait,
		RetryWaitMax:   p.MaxWait,
		RetryMax:       p.MaxAttempts - 1,
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
// Otherwise resp and err are the call's answer.
func (c *call) first(req *http.Request) (resp *http.Response, err error, retry bool) {
	ctx := req.Context()
	c.beforeAttempt(nil, req, 0)
	if c.t.direct != nil {
		resp, err = c.timed(c.t.direct).RoundTrip(req)
		if resp == nil && err == nil {
			err = errors.New("retry: the base RoundTripper returned neither a response nor an error")
		}
	} else {
		resp, err = c.attemptClient().Do(req)
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
// t.inner as configured now (Transport, redirects, Jar, Timeout) with the
// call's attempt timeout, except that retryablehttp calls
// CloseIdleConnections whenever a request ends in an error, which would
// empty the connection pool every other request shares.
func (c *call) attemptClient() *http.Client {
	hc := *c.t.inner
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = keepIdle{c.timed(rt)}
	return &hc
}

// keepIdle hides the CloseIdleConnections method of the transport it wraps.
type keepIdle struct{ http.RoundTripper }

// timed returns rt bounded by the call's attempt timeout.
func (c *call) timed(rt http.RoundTripper) http.RoundTripper {
	if c.opts.AttemptTimeout <= 0 {
		return rt
	}
	return &attemptTransport{d: c.opts.AttemptTimeout, headersOnly: c.opts.Stream, next: rt}
}

// attemptTransport bounds one attempt by d: up to the response headers for
// a stream, else until its body is closed.
type attemptTransport struct {
	d           time.Duration
	headersOnly bool
	next        http.RoundTripper
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(t.d, func() { cancel(errAttemptTimeout) })
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
	if t.headersOnly {
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

// afterAttempt is retryablehttp's CheckRetry, and the first attempt's: it
// counts the attempt, reads the body of a final answer when the call wants
// it read, decides whether to retry, pays the budget, computes the wait and
// reports the attempt. It returns a non-nil error only when the policy's
// CheckRetry does.
func (c *call) afterAttempt(ctx context.Context, resp *http.Response, err error) (bool, error) {
	p := c.t.policy
	c.attempts++
	a := Attempt{
		Number: c.attempts,
		Method: cmp.Or(c.req.Method, http.MethodGet),
		URL:    c.url,
		Err:    unwrapURLError(err),
	}
	if resp != nil {
		a.StatusCode = resp.StatusCode
	}
	c.body, c.bodyErr = nil, nil

	if ctxErr := ctx.Err(); ctxErr != nil {
		if err != nil && c.retried {
			c.interrupted = ctxErr
		}
		a.Duration = timeNow().Sub(c.start)
		c.report(ctx, a)
		return false, nil
	}

	retry, checkErr := p.CheckRetry(ctx, c.req, resp, err)
	if checkErr != nil {
		a.Duration = timeNow().Sub(c.start)
		c.report(ctx, a)
		return false, checkErr
	}
	if retry && err == nil && resp != nil && isFinalProblem(resp, p.FinalProblemCodes) {
		retry = false // the server's answer is final (Policy.FinalProblemCodes)
	}
	var cut *http.Response // a non-2xx answer whose body was cut short
	if !retry && err == nil && resp != nil && c.readBody {
		// The answer is final: read its body within the attempt. Cut short,
		// the answer is lost although the server may have done the work,
		// so the attempt failed like a dropped connection, which an
		// idempotent request (its key makes the server replay the answer)
		// may retry.
		if rerr := c.read(resp); rerr != nil {
			rerr = fmt.Errorf("reading the body of the %d answer: %w", resp.StatusCode, unwrapURLError(rerr))
			if resp.StatusCode/100 != 2 {
				cut = resp
			}
			c.bodyErr, a.Err, err, resp = rerr, rerr, rerr, nil
			retry, _ = p.CheckRetry(ctx, c.req, nil, rerr)
		}
	}
	a.Duration = timeNow().Sub(c.start)

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
		if cut != nil {
			// Not retried: an error status stands, with the part of its
			// body that arrived.
			c.bodyErr, resp, err = nil, cut, nil
		} else if err == nil && resp != nil && c.readBody && c.body == nil {
			// Retryable, but out of attempts or budget: this is the answer.
			if rerr := c.read(resp); rerr != nil && resp.StatusCode/100 == 2 {
				rerr = fmt.Errorf("reading the body of the %d answer: %w", resp.StatusCode, unwrapURLError(rerr))
				c.bodyErr, a.Err = rerr, rerr
			}
		}
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
	if cut != nil {
		c.last = snapshot{status: cut.StatusCode, header: cut.Header.Clone(), body: c.body}
	} else {
		c.last = takeSnapshot(resp, a.Err)
	}
	c.report(ctx, a)
	if p.OnRetry != nil {
		p.OnRetry(a)
	}
	c.log(ctx, slog.LevelInfo, "retrying HTTP request", a, slog.Duration("wait", wait))
	return true, nil
}

// read reads and closes the body of a final answer into c.body: a 2xx body
// whole, another one up to maxSnapshotBody. What arrived stays in c.body
// when the read fails.
func (c *call) read(resp *http.Response) error {
	body := resp.Body
	resp.Body = http.NoBody // read here: retryablehttp's drain finds nothing
	defer body.Close()
	var r io.Reader = body
	limit := int64(-1)
	if resp.StatusCode/100 != 2 {
		limit = maxSnapshotBody
		r = io.LimitReader(body, limit)
	}
	var err error
	c.body, err = readAll(r, resp.ContentLength, limit)
	return err
}

// readAll reads r to its end. With a known length n it allocates once, n+1
// bytes (the extra one sees the end), and a body that ends before n bytes
// is cut short: io.ErrUnexpectedEOF.
func readAll(r io.Reader, n, limit int64) ([]byte, error) {
	if n <= 0 || n > 16<<20 || (limit >= 0 && n > limit) {
		return io.ReadAll(r) // unknown (chunked), empty or large: grow as it comes
	}
	buf := make([]byte, n+1)
	m, err := io.ReadFull(r, buf)
	switch {
	case int64(m) == n && (err == io.ErrUnexpectedEOF || err == io.EOF):
		return buf[:m], nil
	case err == nil: // longer than announced: take the rest too
		rest, err := io.ReadAll(r)
		return append(buf, rest...), err
	case err == io.EOF:
		err = io.ErrUnexpectedEOF // nothing of the n bytes came
	}
	return buf[:m], err
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
	if c.opts.OnAttempt != nil {
		c.opts.OnAttempt(a)
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

// result turns what the last attempt (or retryablehttp.Client.Do) gave into
// the call's answer.
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
	if err == nil && c.bodyErr != nil {
		err = c.bodyErr // the last answer's body was cut, and not retried
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

// unwrapURLError drops every *url.Error layer: http.Client adds one (it
// carries the full URL, query string included) around each RoundTrip error,
// and a caller's own http.Client as the base adds another. This is the one
// place the SDK unwraps them.
func unwrapURLError(err error) error {
	for {
		ue, ok := err.(*url.Error)
		if !ok || ue.Err == nil {
			return err
		}
		err = ue.Err
	}
}

// redactURL keeps scheme, host and path: no userinfo, query or fragment.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}
