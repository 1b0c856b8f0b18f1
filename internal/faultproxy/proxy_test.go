package faultproxy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/agentsession/agentsession/internal/faultproxy"
)

// backend is a target server that counts the requests reaching it.
type backend struct {
	URL  string
	hits atomic.Int64
}

func startBackend(t *testing.T, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	return b
}

// payload is a body of n distinct-looking bytes.
func payload(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d,", i)
	}
	return b.Bytes()[:n]
}

// fixedBody answers body with a Content-Length.
func fixedBody(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
}

// chunkedBody answers body in flushed pieces of 64 bytes (no Content-Length).
func chunkedBody(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		rc := http.NewResponseController(w)
		for rest := body; len(rest) > 0; {
			n := min(64, len(rest))
			w.Write(rest[:n])
			rc.Flush()
			rest = rest[n:]
		}
	}
}

func rule(f faultproxy.Fault) faultproxy.Config {
	return faultproxy.Config{Rules: []faultproxy.Rule{{Name: "r", Fault: f}}}
}

func intp(v int) *int { return &v }

// freshClient never reuses a connection, so a dropped connection is never
// retried by the transport behind the test's back.
func freshClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
}

// result is what a client saw.
type result struct {
	resp    *http.Response
	body    []byte
	err     error // from Do, or from reading the body
	elapsed time.Duration
}

