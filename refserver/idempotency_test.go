package refserver_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/agent"
)

// TestIdempotencyKeys checks every operation that takes an Idempotency-Key:
// a replay answers the first status and body byte for byte with
// Idempotent-Replayed: true and does no work; the same key with another
// request is 422; reordered keys and whitespace are the same request.
func TestIdempotencyKeys(t *testing.T) {
	srv, c := start(t)
	other := newClient(t, srv, 1)
	countSessions := func(cl *client) int {
		var l gen.SessionList
		cl.do("GET", "/v1/sessions?limit=100", nil).want(t, 200).decode(t, &l)
		return len(l.Items)
	}
	type tcase struct {
		name   string
		method string
		path   string
		body   string // JSON; "" for none
		same   string // the same request written differently ("" to skip)
		differ string // another request
		// count measures the work done; a replay must not change it.
		count func() int
	}
	cases := []func() tcase{
		func() tcase {
			return tcase{"createSession", "POST", "/v1/sessions", `{"agent":"echo","meta":{"a":1,"b":2}}`,
				` { "meta" : { "b":2, "a":1 }, "agent":"echo" } `, `{"agent":"scripted"}`, func() int { return countSessions(c) }}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"spawnChild", "POST", "/v1/sessions/" + id + "/children", `{"agent":"echo"}`, "", `{"agent":"echo","plan_slug":"x"}`,
				func() int { return countSessions(c) }}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"continueSession", "POST", "/v1/sessions/" + id + "/continue", `{"agent":"echo"}`, "", `{"agent":"scripted"}`,
				func() int { return countSessions(c) }}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"replaySession", "POST", "/v1/sessions/" + id + "/replay", "", "", `{"agent":"scripted"}`,
				func() int { return countSessions(c) }}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"pauseSession", "POST", "/v1/sessions/" + id + "/pause", "", "", "", nil}
		},
		func() tcase {
			id := c.sessionIn(gen.SessionStatusPaused)
			return tcase{"resumeSession", "POST", "/v1/sessions/" + id + "/resume", "", "", "", nil}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"endSession", "POST", "/v1/sessions/" + id + "/end", `{"status":"completed","summary":"s"}`,
				`{"summary":"s","status":"completed"}`, `{"status":"failed"}`, nil}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"handoffSession", "POST", "/v1/sessions/" + id + "/handoff", `{"summary":"s"}`, "", `{"summary":"t"}`, nil}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"updateContext", "PATCH", "/v1/sessions/" + id + "/context", `{"n":{"x":1,"y":2}}`, `{"n":{"y":2,"x":1}}`, `{"n":1}`,
				func() int { return int(c.getSession(id).UpdatedAt.UnixNano() % 1e9) }}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"addLogEntry", "POST", "/v1/sessions/" + id + "/log", `{"type":"info","message":"m"}`,
				`{"message":"m","type":"info"}`, `{"type":"info","message":"n"}`, func() int { return int(c.getSession(id).ActionCount) }}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"addArtifact", "POST", "/v1/sessions/" + id + "/artifacts", `{"path":"p","action":"created"}`, "",
				`{"path":"q","action":"created"}`, func() int { return int(c.getSession(id).ArtifactCount) }}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"cancelTurn", "POST", "/v1/sessions/" + id + "/cancel", "", "", "", nil}
		},
		func() tcase {
			id := c.newSession("echo")
			return tcase{"sendTurn", "POST", "/v1/sessions/" + id + "/turns", `{"prompt":"hello"}`, `{ "prompt" : "hello" }`,
				`{"prompt":"bye"}`, func() int { return int(c.getSession(id).TurnCount) }}
		},
	}
	for i, mk := range cases {
		tc := mk()
		t.Run(tc.name, func(t *testing.T) {
			key := header{"Idempotency-Key", fmt.Sprintf("key-%d-%d", i, time.Now().UnixNano())}
			var body any
			if tc.body != "" {
				body = tc.body
			}
			first := c.do(tc.method, tc.path, body, key)
			if first.Status >= 300 {
				t.Fatalf("first request: %d %s", first.Status, first.Body)
			}
			if first.Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("the first answer is marked replayed")
			}
			before := 0
			if tc.count != nil {
				before = tc.count()
			}
			check := func(name string, r *response) {
				t.Helper()
				if r.Status != first.Status || !bytes.Equal(r.Body, first.Body) {
					t.Errorf("%s: %d %s\nwant the first answer %d %s", name, r.Status, r.Body, first.Status, first.Body)
				}
				if r.Header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("%s: Idempotent-Replayed = %q", name, r.Header.Get("Idempotent-Replayed"))
				}
			}
			check("replay", c.do(tc.method, tc.path, body, key))
			if tc.same != "" {
				check("reformatted replay", c.do(tc.method, tc.path, tc.same, key))
			}
			if tc.count != nil {
				if after := tc.count(); after != before {
					t.Errorf("the replay did the work again: %d -> %d", before, after)
				}
			}
			if tc.differ != "" {
				c.do(tc.method, tc.path, tc.differ, key).want(t, http.StatusUnprocessableEntity, gen.ProblemCodeIdempotencyKeyReused)
			}
			// Keys are per tenant: another tenant's key of the same name is unrelated.
			r := other.do(tc.method, tc.path, body, key)
			if r.Header.Get("Idempotent-Replayed") != "" || (r.Status != 404 && tc.path != "/v1/sessions") {
				t.Errorf("another tenant got %d %s (replayed %q)", r.Status, r.Body, r.Header.Get("Idempotent-Replayed"))
			}
		})
	}
}

