package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/sse"
)

// getCheck is a synthetic check that sends one GET and then returns ret.
func getCheck(id string, level Level, p string, ret func(*response) error) *check {
	return def(id, level, "getSession", "synthetic", func(ctx context.Context, t *tester) error {
		resp, err := t.get(ctx, p, nil)
		if err != nil {
			return err
		}
		return ret(resp)
	})
}

func TestOutcomes(t *testing.T) {
	srv := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/sessions/good":
			writeJSON(w, http.StatusOK, map[string]any{
				"session_id": "good", "agent": "echo", "status": "active", "activity": "idle", "meta": map[string]any{},
				"context_summary": map[string]any{}, "depth": 0, "turn_count": 0, "queued_turns": 0, "action_count": 0, "artifact_count": 0,
				"last_event_seq": 0, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
			})
		case "/v1/sessions/bad":
			// session_id and status of the wrong type, required members missing.
			writeJSON(w, http.StatusOK, map[string]any{"session_id": 7, "status": 3})
		default:
			writeProblem(w, http.StatusNotFound, gen.ProblemCodeNotFound)
		}
	})
	pass := func(*response) error { return nil }
	tests := []struct {
		name  string
		check *check
		want  Outcome
		msg   string // a part of the message
	}{
		{"pass", getCheck("SESS-901", Must, "/v1/sessions/good", pass), Pass, ""},
		{"fail", getCheck("SESS-902", Must, "/v1/sessions/good", func(r *response) error { return r.Failf("wrong") }), Fail, "getSession: wrong"},
		{"should fails as warn", getCheck("SESS-903", Should, "/v1/sessions/good", func(r *response) error { return r.Failf("meh") }), Warn, "meh"},
		{"may fails as warn", getCheck("SESS-904", May, "/v1/sessions/good", func(r *response) error { return Failf("meh") }), Warn, "meh"},
		{"skip", getCheck("SESS-905", Must, "/v1/sessions/good", func(r *response) error { return Skipf("not here") }), Skip, "not here"},
		{"harness error", getCheck("SESS-906", Must, "/v1/sessions/good", func(r *response) error { return errors.New("suite bug") }), Error, "suite bug"},
		{"panic", getCheck("SESS-907", Must, "/v1/sessions/good", func(r *response) error { panic("boom") }), Error, "panicked: boom"},
		{"schema violation fails a passing check", getCheck("SESS-908", Must, "/v1/sessions/bad", pass), Fail, "schema"},
		{"schema violation of a SHOULD check warns", getCheck("SESS-909", Should, "/v1/sessions/bad", pass), Warn, "schema"},
		{"wrong status", getCheck("SESS-910", Must, "/v1/sessions/none", func(r *response) error { return r.Expect(200) }), Fail, "status 404, want 200"},
		{"needs not met", def("SESS-911", Must, "getSession", "synthetic", func(ctx context.Context, t *tester) error { return nil }, NeedStreaming), Skip, "feature:streaming"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withCatalogue(t, tc.check)
			res := testRun(t, srv, nil)
			got := res.Checks[0]
			if got.Outcome != tc.want || !strings.Contains(got.Message, tc.msg) {
				t.Errorf("outcome %s message %q, want %s containing %q", got.Outcome, got.Message, tc.want, tc.msg)
			}
			wantExit := 0
			if tc.want == Fail || (tc.want == Error && tc.check.Level == Must) {
				wantExit = 1
			}
			if res.ExitCode() != wantExit {
				t.Errorf("exit code %d, want %d", res.ExitCode(), wantExit)
			}
			if (tc.want == Fail || tc.want == Warn || tc.want == Error) && got.Culprit == nil {
				t.Errorf("no culprit exchange for a %s", tc.want)
			}
		})
	}
}

