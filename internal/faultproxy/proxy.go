package faultproxy

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// AdminPrefix starts every admin path; requests under it are answered by
// the proxy itself and never forwarded.
const AdminPrefix = "/__faultproxy/"

// maxDigestBody bounds the request body read ahead for its digest (the
// identity of a request without an Idempotency-Key); the rest streams on
// and is not digested.
const maxDigestBody = 32 << 20

// maxTruncateBuffer bounds the body of unknown length that truncate reads
// whole to learn its Content-Length; a longer one is cut as a stream.
const maxTruncateBuffer = 16 << 20

// Proxy forwards requests to one target and injects the faults its Config
// selects. It is an http.Handler; it is safe for concurrent use.
type Proxy struct {
	target    *url.URL
	transport http.RoundTripper
	log       *slog.Logger
	state     atomic.Pointer[state]
	seq       atomic.Int64 // numbers the answers the proxy makes up
}

// Option adjusts a Proxy.
type Option func(*Proxy)

// WithLogger logs each injected fault (info) and each request (debug):
// method, path, rule and outcome, never a header (so never a token).
func WithLogger(l *slog.Logger) Option { return func(p *Proxy) { p.log = l } }

// WithTransport replaces the transport that reaches the target.
func WithTransport(rt http.RoundTripper) Option { return func(p *Proxy) { p.transport = rt } }

// New returns a proxy to target (scheme, host and an optional path prefix)
// with the given rules. It fails on an invalid Config or target.
func New(target *url.URL, cfg Config, opts ...Option) (*Proxy, error) {
	if target == nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %v: want an absolute http or https URL", target)
	}
	if target.User != nil {
		return nil, errors.New("faultproxy: the target URL must not carry credentials")
	}
	rules, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(p)
	}
	if p.transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Bodies pass through as the server sent them, so byte counts
		// and Content-Length stay the server's.
		t.DisableCompression = true
		// The target is given; no environment proxy sits in between.
		t.Proxy = nil
		t.MaxIdleConnsPerHost = 64
		p.transport = t
	}
	p.state.Store(newState(cfg, rules))
	return p, nil
}

// Config returns the configuration in force; it shares its slices and
// pointers with the proxy, so treat it as read-only.
func (p *Proxy) Config() Config { return p.state.Load().cfg }

// SetConfig swaps the rules at once; counters and schedules start from
// zero. An invalid Config changes nothing.
func (p *Proxy) SetConfig(cfg Config) error {
	rules, err := compile(cfg)
	if err != nil {
		return err
	}
	p.state.Store(newState(cfg, rules))
	return nil
}

// Reset zeroes the counters and restarts every schedule (and the seeded
// probabilities) under the same configuration.
func (p *Proxy) Reset() {
	cfg := p.Config()
	rules, _ := compile(cfg) // it compiled before
	p.state.Store(newState(cfg, rules))
}

// ServeHTTP forwards r, unless it is an admin request or a rule faults it.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, AdminPrefix) {
		p.serveAdmin(w, r)
		return
	}
	st := p.state.Load()
	body, err := readAhead(r)
	if err != nil {
		// The client went away while sending; there is no one to answer.
		st.count(&st.requests)
		p.log.Debug("request body unreadable", "method", r.Method, "path", r.URL.Path, "error", err.Error())
		return
	}
	id := requestIdentity(r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), body.digestable)
	d := st.decide(r, body.digestable, id)
	x := &exchange{p: p, st: st, w: w, r: r, body: body, d: d}
	start := time.Now()
	if p.log.Enabled(r.Context(), slog.LevelDebug) {
		// Method and path only: headers (the token) are never logged.
		defer func() {
			rule := ""
			if d != nil {
				rule = d.rs.rule.Name
			}
			p.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", x.status,
				"rule", rule, "duration", time.Since(start))
		}()
	}
	if d == nil {
		x.forwardAndCopy(nil)
		return
	}
	x.inject()
}

// requestBody is a request body read ahead.
type requestBody struct {
	digestable []byte    // the body, or its first bytes when it is longer than maxDigestBody
	rest       io.Reader // the rest of a longer body, nil otherwise
}

