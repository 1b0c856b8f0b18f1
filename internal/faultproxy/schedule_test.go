package faultproxy_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/internal/faultproxy"
)

// req is one request of a sequence; the proxy is driven in-process
// (ServeHTTP), so sequences of hundreds stay fast.
type req struct {
	method, path, key, body string
	stream                  bool
}

func post(path string) req { return req{method: "POST", path: path} }

// pattern runs the requests through a proxy with cfg and returns, for each,
// the name of the rule whose 503 answered it, or "-" when it got through.
func pattern(t *testing.T, cfg faultproxy.Config, reqs []req) []string {
	t.Helper()
	p := newProxy(t, cfg)
	return runPattern(p, reqs)
}

func newProxy(t *testing.T, cfg faultproxy.Config, opts ...faultproxy.Option) *faultproxy.Proxy {
	t.Helper()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	t.Cleanup(target.Close)
	u, _ := url.Parse(target.URL)
	p, err := faultproxy.New(u, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runPattern(p http.Handler, reqs []req) []string {
	out := make([]string, len(reqs))
	for i, rq := range reqs {
		method := rq.method
		if method == "" {
			method = "GET"
		}
		r := httptest.NewRequest(method, rq.path, strings.NewReader(rq.body))
		if rq.key != "" {
			r.Header.Set("Idempotency-Key", rq.key)
		}
		if rq.stream {
			r.Header.Set("Accept", "text/event-stream")
		}
		w := httptest.NewRecorder()
		p.ServeHTTP(w, r)
		out[i] = "-"
		if w.Code == 503 {
			out[i] = w.Header().Get("X-Faultproxy-Rule")
		}
	}
	return out
}

func unavailable(name string, m faultproxy.Match, s faultproxy.Schedule) faultproxy.Rule {
	return faultproxy.Rule{Name: name, Match: m, Schedule: s, Fault: faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 503}}
}

func repeat(r req, n int) []req {
	out := make([]req, n)
	for i := range out {
		out[i] = r
		out[i].key = fmt.Sprint(i) // distinct logical requests
	}
	return out
}

func p(v float64) *float64 { return &v }

func TestSchedules(t *testing.T) {
	turns := faultproxy.Match{Methods: []string{"POST"}, Path: `^/v1/sessions/[^/]+/turns$`}
	tests := []struct {
		name  string
		cfg   faultproxy.Config
		reqs  []req
		want  string
		wantN map[string]int // faults per rule in Stats
	}{
		{"every request by default",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", faultproxy.Match{}, faultproxy.Schedule{})}},
			repeat(post("/x"), 3), "a a a", map[string]int{"a": 3}},
		{"every 3rd",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", faultproxy.Match{}, faultproxy.Schedule{Every: 3})}},
			repeat(post("/x"), 7), "- - a - - a -", nil},
		{"first 2",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", faultproxy.Match{}, faultproxy.Schedule{First: 2})}},
			repeat(post("/x"), 4), "a a - -", nil},
		{"skip 1, then first 2",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", faultproxy.Match{}, faultproxy.Schedule{Skip: 1, First: 2})}},
			repeat(post("/x"), 5), "- a a - -", nil},
		{"skip 1, then every 2nd, limit 2",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", faultproxy.Match{}, faultproxy.Schedule{Skip: 1, Every: 2, Limit: 2})}},
			repeat(post("/x"), 8), "- - a - a - - -", nil},
		{"only the matching method and path count",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", turns, faultproxy.Schedule{Every: 2})}},
			[]req{post("/v1/sessions/s1/turns"), {path: "/v1/sessions/s1/turns"}, post("/v1/sessions/s1/turns/1/stream"),
				post("/v1/sessions/s1/turns"), post("/v1/sessions"), post("/v1/sessions/s2/turns")},
			"- - - a - -", map[string]int{"a": 1}},
		{"path prefix",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", faultproxy.Match{PathPrefix: "/v1/files"}, faultproxy.Schedule{})}},
			[]req{{path: "/v1/files/f"}, {path: "/v1/sessions"}, {path: "/v1/file"}}, "a - -", nil},
		{"stream or not",
			faultproxy.Config{Rules: []faultproxy.Rule{
				unavailable("streams", faultproxy.Match{Stream: new(true)}, faultproxy.Schedule{}),
				unavailable("json", faultproxy.Match{Stream: new(false)}, faultproxy.Schedule{}),
			}},
			[]req{{path: "/a", stream: true}, {path: "/a"}}, "streams json", nil},
		{"body marker: only requests whose body matches",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", faultproxy.Match{Body: `cut-me`}, faultproxy.Schedule{})}},
			[]req{{method: "POST", path: "/t", body: `{"prompt":"please cut-me now"}`}, {method: "POST", path: "/t", body: `{"prompt":"keep"}`},
				{path: "/t"}},
			"a - -", nil},
		{"per-request cap: retries of one call get through",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", faultproxy.Match{}, faultproxy.Schedule{PerRequest: 2})}},
			[]req{{method: "POST", path: "/t", key: "k1"}, {method: "POST", path: "/t", key: "k1"}, {method: "POST", path: "/t", key: "k1"},
				{method: "POST", path: "/t", key: "k2"}, {method: "POST", path: "/t", key: "k1"}},
			"a a - a -", nil},
		{"per-request cap without a key: the body tells calls apart",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", faultproxy.Match{}, faultproxy.Schedule{PerRequest: 1})}},
			[]req{{method: "POST", path: "/t", body: `{"n":1}`}, {method: "POST", path: "/t", body: `{"n":1}`},
				{method: "POST", path: "/t", body: `{"n":2}`}, {method: "POST", path: "/u", body: `{"n":1}`}, {method: "GET", path: "/t", body: `{"n":1}`}},
			"a - a a a", nil},
		{"priority: the higher rule wins",
			faultproxy.Config{Rules: []faultproxy.Rule{
				unavailable("low", faultproxy.Match{}, faultproxy.Schedule{Every: 2}),
				{Name: "high", Priority: 5, Schedule: faultproxy.Schedule{First: 2},
					Fault: faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 503}},
			}},
			repeat(post("/x"), 6), "high high - low - low", map[string]int{"high": 2, "low": 2}},
		{"a request a higher rule took is not seen by the lower ones",
			faultproxy.Config{Rules: []faultproxy.Rule{
				unavailable("low", faultproxy.Match{}, faultproxy.Schedule{First: 1}),
				{Name: "high", Priority: 1, Schedule: faultproxy.Schedule{First: 1},
					Fault: faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 503}},
			}},
			repeat(post("/x"), 3), "high low -", nil},
		{"equal priority: config order",
			faultproxy.Config{Rules: []faultproxy.Rule{
				unavailable("first", faultproxy.Match{}, faultproxy.Schedule{Every: 2}),
				unavailable("second", faultproxy.Match{}, faultproxy.Schedule{}),
			}},
			repeat(post("/x"), 4), "second first second first", nil},
		{"max_per_request caps all rules together",
			faultproxy.Config{MaxPerRequest: 2, Rules: []faultproxy.Rule{
				unavailable("a", faultproxy.Match{}, faultproxy.Schedule{PerRequest: 1}),
				unavailable("b", faultproxy.Match{}, faultproxy.Schedule{PerRequest: 1}),
				unavailable("c", faultproxy.Match{}, faultproxy.Schedule{}),
			}},
			[]req{{path: "/t", key: "k"}, {path: "/t", key: "k"}, {path: "/t", key: "k"}, {path: "/t", key: "k2"}},
			"a b - a", nil},
		{"probability 0 never faults",
			faultproxy.Config{Rules: []faultproxy.Rule{unavailable("a", faultproxy.Match{}, faultproxy.Schedule{Probability: p(0)})}},
			repeat(post("/x"), 5), "- - - - -", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px := newProxy(t, tt.cfg)
			got := strings.Join(runPattern(px, tt.reqs), " ")
			if got != tt.want {
				t.Errorf("faults %q, want %q", got, tt.want)
			}
			st := px.Stats()
			for _, rs := range st.Rules {
				if want, ok := tt.wantN[rs.Name]; ok && rs.Faults != want {
					t.Errorf("rule %s: %d faults in stats, want %d", rs.Name, rs.Faults, want)
				}
			}
			if st.Requests != len(tt.reqs) {
				t.Errorf("%d requests in stats, want %d", st.Requests, len(tt.reqs))
			}
		})
	}
}