func TestSchemaViolationsNameTheField(t *testing.T) {
	srv := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		// status is open (anyOf SessionStatus or any string) since contract
		// 1.1, so only a non-string breaks it.
		writeJSON(w, http.StatusOK, map[string]any{"session_id": 7, "status": 3})
	})
	withCatalogue(t, getCheck("SESS-901", Must, "/v1/sessions/x", func(*response) error { return nil }))
	res := testRun(t, srv, nil)
	all := strings.Join(res.Checks[0].Violations, "\n")
	for _, want := range []string{"getSession 200", "/session_id", "/status", "agent"} {
		if !strings.Contains(all, want) {
			t.Errorf("violations do not mention %q:\n%s", want, all)
		}
	}
}

func TestResponsesWithoutOperationAreProblems(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wantBad bool
	}{
		{"problem 404", func(w http.ResponseWriter, r *http.Request) { writeProblem(w, 404, gen.ProblemCodeNotFound) }, false},
		{"text 404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, true},
		{"problem without code", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"type":"x","title":"x","status":404}`))
		}, true},
		{"200 on an unknown route", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{}) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeServer(t, tc.handler)
			withCatalogue(t, getCheck("BAD-901", Must, "/v1/nope", func(*response) error { return nil }))
			res := testRun(t, srv, nil)
			if got := len(res.Checks[0].Violations) > 0; got != tc.wantBad {
				t.Errorf("violations %q, want some: %v", res.Checks[0].Violations, tc.wantBad)
			}
		})
	}
}

func TestStreamFramesAreValidated(t *testing.T) {
	srv := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		_ = sse.Write(w, sse.Frame{Event: "turn.accepted", Data: `{"session_id":"s","turn_index":1,"status":"running"}`})
		_ = sse.Write(w, sse.Frame{ID: "1", Data: `{"seq":"one","turn_index":1,"type":"text","created_at":"2026-01-01T00:00:00Z"}`})
		// An event frame's id is the event's seq: never absent, never 0.
		_ = sse.Write(w, sse.Frame{Data: `{"seq":2,"turn_index":1,"type":"text","created_at":"2026-01-01T00:00:00Z"}`})
		_ = sse.Write(w, sse.Frame{ID: "0", Data: `{"seq":3,"turn_index":1,"type":"text","created_at":"2026-01-01T00:00:00Z"}`})
		_ = sse.Write(w, sse.Frame{Event: "turn.surprise", Data: `{}`})
		_ = sse.Write(w, sse.Frame{Event: "turn.completed", Data: `{"session_id":"s"}`})
	})
	withCatalogue(t, def("STRM-901", Must, "streamTurn", "synthetic", func(ctx context.Context, t *tester) error {
		s, err := t.Stream(ctx, request{Method: http.MethodGet, Path: "/v1/sessions/s/turns/1/stream"})
		if err != nil {
			return err
		}
		if err := s.ExpectLive(); err != nil {
			return err
		}
		defer s.Close()
		for {
			if _, err := s.Next(); err != nil {
				return nil
			}
		}
	}))
	res := testRun(t, srv, nil)
	c := res.Checks[0]
	all := strings.Join(c.Violations, "\n")
	if c.Outcome != Fail {
		t.Errorf("outcome %s, want fail", c.Outcome)
	}
	for _, want := range []string{"schema Event: /seq", `event name "turn.surprise"`, "schema TurnSummary",
		`(id "", event "") doesn't match schema EventFrame: /id: property "id" is missing`,
		`(id "0", event "") doesn't match schema EventFrame: /id`} {
		if !strings.Contains(all, want) {
			t.Errorf("violations do not mention %q:\n%s", want, all)
		}
	}
	// A fault inside data is told once, against the data's schema.
	if strings.Contains(all, "Frame: /data") {
		t.Errorf("a data violation is also reported against the frame schema:\n%s", all)
	}
	if !strings.Contains(c.Culprit.ResponseExcerpt, "turn.accepted") {
		t.Errorf("the excerpt does not show the frames: %q", c.Culprit.ResponseExcerpt)
	}
}

