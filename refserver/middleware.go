package refserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/agentsession/agentsession/gen"
)

// reqInfo is what the middleware learns about a request; handlers find it
// in the request's context.
type reqInfo struct {
	id      string
	tenant  string
	route   *route // nil until routed
	pattern string
	body    []byte // the raw body of routes that take one
	// bodyRead: the request's body was read to its end (or to its limit).
	bodyRead bool
	// bodyTimedOut: the body did not arrive within the body read timeout.
	bodyTimedOut bool
	accept       string
	rw           *respWriter
}

type ctxKey struct{}

// info returns the request's reqInfo (an empty one outside the middleware).
func info(ctx context.Context) *reqInfo {
	if ri, ok := ctx.Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

func (ri *reqInfo) wroteHeader(http.ResponseWriter) bool {
	return ri.rw != nil && ri.rw.status != 0
}

// respWriter records the status and sets X-Request-Id again when the
// header is written, so every response carries it whatever a handler did
// to the header map.
type respWriter struct {
	http.ResponseWriter
	id     string
	status int
	bytes  int64
}

func (w *respWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.Header().Set("X-Request-Id", w.id)
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// FlushError lets streams push each frame out at once.
func (w *respWriter) FlushError() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *respWriter) Flush() { _ = w.FlushError() }

func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// validRequestID is what a client may send as X-Request-Id.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// newID returns prefix followed by 26 random base32 characters.
func newID(prefix string) string {
	return prefix + strings.ToLower(rand.Text())
}

// ServeHTTP serves the API. The middleware runs in this order: request id
// and access log → recover → auth → rate limit → (routing) → body limit →
// request validation → the operation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ri := &reqInfo{id: r.Header.Get("X-Request-Id")}
	if !validRequestID(ri.id) {
		ri.id = newID("req_")
	}
	rw := &respWriter{ResponseWriter: w, id: ri.id}
	ri.rw = rw
	rw.Header().Set("X-Request-Id", ri.id)
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
	defer s.logRequest(r, ri, start)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic", slog.String("request_id", ri.id),
				slog.String("route", ri.pattern), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			s.writeProblem(rw, r, internalError(fmt.Errorf("panic: %v", v)))
		}
	}()
	if !canonicalPath(r.URL.EscapedPath()) {
		s.writeProblem(rw, r, newError(http.StatusNotFound, gen.ProblemCodeNotFound, "No route %s.", boundedPath(r.URL.EscapedPath())))
		return
	}
	if r.URL.Path != "/v1/health" {
		tenant, ok := s.authenticate(r)
		if !ok {
			s.writeProblem(rw, r, newError(http.StatusUnauthorized, gen.ProblemCodeUnauthorized, "A valid bearer token is required."))
			return
		}
		ri.tenant = tenant
		if s.limiter != nil {
			if ok, wait := s.limiter.allow(tenant, time.Now()); !ok {
				e := newError(http.StatusTooManyRequests, gen.ProblemCodeRateLimited,
					"Rate limit of %g requests per second exceeded.", s.cfg.RateLimit)
				e.retryAfter = int(math.Ceil(wait.Seconds()))
				s.writeProblem(rw, r, e)
				return
			}
		}
	}
	s.mux.ServeHTTP(rw, r)
}

// canonicalPath reports whether p (escaped) is already clean; the mux would
// answer anything else with a redirect, and such a path names no resource.
func canonicalPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

func (s *Server) logRequest(r *http.Request, ri *reqInfo, start time.Time) {
	status := ri.rw.status
	if status == 0 {
		status = 499 // the client went away before an answer
	}
	route := ri.pattern
	if route == "" {
		route = "unmatched"
	}
	elapsed := time.Since(start)
	if s.metrics != nil {
		op := "unmatched"
		if ri.route != nil {
			op = ri.route.op
		}
		s.metrics.observeRequest(op, status, elapsed)
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.String("path", boundedPath(r.URL.EscapedPath())),
		slog.Int("status", status),
		slog.Int64("bytes", ri.rw.bytes),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.String("request_id", ri.id),
		slog.String("tenant", ri.tenant),
	)
}

// TenantID derives the tenant id of a bearer token: a digest, so the token
// itself is never stored or logged.
func TenantID(token string) string {
	sum := sha256.Sum256([]byte("agentsession-tenant\x00" + token))
	return "tn_" + hex.EncodeToString(sum[:16])
}

// authenticate finds the tenant of the request's bearer token.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", false
	}
	tenant := TenantID(token)
	if _, ok := s.tenants[tenant]; !ok {
		return "", false
	}
	return tenant, true
}

// notRouted answers every request no operation matched: 405 with Allow
// when the path exists with other methods, else 404. It replaces the
// ServeMux's plain-text answers.
func (s *Server) notRouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.inner.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		e := newError(http.StatusMethodNotAllowed, gen.ProblemCodeMethodNotAllowed,
			"%s is not allowed on %s; use %s.", r.Method, boundedPath(r.URL.EscapedPath()), strings.Join(allow, " or "))
		e.allow = strings.Join(allow, ", ")
		s.writeProblem(w, r, e)
		return
	}
	s.writeProblem(w, r, newError(http.StatusNotFound, gen.ProblemCodeNotFound, "No route %s %s.", r.Method, boundedPath(r.URL.EscapedPath())))
}

// maxShownPath bounds a request path where the server repeats it: a
// problem's instance and detail, the request log.
const maxShownPath = 1024

// boundedPath is p, or its first maxShownPath bytes (cut at a character)
// followed by "..." when it is longer.
func boundedPath(p string) string {
	if len(p) <= maxShownPath {
		return p
	}
	cut := maxShownPath
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "..."
}

// rateLimiter is a token bucket per tenant.
type rateLimiter struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes a token from tenant's bucket; when there is none it says how
// long until there will be one.
func (l *rateLimiter) allow(tenant string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[tenant]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[tenant] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}