func do(t *testing.T, c *http.Client, method, url string, body io.Reader, hdr map[string]string) result {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return result{err: err, elapsed: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{resp: resp, body: b, err: err, elapsed: time.Since(start)}
}

func TestFaultsSeenByAClient(t *testing.T) {
	body := payload(5000)
	type check func(t *testing.T, got result, b *backend)
	wantHits := func(n int64) check {
		return func(t *testing.T, _ result, b *backend) {
			if got := b.hits.Load(); got != n {
				t.Errorf("the backend saw %d requests, want %d", got, n)
			}
		}
	}
	noAnswer := func(t *testing.T, got result, _ *backend) {
		if got.err == nil || got.resp != nil {
			t.Errorf("want a connection error and no answer, got %v (answer: %v)", got.err, got.resp != nil)
		}
	}
	resetAfter := func(n int) check {
		return func(t *testing.T, got result, _ *backend) {
			if got.resp == nil || got.resp.StatusCode != 200 {
				t.Fatalf("want the headers of a 200, got %v", got.err)
			}
			if !errors.Is(got.err, syscall.ECONNRESET) {
				t.Errorf("reading the body: %v, want a connection reset", got.err)
			}
			// Bytes that arrived before the RST may be discarded by the
			// client's kernel, never more than n are sent.
			if len(got.body) > n || !bytes.Equal(got.body, body[:len(got.body)]) {
				t.Errorf("got %d body bytes, want at most the first %d", len(got.body), n)
			}
		}
	}
	truncatedAt := func(n int) check {
		return func(t *testing.T, got result, _ *backend) {
			if got.resp == nil {
				t.Fatalf("no answer: %v", got.err)
			}
			if got.resp.ContentLength != int64(len(body)) {
				t.Errorf("Content-Length %d, want the whole body's %d", got.resp.ContentLength, len(body))
			}
			if !errors.Is(got.err, io.ErrUnexpectedEOF) {
				t.Errorf("reading the body: %v, want io.ErrUnexpectedEOF", got.err)
			}
			if !bytes.Equal(got.body, body[:n]) {
				t.Errorf("got %d body bytes, want exactly the first %d", len(got.body), n)
			}
		}
	}
	chunkedCut := func(t *testing.T, got result, _ *backend) {
		if got.resp == nil {
			t.Fatalf("no answer: %v", got.err)
		}
		if !errors.Is(got.err, io.ErrUnexpectedEOF) {
			t.Errorf("reading the body: %v, want io.ErrUnexpectedEOF", got.err)
		}
	}
	whole := func(t *testing.T, got result, _ *backend) {
		if got.err != nil || got.resp.StatusCode != 200 || !bytes.Equal(got.body, body) {
			t.Errorf("want the whole answer, got %v, %d bytes", got.err, len(got.body))
		}
	}
	statusWith := func(code int, hdr map[string]string, bodyHas string) check {
		return func(t *testing.T, got result, _ *backend) {
			if got.err != nil || got.resp.StatusCode != code {
				t.Fatalf("want a %d, got %v", code, got.err)
			}
			for k, v := range hdr {
				if g := got.resp.Header.Get(k); g != v {
					t.Errorf("%s: %q, want %q", k, g, v)
				}
			}
			if !strings.Contains(string(got.body), bodyHas) {
				t.Errorf("body %q lacks %q", got.body, bodyHas)
			}
			if got.resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		}
	}
	tookAtLeast := func(d time.Duration) check {
		return func(t *testing.T, got result, _ *backend) {
			if got.elapsed < d {
				t.Errorf("answered after %v, want at least %v", got.elapsed, d)
			}
		}
	}

	tests := []struct {
		name    string
		backend http.HandlerFunc
		fault   faultproxy.Fault
		timeout time.Duration
		checks  []check
	}{
		{"reset after 100 bytes of a fixed-length body", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindReset, AfterBytes: 100}, 0, []check{resetAfter(100), wantHits(1)}},
		{"reset after 100 bytes of a chunked body", chunkedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindReset, AfterBytes: 100}, 0, []check{resetAfter(100)}},
		{"reset right after the headers", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindReset}, 0, []check{resetAfter(0)}},
		{"reset beyond the body still cuts inside it", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindReset, AfterBytes: 1 << 20}, 0, []check{resetAfter(len(body) - 1)}},
		{"truncate a fixed-length body", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindTruncate, AfterBytes: 777}, 0, []check{truncatedAt(777), wantHits(1)}},
		{"truncate a chunked body: the proxy declares its length", chunkedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindTruncate, AfterBytes: 10}, 0, []check{truncatedAt(10)}},
		{"truncate beyond the body keeps one byte back", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindTruncate, AfterBytes: 1 << 20}, 0, []check{truncatedAt(len(body) - 1)}},
		{"truncate a stream: no last chunk", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			chunkedBody(body)(w, r)
		}, faultproxy.Fault{Kind: faultproxy.KindTruncate, AfterBytes: 200}, 0, []check{chunkedCut}},
		{"stall, then deliver", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindStall, Duration: faultproxy.Duration(80 * time.Millisecond)}, 0,
			[]check{whole, tookAtLeast(80 * time.Millisecond), wantHits(1)}},
		{"stall, then drop: never forwarded", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindStall, Duration: faultproxy.Duration(50 * time.Millisecond), Then: faultproxy.ThenDrop}, 0,
			[]check{noAnswer, tookAtLeast(50 * time.Millisecond), wantHits(0)}},
		{"stall after the server answered, then drop", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindStall, Duration: faultproxy.Duration(50 * time.Millisecond), Then: faultproxy.ThenDrop, AfterResponse: true}, 0,
			[]check{noAnswer, wantHits(1)}},
		{"stall outlasting the client's timeout", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindStall, Duration: faultproxy.Duration(time.Minute)}, 100 * time.Millisecond,
			[]check{noAnswer, wantHits(0)}},
		{"429 with the default Retry-After", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 429}, 0,
			[]check{statusWith(429, map[string]string{"Retry-After": "1", "Content-Type": "application/problem+json"}, `"code":"rate_limited"`), wantHits(0)}},
		{"429 with Retry-After 3", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 429, RetryAfter: intp(3)}, 0,
			[]check{statusWith(429, map[string]string{"Retry-After": "3", "X-Faultproxy-Rule": "r"}, `"status":429`), wantHits(0)}},
		{"503 without Retry-After", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 503}, 0,
			[]check{statusWith(503, map[string]string{"Retry-After": ""}, "503 Service Unavailable"), wantHits(0)}},
		{"503 with Retry-After 0 and Retry-After-Ms", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 503, RetryAfter: intp(0), RetryAfterMs: intp(150)}, 0,
			[]check{statusWith(503, map[string]string{"Retry-After": "0", "Retry-After-Ms": "150"}, "faultproxy"), wantHits(0)}},
		{"502 before forwarding: the server never sees it", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 502}, 0,
			[]check{statusWith(502, nil, "Bad Gateway"), wantHits(0)}},
		{"502 after the server answered: the answer is lost", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 502, AfterResponse: true}, 0,
			[]check{statusWith(502, nil, "Bad Gateway"), wantHits(1)}},
		{"drop before forwarding", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindDrop}, 0, []check{noAnswer, wantHits(0)}},
		{"drop after the server answered", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindDrop, AfterResponse: true}, 0, []check{noAnswer, wantHits(1)}},
		{"drop with a reset", fixedBody(body),
			faultproxy.Fault{Kind: faultproxy.KindDrop, RST: true}, 0, []check{noAnswer, wantHits(0),
				func(t *testing.T, got result, _ *backend) {
					if !errors.Is(got.err, syscall.ECONNRESET) {
						t.Errorf("%v, want a connection reset", got.err)
					}
				}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := startBackend(t, tt.backend)
			fp := faultproxy.Start(t, b.URL, rule(tt.fault))
			got := do(t, freshClient(tt.timeout), "POST", fp.URL+"/v1/things", strings.NewReader(`{"a":1}`), nil)
			for _, c := range tt.checks {
				c(t, got, b)
			}
			st := fp.Proxy.Stats()
			if st.Faults != 1 || st.FaultsByKind[tt.fault.Kind] != 1 || st.Rules[0].Faults != 1 {
				t.Errorf("stats %+v: want one %s fault", st, tt.fault.Kind)
			}
		})
	}
}