func readAhead(r *http.Request) (*requestBody, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return &requestBody{}, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxDigestBody+1))
	if err != nil {
		return nil, err
	}
	if len(buf) <= maxDigestBody {
		r.Body.Close()
		return &requestBody{digestable: buf}, nil
	}
	return &requestBody{digestable: buf, rest: r.Body}, nil
}

// exchange is one request on its way through the proxy.
type exchange struct {
	p    *Proxy
	st   *state
	w    http.ResponseWriter
	r    *http.Request
	body *requestBody
	d    *decision
	// status is the status sent to the client (0: none, the connection
	// was dropped first), for the debug log.
	status int
}

func (x *exchange) rule() *compiledRule { return x.d.rs.rule }

func (x *exchange) fault() Fault { return x.d.rs.rule.Fault }

// record counts the chosen fault's outcome and logs it.
func (x *exchange) record(injected bool, detail string) {
	x.st.outcome(x.d, injected)
	msg := "fault injected"
	if !injected {
		msg = "fault skipped"
	}
	x.p.log.Info(msg, "rule", x.rule().Name, "kind", string(x.fault().Kind), "method", x.r.Method,
		"path", x.r.URL.Path, "request", hex.EncodeToString(x.d.id[:6]), "detail", detail)
}

// inject carries out the chosen fault.
func (x *exchange) inject() {
	f := x.fault()
	switch f.Kind {
	case KindStatus:
		if f.AfterResponse {
			if !x.forwardAndDiscard() {
				return
			}
		}
		x.record(true, fmt.Sprintf("answered %d", f.Status))
		x.answerStatus(f)
	case KindDrop:
		if f.AfterResponse {
			if !x.forwardAndDiscard() {
				return
			}
		}
		x.record(true, "connection dropped")
		abortConn(x.w, false, f.RST)
	case KindStall:
		x.stall(f)
	case KindReset:
		x.forwardAndCopy(&byteCutter{limit: f.AfterBytes})
	case KindTruncate:
		x.forwardAndCopy(&byteCutter{limit: f.AfterBytes, truncate: true})
	case KindSSECut:
		x.forwardAndCopy(&sseCutter{want: f.AfterEvents, midFrame: f.MidFrame})
	}
}

func (x *exchange) stall(f Fault) {
	var resp *http.Response
	if f.AfterResponse {
		resp = x.roundTrip()
		if resp == nil {
			x.st.outcome(x.d, false) // no answer to hold back
			return
		}
	}
	then := f.Then
	if then == "" {
		then = ThenDeliver
	}
	x.record(true, fmt.Sprintf("stall %v, then %s", time.Duration(f.Duration), then))
	t := time.NewTimer(time.Duration(f.Duration))
	defer t.Stop()
	select {
	case <-t.C:
	case <-x.r.Context().Done():
		// The client gave up first: nothing more reaches the server.
		if resp != nil {
			resp.Body.Close()
		}
		return
	}
	if then == ThenDrop {
		if resp != nil {
			resp.Body.Close()
		}
		abortConn(x.w, false, f.RST)
		return
	}
	if resp == nil {
		resp = x.roundTrip()
		if resp == nil {
			return
		}
	}
	x.copyResponse(resp, nil)
}

// answerStatus answers in place of the server.
func (x *exchange) answerStatus(f Fault) {
	h := x.w.Header()
	retryAfter := f.RetryAfter
	if retryAfter == nil && f.Status == http.StatusTooManyRequests {
		one := 1
		retryAfter = &one
	}
	if retryAfter != nil {
		h.Set("Retry-After", strconv.Itoa(*retryAfter))
	}
	if f.RetryAfterMs != nil {
		h.Set("Retry-After-Ms", strconv.Itoa(*f.RetryAfterMs))
	}
	reqID := fmt.Sprintf("faultproxy-%d", x.p.seq.Add(1))
	h.Set("X-Request-Id", reqID)
	h.Set("X-Faultproxy-Rule", x.rule().Name)
	h.Set("Cache-Control", "no-store")
	detail := fmt.Sprintf("Injected by faultproxy rule %q.", x.rule().Name)
	if f.Status == http.StatusTooManyRequests {
		// The shape of the reference server's own rate limiting.
		h.Set("Content-Type", "application/problem+json")
		x.status = f.Status
		x.w.WriteHeader(f.Status)
		json.NewEncoder(x.w).Encode(map[string]any{
			"type": "https://agentsession.dev/problems/" + string(gen.ProblemCodeRateLimited), "title": "Too many requests",
			"status": f.Status, "detail": detail, "code": gen.ProblemCodeRateLimited, "request_id": reqID,
		})
		return
	}
	// What a gateway in front of the server says: not a problem document.
	h.Set("Content-Type", "text/plain; charset=utf-8")
	x.status = f.Status
	x.w.WriteHeader(f.Status)
	fmt.Fprintf(x.w, "%d %s\n%s\n", f.Status, http.StatusText(f.Status), detail)
}

