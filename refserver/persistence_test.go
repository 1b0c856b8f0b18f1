package refserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/refserver/store"
)

func openSQLite(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sameTokens keeps the tenants across restarts (a tenant is its token).
func withStore(st store.Store) func(*refserver.Config) {
	return func(c *refserver.Config) { c.Store = st }
}

func TestPersistenceAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agentsession.db")
	st := openSQLite(t, path)
	srv, c := start(t, withStore(st))

	key := header{"Idempotency-Key", "create-1"}
	first := c.do("POST", "/v1/sessions", `{"agent":"scripted","meta":{"m":1},"context":{"k":"v"}}`, key).want(t, 201)
	var sess gen.Session
	first.decode(t, &sess)
	id := sess.SessionID
	s := "/v1/sessions/" + id
	c.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "one"), text(0, "two"))})
	c.do("POST", s+"/log", map[string]any{"type": "checkpoint", "message": "cp"}).want(t, 201)
	c.do("POST", s+"/artifacts", map[string]any{"path": "a.go", "action": "modified"}).want(t, 201)
	c.do("POST", s+"/handoff", map[string]any{"summary": "notes"}).want(t, 200)
	var f gen.File
	c.upload("f.txt", "text/plain", []byte("file data")).want(t, 201).decode(t, &f)

	reads := []string{s, s + "/turns", s + "/turns/1", s + "/events", s + "/log", s + "/artifacts", s + "/handoff", s + "/replay", "/v1/sessions", "/v1/files/" + f.FileToken}
	before := map[string]string{}
	for _, p := range reads {
		before[p] = string(c.do("GET", p, nil).want(t, 200).Body)
	}

	// Stop gracefully, close the database, open it again in a new server.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	srv.HTTP.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, c2 := start(t, withStore(openSQLite(t, path)))
	for _, p := range reads {
		if diff := cmp.Diff(before[p], string(c2.do("GET", p, nil).want(t, 200).Body)); diff != "" {
			t.Errorf("GET %s after the restart (-before +after):\n%s", p, diff)
		}
	}
	replay := c2.do("POST", "/v1/sessions", `{"agent":"scripted","meta":{"m":1},"context":{"k":"v"}}`, key).want(t, 201)
	if string(replay.Body) != string(first.Body) || replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the idempotency key did not survive the restart: %s", replay.Body)
	}
	// Work continues where it stopped: the next turn is 2, its event seq 3.
	c2.do("POST", s+"/resume", nil).want(t, 200)
	r := c2.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "three"))})
	if r.TurnIndex != 2 || r.Events[0].Seq != 3 {
		t.Errorf("turn after restart = %+v", r)
	}
}

// TestRecoveryAfterUncleanStop: a turn running (and one queued) when the
// server dies is ended on the next start with stop_reason error and a final
// error event.
func TestRecoveryAfterUncleanStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agentsession.db")
	st := openSQLite(t, path)
	srv1 := refservertest.Start(t, withStore(st))
	c1 := newClient(t, srv1, 0)
	id := c1.newSession("scripted")

	// Raw requests: once the database is gone under it the old server can
	// only fail, which is not what this test checks.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, b := range []map[string]any{{"prompt": script("", text(0, "working"), wait(30*time.Second))}, {"prompt": slow, "busy_policy": "enqueue"}} {
		req := c1.newRequest(ctx, "POST", "/v1/sessions/"+id+"/turns", b)
		go func() {
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		if b["busy_policy"] == nil {
			c1.waitTurn(id, 1, gen.TurnStatusRunning)
			deadline := time.Now().Add(5 * time.Second)
			for c1.getTurn(id, 1).EventCount == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
		} else {
			c1.waitTurn(id, 2, gen.TurnStatusQueued)
		}
	}
	// The crash: the old process writes nothing more.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cancel()

	_, c2 := start(t, withStore(openSQLite(t, path)))
	t1, t2 := c2.getTurn(id, 1), c2.getTurn(id, 2)
	for _, tr := range []gen.Turn{t1, t2} {
		if tr.Status != gen.TurnStatusCompleted || tr.StopReason != gen.StopReasonError || tr.EndedAt.IsZero() || tr.StartedAt.IsZero() {
			t.Errorf("recovered turn = %+v", tr)
			continue
		}
		last := tr.Events[len(tr.Events)-1]
		if last.Type != gen.EventTypeError || !strings.Contains(last.Content, "restarted") || tr.LastSeq != last.Seq {
			t.Errorf("turn %d ends with %+v", tr.TurnIndex, last)
		}
	}
	if t1.EventCount != 2 || t1.Events[0].Content != "working" {
		t.Errorf("turn 1 lost its events: %+v", t1.Events)
	}
	sess := c2.getSession(id)
	if sess.Activity != gen.ActivityIdle || sess.LastEventSeq != t2.LastSeq {
		t.Errorf("session after recovery = %+v", sess)
	}
	// Streams of the recovered turn end, and new turns work.
	resp := c2.stream(context.Background(), "GET", "/v1/sessions/"+id+"/turns/1/stream", nil)
	frames, _ := readFrames(t, resp.Body)
	resp.Body.Close()
	var sum gen.TurnSummary
	if err := json.Unmarshal([]byte(frames[len(frames)-1].Data), &sum); err != nil || sum.StopReason != gen.StopReasonError {
		t.Errorf("recovered stream ends with %+v", frames[len(frames)-1])
	}
	if r := c2.sendTurn(id, gen.TurnRequest{Prompt: script("", text(0, "again"))}); r.TurnIndex != 3 || r.StopReason != gen.StopReasonEndTurn {
		t.Errorf("turn after recovery = %+v", r)
	}
}
