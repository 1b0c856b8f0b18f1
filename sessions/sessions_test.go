package sessions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/retry"
	"github.com/agentsession/agentsession/sessions"
	"github.com/google/go-cmp/cmp"
)

const turnResultJSON = `{"session_id":"s1","turn_index":4,"stop_reason":"end_turn","duration_ms":12,"event_count":5,
 "first_seq":10,"last_seq":14,"started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:01Z",
 "events":[
  {"seq":10,"turn_index":4,"type":"thinking","content":"hmm","created_at":"2026-01-01T00:00:00Z"},
  {"seq":11,"turn_index":4,"type":"text","content":"Hel","created_at":"2026-01-01T00:00:00Z"},
  {"seq":12,"turn_index":4,"type":"tool_call","name":"read","args":{"p":1},"tool_call_id":"c1","status":"pending","created_at":"2026-01-01T00:00:00Z"},
  {"seq":13,"turn_index":4,"type":"text","content":"lo","created_at":"2026-01-01T00:00:00Z"},
  {"seq":14,"turn_index":4,"type":"hologram","content":"x","future_field":{"a":1},"created_at":"2026-01-01T00:00:00Z"}]}`

func TestTurn(t *testing.T) {
	c, mux := sdktest.Setup(t)
	var body map[string]any
	var key string
	mux.HandleFunc("POST /v1/sessions/s1/turns", func(w http.ResponseWriter, r *http.Request) {
		key = r.Header.Get("Idempotency-Key")
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, turnResultJSON)
	})
	s := sessions.New(c).Session("s1")
	res, err := s.Turn(context.Background(), "hi", sessions.WithFiles("file_1", "file_2"),
		sessions.WithTimeout(1500*time.Microsecond), sessions.WithBusyPolicy(sessions.BusyEnqueue),
		sessions.WithCallOptions(agentsession.IdempotencyKey("turn-key-1")))
	if err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]any{"prompt": "hi", "files": []any{"file_1", "file_2"}, "timeout_ms": 2.0, "busy_policy": "enqueue"}
	if diff := cmp.Diff(wantBody, body); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
	if key != "turn-key-1" || res.Response.IdempotencyKey != "turn-key-1" {
		t.Errorf("Idempotency-Key = %q / %q", key, res.Response.IdempotencyKey)
	}
	if res.Text() != "Hello" || res.TurnIndex != 4 || res.StopReason != sessions.StopEndTurn || len(res.Events) != 5 {
		t.Errorf("TurnResult: text %q index %d stop %q events %d", res.Text(), res.TurnIndex, res.StopReason, len(res.Events))
	}
	unknown := res.Events[4]
	if unknown.Known() || unknown.Type != "hologram" || !strings.Contains(string(unknown.Raw), `"future_field":{"a":1}`) {
		t.Errorf("unknown event not passed through: %+v raw %s", unknown.Event, unknown.Raw)
	}
	out, _ := json.Marshal(unknown)
	if !strings.Contains(string(out), "future_field") {
		t.Errorf("re-encoding lost the unknown field: %s", out)
	}
	if tc := res.Events[2]; tc.Name != "read" || tc.Args["p"] != 1.0 || !tc.Known() {
		t.Errorf("tool_call not decoded: %+v", tc.Event)
	}
}

func TestTurnOptionErrors(t *testing.T) {
	c, mux := sdktest.Setup(t)
	calls := 0
	mux.HandleFunc("POST /v1/sessions/s1/turns", func(w http.ResponseWriter, r *http.Request) { calls++ })
	s := sessions.New(c).Session("s1")
	for _, opt := range []sessions.TurnOption{sessions.WithTimeout(-time.Second), sessions.WithTimeout(0),
		sessions.WithIdleTimeout(-1), sessions.WithMaxResumes(-1)} {
		if _, err := s.Turn(context.Background(), "x", opt); err == nil {
			t.Errorf("an invalid option was accepted")
		}
		if _, err := s.TurnStream(context.Background(), "x", opt).Result(); err == nil {
			t.Errorf("an invalid option was accepted by TurnStream")
		}
	}
	if calls != 0 {
		t.Errorf("%d requests sent with invalid options", calls)
	}
}