// forwardAndDiscard forwards the request and reads the server's answer to
// the end (a stream only to its headers), so the server has done the work;
// it reports false when there is no answer to discard (then the client
// has had a 502 already).
func (x *exchange) forwardAndDiscard() bool {
	resp := x.roundTrip()
	if resp == nil {
		x.st.outcome(x.d, false)
		return false
	}
	if !isEventStream(resp) {
		io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	return true
}

// forwardAndCopy forwards the request and copies the answer back, cut
// where cutter says.
func (x *exchange) forwardAndCopy(c cutter) {
	resp := x.roundTrip()
	if resp == nil {
		if x.d != nil {
			x.st.outcome(x.d, false)
		}
		return
	}
	x.copyResponse(resp, c)
}

// roundTrip sends the request to the target; on failure it answers 502
// itself and returns nil.
func (x *exchange) roundTrip() *http.Response {
	out := x.outgoing()
	x.st.count(&x.st.forwarded)
	resp, err := x.p.transport.RoundTrip(out)
	if err != nil {
		x.st.count(&x.st.upstreamErrors)
		if x.r.Context().Err() != nil {
			return nil // the client left; no one to answer
		}
		x.p.log.Warn("target unreachable", "method", x.r.Method, "path", x.r.URL.Path, "error", err.Error())
		x.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		x.status = http.StatusBadGateway
		x.w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(x.w, "502 Bad Gateway\nfaultproxy: the target did not answer: %v\n", err)
		return nil
	}
	return resp
}

// hopHeaders belong to one connection and are not forwarded (RFC 9110
// section 7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			h.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

func (x *exchange) outgoing() *http.Request {
	r := x.r
	u := *x.p.target
	// Both forms, so an escaped "/" (%2F) in a segment stays escaped.
	u.Path = joinPath(x.p.target.Path, r.URL.Path)
	u.RawPath = joinPath(x.p.target.EscapedPath(), r.URL.EscapedPath())
	u.RawQuery = r.URL.RawQuery
	var body io.Reader = http.NoBody
	length := int64(0)
	if b := x.body; len(b.digestable) > 0 || b.rest != nil {
		if b.rest != nil {
			body, length = io.MultiReader(bytes.NewReader(b.digestable), b.rest), -1
		} else {
			body, length = bytes.NewReader(b.digestable), int64(len(b.digestable))
		}
	}
	out, _ := http.NewRequestWithContext(r.Context(), r.Method, u.String(), body)
	out.ContentLength = length
	out.Header = r.Header.Clone()
	removeHopHeaders(out.Header)
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = nil // keep Go's default out
	}
	return out
}

func joinPath(base, p string) string {
	switch {
	case base == "" || base == "/":
		return p
	case strings.HasSuffix(base, "/"):
		return base + strings.TrimPrefix(p, "/")
	case strings.HasPrefix(p, "/"):
		return base + p
	}
	return base + "/" + p
}

func isEventStream(resp *http.Response) bool {
	mt, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}

// cutter decides where a response body is cut.
type cutter interface {
	// cut returns how many bytes of p to send and whether to cut after them.
	cut(p []byte) (int, bool)
	// cutAtEOF reports whether a body that ended before the cut point is
	// cut (sent without its proper end) rather than finished.
	cutAtEOF() bool
}

// byteCutter cuts after limit body bytes: with a reset (RST) or, for
// truncate, an orderly close.
type byteCutter struct {
	limit    int64
	truncate bool
	sent     int64
}

