package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/scenarios/internal/format"
	"github.com/agentsession/agentsession/sessions"
)

func TestClassify(t *testing.T) {
	api := func(status int, code gen.ProblemCode) error {
		return fmt.Errorf("wrapped: %w", &agentsession.APIError{StatusCode: status, Code: code})
	}
	cases := []struct {
		err  error
		kind string
	}{
		{api(401, gen.ProblemCodeUnauthorized), format.KindAuth},
		{api(403, ""), format.KindAuth},
		{api(404, gen.ProblemCodeNotFound), format.KindNotFound},
		{api(409, gen.ProblemCodeTurnInProgress), format.KindBusy},
		{api(409, gen.ProblemCodeTurnQueueFull), format.KindBusy},
		{api(409, gen.ProblemCodeInvalidTransition), format.KindInvalidTransition},
		{api(409, gen.ProblemCodeSessionPaused), format.KindSessionPaused},
		{api(409, gen.ProblemCodeSessionEnded), format.KindSessionEnded},
		{api(409, gen.ProblemCodeSpawnLimitExceeded), format.KindSpawnLimit},
		{api(409, gen.ProblemCodeIdempotencyInProgress), format.KindConflict},
		{api(409, ""), format.KindConflict}, // a cut problem body: the status alone
		{api(413, gen.ProblemCodePayloadTooLarge), format.KindTooLarge},
		{api(400, gen.ProblemCodeInvalidRequest), format.KindValidation},
		{api(422, gen.ProblemCodeUnknownAgent), format.KindValidation},
		{api(429, gen.ProblemCodeRateLimited), format.KindRateLimited},
		{api(503, ""), format.KindServer},
		{&agentsession.TransportError{Method: "GET", URL: "http://x", Err: errors.New("connection refused")}, format.KindTransport},
		{fmt.Errorf("%w: turn 1 after event 2", sessions.ErrStreamLost), format.KindTransport},
		{fmt.Errorf("%w: GET x: 200 answer: unexpected EOF", agentsession.ErrUnexpectedResponse), format.KindUntyped},
		{api(418, ""), format.KindUntyped},
		{errors.New("boom"), format.KindUntyped},
	}
	for _, c := range cases {
		got := classify(c.err)
		if got.Kind != c.kind {
			t.Errorf("classify(%v) = %s, want %s", c.err, got.Kind, c.kind)
		}
	}
	e := classify(api(409, gen.ProblemCodeTurnInProgress))
	if e.Status != 409 || e.Code != string(gen.ProblemCodeTurnInProgress) {
		t.Errorf("status and code: %+v", e)
	}
}