func TestCloseIsIdempotentAndRetryable(t *testing.T) {
	c, mux := sdktest.Setup(t, agentsession.WithoutRetries())
	var mu sync.Mutex
	calls := 0
	mux.HandleFunc("DELETE /v1/sessions/s1", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			sdktest.Problem(w, 500, gen.ProblemCodeInternal, "disk full")
			return
		}
		s := sdktest.Session("s1", "completed")
		sdktest.JSON(w, 200, map[string]any{"session": s, "already_closed": n > 2})
	})
	s := sessions.New(c).Session("s1")
	if err := s.Close(context.Background()); !errors.Is(err, agentsession.ErrServer) {
		t.Fatalf("first Close = %v, want the server error", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close after a failed Close = %v, want a retry that succeeds", err)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Close(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if calls != 2 {
		t.Errorf("%d DELETE requests, want 2 (the failed one and the successful one)", calls)
	}
	if s.Info() == nil || s.Info().Status != lifecycle.StatusCompleted {
		t.Errorf("Info after Close = %+v", s.Info())
	}
}

func TestListPagesWithFilters(t *testing.T) {
	c, mux := sdktest.Setup(t)
	var queries []string
	mux.HandleFunc("GET /v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		switch r.URL.Query().Get("cursor") {
		case "":
			sdktest.JSON(w, 200, map[string]any{"items": []any{sdktest.Session("a", "paused"), sdktest.Session("b", "paused")}, "next_cursor": "c2"})
		case "c2":
			sdktest.JSON(w, 200, map[string]any{"items": []any{sdktest.Session("c", "paused")}})
		}
	})
	var ids []string
	for s, err := range sessions.New(c).List(context.Background(), sessions.ListOptions{
		Status: lifecycle.StatusPaused, Agent: "echo", PlanSlug: "p/1", PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID())
		if s.Info().Status != lifecycle.StatusPaused {
			t.Errorf("handle %s has no Info", s.ID())
		}
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	want := []string{"agent=echo&limit=2&plan_slug=p%2F1&status=paused", "agent=echo&cursor=c2&limit=2&plan_slug=p%2F1&status=paused"}
	if diff := cmp.Diff(want, sortQueries(queries)); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
}

// sortQueries puts each query's parameters in name order.
func sortQueries(qs []string) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		parts := strings.Split(q, "&")
		for a := range parts {
			for b := a + 1; b < len(parts); b++ {
				if parts[b] < parts[a] {
					parts[a], parts[b] = parts[b], parts[a]
				}
			}
		}
		out[i] = strings.Join(parts, "&")
	}
	return out
}

func TestUpload(t *testing.T) {
	c, mux := sdktest.Setup(t)
	type part struct{ Name, Filename, Type, Data, Key string }
	var got part
	n := 0
	mux.HandleFunc("POST /v1/files", func(w http.ResponseWriter, r *http.Request) {
		if n++; n == 1 {
			sdktest.Problem(w, 503, gen.ProblemCodeInternal, "try again") // the retry must resend the whole body
			return
		}
		f, h, err := r.FormFile("file")
		if err != nil {
			t.Error(err)
			return
		}
		b, _ := io.ReadAll(f)
		got = part{"file", h.Filename, h.Header.Get("Content-Type"), string(b), r.Header.Get("Idempotency-Key")}
		sdktest.JSON(w, 201, map[string]any{"file_token": "file_1", "filename": h.Filename, "content_type": "text/csv",
			"size_bytes": len(b), "sha256": "x", "created_at": "2026-01-01T00:00:00Z"})
	})
	s := sessions.New(c).Session("s1")
	f, err := s.Upload(context.Background(), sessions.UploadParams{Filename: "dir/report \"q\".csv", Content: strings.NewReader("a,b\n1,2\n")},
		agentsession.IdempotencyKey("up-1"))
	if err != nil {
		t.Fatal(err)
	}
	want := part{"file", `report "q".csv`, "text/csv; charset=utf-8", "a,b\n1,2\n", "up-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("uploaded part (-want +got):\n%s", diff)
	}
	if f.FileToken != "file_1" || f.SizeBytes != 8 {
		t.Errorf("File = %+v", f)
	}
	if _, err := s.Upload(context.Background(), sessions.UploadParams{Content: strings.NewReader("x")}); err == nil {
		t.Error("Upload with an empty name succeeded")
	}
	if _, err := s.Upload(context.Background(), sessions.UploadParams{Filename: "a.txt"}); err == nil {
		t.Error("Upload without content succeeded")
	}
	if _, err := s.Upload(context.Background(), sessions.UploadParams{Filename: "a", Content: strings.NewReader("x"), ContentType: "text/plain\r\nX: y"}); err == nil {
		t.Error("Upload with a line break in the content type succeeded")
	}
	f, err = s.Upload(context.Background(), sessions.UploadParams{Filename: "notes.txt", Content: strings.NewReader("x"), ContentType: "text/plain"})
	if err != nil || got.Type != "text/plain" {
		t.Errorf("Upload with a content type sent %q (%v), want text/plain", got.Type, err)
	}
	if _, err := s.UploadFile(context.Background(), "/nonexistent/file.txt"); err == nil {
		t.Error("UploadFile of a missing file succeeded")
	}
}

