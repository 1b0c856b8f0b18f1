package refserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/gen/spec"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/refserver/store"
	"github.com/agentsession/agentsession/sse"
)

// testStoreEnv names the store the tests' servers run on.
const testStoreEnv = "AGENTSESSION_TEST_STORE"

// The tests talk to the server over loopback HTTP like any client, and
// check every answer against openapi.yaml: the response schema of its
// operation and status, X-Request-Id, and the problem shape of errors.

var specRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := spec.GetSwagger()
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	return gorillamux.NewRouter(doc)
})

var specDoc = sync.OnceValues(func() (*openapi3.T, error) { return spec.GetSwagger() })

type client struct {
	t     testing.TB
	base  string
	token string
	hc    *http.Client
	async *sync.WaitGroup
}

// asyncOf holds, per server, the requests clients still run in goroutines:
// the test waits for them after the server has shut down (which ends every
// turn), so none reports after the test ended.
var asyncOf sync.Map // *refservertest.Server -> *sync.WaitGroup

func newClient(t testing.TB, srv *refservertest.Server, tenant int) *client {
	wg, _ := asyncOf.LoadOrStore(srv, new(sync.WaitGroup))
	return &client{t: t, base: srv.URL, token: srv.Tokens[tenant], hc: &http.Client{Timeout: 30 * time.Second}, async: wg.(*sync.WaitGroup)}
}

// start runs a server with options and returns a client of its first tenant.
// With AGENTSESSION_TEST_STORE=sqlite (TestSuiteOnSQLite) the server's store
// is a fresh SQLite file unless an option sets one.
func start(t testing.TB, opts ...func(*refserver.Config)) (*refservertest.Server, *client) {
	t.Helper()
	wg := new(sync.WaitGroup)
	t.Cleanup(wg.Wait) // runs after the server's own cleanup
	if os.Getenv(testStoreEnv) == "sqlite" {
		st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() }) // after the server's shutdown
		opts = append([]func(*refserver.Config){func(c *refserver.Config) { c.Store = st }}, opts...)
	}
	srv := refservertest.Start(t, opts...)
	asyncOf.Store(srv, wg)
	t.Cleanup(func() { asyncOf.Delete(srv) })
	return srv, newClient(t, srv, 0)
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r *response) problem(t testing.TB) gen.Problem {
	t.Helper()
	var p gen.Problem
	r.decode(t, &p)
	return p
}

// header is a request option: a header name and value ("" value deletes).
type header [2]string

// body turns v into a request body: a string is sent as is, anything else
// as JSON; nil sends none.
func body(v any) io.Reader {
	switch b := v.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	case []byte:
		return bytes.NewReader(b)
	}
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return bytes.NewReader(data)
}

func (c *client) newRequest(ctx context.Context, method, path string, b any, hdrs ...header) *http.Request {
	c.t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body(b))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if b != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range hdrs {
		if h[1] == "" {
			req.Header.Del(h[0])
		} else {
			req.Header.Set(h[0], h[1])
		}
	}
	return req
}

