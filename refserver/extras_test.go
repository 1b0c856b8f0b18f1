package refserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/sse"
)

// A turn's meta comes back wherever the turn does.
func TestTurnMeta(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	meta := map[string]any{"ticket": "OPS-42", "user": map[string]any{"id": 7.0}}
	r := c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "x")), Meta: meta})
	if !cmp.Equal(map[string]any(r.Meta), meta) {
		t.Errorf("TurnResult meta %v", r.Meta)
	}
	resp := c.stream(context.Background(), "POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": script("", text(0, "y")), "meta": meta})
	frames, _ := readFrames(t, resp.Body)
	resp.Body.Close()
	var acc gen.TurnAccepted
	json.Unmarshal([]byte(frames[0].Data), &acc)
	if !cmp.Equal(map[string]any(acc.Meta), meta) || !cmp.Equal(map[string]any(summaryOf(t, frames[len(frames)-1]).Meta), meta) {
		t.Errorf("stream meta: %s / %s", frames[0].Data, frames[len(frames)-1].Data)
	}
	for _, tr := range []gen.Turn{c.getTurn(id, 1), c.getTurn(id, 2)} {
		if !cmp.Equal(map[string]any(tr.Meta), meta) {
			t.Errorf("getTurn meta %v", tr.Meta)
		}
	}
	var list gen.TurnList
	c.do("GET", "/v1/sessions/"+id+"/turns", nil).want(t, 200).decode(t, &list)
	if !cmp.Equal(map[string]any(list.Items[0].Meta), meta) {
		t.Errorf("listTurns meta %v", list.Items[0].Meta)
	}
	// Without meta: none.
	plain := c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "z"))})
	if plain.Meta != nil || c.getTurn(id, 3).Meta != nil {
		t.Errorf("a turn without meta has %v", plain.Meta)
	}
	c.do("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": "x", "meta": "not an object"}).want(t, 400, gen.ProblemCodeInvalidRequest)
}

// end_reason and duration_ms say why and how long, once ended.
func TestEndReasonAndDuration(t *testing.T) {
	_, c := start(t)
	closed := c.newSession("echo")
	ended := c.newSession("echo")
	parent := c.newSession("echo")
	var child gen.Session
	c.do("POST", "/v1/sessions/"+parent+"/children", map[string]any{"agent": "echo"}).want(t, 201).decode(t, &child)
	if s := c.getSession(closed); s.EndReason != "" || s.DurationMs != nil {
		t.Errorf("an active session has %q / %v", s.EndReason, s.DurationMs)
	}
	time.Sleep(5 * time.Millisecond)
	c.do("DELETE", "/v1/sessions/"+closed, nil).want(t, 200)
	c.do("POST", "/v1/sessions/"+ended+"/end", map[string]any{"status": "failed"}).want(t, 200)
	c.do("DELETE", "/v1/sessions/"+parent, nil).want(t, 200)
	for id, want := range map[string]gen.EndReason{closed: gen.EndReasonClosed, ended: gen.EndReasonEnded,
		parent: gen.EndReasonClosed, child.SessionID: gen.EndReasonParentClosed} {
		s := c.getSession(id)
		if s.EndReason != want || s.DurationMs == nil || *s.DurationMs != s.EndedAt.Sub(s.CreatedAt).Milliseconds() {
			t.Errorf("session %s: end_reason %q, duration %v (created %v, ended %v), want %s", id, s.EndReason, s.DurationMs, s.CreatedAt, s.EndedAt, want)
		}
	}
	if s := c.getSession(closed); *s.DurationMs < 5 {
		t.Errorf("duration %d ms", *s.DurationMs)
	}
	// Closing again changes nothing.
	var again gen.CloseSessionResult
	c.do("DELETE", "/v1/sessions/"+ended, nil).want(t, 200).decode(t, &again)
	if !again.AlreadyClosed || again.Session.EndReason != gen.EndReasonEnded {
		t.Errorf("closing an ended session: %+v", again.Session)
	}
}