func (c *byteCutter) cut(p []byte) (int, bool) {
	left := c.limit - c.sent
	if int64(len(p)) < left {
		c.sent += int64(len(p))
		return len(p), false
	}
	c.sent = c.limit
	return int(left), true
}

// A body of unknown length (chunked) that ends before the limit is still
// cut: without its last chunk the client sees it end early.
func (c *byteCutter) cutAtEOF() bool { return true }

// copyResponse copies the answer to the client, flushing each read so a
// stream is never held back, and cuts it where c says.
func (x *exchange) copyResponse(resp *http.Response, c cutter) {
	defer resp.Body.Close()
	h := x.w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	removeHopHeaders(h)
	h.Del("Content-Length")
	length := resp.ContentLength
	var body io.Reader = resp.Body
	bc, _ := c.(*byteCutter)
	if bc != nil && bc.truncate && length < 0 && !isEventStream(resp) && bodyAllowed(x.r, resp.StatusCode) {
		// Truncation needs a declared length: read the answer whole.
		buf, err := io.ReadAll(io.LimitReader(resp.Body, maxTruncateBuffer+1))
		if err == nil && len(buf) <= maxTruncateBuffer {
			length = int64(len(buf))
		}
		body = io.MultiReader(bytes.NewReader(buf), resp.Body)
		if err != nil {
			body = io.MultiReader(bytes.NewReader(buf), errReader{err})
		}
	}
	if bc != nil && length >= 0 {
		// Cut inside the body, never after it: that would be no fault.
		if length == 0 || !bodyAllowed(x.r, resp.StatusCode) {
			x.record(false, "the answer has no body to cut")
			c = nil
		} else if bc.limit >= length {
			bc.limit = length - 1
		}
	}
	if length >= 0 && (bodyAllowed(x.r, resp.StatusCode) || x.r.Method == http.MethodHead) {
		h.Set("Content-Length", strconv.FormatInt(length, 10))
	}
	x.status = resp.StatusCode
	x.w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(x.w)
	rc.Flush()
	if bc != nil && c != nil && bc.limit == 0 {
		x.cut(c) // after_bytes 0: right after the headers
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			send, stop := n, false
			if c != nil {
				send, stop = c.cut(buf[:n])
			}
			if _, werr := x.w.Write(buf[:send]); werr != nil {
				x.clientGone(c)
				return
			}
			if ferr := rc.Flush(); ferr != nil {
				x.clientGone(c)
				return
			}
			if stop {
				x.cut(c)
				return
			}
		}
		if err == io.EOF {
			if c != nil && c.cutAtEOF() {
				x.cut(c)
			} else if c != nil {
				x.record(false, "the stream ended before the cut point")
			}
			return
		}
		if err != nil {
			// The server's answer broke off: so does the client's.
			if c != nil {
				x.record(false, "the server's answer broke off first")
			}
			abortConn(x.w, true, false)
			return
		}
	}
}

func (x *exchange) clientGone(c cutter) {
	if c != nil {
		x.record(false, "the client left first")
	}
}

func (x *exchange) cut(c cutter) {
	rst := false
	detail := "body cut"
	switch f := x.fault(); f.Kind {
	case KindReset:
		rst, detail = true, fmt.Sprintf("reset after %d body bytes", c.(*byteCutter).sent)
	case KindTruncate:
		detail = fmt.Sprintf("truncated after %d body bytes", c.(*byteCutter).sent)
	case KindSSECut:
		rst, detail = f.RST, fmt.Sprintf("stream cut after %d events", c.(*sseCutter).idFrames)
	}
	x.record(true, detail)
	abortConn(x.w, true, rst)
}

// bodyAllowed reports whether the answer can have a body.
func bodyAllowed(r *http.Request, status int) bool {
	return r.Method != http.MethodHead && status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// abortConn ends the client's connection now: what was written is flushed
// (answered: the headers went out), nothing more is (no last chunk), and
// with rst the close is a TCP reset. Without a hijackable connection
// (HTTP/2) the handler aborts instead, which resets the stream.
func abortConn(w http.ResponseWriter, answered, rst bool) {
	rc := http.NewResponseController(w)
	if answered {
		// Hijack drops what the response still buffers.
		rc.Flush()
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		tc.SetLinger(0)
	}
	conn.Close()
}