func writeScenario(t *testing.T, dir, id, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, id+".yaml"), []byte("id: "+id+"\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runRunner(t *testing.T, url string, tokens []string, dir string, extra ...string) (format.Result, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "result.json")
	var stderr bytes.Buffer
	args := append([]string{"--base-url", url, "--token", tokens[0], "--token2", tokens[1], "--run", "rtest123",
		"--scenarios", dir, "--out", out}, extra...)
	if code := run(args, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res format.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// The runner against the in-process reference server: aliases, ${run},
// meta, scripts, file aliases, background turns and typed errors end up
// in the observations as the README says; a broken step aborts.
func TestRunnerAgainstTheReferenceServer(t *testing.T) {
	srv := refservertest.Start(t)
	dir := t.TempDir()
	writeScenario(t, dir, "a", `steps:
  - {do: upload, as: f, with: {filename: n.txt, content_type: text/plain, content: hi}}
  - {do: create_session, as: s, with: {agent: scripted, plan_slug: 'p-${run}', meta: {app: x}}}
  - {do: turn, session: s, as: bg, with: {background: true, script: {steps: [{event: {type: text, content: a}}, {delay_ms: 5000, event: {type: text, content: b}}]}}}
  - {do: wait_activity, session: s, with: {activity: running}}
  - {do: cancel, session: s}
  - {do: await, with: {turn: bg}}
  - {do: turn_stream, session: s, with: {files: [f], script: {steps: [{event: {type: text, content: c}}]}}}
  - {do: get_session, session: s, client: other_tenant, expect_error: not_found}
  - {do: get_session, session: s, client: bad_token, expect_error: auth}
  - {do: wait_activity, session: s, with: {activity: stalled, timeout_ms: 50}}
`)
	writeScenario(t, dir, "b", `steps:
  - {do: health}
  - {do: turn, session: nobody, with: {prompt: x}}
  - {do: health}
`)
	writeScenario(t, dir, "c", `steps:
  - {do: create_session, as: s, with: {agent: echo, nonsense: 1}}
`)
	res, raw := runRunner(t, srv.URL, srv.Tokens, dir)
	if strings.Contains(raw, srv.Tokens[0]) || strings.Contains(raw, srv.Tokens[1]) {
		t.Fatal("the result file holds a token")
	}
	if res.SDK != "go" || res.Run != "rtest123" || len(res.Scenarios) != 3 {
		t.Fatalf("result: %+v", res)
	}
	a := res.Scenarios[0]
	if a.Aborted != nil || len(a.Observations) != 10 {
		t.Fatalf("scenario a: aborted %v, %d observations", a.Aborted, len(a.Observations))
	}
	value := func(i int) map[string]any {
		var v map[string]any
		if err := json.Unmarshal(a.Observations[i].Value, &v); err != nil {
			t.Fatalf("step %d: %v (%+v)", i+1, err, a.Observations[i])
		}
		return v
	}
	for i, o := range a.Observations {
		if o.Step != i+1 || o.Do == "" {
			t.Errorf("observation %d: %+v", i, o)
		}
	}
	s := value(1)
	if s["plan_slug"] != "p-rtest123" || fmt.Sprint(s["meta"]) != "map[alias:s app:x run:rtest123 scenario:a]" {
		t.Errorf("create_session: %v", s)
	}
	if bg := a.Observations[2]; bg.Value != nil || bg.Error != nil || bg.Text != nil {
		t.Errorf("background start: %+v", bg)
	}
	// The session is running as soon as the turn starts, which may be
	// before its first event: the cancel may come before "a" or after it.
	if aw := value(5); aw["stop_reason"] != "cancelled" || (*a.Observations[5].Text != "a" && *a.Observations[5].Text != "") {
		t.Errorf("await: %v text %q", aw, *a.Observations[5].Text)
	}
	st := value(6)
	if evs, _ := st["events"].([]any); len(evs) != 1 || *a.Observations[6].Text != "c" {
		t.Errorf("turn_stream: %v", st)
	}
	for i, kind := range map[int]string{7: format.KindNotFound, 8: format.KindAuth, 9: format.KindTimeout} {
		if e := a.Observations[i].Error; e == nil || e.Kind != kind {
			t.Errorf("step %d: error %+v, want %s", i+1, e, kind)
		}
	}
	b := res.Scenarios[1]
	if b.Aborted == nil || !strings.Contains(*b.Aborted, `step 2 (turn): session alias "nobody" names no session`) || len(b.Observations) != 1 {
		t.Errorf("scenario b: %+v", b)
	}
	c := res.Scenarios[2]
	if c.Aborted == nil || !strings.Contains(*c.Aborted, `unknown field "nonsense"`) {
		t.Errorf("scenario c: %+v", c)
	}

	only, _ := runRunner(t, srv.URL, srv.Tokens, dir, "--only", "b")
	if len(only.Scenarios) != 1 || only.Scenarios[0].ID != "b" {
		t.Errorf("--only b ran %+v", only.Scenarios)
	}
}

func TestRunnerCommandLine(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"--base-url", "http://x"}, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage:") {
		t.Errorf("missing flags: exit %d, %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"--bogus"}, &stderr); code != 2 {
		t.Errorf("unknown flag: exit %d", code)
	}
	dir := t.TempDir()
	writeScenario(t, dir, "a", "steps: [{do: health}]\n")
	stderr.Reset()
	code := run([]string{"--base-url", "http://127.0.0.1:1", "--token", "t", "--token2", "u", "--run", "r", "--scenarios", dir,
		"--out", filepath.Join(dir, "o.json"), "--only", "zzz"}, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `no scenario "zzz"`) {
		t.Errorf("--only of nothing: exit %d, %q", code, stderr.String())
	}
}