// TestProbabilityIsSeeded: the same seed and requests give the same
// faults, another seed others, at about the configured rate; Reset replays
// the same sequence.
func TestProbabilityIsSeeded(t *testing.T) {
	cfg := func(seed int64) faultproxy.Config {
		return faultproxy.Config{Seed: seed, Rules: []faultproxy.Rule{
			unavailable("a", faultproxy.Match{}, faultproxy.Schedule{Probability: p(0.3)})}}
	}
	reqs := repeat(post("/x"), 400)
	a := strings.Join(pattern(t, cfg(7), reqs), "")
	if b := strings.Join(pattern(t, cfg(7), reqs), ""); a != b {
		t.Error("the same seed gave different faults")
	}
	if c := strings.Join(pattern(t, cfg(8), reqs), ""); a == c {
		t.Error("another seed gave the same faults")
	}
	if n := strings.Count(a, "a"); n < 80 || n > 160 {
		t.Errorf("%d faults in 400 at p=0.3", n)
	}
	px := newProxy(t, cfg(7))
	first := strings.Join(runPattern(px, reqs[:50]), "")
	px.Reset()
	if again := strings.Join(runPattern(px, reqs[:50]), ""); again != first || first != a[:50] {
		t.Errorf("after Reset: %s, want %s", again, first)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		doc  string
		want []string
	}{
		{`rules: [{fault: {kind: boom}}]`, []string{`rule "rule-1": fault.kind "boom"`}},
		{`rules: [{fault: {kind: reset, status: 503}}]`, []string{"fault.status does not apply to kind reset"}},
		{`rules: [{fault: {kind: sse_cut}}]`, []string{"after_events must be at least 1"}},
		{`rules: [{fault: {kind: stall}}]`, []string{"duration must be positive"}},
		{`rules: [{fault: {kind: stall, duration: 2s, then: explode}}]`, []string{`fault.then "explode"`}},
		{`rules: [{fault: {kind: stall, duration: soon}}]`, []string{`duration "soon"`}},
		{`rules: [{fault: {kind: status, status: 200}}]`, []string{"fault.status 200"}},
		{`rules: [{fault: {kind: status, status: 429, retry_after: -1}}]`, []string{"retry_after must not be negative"}},
		{`rules: [{match: {path: "("}, fault: {kind: drop}}]`, []string{"match.path"}},
		{`rules: [{schedule: {every: -1, probability: 2}, fault: {kind: drop}}]`, []string{"schedule.every", "schedule.probability"}},
		{`rules: [{name: x, fault: {kind: drop}}, {name: x, fault: {kind: drop}}]`, []string{`rule "x": duplicate name`}},
		{`rules: [{fault: {kind: drop}, extra: 1}]`, []string{"extra"}},
		{`{"rules": [{"fault": {"kind": "drop"}, "extra": 1}]}`, []string{"extra"}},
		{`{"rules": [{"fault": {"kind": "stall", "duration": 5}}]}`, []string{"duration"}},
		{`max_per_request: -1`, []string{"max_per_request"}},
	}
	for _, tt := range tests {
		_, err := faultproxy.ParseConfig([]byte(tt.doc))
		if err == nil {
			t.Errorf("%s: no error", tt.doc)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to mention %q", tt.doc, err, w)
			}
		}
	}
	u, _ := url.Parse("http://127.0.0.1:1")
	if _, err := faultproxy.New(u, faultproxy.Config{Rules: []faultproxy.Rule{{Fault: faultproxy.Fault{Kind: "nope"}}}}); err == nil {
		t.Error("New accepted an invalid config")
	}
	for _, target := range []string{"127.0.0.1:1", "ftp://h/", "http://user:pw@h/"} {
		u, _ := url.Parse(target)
		if _, err := faultproxy.New(u, faultproxy.Config{}); err == nil {
			t.Errorf("New accepted the target %q", target)
		}
	}
}