// listLogEntries order=newest_first lists the same entries the other way,
// a cursor walk seeing each once.
func TestLogNewestFirst(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	var ids []string
	for i := range 7 {
		var e gen.LogEntry
		typ := []string{"info", "decision"}[i%2]
		c.do("POST", "/v1/sessions/"+id+"/log", map[string]any{"type": typ, "message": fmt.Sprint("m", i)}).want(t, 201).decode(t, &e)
		ids = append(ids, e.ID)
	}
	idsOf := func(es []gen.LogEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	reversed := make([]string, len(ids))
	for i, v := range ids {
		reversed[len(ids)-1-i] = v
	}
	for _, limit := range []int{1, 2, 3, 100} {
		if got := idsOf(collectPages[gen.LogEntry](t, c, "/v1/sessions/"+id+"/log?order=newest_first", limit)); !cmp.Equal(got, reversed) {
			t.Errorf("newest first by %d: %v", limit, got)
		}
		if got := idsOf(collectPages[gen.LogEntry](t, c, "/v1/sessions/"+id+"/log?order=oldest_first", limit)); !cmp.Equal(got, ids) {
			t.Errorf("oldest first by %d: %v", limit, got)
		}
	}
	got := idsOf(collectPages[gen.LogEntry](t, c, "/v1/sessions/"+id+"/log?order=newest_first&type=decision", 2))
	if !cmp.Equal(got, []string{ids[5], ids[3], ids[1]}) {
		t.Errorf("newest decisions %v", got)
	}
	var page gen.LogEntryList
	c.do("GET", "/v1/sessions/"+id+"/log?order=newest_first&limit=2", nil).want(t, 200).decode(t, &page)
	c.do("GET", "/v1/sessions/"+id+"/log?limit=2&cursor="+page.NextCursor, nil).want(t, 400, gen.ProblemCodeInvalidCursor)
	c.do("GET", "/v1/sessions/"+id+"/log?order=sideways", nil).want(t, 400, gen.ProblemCodeInvalidRequest)
}

// optionsAgent declares options of every type and echoes those in force.
type optionsAgent struct{}

func (optionsAgent) Info() gen.AgentInfo {
	return gen.AgentInfo{Name: "options", Kind: gen.AgentKindModel, Description: "Echoes its options.", Options: []gen.AgentOption{
		{Name: "model", Type: gen.AgentOptionTypeString, Enum: []any{"fast", "smart"}, Default: "fast"},
		{Name: "effort", Type: gen.AgentOptionTypeInteger, Default: 2.0},
		{Name: "temperature", Type: gen.AgentOptionTypeNumber},
		{Name: "verbose", Type: gen.AgentOptionTypeBoolean},
	}}
}

func (optionsAgent) Run(_ context.Context, in agent.Input, _ agent.Emit) (agent.Outcome, error) {
	b, _ := json.Marshal(in.Options)
	return agent.Outcome{Events: []gen.ScriptEvent{{Type: gen.EventTypeText, Content: string(b)}}}, nil
}

// Agent options are checked at create against what the agent declares,
// shown with the defaults, and given to the agent's turns.
func TestAgentOptions(t *testing.T) {
	reg := agent.Default()
	if err := reg.Register(optionsAgent{}); err != nil {
		t.Fatal(err)
	}
	_, c := start(t, func(cfg *refserver.Config) { cfg.Agents = reg })
	var s gen.Session
	c.do("POST", "/v1/sessions", map[string]any{"agent": "options", "agent_options": map[string]any{"model": "smart", "verbose": true, "temperature": 0.5}}).
		want(t, 201).decode(t, &s)
	want := map[string]any{"model": "smart", "effort": 2.0, "temperature": 0.5, "verbose": true}
	if !cmp.Equal(map[string]any(s.AgentOptions), want) {
		t.Errorf("agent_options %v, want %v", s.AgentOptions, want)
	}
	r := c.sendTurn(s.SessionID, gen.TurnRequest{Prompt: "x"})
	var seen map[string]any
	json.Unmarshal([]byte(r.Events[0].Content), &seen)
	if !cmp.Equal(seen, want) {
		t.Errorf("the agent saw %v", seen)
	}
	var d gen.Session
	c.do("POST", "/v1/sessions", map[string]any{"agent": "options"}).want(t, 201).decode(t, &d)
	if !cmp.Equal(map[string]any(d.AgentOptions), map[string]any{"model": "fast", "effort": 2.0}) {
		t.Errorf("defaults %v", d.AgentOptions)
	}
	for _, tt := range []struct {
		name string
		opts map[string]any
		locs []string
	}{
		{"unknown", map[string]any{"colour": "red"}, []string{"body.agent_options.colour"}},
		{"wrong type", map[string]any{"verbose": "yes", "effort": 1.5, "temperature": "hot"},
			[]string{"body.agent_options.effort", "body.agent_options.temperature", "body.agent_options.verbose"}},
		{"outside the enum", map[string]any{"model": "huge"}, []string{"body.agent_options.model"}},
		{"null", map[string]any{"model": nil}, []string{"body.agent_options.model"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/v1/sessions", "/v1/sessions/" + s.SessionID + "/children"} {
				p := c.do("POST", path, map[string]any{"agent": "options", "agent_options": tt.opts}).want(t, 422, gen.ProblemCodeInvalidAgentOptions).problem(t)
				var locs []string
				for _, f := range p.Errors {
					locs = append(locs, f.Location)
				}
				if !cmp.Equal(locs, tt.locs) {
					t.Errorf("%s: errors %+v, want %v", path, p.Errors, tt.locs)
				}
			}
		})
	}
	// continue and replay check theirs too; echo takes its prefix.
	c.do("POST", "/v1/sessions/"+s.SessionID+"/continue", map[string]any{"agent": "echo", "agent_options": map[string]any{"model": "x"}}).
		want(t, 422, gen.ProblemCodeInvalidAgentOptions)
	c.do("POST", "/v1/sessions/"+s.SessionID+"/replay", map[string]any{"agent_options": map[string]any{"effort": "high"}}).
		want(t, 422, gen.ProblemCodeInvalidAgentOptions)
	var e gen.Session
	c.do("POST", "/v1/sessions/"+s.SessionID+"/continue", map[string]any{"agent": "echo", "agent_options": map[string]any{"prefix": "» "}}).
		want(t, 201).decode(t, &e)
	if r := c.sendTurn(e.SessionID, gen.TurnRequest{Prompt: "hi"}); r.Events[0].Content != "» hi" {
		t.Errorf("echo with a prefix: %q", r.Events[0].Content)
	}
	if plain := c.newSession("echo"); c.getSession(plain).AgentOptions != nil {
		t.Error("an echo session without options shows some")
	}
	var caps gen.Capabilities
	c.do("GET", "/v1/capabilities", nil).want(t, 200).decode(t, &caps)
	for _, a := range caps.Agents {
		if a.Name == "options" && len(a.Options) != 4 {
			t.Errorf("capabilities %+v", a)
		}
	}
}

