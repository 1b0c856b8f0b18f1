package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/sse"
)

// tenant selects the Authorization header a request carries.
type tenant int

// The tenants a request can act as.
const (
	asPrimary   tenant = iota // Config.Token
	asSecond                  // Config.Token2
	asAnonymous               // no Authorization header
	asRaw                     // request.Authorization verbatim (bad tokens)
)

// request is one HTTP request a check sends. Path is relative to the base URL
// and already escaped (build it with path()).
type request struct {
	Method string
	Path   string
	Query  url.Values
	// JSON is encoded as an application/json body. Otherwise Body is sent
	// as is with ContentType; File sends a multipart/form-data upload.
	JSON        any
	Body        []byte
	ContentType string
	File        *filePart
	As          tenant
	// Authorization is the whole header value when As is asRaw ("" sends none).
	Authorization string
	// Header holds extra request headers (Idempotency-Key, Last-Event-ID, ...).
	Header map[string]string
	// Stream asks for text/event-stream; use T.Stream to send it.
	Stream bool
	// Accept, when set, is sent as the Accept header instead of the one
	// Stream implies; NoAccept sends none at all.
	Accept   string
	NoAccept bool
	// CurlStdin, when set, is a shell command that prints the body, for
	// bodies too large to print: the curl rendering becomes
	// "CurlStdin | curl ... --data-binary @-".
	CurlStdin string
}

// filePart is a multipart upload's file.
type filePart struct {
	Field, Filename, ContentType string
	Data                         []byte
}