// TestPassThrough: without a fault the answer arrives as the server made
// it: status, headers, body, query and request body.
func TestPassThrough(t *testing.T) {
	b := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		in, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Method+" "+r.URL.RequestURI()+" "+string(in)+" "+r.Header.Get("X-Custom"))
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "brewed")
	})
	fp := faultproxy.Start(t, b.URL+"/base", faultproxy.Config{})
	got := do(t, http.DefaultClient, "PATCH", fp.URL+"/v1/x/a%2Fb?y=1&z=%2F", strings.NewReader("hello"), map[string]string{"X-Custom": "c"})
	if got.err != nil || got.resp.StatusCode != http.StatusTeapot || string(got.body) != "brewed" {
		t.Fatalf("%v %v %q", got.err, got.resp, got.body)
	}
	if want := "PATCH /base/v1/x/a%2Fb?y=1&z=%2F hello c"; got.resp.Header.Get("X-Seen") != want {
		t.Errorf("the backend saw %q, want %q", got.resp.Header.Get("X-Seen"), want)
	}
	if st := fp.Proxy.Stats(); st.Requests != 1 || st.Forwarded != 1 || st.Faults != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestUnreachableTargetAnswers502(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	target := srv.URL
	srv.Close()
	fp := faultproxy.Start(t, target, faultproxy.Config{})
	got := do(t, http.DefaultClient, "GET", fp.URL+"/v1/x", nil, nil)
	if got.err != nil || got.resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("%v %v", got.err, got.resp)
	}
	if st := fp.Proxy.Stats(); st.UpstreamErrors != 1 || st.Faults != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestEmptyBodyIsSkipped: a body cut on an answer without a body cannot
// happen; it is counted as skipped, not injected.
func TestEmptyBodyIsSkipped(t *testing.T) {
	b := startBackend(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	fp := faultproxy.Start(t, b.URL, rule(faultproxy.Fault{Kind: faultproxy.KindReset, AfterBytes: 3}))
	got := do(t, freshClient(0), "DELETE", fp.URL+"/v1/x", nil, nil)
	if got.err != nil || got.resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%v %v", got.err, got.resp)
	}
	st := fp.Proxy.Stats()
	if st.Faults != 0 || st.Rules[0].Skipped != 1 {
		t.Errorf("stats %+v: want the fault skipped", st)
	}
}