// rawRequest writes a request's head (and some of its body) on a fresh
// connection and returns the connection.
func rawRequest(t *testing.T, base, head string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	return conn
}

// A body trickling in is cut off after the server's bound (408, the
// connection closed); a request that fails authentication gets its 401
// without the server waiting for its body.
func TestSlowBodies(t *testing.T) {
	srv, c := start(t, func(cfg *refserver.Config) { cfg.BodyReadTimeout = 300 * time.Millisecond })
	id := c.newSession("echo")
	for _, tt := range []struct {
		name, token string
		status      int
		code        gen.ProblemCode
		within      time.Duration
	}{
		{"authenticated", srv.Tokens[0], 408, gen.ProblemCodeRequestTimeout, 3 * time.Second},
		{"unauthenticated", "wrong", 401, gen.ProblemCodeUnauthorized, 250 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			conn := rawRequest(t, srv.URL, fmt.Sprintf("POST /v1/sessions/%s/turns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
				"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"pro", id, tt.token))
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			took := time.Since(start)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), `"code":"`+string(tt.code)+`"`) || took > tt.within {
				t.Errorf("answer %d %s after %v, want %d %s within %v", resp.StatusCode, body, took, tt.status, tt.code, tt.within)
			}
			if !resp.Close { // ReadResponse takes "Connection: close" out of the header into Close
				t.Error("the answer does not say Connection: close")
			}
			if _, err := conn.Read(make([]byte, 1)); err == nil {
				t.Error("the connection is still open")
			}
		})
	}
	// A body that arrives in time is read, and the connection's next
	// request has no deadline left from it.
	req, _ := http.NewRequest("POST", srv.URL+"/v1/sessions/"+id+"/turns", strings.NewReader(`{"prompt":"hi"}`))
	req.Header.Set("Authorization", "Bearer "+srv.Tokens[0])
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{}
	for range 2 {
		resp, err := hc.Do(req.Clone(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		req.Body = io.NopCloser(strings.NewReader(`{"prompt":"hi"}`))
		time.Sleep(400 * time.Millisecond) // past the body bound
	}
	// A stream outlives the body bound.
	resp := c.stream(context.Background(), "POST", "/v1/sessions/"+c.newSession("scripted")+"/turns",
		map[string]any{"prompt": script("", wait(500*time.Millisecond), text(0, "late"))})
	frames, _ := readFrames(t, resp.Body)
	resp.Body.Close()
	if len(frames) != 3 {
		t.Errorf("a stream past the body bound: %d frames", len(frames))
	}
}

// JSON with invalid UTF-8, raw or as a lone surrogate escape, is 400
// naming where; valid escapes pass.
func TestInvalidUTF8IsRefused(t *testing.T) {
	_, c := start(t)
	id := c.newSession("echo")
	for _, tt := range []struct {
		name, body, loc string
	}{
		{"raw in the prompt", "{\"prompt\":\"bad \xff byte\"}", "body.prompt"},
		{"lone high surrogate in meta", `{"prompt":"x","meta":{"user":"\ud800"}}`, "body.meta.user"},
		{"lone low surrogate", `{"prompt":"x","meta":{"a":["ok","\udc00"]}}`, "body.meta.a.1"},
		{"high without its low", `{"prompt":"x","meta":{"a":"\ud83d\u0041"}}`, "body.meta.a"},
		{"a member name", "{\"prompt\":\"x\",\"meta\":{\"k\xfe\":1}}", "body.meta"},
		{"in a file token", "{\"prompt\":\"x\",\"files\":[\"f\xc3\"]}", "body.files.0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := c.do("POST", "/v1/sessions/"+id+"/turns", tt.body).want(t, 400, gen.ProblemCodeInvalidRequest).problem(t)
			if len(p.Errors) != 1 || p.Errors[0].Location != tt.loc || !strings.Contains(p.Errors[0].Message, "UTF-8") {
				t.Errorf("errors %+v, want %s", p.Errors, tt.loc)
			}
		})
	}
	if got := c.getSession(id).TurnCount; got != 0 {
		t.Errorf("%d turns: a refused body started one", got)
	}
	r := c.sendTurn(id, gen.TurnRequest{Prompt: "smile \U0001F600 é"})
	if r.Events[0].Content != "smile \U0001F600 é" {
		t.Errorf("valid text %q", r.Events[0].Content)
	}
	var res gen.TurnResult
	c.do("POST", "/v1/sessions/"+id+"/turns", `{"prompt":"pair \ud83d\ude00 and \u00e9 \"q\" \\"}`).want(t, 200).decode(t, &res)
	if res.Events[0].Content != "pair \U0001F600 and é \"q\" \\" {
		t.Errorf("escaped text %q", res.Events[0].Content)
	}
}