// TestConfigYAMLAndJSON: the two notations decode to the same Config, and
// the JSON the admin endpoint writes reads back the same.
func TestConfigYAMLAndJSON(t *testing.T) {
	yamlDoc := `
seed: 42
max_per_request: 2
rules:
  - name: reset-turns
    priority: 10
    match: {methods: [POST], path: '^/v1/sessions/[^/]+/turns$', stream: false}
    schedule: {first: 3, per_request: 1, probability: 0.5}
    fault: {kind: reset, after_bytes: 16}
  - name: slow
    fault: {kind: stall, duration: 1500ms, then: drop, after_response: true}
  - name: limited
    fault: {kind: status, status: 429, retry_after: 0}
`
	jsonDoc := `{"seed": 42, "max_per_request": 2, "rules": [
	  {"name": "reset-turns", "priority": 10,
	   "match": {"methods": ["POST"], "path": "^/v1/sessions/[^/]+/turns$", "stream": false},
	   "schedule": {"first": 3, "per_request": 1, "probability": 0.5},
	   "fault": {"kind": "reset", "after_bytes": 16}},
	  {"name": "slow", "fault": {"kind": "stall", "duration": "1.5s", "then": "drop", "after_response": true}},
	  {"name": "limited", "fault": {"kind": "status", "status": 429, "retry_after": 0}}]}`
	a, err := faultproxy.ParseConfig([]byte(yamlDoc))
	if err != nil {
		t.Fatal(err)
	}
	b, err := faultproxy.ParseConfig([]byte(jsonDoc))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("YAML and JSON differ (-yaml +json):\n%s", diff)
	}
	if *a.Rules[2].Fault.RetryAfter != 0 || *a.Rules[0].Match.Stream || a.Rules[1].Fault.Duration.String() != "1.5s" {
		t.Errorf("decoded %+v", a)
	}
	px := newProxy(t, a)
	w := httptest.NewRecorder()
	px.ServeHTTP(w, httptest.NewRequest("GET", "/__faultproxy/config", nil))
	back, err := faultproxy.ParseConfig(w.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, back); diff != "" {
		t.Errorf("the admin JSON reads back different (-want +got):\n%s", diff)
	}
	if c, err := faultproxy.ParseConfig([]byte("  \n")); err != nil || len(c.Rules) != 0 {
		t.Errorf("an empty document: %+v %v", c, err)
	}
}