// The tokens must not leak into any report, even when the server echoes them.
func TestReportsNeverContainTokens(t *testing.T) {
	srv := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("X-Request-Id", r.Header.Get("Authorization"))
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "x", "title": "x", "status": 400, "code": gen.ProblemCodeInvalidRequest,
			"request_id": "req_fake", "detail": "you sent " + r.Header.Get("Authorization")})
	})
	withCatalogue(t, getCheck("SESS-901", Must, "/v1/sessions/x", func(r *response) error { return r.Expect(200) }),
		def("ISO-901", Must, "getSession", "synthetic", func(ctx context.Context, t *tester) error {
			resp, err := t.Do(ctx, request{Method: http.MethodGet, Path: "/v1/sessions/y", As: asSecond})
			if err != nil {
				return err
			}
			return resp.Expect(200)
		}))
	dir := t.TempDir()
	var progress strings.Builder
	res := testRun(t, srv, func(c *Config) { c.Token2 = fakeToken2; c.ReportDir = dir; c.Progress = &progress })
	if res.Passed() {
		t.Fatal("the run passed; the checks were meant to fail")
	}
	outputs := map[string]string{"console": progress.String()}
	for _, f := range []string{ResultsFile, JUnitFile, HTMLFile} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		outputs[f] = string(data)
	}
	for name, text := range outputs {
		for _, tok := range []string{fakeToken, fakeToken2} {
			if strings.Contains(text, tok) {
				t.Errorf("%s contains a token", name)
			}
		}
		if name != JUnitFile && !strings.Contains(text, "$AGENTSESSION_TOKEN") {
			t.Errorf("%s does not show the curl command with $AGENTSESSION_TOKEN", name)
		}
	}
	if !strings.Contains(outputs[HTMLFile], "$AGENTSESSION_TOKEN2") {
		t.Errorf("the second tenant's request is not shown with $AGENTSESSION_TOKEN2")
	}
}