// sseServer scripts the SSE answers of one session's turns.
type sseServer struct {
	mu       sync.Mutex
	posts    []http.Header
	streams  []http.Header
	onPost   func(n int, w http.ResponseWriter, r *http.Request)
	onStream func(n int, w http.ResponseWriter, r *http.Request)
}

func (s *sseServer) register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/sessions/s1/turns", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.posts = append(s.posts, r.Header.Clone())
		n := len(s.posts)
		s.mu.Unlock()
		s.onPost(n, w, r)
	})
	mux.HandleFunc("GET /v1/sessions/s1/turns/{i}/stream", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.streams = append(s.streams, r.Header.Clone())
		n := len(s.streams)
		s.mu.Unlock()
		s.onStream(n, w, r)
	})
}

func frame(w http.ResponseWriter, text string) {
	_, _ = io.WriteString(w, text)
	w.(http.Flusher).Flush()
}

func sseStart(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
}

func evFrame(seq int, typ, content string) string {
	return fmt.Sprintf("id: %d\ndata: {\"seq\":%d,\"turn_index\":1,\"type\":%q,\"content\":%q,\"created_at\":\"2026-01-01T00:00:00Z\"}\n\n", seq, seq, typ, content)
}

func completed(lastSeq int) string {
	return fmt.Sprintf("event: turn.completed\ndata: {\"session_id\":\"s1\",\"turn_index\":1,\"stop_reason\":\"end_turn\",\"duration_ms\":5,\"event_count\":%d,\"first_seq\":1,\"last_seq\":%d,\"started_at\":\"2026-01-01T00:00:00Z\",\"ended_at\":\"2026-01-01T00:00:01Z\"}\n\n", lastSeq, lastSeq)
}

const accepted = "event: turn.accepted\ndata: {\"session_id\":\"s1\",\"turn_index\":1,\"status\":\"running\"}\n\n"

// collect reads a stream, returning the seqs and contents seen.
func collect(t *testing.T, st *sessions.Stream) ([]int64, string, error) {
	t.Helper()
	var seqs []int64
	var text strings.Builder
	for ev, err := range st.Events() {
		if err != nil {
			return seqs, text.String(), err
		}
		seqs = append(seqs, ev.Seq)
		text.WriteString(ev.Text())
	}
	return seqs, text.String(), nil
}

func TestStreamResumesAfterCut(t *testing.T) {
	c, mux := sdktest.Setup(t)
	srv := &sseServer{
		onPost: func(n int, w http.ResponseWriter, r *http.Request) {
			sseStart(w)
			frame(w, accepted+evFrame(1, "text", "a")+": keep-alive\n\n"+evFrame(2, "text", "b"))
			// the connection ends here without turn.completed
		},
		onStream: func(n int, w http.ResponseWriter, r *http.Request) {
			sseStart(w)
			// The server replays from Last-Event-ID; a duplicate of 2 must be dropped.
			frame(w, evFrame(2, "text", "b")+"event: turn.progress\ndata: {}\n\n"+evFrame(3, "mystery", "c")+completed(3))
		},
	}
	srv.register(mux)
	st := sessions.New(c).Session("s1").TurnStream(context.Background(), "go")
	seqs, text, err := collect(t, st)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, seqs); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	if text != "abc" || st.Resumes() != 1 || st.TurnIndex() != 1 {
		t.Errorf("text %q resumes %d turn %d", text, st.Resumes(), st.TurnIndex())
	}
	if got := srv.streams[0].Get("Last-Event-ID"); got != "2" {
		t.Errorf("resume Last-Event-ID = %q, want 2", got)
	}
	if srv.posts[0].Get("Accept") != "text/event-stream" || srv.posts[0].Get("Idempotency-Key") == "" {
		t.Errorf("POST headers = %v", srv.posts[0])
	}
	res, err := st.Result()
	if err != nil || res.Text() != "ab" || len(res.Events) != 3 || res.StopReason != sessions.StopEndTurn {
		t.Errorf("Result = %+v, %v (text %q)", res, err, res.Text())
	}
}