// A long path comes back cut in the problem's instance and detail, and in
// the request log.
func TestLongPathsAreCut(t *testing.T) {
	var logs syncBuffer
	_, c := start(t, func(cfg *refserver.Config) { cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	long := "/v1/" + strings.Repeat("x", 100_000)
	r := c.do("GET", long, nil).want(t, 404, gen.ProblemCodeNotFound)
	p := r.problem(t)
	if len(p.Instance) != 1024+3 || !strings.HasSuffix(p.Instance, "...") || !strings.HasPrefix(long, strings.TrimSuffix(p.Instance, "...")) {
		t.Errorf("instance of %d bytes: %.40q...", len(p.Instance), p.Instance)
	}
	if len(p.Detail) > 1200 {
		t.Errorf("detail of %d bytes", len(p.Detail))
	}
	short := c.do("GET", "/v1/sessions/sess_nope", nil).want(t, 404).problem(t)
	if short.Instance != "/v1/sessions/sess_nope" {
		t.Errorf("a short path's instance %q", short.Instance)
	}
	// Cut at a character, not inside one.
	multi := "/v1/" + strings.Repeat("é", 3000)
	if p := c.do("GET", multi, nil).want(t, 404).problem(t); len(p.Instance) > 1027 {
		t.Errorf("instance of %d bytes", len(p.Instance))
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if len(line) > 4096 {
			t.Errorf("a log line of %d bytes: %.80s...", len(line), line)
		}
	}
	_ = sse.Frame{}
}
