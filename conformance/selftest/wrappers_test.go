package selftest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/gen/spec"
	"github.com/agentsession/agentsession/sse"
)

// The building blocks of the broken servers: each wraps the reference
// server's handler and changes what one kind of request sends or receives.

// answer is a recorded response that a defect may edit before it is sent.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// rewrite buffers the answers to the requests match selects and lets edit
// change them. Other requests pass through untouched (and unbuffered).
func rewrite(h http.Handler, match func(*http.Request) bool, edit func(*http.Request, *answer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !match(r) {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		a := &answer{status: rec.Code, header: rec.Header().Clone(), body: rec.Body.Bytes()}
		edit(r, a)
		for k, v := range a.header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
	})
}

// editRequest changes a request before the server sees it.
func editRequest(h http.Handler, edit func(*http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edit(r)
		h.ServeHTTP(w, r)
	})
}

// headerEdit changes the response headers just before they are sent, on
// every response (streams included).
func headerEdit(h http.Handler, edit func(r *http.Request, status int, hdr http.Header)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&headerWriter{ResponseWriter: w, r: r, edit: edit}, r)
	})
}

type headerWriter struct {
	http.ResponseWriter
	r     *http.Request
	edit  func(*http.Request, int, http.Header)
	wrote bool
}

func (w *headerWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.edit(w.r, code, w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *headerWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *headerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readBody reads and restores a request body.
func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

// setBody replaces a request body.
func setBody(r *http.Request, b []byte) {
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
}

// editJSON decodes a JSON object, lets f change it and encodes it again;
// anything that is not an object is returned unchanged.
func editJSON(b []byte, f func(map[string]any)) []byte {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil || m == nil {
		return b
	}
	f(m)
	out, _ := json.Marshal(m)
	return out
}

// problem writes a problem document into an answer.
func (a *answer) problem(status int, code gen.ProblemCode) {
	a.status = status
	a.header.Set("Content-Type", "application/problem+json")
	a.body, _ = json.Marshal(gen.Problem{Type: "https://agentsession.dev/problems/" + string(code), Title: string(code),
		Status: int32(status), Code: code, RequestID: a.header.Get("X-Request-Id")})
}

// editFrames decodes an event stream, lets f rewrite the frames and encodes them again.
func editFrames(a *answer, f func([]sse.Frame) []sse.Frame) {
	if !strings.HasPrefix(a.header.Get("Content-Type"), "text/event-stream") {
		return
	}
	r := sse.NewReader(bytes.NewReader(a.body))
	var frames []sse.Frame
	for {
		fr, err := r.Next()
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		frames = append(frames, fr)
	}
	var out bytes.Buffer
	for _, fr := range f(frames) {
		_ = sse.Write(&out, fr)
	}
	a.body = out.Bytes()
}

// internal sends a request straight to the handler, as if from a client,
// and decodes the JSON answer into v (when not nil).
func internal(h http.Handler, method, target, auth string, body any, v any) int {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, target, rd)
	req.Header.Set("Authorization", auth)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if v != nil {
		_ = json.Unmarshal(rec.Body.Bytes(), v)
	}
	return rec.Code
}

// Request matchers.
func is(method string, pattern string) func(*http.Request) bool {
	re := regexp.MustCompile("^" + pattern + "$")
	return func(r *http.Request) bool { return r.Method == method && re.MatchString(r.URL.Path) }
}

func any2(a, b func(*http.Request) bool) func(*http.Request) bool {
	return func(r *http.Request) bool { return a(r) || b(r) }
}

func always(*http.Request) bool { return true }

// knownRoute reports whether the contract has a path like p.
var knownRoute = func() func(string) bool {
	doc, err := spec.GetSwagger()
	if err != nil {
		panic(err)
	}
	var res []*regexp.Regexp
	for p := range doc.Paths.Map() {
		res = append(res, regexp.MustCompile("^"+regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(p, "[^/]+")+"$"))
	}
	return func(p string) bool {
		for _, re := range res {
			if re.MatchString(p) {
				return true
			}
		}
		return false
	}
}()

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