// do sends a request and checks the answer against the contract.
func (c *client) do(method, path string, b any, hdrs ...header) *response {
	c.t.Helper()
	req := c.newRequest(context.Background(), method, path, b, hdrs...)
	var reqBody []byte
	if b != nil {
		reqBody, _ = io.ReadAll(body(b))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	r := &response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	checkContract(c.t, req, reqBody, r)
	return r
}

// checkContract fails t when r breaks a rule every answer follows.
func checkContract(t testing.TB, req *http.Request, reqBody []byte, r *response) {
	t.Helper()
	what := req.Method + " " + req.URL.RequestURI()
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		t.Errorf("%s: answer %d has no X-Request-Id", what, r.Status)
	}
	// 502 agent_start_failed is the one 5xx a request may cause: its
	// session's agent (a process) could not be started.
	if r.Status >= 500 && !(r.Status == http.StatusBadGateway && bytes.Contains(r.Body, []byte(`"code":"agent_start_failed"`))) {
		t.Errorf("%s: server error %d: %s", what, r.Status, r.Body)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Status >= 400 {
		if ct != "application/problem+json" {
			t.Errorf("%s: error %d has Content-Type %q, want application/problem+json", what, r.Status, ct)
		}
		var p gen.Problem
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Errorf("%s: error body is not a problem: %v: %s", what, err, r.Body)
		} else {
			if int(p.Status) != r.Status || p.Code == "" || p.Title == "" || p.RequestID != id ||
				p.Type != "https://agentsession.dev/problems/"+string(p.Code) {
				t.Errorf("%s: malformed problem (header request id %q): %s", what, id, r.Body)
			}
		}
	}
	if ct == "text/event-stream" {
		return // frames are checked by readFrames
	}
	router, err := specRouter()
	if err != nil {
		t.Fatal(err)
	}
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		return // no such operation: 404/405, checked above
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Body:                   io.NopCloser(bytes.NewReader(r.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s: answer %d breaks the contract: %v\nbody: %s", what, r.Status, err, r.Body)
	}
}

// want fails t unless r has the status (and, for errors, the code).
func (r *response) want(t testing.TB, status int, code ...gen.ProblemCode) *response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if len(code) > 0 {
		if p := r.problem(t); p.Code != code[0] {
			t.Fatalf("code %q, want %q: %s", p.Code, code[0], r.Body)
		}
	}
	return r
}

func (c *client) createSession(req gen.CreateSessionRequest) gen.Session {
	c.t.Helper()
	var s gen.Session
	c.do("POST", "/v1/sessions", req).want(c.t, http.StatusCreated).decode(c.t, &s)
	return s
}

func (c *client) newSession(agentName string) string {
	c.t.Helper()
	return c.createSession(gen.CreateSessionRequest{Agent: agentName}).SessionID
}

func (c *client) getSession(id string) gen.Session {
	c.t.Helper()
	var s gen.Session
	c.do("GET", "/v1/sessions/"+id, nil).want(c.t, http.StatusOK).decode(c.t, &s)
	return s
}

func (c *client) sendTurn(id string, req gen.TurnRequest, hdrs ...header) gen.TurnResult {
	c.t.Helper()
	var r gen.TurnResult
	c.do("POST", "/v1/sessions/"+id+"/turns", req, hdrs...).want(c.t, http.StatusOK).decode(c.t, &r)
	return r
}

func (c *client) getTurn(id string, index int) gen.Turn {
	c.t.Helper()
	var tr gen.Turn
	c.do("GET", fmt.Sprintf("/v1/sessions/%s/turns/%d", id, index), nil).want(c.t, http.StatusOK).decode(c.t, &tr)
	return tr
}