func TestIdempotencyKeyIsPerOperationAndPath(t *testing.T) {
	_, c := start(t)
	a, b := c.newSession("echo"), c.newSession("echo")
	key := header{"Idempotency-Key", "shared"}
	c.do("POST", "/v1/sessions/"+a+"/pause", nil, key).want(t, 200)
	// The same key on another operation is a new request...
	if r := c.do("POST", "/v1/sessions/"+a+"/log", `{"type":"info","message":"m"}`, key).want(t, 201); r.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("a key was shared across operations")
	}
	// ...and on another session of the same operation it is a different request.
	c.do("POST", "/v1/sessions/"+b+"/pause", nil, key).want(t, 422, gen.ProblemCodeIdempotencyKeyReused)
}

func TestFailedRequestsAreNotRemembered(t *testing.T) {
	_, c := start(t)
	id := c.sessionIn(gen.SessionStatusPaused)
	key := header{"Idempotency-Key", "retry-me"}
	c.do("POST", "/v1/sessions/"+id+"/pause", nil, key).want(t, 409, gen.ProblemCodeInvalidTransition)
	c.do("POST", "/v1/sessions/"+id+"/resume", nil).want(t, 200)
	// The failure stored nothing: the retry does the work now that it can.
	if r := c.do("POST", "/v1/sessions/"+id+"/pause", nil, key).want(t, 200); r.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("a failed request was replayed")
	}
}

func TestIdempotentUpload(t *testing.T) {
	_, c := start(t)
	mk := func(content string) ([]byte, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf) // a new random boundary every time
		fw, _ := mw.CreateFormFile("file", "a.txt")
		fw.Write([]byte(content))
		mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}
	key := header{"Idempotency-Key", "upload-1"}
	b1, ct1 := mk("hello")
	first := c.do("POST", "/v1/files", b1, header{"Content-Type", ct1}, key).want(t, 201)
	b2, ct2 := mk("hello")
	second := c.do("POST", "/v1/files", b2, header{"Content-Type", ct2}, key).want(t, 201)
	if !bytes.Equal(first.Body, second.Body) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("upload replay: %s vs %s", first.Body, second.Body)
	}
	b3, ct3 := mk("other")
	c.do("POST", "/v1/files", b3, header{"Content-Type", ct3}, key).want(t, 422, gen.ProblemCodeIdempotencyKeyReused)
}

func TestSendTurnReplayWaitsForTheOriginal(t *testing.T) {
	_, c := start(t)
	id := c.newSession("scripted")
	body := map[string]any{"prompt": script("", wait(200*time.Millisecond), text(0, "done"))}
	key := header{"Idempotency-Key", "slow-turn"}
	first := c.doAsync("POST", "/v1/sessions/"+id+"/turns", body, key)
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	// While the original runs, the retry waits for it instead of 409.
	second := c.do("POST", "/v1/sessions/"+id+"/turns", body, key).want(t, 200)
	r1 := result(t, first).want(t, 200)
	if !bytes.Equal(r1.Body, second.Body) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay while running:\n%s\n%s", r1.Body, second.Body)
	}
	if n := c.getSession(id).TurnCount; n != 1 {
		t.Errorf("turn_count %d", n)
	}
}

// lingering is an agent that takes a while to stop once cancelled.
type lingering struct{}

func (lingering) Info() gen.AgentInfo {
	return gen.AgentInfo{Name: "lingering", Kind: gen.AgentKindModel}
}

func (lingering) Run(ctx context.Context, _ agent.Input, emit agent.Emit) (agent.Outcome, error) {
	<-ctx.Done()
	time.Sleep(300 * time.Millisecond)
	return agent.Outcome{}, ctx.Err()
}

func TestCancelKeyInProgress(t *testing.T) {
	reg := agent.Default()
	if err := reg.Register(lingering{}); err != nil {
		t.Fatal(err)
	}
	_, c := start(t, func(cfg *refserver.Config) { cfg.Agents = reg })
	id := c.newSession("lingering")
	turn := c.doAsync("POST", "/v1/sessions/"+id+"/turns", map[string]any{"prompt": "p"})
	c.waitTurn(id, 1, gen.TurnStatusRunning)
	key := header{"Idempotency-Key", "cancel-once"}
	// Two tries of one cancel at once: the agent takes 300 ms to stop, so
	// the second arrives while the first is still in progress.
	chs := []<-chan *response{c.doAsync("POST", "/v1/sessions/"+id+"/cancel", nil, key), c.doAsync("POST", "/v1/sessions/"+id+"/cancel", nil, key)}
	var ok, busy *response
	for _, ch := range chs {
		switch r := result(t, ch); r.Status {
		case http.StatusOK:
			ok = r
		case http.StatusConflict:
			busy = r
		}
	}
	if ok == nil || busy == nil {
		t.Fatalf("want one 200 and one 409, got %v and %v", ok, busy)
	}
	busy.want(t, http.StatusConflict, gen.ProblemCodeIdempotencyInProgress)
	if busy.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", busy.Header.Get("Retry-After"))
	}
	var res gen.CancelTurnResult
	ok.decode(t, &res)
	if !res.Cancelled {
		t.Errorf("the cancel that ran = %+v", res)
	}
	again := c.do("POST", "/v1/sessions/"+id+"/cancel", nil, key).want(t, 200)
	if !bytes.Equal(again.Body, ok.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry after the first finished: %s", again.Body)
	}
	result(t, turn).want(t, 200)
}