// Exchange records one request and its response for the report. Tokens
// never appear in it: the Authorization header is rendered as a shell
// variable and any token text in bodies is replaced by [REDACTED].
type Exchange struct {
	Operation       string            `json:"operation,omitempty"`
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	Curl            string            `json:"curl"`
	RequestBody     string            `json:"request_body,omitempty"`
	Status          int               `json:"status,omitempty"`
	RequestID       string            `json:"request_id,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseExcerpt string            `json:"response_excerpt,omitempty"`
	ResponseBytes   int               `json:"response_bytes"`
	Error           string            `json:"error,omitempty"`
	Violations      []string          `json:"violations,omitempty"`
	DurationMS      int64             `json:"duration_ms"`

	// What the post-run checks look at.
	header  http.Header
	problem []byte // the body of an error response, bounded
	check   string
	path    string // the request's escaped path, unredacted (URL may hide token text)
}

// bounds of what an exchange keeps.
const (
	maxExcerpt      = 2048
	maxRequestShown = 4096
	maxBodyRead     = 8 << 20
	maxProblemKept  = 16 << 10
)

// client sends requests for the runner and the checks, validating every
// response against the contract.
type client struct {
	cfg Config
	v   *validator

	mu  sync.Mutex
	all []*Exchange // every exchange of the run, for the post-run checks
}

func (c *client) record(ex *Exchange) {
	c.mu.Lock()
	c.all = append(c.all, ex)
	c.mu.Unlock()
}

func (c *client) exchanges() []*Exchange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Exchange(nil), c.all...)
}

// redact hides both tokens in s.
func (c *client) redact(s string) string {
	for _, tok := range []string{c.cfg.Token, c.cfg.Token2} {
		if tok != "" {
			s = strings.ReplaceAll(s, tok, "[REDACTED]")
		}
	}
	return s
}

func (c *client) redactAll(list []string) []string {
	for i, s := range list {
		list[i] = c.redact(s)
	}
	return list
}

// build turns a request into an *http.Request and its exchange record.
func (c *client) build(ctx context.Context, r request) (*http.Request, *Exchange, error) {
	u := c.cfg.BaseURL + r.Path
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	var body []byte
	contentType := r.ContentType
	switch {
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, nil, fmt.Errorf("encode request body: %w", err)
		}
		body, contentType = b, "application/json"
	case r.File != nil:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, r.File.Field, r.File.Filename)}
		h["Content-Type"] = []string{r.File.ContentType}
		pw, err := mw.CreatePart(h)
		if err != nil {
			return nil, nil, err
		}
		_, _ = pw.Write(r.File.Data)
		_ = mw.Close()
		body, contentType = buf.Bytes(), mw.FormDataContentType()
	default:
		body = r.Body
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("build request %s %s: %w", r.Method, u, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	switch r.As {
	case asPrimary:
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	case asSecond:
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token2)
	case asRaw:
		if r.Authorization != "" {
			req.Header.Set("Authorization", r.Authorization)
		}
	}
	switch {
	case r.NoAccept:
	case r.Accept != "":
		req.Header.Set("Accept", r.Accept)
	case r.Stream:
		req.Header.Set("Accept", "text/event-stream")
	default:
		req.Header.Set("Accept", "application/json")
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", "agentsession-conformance/"+SpecVersion())
	ex := &Exchange{Method: r.Method, URL: c.redact(u), path: req.URL.EscapedPath()}
	ex.Curl = c.curl(r, req, body)
	if r.File != nil {
		ex.RequestBody = fmt.Sprintf("(multipart upload: %s, %d bytes)", r.File.Filename, len(r.File.Data))
	} else if len(body) > 0 {
		ex.RequestBody = c.redact(excerpt(body, maxRequestShown))
	}
	return req, ex, nil
}

// roundTrip sends a request and records the exchange. For a non-stream
// request (or a stream answered with something other than an event stream)
// the body is read and validated; a live stream's body is left to the caller.
//
// A 429 answer means the server did not process the request, so it is sent
// again after Retry-After (at most maxRateLimitRetries times, each wait capped
// at maxRateLimitWait). add, when not nil, receives every exchange, the
// rate-limited ones included.
func (c *client) roundTrip(ctx context.Context, r request, check string, add func(*Exchange)) (*response, *http.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, hr, err := c.attempt(ctx, r, check)
		if resp != nil && add != nil {
			add(resp.Ex)
		}
		if err != nil || resp.Status != http.StatusTooManyRequests || attempt == maxRateLimitRetries {
			return resp, hr, err
		}
		if err := sleep(ctx, retryAfter(resp.Header.Get("Retry-After"))); err != nil {
			return resp, hr, nil
		}
	}
}

// How the suite treats a rate-limiting server.
const (
	maxRateLimitRetries = 3
	maxRateLimitWait    = 5 * time.Second
)

// retryAfter reads a Retry-After of seconds: 1 s when absent or unreadable,
// at most maxRateLimitWait.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return time.Second
	}
	return min(time.Duration(n)*time.Second, maxRateLimitWait)
}

// attempt sends a request once.
func (c *client) attempt(ctx context.Context, r request, check string) (*response, *http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	req, ex, err := c.build(ctx, r)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	ex.check = check
	if route, _, ok := c.v.route(req); ok {
		ex.Operation = route.Operation.OperationID
	}
	start := time.Now()
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		cancel()
		ex.DurationMS = time.Since(start).Milliseconds()
		ex.Error = c.redact(err.Error())
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			ex.Error = fmt.Sprintf("no answer within %s", c.cfg.RequestTimeout)
		}
		c.record(ex)
		out := &response{Ex: ex}
		return out, nil, &failure{msg: fmt.Sprintf("%s %s: %s", r.Method, r.Path, ex.Error), ex: ex}
	}
	ex.Status = resp.StatusCode
	ex.RequestID = c.redact(resp.Header.Get("X-Request-Id"))
	ex.header = resp.Header.Clone()
	ex.ResponseHeaders = map[string]string{}
	for _, h := range []string{"Content-Type", "X-Request-Id", "Allow", "Location", "Retry-After", "Idempotent-Replayed", "WWW-Authenticate"} {
		if v := resp.Header.Get(h); v != "" {
			ex.ResponseHeaders[h] = c.redact(v)
		}
	}
	out := &response{Status: resp.StatusCode, Header: resp.Header, Ex: ex}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if r.Stream && resp.StatusCode == http.StatusOK && mt == "text/event-stream" {
		// Validate the status and headers now, the frames as they arrive.
		ex.Violations = c.redactAll(c.v.validateResponse(ctx, req, resp.StatusCode, resp.Header, nil, true))
		c.record(ex)
		body := resp.Body
		resp.Body = cancelOnClose{ReadCloser: body, cancel: cancel}
		return out, resp, nil
	}
	defer cancel()
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyRead))
	ex.DurationMS = time.Since(start).Milliseconds()
	ex.ResponseBytes = len(data)
	ex.ResponseExcerpt = c.redact(excerpt(data, maxExcerpt))
	if err != nil {
		ex.Error = c.redact(err.Error())
		c.record(ex)
		return out, nil, &failure{msg: fmt.Sprintf("%s %s: reading the response: %s", r.Method, r.Path, ex.Error), ex: ex}
	}
	out.Body = data
	if resp.StatusCode >= 400 {
		ex.problem = data[:min(len(data), maxProblemKept)]
	}
	ex.Violations = c.redactAll(c.v.validateResponse(ctx, req, resp.StatusCode, resp.Header, data, false))
	c.record(ex)
	return out, nil, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// excerpt returns at most n bytes of b as text, marking the cut.
func excerpt(b []byte, n int) string {
	if len(b) <= n {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(b[:n]), "\uFFFD") + fmt.Sprintf("… (%d more bytes)", len(b)-n)
}

// response is a finished HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	Ex     *Exchange
}

// what names the exchange in failure messages: the operationId when the
// request matched one, else method and URL path.
func (r *response) what() string {
	if r.Ex.Operation != "" {
		return r.Ex.Operation
	}
	u, _ := url.Parse(r.Ex.URL)
	if u != nil {
		return r.Ex.Method + " " + u.EscapedPath()
	}
	return r.Ex.Method
}

// Failf returns an ErrFail that points at this exchange.
func (r *response) Failf(format string, args ...any) error {
	return &failure{msg: r.what() + ": " + fmt.Sprintf(format, args...), ex: r.Ex}
}

// Expect fails unless the status is one of want.
func (r *response) Expect(want ...int) error {
	for _, w := range want {
		if r.Status == w {
			return nil
		}
	}
	detail := ""
	if p, ok := r.problem(); ok {
		detail = fmt.Sprintf(" (code %q)", p.Code)
		if p.Detail != "" {
			detail = fmt.Sprintf(" (code %q: %s)", p.Code, p.Detail)
		}
	}
	if len(want) == 1 {
		return r.Failf("status %d, want %d%s", r.Status, want[0], detail)
	}
	return r.Failf("status %d, want one of %v%s", r.Status, want, detail)
}

// Decode decodes the JSON body into v.
func (r *response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return r.Failf("the body does not decode as %T: %v", v, err)
	}
	return nil
}

func (r *response) problem() (gen.Problem, bool) {
	var p gen.Problem
	if r.Status < 400 || json.Unmarshal(r.Body, &p) != nil {
		return p, false
	}
	return p, true
}

// ExpectProblem fails unless the answer is an application/problem+json
// document with this status and (when code is not empty) this code.
func (r *response) ExpectProblem(status int, code gen.ProblemCode) error {
	if err := r.Expect(status); err != nil {
		return err
	}
	return r.isProblem(code)
}

// ExpectProblemIn fails unless the answer is a problem with one of the statuses.
func (r *response) ExpectProblemIn(statuses ...int) error {
	if err := r.Expect(statuses...); err != nil {
		return err
	}
	return r.isProblem("")
}

func (r *response) isProblem(code gen.ProblemCode) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/problem+json" {
		return r.Failf("status %d with Content-Type %q, want application/problem+json", r.Status, r.Header.Get("Content-Type"))
	}
	p, ok := r.problem()
	if !ok {
		return r.Failf("status %d: the body is not a problem document: %s", r.Status, excerpt(r.Body, 200))
	}
	if int(p.Status) != r.Status {
		return r.Failf("problem status %d differs from the HTTP status %d", p.Status, r.Status)
	}
	if code != "" && p.Code != code {
		return r.Failf("problem code %q, want %q (detail: %s)", p.Code, code, p.Detail)
	}
	return nil
}

// expectJSON checks the status and decodes the body.
func expectJSON[V any](r *response, status int) (V, error) {
	var v V
	if err := r.Expect(status); err != nil {
		return v, err
	}
	return v, r.Decode(&v)
}

// path joins literal segments and escaped values: path("/v1/sessions/%s", id).
func path(format string, args ...any) string {
	esc := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			esc[i] = url.PathEscape(v)
		default:
			esc[i] = v
		}
	}
	return fmt.Sprintf(format, esc...)
}

// eventStream is an open text/event-stream answer. Each frame is validated as
// it is read (see validator.validateFrame).
type eventStream struct {
	*response
	body   io.ReadCloser
	reader *sse.Reader
	c      *client
	seen   strings.Builder
	closed bool
	start  time.Time
	// session says the stream is streamSession's (SessionStreamFrames).
	session bool
	mu      sync.Mutex
	// raw keeps the stream's bytes as they came (bounded), for the checks
	// of the framing itself.
	raw boundedBuffer
}

// maxRawStream bounds what an eventStream keeps of its raw bytes.
const maxRawStream = 256 << 10

// boundedBuffer keeps the first maxRawStream bytes written to it.
type boundedBuffer struct {
	b         bytes.Buffer
	truncated bool
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	if room := maxRawStream - w.b.Len(); room < len(p) {
		w.truncated = true
		w.b.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return w.b.Write(p)
}

// Raw returns the bytes of the stream read so far (at most maxRawStream)
// and whether more came.
func (s *eventStream) Raw() ([]byte, bool) { return s.raw.b.Bytes(), s.raw.truncated }

// Comments reports how many comment lines the stream has carried so far.
func (s *eventStream) Comments() int { return s.reader.Comments() }

// Next returns the next frame, io.EOF at the end of the stream.
func (s *eventStream) Next() (sse.Frame, error) {
	f, err := s.reader.Next()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			s.note(fmt.Sprintf("\n[stream error: %v]", err))
		}
		return sse.Frame{}, err
	}
	var raw strings.Builder
	if f.Event != "" {
		raw.WriteString("event: " + f.Event + "\n")
	}
	if f.HasID {
		raw.WriteString("id: " + f.ID + "\n")
	}
	raw.WriteString("data: " + f.Data + "\n\n")
	s.note(raw.String())
	violations := s.c.v.validateFrame(f, s.session)
	if len(violations) > 0 {
		violations = s.c.redactAll(violations)
		s.c.mu.Lock()
		s.Ex.Violations = append(s.Ex.Violations, violations...)
		s.c.mu.Unlock()
	}
	return f, nil
}

func (s *eventStream) note(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen.Len() < maxExcerpt {
		s.seen.WriteString(text)
	}
	s.c.mu.Lock()
	s.Ex.ResponseBytes += len(text)
	s.Ex.ResponseExcerpt = s.c.redact(excerpt([]byte(s.seen.String()), maxExcerpt))
	s.c.mu.Unlock()
}

// Close drops the connection (a client that goes away mid-stream).
func (s *eventStream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed && s.body != nil {
		s.closed = true
		_ = s.body.Close()
		s.c.mu.Lock()
		s.Ex.DurationMS = time.Since(s.start).Milliseconds()
		s.c.mu.Unlock()
	}
}