// TestTokenNeverLoggedOrRecorded: with debug logging and faults of every
// kind, the bearer token appears in no log line, no stats and no config.
func TestTokenNeverLoggedOrRecorded(t *testing.T) {
	const token = "tok-secret-5e8d1f"
	logs := &lockedBuffer{}
	cfg := faultproxy.Config{Rules: []faultproxy.Rule{
		{Name: "a", Schedule: faultproxy.Schedule{Every: 2}, Fault: faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 429}},
		{Name: "b", Fault: faultproxy.Fault{Kind: faultproxy.KindTruncate, AfterBytes: 1}},
	}}
	b := startBackend(t, fixedBody([]byte(`{"ok":true}`)))
	fp := faultproxy.Start(t, b.URL, cfg, faultproxy.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	for i := 0; i < 4; i++ {
		do(t, freshClient(0), "POST", fp.URL+"/v1/sessions", strings.NewReader(`{}`), map[string]string{"Authorization": "Bearer " + token})
	}
	stats := do(t, http.DefaultClient, "GET", fp.URL+"/__faultproxy/stats", nil, nil)
	// A handler logs its request line after the client has its answer.
	for deadline := time.Now().Add(5 * time.Second); strings.Count(logs.String(), "msg=request") < 4 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "fault injected") || strings.Count(logs.String(), "msg=request") != 4 || fp.Proxy.Stats().Faults != 4 {
		t.Fatalf("the test injected no faults: %s", logs.String())
	}
	for what, s := range map[string]string{"logs": logs.String(), "stats": string(stats.body), "config": fmt.Sprintf("%+v", fp.Proxy.Config())} {
		if strings.Contains(s, token) {
			t.Errorf("the token is in the %s", what)
		}
	}
}

// lockedBuffer is a bytes.Buffer the proxy's handlers and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