func TestStreamResumesBeforeAccepted(t *testing.T) {
	c, mux := sdktest.Setup(t)
	srv := &sseServer{
		onPost: func(n int, w http.ResponseWriter, r *http.Request) {
			sseStart(w)
			if n == 1 {
				return // dropped before turn.accepted: the turn index is unknown
			}
			frame(w, accepted+evFrame(1, "text", "x")+completed(1))
		},
	}
	srv.register(mux)
	seqs, _, err := collect(t, sessions.New(c).Session("s1").TurnStream(context.Background(), "go", sessions.WithCallOptions(agentsession.IdempotencyKey("k-9"))))
	if err != nil || len(seqs) != 1 {
		t.Fatalf("seqs %v, err %v", seqs, err)
	}
	if len(srv.posts) != 2 || srv.posts[1].Get("Idempotency-Key") != "k-9" || srv.posts[0].Get("Idempotency-Key") != "k-9" || srv.posts[1].Get("Last-Event-ID") != "0" {
		t.Errorf("resume must resend the turn with the same key and Last-Event-ID 0: %v", srv.posts)
	}
}

func TestStreamGivesUp(t *testing.T) {
	c, mux := sdktest.Setup(t)
	srv := &sseServer{
		onPost:   func(n int, w http.ResponseWriter, r *http.Request) { sseStart(w); frame(w, accepted) },
		onStream: func(n int, w http.ResponseWriter, r *http.Request) { sseStart(w) },
	}
	srv.register(mux)
	_, _, err := collect(t, sessions.New(c).Session("s1").TurnStream(context.Background(), "go", sessions.WithMaxResumes(2)))
	if !errors.Is(err, sessions.ErrStreamLost) || len(srv.streams) != 2 {
		t.Errorf("err = %v after %d resumes, want ErrStreamLost after 2", err, len(srv.streams))
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	c, mux := sdktest.Setup(t)
	srv := &sseServer{onPost: func(n int, w http.ResponseWriter, r *http.Request) {
		sseStart(w)
		frame(w, accepted+evFrame(1, "text", "a"))
		for range 100 { // keep-alives do not count as events
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
				frame(w, ": keep-alive\n\n")
			}
		}
	}}
	srv.register(mux)
	seqs, _, err := collect(t, sessions.New(c).Session("s1").TurnStream(context.Background(), "go", sessions.WithIdleTimeout(80*time.Millisecond)))
	if !errors.Is(err, sessions.ErrIdleTimeout) || len(seqs) != 1 {
		t.Errorf("seqs %v, err %v; want one event then ErrIdleTimeout", seqs, err)
	}
}

func TestStreamEarlyBreakReleasesTheSession(t *testing.T) {
	c, mux := sdktest.Setup(t)
	srv := &sseServer{onPost: func(n int, w http.ResponseWriter, r *http.Request) {
		sseStart(w)
		frame(w, accepted+evFrame(1, "text", "a")+evFrame(2, "text", "b")+completed(2))
	}}
	srv.register(mux)
	s := sessions.New(c).Session("s1")
	st := s.TurnStream(context.Background(), "go")
	for range st.Events() {
		break
	}
	if _, err := st.Result(); !errors.Is(err, sessions.ErrStreamIncomplete) {
		t.Errorf("Result after an early break = %v, want ErrStreamIncomplete", err)
	}
	for _, err := range st.Events() {
		if !errors.Is(err, sessions.ErrStreamReused) {
			t.Errorf("second read = %v, want ErrStreamReused", err)
		}
	}
	// The turn lock was released: the next turn runs.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := s.TurnStream(ctx, "again").Result()
	if err != nil || res.Text() != "ab" {
		t.Errorf("next turn = %v, %v", res, err)
	}
}