// waitTurn polls until turn index of session id has the status.
func (c *client) waitTurn(id string, index int, status gen.TurnStatus) gen.Turn {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The turn may not exist yet: its request is still on its way.
		r := c.do("GET", fmt.Sprintf("/v1/sessions/%s/turns/%d", id, index), nil)
		var tr gen.Turn
		if r.Status == http.StatusOK {
			r.decode(c.t, &tr)
			if tr.Status == status {
				return tr
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("turn %d of %s is %q (HTTP %d), want %s", index, id, tr.Status, r.Status, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stream opens a request whose answer is an event stream and returns the
// response, checked for status and headers; the caller reads frames.
func (c *client) stream(ctx context.Context, method, path string, b any, hdrs ...header) *http.Response {
	c.t.Helper()
	req := c.newRequest(ctx, method, path, b, append([]header{{"Accept", "text/event-stream"}}, hdrs...)...)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.t.Fatalf("%s %s: status %d: %s", method, path, resp.StatusCode, data)
	}
	for name, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(name); got != want {
			c.t.Errorf("%s: %s = %q, want %q", path, name, got, want)
		}
	}
	if resp.Header.Get("X-Request-Id") == "" {
		c.t.Errorf("%s: stream has no X-Request-Id", path)
	}
	return resp
}

// readFrames reads a whole stream, checking each frame's data against its
// schema. It returns the frames and the number of comments.
func readFrames(t testing.TB, r io.Reader) ([]sse.Frame, int) {
	t.Helper()
	rd := sse.NewReader(r)
	var frames []sse.Frame
	for {
		f, err := rd.Next()
		if err == io.EOF {
			return frames, rd.Comments()
		}
		if err != nil {
			t.Fatalf("read stream: %v (after %d frames)", err, len(frames))
		}
		checkFrame(t, f)
		frames = append(frames, f)
	}
}

func checkFrame(t testing.TB, f sse.Frame) {
	t.Helper()
	schema := map[string]string{"": "Event", "turn.accepted": "TurnAccepted", "turn.completed": "TurnSummary"}[f.Event]
	if schema == "" {
		t.Errorf("unexpected frame type %q", f.Event)
		return
	}
	doc, err := specDoc()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal([]byte(f.Data), &v); err != nil {
		t.Errorf("frame %q data is not JSON: %v", f.Event, err)
		return
	}
	if err := doc.Components.Schemas[schema].Value.VisitJSON(v); err != nil {
		t.Errorf("frame %q breaks the %s schema: %v: %s", f.Event, schema, err, f.Data)
	}
	if f.Event == "" {
		var ev gen.Event
		_ = json.Unmarshal([]byte(f.Data), &ev)
		if f.ID != fmt.Sprint(ev.Seq) {
			t.Errorf("event frame id %q, want its seq %d", f.ID, ev.Seq)
		}
	}
}

// script is an AgentScript prompt for the scripted agent.
func script(stop gen.StopReason, steps ...gen.ScriptStep) string {
	data, err := json.Marshal(gen.AgentScript{Steps: steps, StopReason: stop})
	if err != nil {
		panic(err)
	}
	return string(data)
}

// text is a script step emitting a text event after delay.
func text(delay time.Duration, content string) gen.ScriptStep {
	return gen.ScriptStep{DelayMs: int32(delay.Milliseconds()), Event: gen.ScriptEvent{Type: gen.EventTypeText, Content: content}}
}

// wait is a script step that only waits.
func wait(delay time.Duration) gen.ScriptStep {
	return gen.ScriptStep{DelayMs: int32(delay.Milliseconds())}
}

func ptr[T any](v T) *T { return &v }

func path(format string, a ...any) string { return fmt.Sprintf(format, a...) }

var _ = url.PathEscape

// doAsync sends a request in a goroutine; the channel yields the checked
// answer (nil when the request failed, which fails the test).
func (c *client) doAsync(method, path string, b any, hdrs ...header) <-chan *response {
	ch := make(chan *response, 1)
	req := c.newRequest(context.Background(), method, path, b, hdrs...)
	var reqBody []byte
	if b != nil {
		reqBody, _ = io.ReadAll(body(b))
	}
	c.async.Add(1)
	go func() {
		defer c.async.Done()
		resp, err := c.hc.Do(req)
		if err != nil {
			c.t.Errorf("%s %s: %v", method, path, err)
			ch <- nil
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			c.t.Errorf("%s %s: read: %v", method, path, err)
			ch <- nil
			return
		}
		r := &response{Status: resp.StatusCode, Header: resp.Header, Body: data}
		checkContract(c.t, req, reqBody, r)
		ch <- r
	}()
	return ch
}

// result waits for an async answer.
func result(t testing.TB, ch <-chan *response) *response {
	t.Helper()
	select {
	case r := <-ch:
		if r == nil {
			t.FailNow()
		}
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("no answer within 20 s")
		return nil
	}
}

func encode(v any) ([]byte, error) { return json.Marshal(v) }
