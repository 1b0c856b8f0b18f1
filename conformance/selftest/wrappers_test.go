package selftest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/gen/spec"
	"github.com/agentsession/agentsession/sse"
)

// The building blocks of the broken servers: each wraps the reference
// server's handler and changes what one kind of request sends or receives.

// injector builds a broken server around the reference server's handler.
type injector func(h http.Handler, tg *target) http.Handler

// answer is a recorded response that a defect may edit before it is sent.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// record runs h on r and returns what it answered.
func record(h http.Handler, r *http.Request) *answer {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return &answer{status: rec.Code, header: rec.Header().Clone(), body: rec.Body.Bytes()}
}

// send writes an answer.
func (a *answer) send(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// rewrite buffers the answers to the requests match selects and lets edit
// change them. Other requests pass through untouched (and unbuffered).
func rewrite(h http.Handler, match func(*http.Request) bool, edit func(*http.Request, *answer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !match(r) {
			h.ServeHTTP(w, r)
			return
		}
		a := record(h, r)
		edit(r, a)
		a.send(w)
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

// problemAnswer is a problem answer made without the server.
func problemAnswer(r *http.Request, status int, code gen.ProblemCode) *answer {
	a := &answer{header: http.Header{"X-Request-Id": {requestIDFor(r)}}}
	a.problem(status, code)
	return a
}

// requestIDFor is the X-Request-Id a broken server made-up answer carries:
// the client's when valid, as the contract wants.
func requestIDFor(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`).MatchString(id) {
		return id
	}
	return "req_defect"
}

// isProblem reports whether an answer is a problem document.
func isProblem(a *answer) bool {
	return strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json")
}

// problemCode is the code of an answer's problem, "" when it is none.
func problemCode(a *answer) gen.ProblemCode {
	var p gen.Problem
	if !isProblem(a) || json.Unmarshal(a.body, &p) != nil {
		return ""
	}
	return p.Code
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

// operations maps each operationId of the contract to its method and path.
var operations = func() map[string]func(*http.Request) bool {
	doc, err := spec.GetSwagger()
	if err != nil {
		panic(err)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	out := map[string]func(*http.Request) bool{}
	for p, item := range doc.Paths.Map() {
		for method, o := range item.Operations() {
			out[o.OperationID] = is(method, param.ReplaceAllString(p, "[^/]+"))
		}
	}
	return out
}()

// isOp matches the requests of the named operations.
func isOp(names ...string) func(*http.Request) bool {
	var ms []func(*http.Request) bool
	for _, n := range names {
		m, ok := operations[n]
		if !ok {
			panic("selftest: no operation " + n)
		}
		ms = append(ms, m)
	}
	return func(r *http.Request) bool {
		for _, m := range ms {
			if m(r) {
				return true
			}
		}
		return false
	}
}

// wantsStream reports whether a request asks for an event stream.
func wantsStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// isStream matches the requests answered with an event stream.
func isStream(r *http.Request) bool {
	return (isOp("sendTurn")(r) && wantsStream(r)) || isOp("streamTurn")(r)
}

// isJSONTurn matches sendTurn requests answered with JSON.
func isJSONTurn(r *http.Request) bool { return isOp("sendTurn")(r) && !wantsStream(r) }

func not(m func(*http.Request) bool) func(*http.Request) bool {
	return func(r *http.Request) bool { return !m(r) }
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

// --- the generators: one line per kind of defect.

// respJSON edits the JSON object answers (not problems, not streams) of the
// requests match selects.
func respJSON(match func(*http.Request) bool, edit func(r *http.Request, m map[string]any)) injector {
	return func(h http.Handler, _ *target) http.Handler {
		return rewrite(h, func(r *http.Request) bool { return match(r) && !isStream(r) }, func(r *http.Request, a *answer) {
			if a.status < 400 && strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
				a.body = editJSON(a.body, func(m map[string]any) { edit(r, m) })
			}
		})
	}
}

// eachObject calls f on m and on every object nested in it whose members
// include all of keys.
func eachObject(v any, keys []string, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		has := true
		for _, k := range keys {
			_, ok := x[k]
			has = has && ok
		}
		if has {
			f(x)
		}
		for _, e := range x {
			eachObject(e, keys, f)
		}
	case []any:
		for _, e := range x {
			eachObject(e, keys, f)
		}
	}
}

// sessionField edits every Session object of every JSON answer.
func sessionField(f func(s map[string]any)) injector {
	return respJSON(always, func(_ *http.Request, m map[string]any) {
		eachObject(m, []string{"session_id", "turn_count", "last_event_seq"}, f)
	})
}

// turnField edits every Turn object (getTurn, listTurns) of the answers.
func turnField(f func(t map[string]any)) injector {
	return respJSON(isOp("getTurn", "listTurns"), func(_ *http.Request, m map[string]any) {
		eachObject(m, []string{"turn_index", "prompt", "busy_policy"}, f)
	})
}

// resultField edits the TurnResult of every sendTurn answered with JSON.
func resultField(f func(m map[string]any)) injector {
	return respJSON(isJSONTurn, func(_ *http.Request, m map[string]any) { f(m) })
}

// problemField edits every problem document.
func problemField(f func(r *http.Request, m map[string]any)) injector {
	return func(h http.Handler, _ *target) http.Handler {
		return rewrite(h, not(isStream), func(r *http.Request, a *answer) {
			if isProblem(a) {
				a.body = editJSON(a.body, func(m map[string]any) { f(r, m) })
			}
		})
	}
}

// capsField edits getCapabilities' answers.
func capsField(f func(m map[string]any)) injector {
	return respJSON(isOp("getCapabilities"), func(_ *http.Request, m map[string]any) { f(m) })
}

// reqJSON edits the JSON bodies of the requests match selects.
func reqJSON(match func(*http.Request) bool, f func(m map[string]any)) injector {
	return func(h http.Handler, _ *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if match(r) {
				setBody(r, editJSON(readBody(r), f))
			}
		})
	}
}

// dropMember is a server that ignores one member of a request body.
func dropMember(match func(*http.Request) bool, member string) injector {
	return reqJSON(match, func(m map[string]any) { delete(m, member) })
}

// reqQuery edits the query of the requests match selects.
func reqQuery(match func(*http.Request) bool, f func(q url.Values)) injector {
	return func(h http.Handler, _ *target) http.Handler {
		return editRequest(h, func(r *http.Request) {
			if match(r) {
				q := r.URL.Query()
				f(q)
				r.URL.RawQuery = q.Encode()
			}
		})
	}
}

// dropHeader removes a response header from the answers when is says so.
func dropHeader(name string, when func(r *http.Request, status int) bool) injector {
	return func(h http.Handler, _ *target) http.Handler {
		return headerEdit(h, func(r *http.Request, status int, hdr http.Header) {
			if when(r, status) {
				hdr.Del(name)
			}
		})
	}
}

// refuse answers the requests when selects with a problem, without the server.
func refuse(when func(r *http.Request) bool, status int, code gen.ProblemCode) injector {
	return func(h http.Handler, _ *target) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if when(r) {
				problemAnswer(r, status, code).send(w)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// recode turns the problems with code from of the requests match selects
// into problems with status and code to.
func recode(match func(*http.Request) bool, from gen.ProblemCode, status int, to gen.ProblemCode) injector {
	return func(h http.Handler, _ *target) http.Handler {
		return rewrite(h, func(r *http.Request) bool { return match(r) && !isStream(r) }, func(r *http.Request, a *answer) {
			if problemCode(a) == from {
				a.problem(status, to)
			}
		})
	}
}

// streamFrames edits the frames of every event stream (buffered).
func streamFrames(f func(r *http.Request, frames []sse.Frame) []sse.Frame) injector {
	return func(h http.Handler, _ *target) http.Handler {
		return rewrite(h, isStream, func(r *http.Request, a *answer) {
			editFrames(a, func(frames []sse.Frame) []sse.Frame { return f(r, frames) })
		})
	}
}

// streamBytes edits the raw bytes of every event stream (buffered).
func streamBytes(f func(b []byte) []byte) injector {
	return func(h http.Handler, _ *target) http.Handler {
		return rewrite(h, isStream, func(r *http.Request, a *answer) {
			if strings.HasPrefix(a.header.Get("Content-Type"), "text/event-stream") {
				a.body = f(a.body)
			}
		})
	}
}

// handler adapts a plain wrapper to an injector.
func handler(f func(h http.Handler, tg *target) http.HandlerFunc) injector {
	return func(h http.Handler, tg *target) http.Handler { return f(h, tg) }
}

// shift moves an RFC 3339 timestamp member by d.
func shift(m map[string]any, key string, d string) {
	s, ok := m[key].(string)
	if !ok {
		return
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return
	}
	dur, _ := time.ParseDuration(d)
	m[key] = t.Add(dur).Format(time.RFC3339Nano)
}

// keyedOnce remembers values per key, safely for concurrent requests.
type keyedOnce struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *keyedOnce) get(key string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok
}

func (k *keyedOnce) put(key, v string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	if _, ok := k.m[key]; !ok {
		k.m[key] = v
	}
}