func TestReportFormats(t *testing.T) {
	srv := fakeServer(t, nil)
	withCatalogue(t,
		getCheck("SESS-901", Must, "/v1/sessions/x", func(r *response) error { return r.Expect(200) }),
		getCheck("SESS-902", Should, "/v1/sessions/x", func(r *response) error { return r.Failf("soft") }),
		getCheck("AUTH-901", Must, "/v1/sessions/x", func(r *response) error { return r.Expect(404) }),
		def("AUTH-902", Must, "getSession", "synthetic", func(ctx context.Context, t *tester) error { return nil }, NeedSecondToken),
	)
	dir := t.TempDir()
	res := testRun(t, srv, func(c *Config) { c.ReportDir = dir })

	var decoded Result
	data, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	type summary struct {
		Schema  int
		Verdict Outcome
		Counts  Counts
		Groups  []string
		Levels  []Level
	}
	sum := func(r *Result) summary {
		s := summary{Schema: r.SchemaVersion, Verdict: r.Verdict, Counts: r.Summary}
		for _, g := range r.Groups {
			s.Groups = append(s.Groups, g.Group)
		}
		for _, l := range r.Levels {
			s.Levels = append(s.Levels, l.Level)
		}
		return s
	}
	want := summary{Schema: 1, Verdict: Fail, Counts: Counts{Total: 4, Pass: 1, Fail: 1, Warn: 1, Skip: 1},
		Groups: []string{"auth", "sessions"}, Levels: []Level{Must, Should}}
	if d := cmp.Diff(want, sum(&decoded)); d != "" {
		t.Errorf("results.json summary (-want +got):\n%s", d)
	}
	if d := cmp.Diff(sum(res), sum(&decoded)); d != "" {
		t.Errorf("results.json differs from the Result (-want +got):\n%s", d)
	}

	var junit junitSuites
	data, err = os.ReadFile(filepath.Join(dir, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(data, &junit); err != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	// The checks (4: 1 failure, 1 skipped) and the compliance suite: three
	// levels, none reached, all for want of verified requirements (skipped).
	if got := [4]int{junit.Tests, junit.Failures, junit.Errors, junit.Skipped}; got != [4]int{7, 1, 0, 4} {
		t.Errorf("junit tests/failures/errors/skipped = %v, want [7 1 0 4]", got)
	}
	if len(junit.Suites) == 0 || junit.Suites[0].Name != "compliance" || junit.Suites[0].Properties == nil ||
		junit.Suites[0].Properties.Items[0] != (junitProperty{Name: "compliance_level", Value: "none"}) {
		t.Errorf("junit.xml does not open with the compliance suite and its level: %+v", junit.Suites[:1])
	}

	html, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FAIL", `id="SESS-901"`, "status 404, want 200", "curl -sS -i", "By group", "By level", "Response (excerpt)", "Compliance", "Every requirement"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(string(html), "<script") || strings.Contains(string(html), "http-equiv") || strings.Contains(string(html), `src="http`) {
		t.Errorf("report.html is not self-contained")
	}
}

func TestConsoleHasOneLinePerGroup(t *testing.T) {
	srv := fakeServer(t, nil)
	withCatalogue(t,
		getCheck("AUTH-901", Must, "/v1/x", func(r *response) error { return nil }),
		getCheck("SESS-901", Must, "/v1/x", func(r *response) error { return nil }),
		getCheck("SESS-902", Must, "/v1/x", func(r *response) error { return r.Failf("broken") }),
		getCheck("PAGE-901", Must, "/v1/x", func(r *response) error { return nil }),
	)
	var out strings.Builder
	testRun(t, srv, func(c *Config) { c.Progress = &out })
	var groups []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "[") {
			groups = append(groups, strings.Fields(line[6:])[0])
		}
	}
	if d := cmp.Diff([]string{"auth", "sessions", "pagination"}, groups); d != "" {
		t.Errorf("group lines (-want +got):\n%s\n%s", d, out.String())
	}
	for _, want := range []string{"[FAIL] sessions", "(SESS-902)", "4 checks", "FAIL SESS-902 [MUST]", "request: curl", "FAIL: a MUST check did not pass"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunConfigurationErrors(t *testing.T) {
	good := fakeServer(t, nil)
	down := fakeServer(t, nil)
	down.Close()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no base URL", Config{Token: "x"}, "no base URL"},
		{"relative base URL", Config{BaseURL: "localhost:8080", Token: "x"}, "absolute"},
		{"base URL with /v1", Config{BaseURL: good.URL + "/v1", Token: "x"}, "leave out the /v1"},
		{"no token", Config{BaseURL: good.URL}, "no token"},
		{"same two tokens", Config{BaseURL: good.URL, Token: fakeToken, Token2: fakeToken}, "another tenant"},
		{"bad profile", Config{BaseURL: good.URL, Token: fakeToken, Profile: "most"}, "profile"},
		{"unknown include", Config{BaseURL: good.URL, Token: fakeToken, Include: []string{"nosuchgroup"}}, "matches no group"},
		{"unreachable", Config{BaseURL: down.URL, Token: fakeToken}, "cannot reach"},
		{"rejected token", Config{BaseURL: good.URL, Token: "wrong"}, "rejects the token"},
		{"rejected second token", Config{BaseURL: good.URL, Token: fakeToken, Token2: "wrong"}, "rejects the second token"},
		{"unknown echo agent", Config{BaseURL: good.URL, Token: fakeToken, EchoAgent: "parrot"}, `agent "parrot"`},
		{"echo agent of kind scripted", Config{BaseURL: good.URL, Token: fakeToken, EchoAgent: "scripted"}, `agent "scripted" is not listed by getCapabilities as kind echo`},
		{"bad prefix", Config{BaseURL: good.URL, Token: fakeToken, Prefix: "has space"}, "prefix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a configuration error about %q", err, tc.want)
			}
			for _, tok := range []string{fakeToken, fakeToken2, "wrong"} {
				if err != nil && strings.Contains(err.Error(), tok) {
					t.Errorf("the error shows a token: %v", err)
				}
			}
		})
	}
}

func TestCleanupClosesWhatChecksCreate(t *testing.T) {
	var mu sync.Mutex
	var closed []string
	srv := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/sessions":
			writeJSON(w, http.StatusCreated, map[string]any{
				"session_id": "s1", "agent": "echo", "status": "active", "activity": "idle", "meta": map[string]any{},
				"context_summary": map[string]any{}, "depth": 0, "turn_count": 0, "queued_turns": 0, "action_count": 0, "artifact_count": 0,
				"last_event_seq": 0, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
			})
		case r.Method == http.MethodDelete:
			mu.Lock()
			closed = append(closed, r.URL.Path+" "+r.Header.Get("Authorization"))
			mu.Unlock()
			writeProblem(w, http.StatusNotFound, gen.ProblemCodeNotFound)
		}
	})
	create := def("SESS-901", Must, "createSession", "synthetic", func(ctx context.Context, t *tester) error {
		_, err := t.echoSession(ctx)
		return err
	})
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep=%v", keep), func(t *testing.T) {
			mu.Lock()
			closed = nil
			mu.Unlock()
			withCatalogue(t, create)
			res := testRun(t, srv, func(c *Config) { c.Keep = keep; c.Concurrency = 1 })
			mu.Lock()
			defer mu.Unlock()
			if keep {
				if len(closed) != 0 || res.Cleanup.Kept != 1 {
					t.Errorf("closed %v, kept %d; want nothing closed, 1 kept", closed, res.Cleanup.Kept)
				}
				return
			}
			if d := cmp.Diff([]string{"/v1/sessions/s1 Bearer " + fakeToken}, closed); d != "" {
				t.Errorf("closed (-want +got):\n%s", d)
			}
			if len(res.Cleanup.Problems) != 1 || !strings.Contains(res.Cleanup.Problems[0], "status 404") {
				t.Errorf("cleanup problems %q, want the 404", res.Cleanup.Problems)
			}
			if res.Checks[0].Outcome != Pass {
				t.Errorf("a cleanup problem changed the check's outcome to %s", res.Checks[0].Outcome)
			}
		})
	}
}

func TestCurl(t *testing.T) {
	c := &client{cfg: Config{BaseURL: "http://h:1", Token: fakeToken, Token2: fakeToken2}}
	tests := []struct {
		name string
		req  request
		want string
	}{
		{"get", request{Method: "GET", Path: "/v1/sessions"},
			`curl -sS -i http://h:1/v1/sessions -H "Authorization: Bearer $AGENTSESSION_TOKEN"`},
		{"json body with quote", request{Method: "POST", Path: "/v1/sessions", JSON: map[string]any{"agent": "it's"}, As: asSecond},
			`curl -sS -i -X POST http://h:1/v1/sessions -H "Authorization: Bearer $AGENTSESSION_TOKEN2" -H 'Content-Type: application/json' --data-binary '{"agent":"it'\''s"}'`},
		{"stream with query", request{Method: "GET", Path: "/v1/sessions/s/turns/1/stream", Query: map[string][]string{"after": {"3"}}, Stream: true, As: asAnonymous},
			`curl -sS -i -N 'http://h:1/v1/sessions/s/turns/1/stream?after=3' -H 'Accept: text/event-stream'`},
		{"raw authorization", request{Method: "DELETE", Path: "/v1/sessions/s", As: asRaw, Authorization: "Bearer " + fakeToken + "x", Header: map[string]string{"Idempotency-Key": "k 1"}},
			`curl -sS -i -X DELETE http://h:1/v1/sessions/s -H 'Authorization: Bearer [REDACTED]x' -H 'Idempotency-Key: k 1'`},
		{"upload", request{Method: "POST", Path: "/v1/files", File: testFile("a.txt")},
			`printf '%s' 'conformance test file a.txt` + "\n" + `' | curl -sS -i -X POST http://h:1/v1/files -H "Authorization: Bearer $AGENTSESSION_TOKEN" -F 'file=@-;filename=a.txt;type=text/plain'`},
		{"big upload", request{Method: "POST", Path: "/v1/files", File: &filePart{Field: "file", Filename: "big.bin", ContentType: "application/octet-stream", Data: bytes.Repeat([]byte("x"), 5000)}},
			`head -c 5000 /dev/zero | tr '\0' 'x' | curl -sS -i -X POST http://h:1/v1/files -H "Authorization: Bearer $AGENTSESSION_TOKEN" -F 'file=@-;filename=big.bin;type=application/octet-stream'`},
		{"body from stdin", request{Method: "POST", Path: "/v1/sessions", Body: []byte("{}"), ContentType: "application/json", CurlStdin: "printf '%s' '{}'"},
			`printf '%s' '{}' | curl -sS -i -X POST http://h:1/v1/sessions -H "Authorization: Bearer $AGENTSESSION_TOKEN" -H 'Content-Type: application/json' --data-binary @-`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ex, err := c.build(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, ex.Curl); d != "" {
				t.Errorf("curl (-want +got):\n%s", d)
			}
		})
	}
}