func TestStreamFillsGapsFromTheEventLog(t *testing.T) {
	c, mux := sdktest.Setup(t)
	srv := &sseServer{onPost: func(n int, w http.ResponseWriter, r *http.Request) {
		sseStart(w)
		frame(w, accepted+evFrame(1, "text", "a")+completed(2)) // event 2 never sent
	}}
	srv.register(mux)
	mux.HandleFunc("GET /v1/sessions/s1/events", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Get("after") != "1" || q.Get("turn_index") != "1" {
			t.Errorf("events query = %s", r.URL.RawQuery)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[`+strings.TrimSuffix(strings.SplitN(evFrame(2, "text", "b"), "data: ", 2)[1], "\n\n")+`]}`)
	})
	res, err := sessions.New(c).Session("s1").TurnStream(context.Background(), "go").Result()
	if err != nil || res.Text() != "ab" {
		t.Errorf("Result = %v, %v", res, err)
	}
}

func TestStreamFallsBackToJSON(t *testing.T) {
	c, mux := sdktest.Setup(t)
	mux.HandleFunc("POST /v1/sessions/s1/turns", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, turnResultJSON)
	})
	seqs, text, err := collect(t, sessions.New(c).Session("s1").TurnStream(context.Background(), "go"))
	if err != nil || text != "hmmHellox" || len(seqs) != 5 {
		t.Errorf("seqs %v text %q err %v", seqs, text, err)
	}
	// Leaving the loop early is not a dropped connection: no resume.
	st := sessions.New(c).Session("s1").TurnStream(context.Background(), "go")
	for range st.Events() {
		break
	}
	if _, err := st.Result(); !errors.Is(err, sessions.ErrStreamIncomplete) || st.Resumes() != 0 {
		t.Errorf("after an early break: %v, %d resumes", err, st.Resumes())
	}
}

func TestStreamAPIError(t *testing.T) {
	c, mux := sdktest.Setup(t)
	mux.HandleFunc("POST /v1/sessions/s1/turns", func(w http.ResponseWriter, r *http.Request) {
		sdktest.Problem(w, 409, gen.ProblemCodeSessionPaused, "resume first")
	})
	_, _, err := collect(t, sessions.New(c).Session("s1").TurnStream(context.Background(), "go"))
	if !errors.Is(err, agentsession.ErrSessionPaused) {
		t.Errorf("err = %v, want ErrSessionPaused", err)
	}
}

func TestStreamContextCancelled(t *testing.T) {
	c, mux := sdktest.Setup(t)
	srv := &sseServer{onPost: func(n int, w http.ResponseWriter, r *http.Request) {
		sseStart(w)
		frame(w, accepted+evFrame(1, "text", "a"))
		<-r.Context().Done() // the agent works on; the client gives up
	}}
	srv.register(mux)
	s := sessions.New(c).Session("s1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := s.TurnStream(ctx, "go")
	var got int
	var last error
	for _, err := range st.Events() {
		if err != nil {
			last = err
			break
		}
		got++
		cancel()
	}
	if got != 1 || !errors.Is(last, context.Canceled) {
		t.Errorf("%d events, err %v; want 1 event then context.Canceled", got, last)
	}
	if _, err := st.Result(); !errors.Is(err, context.Canceled) {
		t.Errorf("Result = %v, want context.Canceled", err)
	}
	// A turn waiting for the session's lock gives up with its context.
	release := make(chan struct{})
	mux.HandleFunc("POST /v1/sessions/s2/turns", func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, turnResultJSON)
	})
	svc := sessions.New(c)
	s2 := svc.Session("s2")
	done := make(chan error, 1)
	go func() { _, err := s2.Turn(context.Background(), "slow"); done <- err }()
	time.Sleep(20 * time.Millisecond) // let the first turn take the lock
	short, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if _, err := svc.Session("s2").Turn(short, "queued"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("turn waiting for the lock = %v, want context.DeadlineExceeded", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("first turn: %v", err)
	}
}

// A synchronous turn answers when the agent is done: the client's
// per-attempt timeout does not cut it, unless the turn has its own timeout.
func TestTurnAndTheAttemptTimeout(t *testing.T) {
	c, mux := sdktest.Setup(t, agentsession.WithAttemptTimeout(40*time.Millisecond))
	mux.HandleFunc("POST /v1/sessions/s1/turns", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(150 * time.Millisecond): // the agent works
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, turnResultJSON)
	})
	s := sessions.New(c).Session("s1")
	if res, err := s.Turn(context.Background(), "slow agent"); err != nil || res.Text() != "Hello" {
		t.Errorf("turn without a timeout = %v, %v; want the answer however long it takes", res, err)
	}
	_, err := s.Turn(context.Background(), "bounded", sessions.WithTimeout(10*time.Millisecond))
	if !errors.Is(err, retry.ErrAttemptTimeout) {
		t.Errorf("turn with a 10ms timeout = %v, want ErrAttemptTimeout (10ms + 40ms < 150ms)", err)
	}
}

// A server that hands out the cursor it was given ends the loop with
// agentsession.ErrCursorLoop, which callers can match.
func TestListStopsAtACursorLoop(t *testing.T) {
	c, mux := sdktest.Setup(t)
	mux.HandleFunc("GET /v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		sdktest.JSON(w, 200, map[string]any{"items": []any{sdktest.Session("s1", "active")}, "next_cursor": "same"})
	})
	n := 0
	var last error
	for _, err := range sessions.New(c).List(context.Background(), sessions.ListOptions{}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	if !errors.Is(last, agentsession.ErrCursorLoop) || n != 2 {
		t.Errorf("%d items then %v, want 2 then ErrCursorLoop", n, last)
	}
}