func TestAdmin(t *testing.T) {
	b := startBackend(t, fixedBody([]byte(`{}`)))
	fp := faultproxy.Start(t, b.URL, faultproxy.Config{Rules: []faultproxy.Rule{{
		Name: "busy", Match: faultproxy.Match{Methods: []string{"post"}},
		Fault: faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 503},
	}}})
	c := http.DefaultClient
	do(t, c, "POST", fp.URL+"/v1/a", nil, nil)
	do(t, c, "GET", fp.URL+"/v1/a", nil, nil)

	stats := func() faultproxy.Stats {
		t.Helper()
		got := do(t, c, "GET", fp.URL+"/__faultproxy/stats", nil, nil)
		if got.err != nil || got.resp.StatusCode != 200 || got.resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("stats: %v %v", got.err, got.resp)
		}
		var s faultproxy.Stats
		if err := json.Unmarshal(got.body, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := stats()
	if s.Requests != 2 || s.Forwarded != 1 || s.Faults != 1 || s.FaultsByKind["status"] != 1 || s.FaultsByKind["reset"] != 0 ||
		len(s.Rules) != 1 || s.Rules[0] != (faultproxy.RuleStats{Name: "busy", Kind: "status", Matched: 1, Faults: 1}) {
		t.Errorf("stats %+v", s)
	}

	if got := do(t, c, "POST", fp.URL+"/__faultproxy/reset", nil, nil); got.err != nil || got.resp.StatusCode != 204 {
		t.Fatalf("reset: %v %v", got.err, got.resp)
	}
	if s := stats(); s.Requests != 0 || s.Faults != 0 || s.Rules[0].Matched != 0 {
		t.Errorf("after reset: %+v", s)
	}

	// Swap the rules at runtime, in YAML.
	yamlCfg := "rules:\n  - name: limited\n    match: {path_prefix: /v1/b}\n    fault: {kind: status, status: 429, retry_after: 0}\n"
	got := do(t, c, "PUT", fp.URL+"/__faultproxy/config", strings.NewReader(yamlCfg), nil)
	if got.err != nil || got.resp.StatusCode != 200 || !strings.Contains(string(got.body), `"limited"`) {
		t.Fatalf("put config: %v %v %s", got.err, got.resp, got.body)
	}
	if r := do(t, c, "POST", fp.URL+"/v1/a", nil, nil); r.resp.StatusCode != 200 {
		t.Errorf("old rule still applies: %d", r.resp.StatusCode)
	}
	if r := do(t, c, "GET", fp.URL+"/v1/b", nil, nil); r.resp.StatusCode != 429 || r.resp.Header.Get("Retry-After") != "0" {
		t.Errorf("new rule: %d %q", r.resp.StatusCode, r.resp.Header.Get("Retry-After"))
	}
	got = do(t, c, "GET", fp.URL+"/__faultproxy/config", nil, nil)
	var cfg faultproxy.Config
	if err := json.Unmarshal(got.body, &cfg); err != nil || len(cfg.Rules) != 1 || cfg.Rules[0].Name != "limited" {
		t.Errorf("get config: %v %s", err, got.body)
	}

	// A bad config is refused and changes nothing.
	got = do(t, c, "PUT", fp.URL+"/__faultproxy/config", strings.NewReader(`{"rules":[{"fault":{"kind":"explode"}}]}`), nil)
	if got.resp.StatusCode != 400 || !strings.Contains(string(got.body), "explode") {
		t.Errorf("bad config: %d %s", got.resp.StatusCode, got.body)
	}
	if cfg := fp.Proxy.Config(); len(cfg.Rules) != 1 || cfg.Rules[0].Name != "limited" {
		t.Errorf("a refused config changed the rules: %+v", cfg)
	}

	// Admin paths never reach the target.
	before := b.hits.Load()
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/__faultproxy/nope", 404},
		{"DELETE", "/__faultproxy/stats", 405},
		{"GET", "/__faultproxy/reset", 405},
	} {
		got := do(t, c, tc.method, fp.URL+tc.path, nil, nil)
		if got.err != nil || got.resp.StatusCode != tc.status {
			t.Errorf("%s %s: %v %v, want %d", tc.method, tc.path, got.err, got.resp, tc.status)
		}
	}
	if b.hits.Load() != before {
		t.Error("an admin request reached the target")
	}
}