func TestRateLimitedRequestsAreRetried(t *testing.T) {
	session := map[string]any{
		"session_id": "s", "agent": "echo", "status": "active", "activity": "idle", "meta": map[string]any{},
		"context_summary": map[string]any{}, "depth": 0, "turn_count": 0, "queued_turns": 0, "action_count": 0, "artifact_count": 0,
		"last_event_seq": 0, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
	}
	for _, tc := range []struct {
		limited      int // answers 429 this many times first
		wantOutcome  Outcome
		wantRequests int
	}{
		{0, Pass, 1},
		{2, Pass, 3},
		{10, Fail, maxRateLimitRetries + 1},
	} {
		t.Run(fmt.Sprintf("limited %d times", tc.limited), func(t *testing.T) {
			var mu sync.Mutex
			left := tc.limited
			srv := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				limited := left > 0
				left--
				mu.Unlock()
				if limited {
					w.Header().Set("Retry-After", "0")
					writeProblem(w, http.StatusTooManyRequests, gen.ProblemCodeRateLimited)
					return
				}
				writeJSON(w, http.StatusOK, session)
			})
			withCatalogue(t, getCheck("SESS-901", Must, "/v1/sessions/s", func(r *response) error { return r.Expect(200) }))
			res := testRun(t, srv, nil)
			c := res.Checks[0]
			if c.Outcome != tc.wantOutcome || c.Requests != tc.wantRequests {
				t.Errorf("outcome %s after %d requests, want %s after %d (%s)", c.Outcome, c.Requests, tc.wantOutcome, tc.wantRequests, c.Message)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{"": time.Second, "x": time.Second, "-1": time.Second, "0": 0, "2": 2 * time.Second, "3600": maxRateLimitWait} {
		if got := retryAfter(in); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

// A server may answer with media-type parameters (charset) and in any case:
// the suite judges the media type, not its spelling.
func TestResponseMediaTypeParametersAreAccepted(t *testing.T) {
	session := map[string]any{
		"session_id": "s", "agent": "echo", "status": "active", "activity": "idle", "meta": map[string]any{},
		"context_summary": map[string]any{}, "depth": 0, "turn_count": 0, "queued_turns": 0, "action_count": 0, "artifact_count": 0,
		"last_event_seq": 0, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
	}
	srv := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/sessions/s" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_ = json.NewEncoder(w).Encode(session)
			return
		}
		w.Header().Set("Content-Type", "Application/Problem+JSON; charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(gen.Problem{Type: "about:blank", Title: "x", Status: 404, Code: gen.ProblemCodeNotFound, RequestID: "req_fake"})
	})
	withCatalogue(t,
		getCheck("SESS-901", Must, "/v1/sessions/s", func(r *response) error { return r.Expect(200) }),
		getCheck("SESS-902", Must, "/v1/sessions/none", func(r *response) error { return r.ExpectProblem(404, gen.ProblemCodeNotFound) }),
	)
	res := testRun(t, srv, nil)
	for _, c := range res.Checks {
		if c.Outcome != Pass {
			t.Errorf("%s: %s %s %q", c.ID, c.Outcome, c.Message, c.Violations)
		}
	}
}
