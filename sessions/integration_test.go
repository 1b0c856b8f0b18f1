package sessions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/lifecycle"
	"github.com/agentsession/agentsession/record"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sessions"
	"github.com/google/go-cmp/cmp"
)

// refClient returns a client of the reference server for tenant i.
func refClient(t testing.TB, srv *refservertest.Server, i int, opts ...agentsession.Option) *agentsession.Client {
	t.Helper()
	c, err := agentsession.NewClient(append([]agentsession.Option{
		agentsession.WithBaseURL(srv.URL), agentsession.WithToken(srv.Tokens[i]),
		agentsession.WithoutEnvironment(), agentsession.WithRetryPolicy(sdktest.FastRetry()),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// script is a prompt for the scripted agent: one text event per content,
// each after delay.
func script(delay time.Duration, contents ...string) string {
	type ev struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	}
	type step struct {
		DelayMs int64 `json:"delay_ms"`
		Event   ev    `json:"event"`
	}
	var s struct {
		Steps []step `json:"steps"`
	}
	for _, c := range contents {
		s.Steps = append(s.Steps, step{DelayMs: delay.Milliseconds(), Event: ev{"text", c}})
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func newSession(t testing.TB, svc *sessions.Service, agent string) *sessions.Session {
	t.Helper()
	s, err := svc.NewSession(context.Background(), sessions.CreateParams{Agent: agent})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIntegrationSessions(t *testing.T) {
	srv := refservertest.Start(t)
	svc := sessions.New(refClient(t, srv, 0))
	ctx := context.Background()

	s, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "echo", PlanSlug: "plan-a",
		Meta: map[string]any{"app": "test"}, Context: map[string]any{"repo": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	info := s.Info()
	if info.Agent != "echo" || info.PlanSlug != "plan-a" || info.Meta["app"] != "test" || info.ContextSummary["repo"] != "x" || info.Status != lifecycle.StatusActive {
		t.Errorf("created session = %+v", info)
	}
	got, err := svc.Get(ctx, s.ID())
	if err != nil || got.Info().SessionID != s.ID() {
		t.Fatalf("Get = %v, %v", got, err)
	}
	if _, err := svc.Get(ctx, "sess_does_not_exist"); !errors.Is(err, agentsession.ErrNotFound) {
		t.Errorf("Get of a missing session = %v, want ErrNotFound", err)
	}
	if _, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "no-such-agent"}); !errors.Is(err, agentsession.ErrValidation) {
		t.Errorf("unknown agent = %v, want ErrValidation", err)
	}

	// List pages through every match, with filters.
	var want []string
	for range 5 {
		s, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "echo", PlanSlug: "plan-b"})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, s.ID())
	}
	var ids []string
	for h, err := range svc.List(ctx, sessions.ListOptions{PlanSlug: "plan-b", Status: lifecycle.StatusActive, Agent: "echo", PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h.ID())
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	// Another tenant sees nothing of it; a bad token is ErrAuth.
	if _, err := sessions.New(refClient(t, srv, 1)).Get(ctx, s.ID()); !errors.Is(err, agentsession.ErrNotFound) {
		t.Errorf("other tenant Get = %v, want ErrNotFound", err)
	}
	bad, _ := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithToken("wrong-token-000"), agentsession.WithoutEnvironment())
	if _, err := sessions.New(bad).Get(ctx, s.ID()); !errors.Is(err, agentsession.ErrAuth) || strings.Contains(err.Error(), "wrong-token-000") {
		t.Errorf("bad token = %v, want ErrAuth without the token", err)
	}
}

func TestIntegrationTurnsHistoryEvents(t *testing.T) {
	srv := refservertest.Start(t)
	s := newSession(t, sessions.New(refClient(t, srv, 0)), "echo")
	ctx := context.Background()
	for i, prompt := range []string{"one", "two", "three"} {
		res, err := s.Turn(ctx, prompt)
		if err != nil {
			t.Fatal(err)
		}
		if res.Text() != prompt || res.TurnIndex != int32(i+1) || res.StopReason != sessions.StopEndTurn || res.Response.RequestID == "" {
			t.Errorf("turn %d: text %q index %d stop %q", i+1, res.Text(), res.TurnIndex, res.StopReason)
		}
	}
	var prompts []string
	for tr, err := range s.History(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		prompts = append(prompts, tr.Prompt)
	}
	if diff := cmp.Diff([]string{"one", "two", "three"}, prompts); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
	var seqs []int64
	for ev, err := range s.Events(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ev.Seq)
	}
	if diff := cmp.Diff([]int64{2, 3}, seqs); diff != "" {
		t.Errorf("Events(after 1) seqs (-want +got):\n%s", diff)
	}
	tr, err := s.GetTurn(ctx, 2)
	if err != nil || tr.Prompt != "two" || len(tr.Events) != 1 {
		t.Errorf("GetTurn(2) = %+v, %v", tr, err)
	}
	var n int
	for ev, err := range s.TurnEvents(ctx, 3, 0) {
		if err != nil || ev.TurnIndex != 3 || ev.Text() != "three" {
			t.Errorf("TurnEvents(3) = %+v, %v", ev, err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("TurnEvents(3) yielded %d events", n)
	}
	if info, err := s.Refresh(ctx); err != nil || info.TurnCount != 3 || info.LastEventSeq != 3 {
		t.Errorf("Refresh = %+v, %v", info, err)
	}
}

func TestIntegrationTurnOptions(t *testing.T) {
	srv := refservertest.Start(t)
	svc := sessions.New(refClient(t, srv, 0))
	ctx := context.Background()

	// Files.
	s := newSession(t, svc, "echo")
	f, err := s.Upload(ctx, sessions.UploadParams{Filename: "notes.txt", Content: strings.NewReader("hello file")})
	if err != nil {
		t.Fatal(err)
	}
	if f.SizeBytes != 10 || f.Filename != "notes.txt" {
		t.Errorf("uploaded File = %+v", f)
	}
	path := filepath.Join(t.TempDir(), "data.json")
	_ = os.WriteFile(path, []byte(`{"a":1}`), 0o600)
	f2, err := s.UploadFile(ctx, path)
	if err != nil || f2.Filename != "data.json" || f2.ContentType != "application/json" {
		t.Fatalf("UploadFile = %+v, %v", f2, err)
	}
	if got, err := s.File(ctx, f.FileToken); err != nil || got.SHA256 != f.SHA256 {
		t.Errorf("File = %+v, %v", got, err)
	}
	if _, err := s.Turn(ctx, "with files", sessions.WithFiles(f.FileToken, f2.FileToken)); err != nil {
		t.Errorf("turn with files: %v", err)
	}
	if _, err := s.Turn(ctx, "bad file", sessions.WithFiles("file_unknown")); !errors.Is(err, agentsession.ErrValidation) {
		t.Errorf("unknown file = %v, want ErrValidation", err)
	}

	// Timeout: the server cancels a slow turn.
	slow := newSession(t, svc, "scripted")
	res, err := slow.Turn(ctx, script(5*time.Second, "never"), sessions.WithTimeout(50*time.Millisecond))
	if err != nil || res.StopReason != sessions.StopCancelled || res.CancelledBy != sessions.CancelledByTimeout {
		t.Errorf("timed-out turn = %+v, %v", res, err)
	}

	// Idempotency key: the same turn twice is one turn.
	key := sessions.WithCallOptions(agentsession.IdempotencyKey("turn-key-once"))
	r1, err := s.Turn(ctx, "once", key)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.Turn(ctx, "once", key)
	if err != nil || r2.TurnIndex != r1.TurnIndex || !r2.Response.Replayed || r1.Response.Replayed {
		t.Errorf("replayed turn = index %d replayed %v (first %d), %v", r2.TurnIndex, r2.Response.Replayed, r1.TurnIndex, err)
	}
	if _, err := s.Turn(ctx, "different", key); !errors.Is(err, agentsession.ErrValidation) {
		t.Errorf("key reused with another prompt = %v, want ErrValidation (idempotency_key_reused)", err)
	}
}

// running starts a slow streamed turn on s and returns once its first event
// arrived, with a channel that delivers the turn's result.
func running(t *testing.T, s *sessions.Session) <-chan *sessions.TurnResult {
	t.Helper()
	first := make(chan struct{})
	done := make(chan *sessions.TurnResult, 1)
	go func() {
		st := s.TurnStream(context.Background(), `{"steps":[{"event":{"type":"text","content":"started"}},{"delay_ms":10000,"event":{"type":"text","content":"late"}}]}`)
		once := sync.Once{}
		for _, err := range st.Events() {
			if err != nil {
				t.Error(err)
				break
			}
			once.Do(func() { close(first) })
		}
		res, _ := st.Result()
		done <- res
	}()
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow turn did not start")
	}
	return done
}

func TestIntegrationCancelAndIsolationBetweenSessions(t *testing.T) {
	srv := refservertest.Start(t)
	svc := sessions.New(refClient(t, srv, 0))
	ctx := context.Background()
	a := newSession(t, svc, "scripted")
	b := newSession(t, svc, "echo")

	if r, err := a.Cancel(ctx); err != nil || r.Cancelled {
		t.Errorf("Cancel while idle = %+v, %v; want Cancelled false", r, err)
	}
	done := running(t, a)

	// Another session's turn is not held up by a's running turn.
	if res, err := b.Turn(ctx, "b is free"); err != nil || res.Text() != "b is free" {
		t.Errorf("b.Turn = %v, %v", res, err)
	}
	// Cancel ends the running turn without waiting for it.
	r, err := a.Cancel(ctx)
	if err != nil || !r.Cancelled || r.TurnIndex != 1 {
		t.Errorf("Cancel = %+v, %v", r, err)
	}
	res := <-done
	if res == nil || res.StopReason != sessions.StopCancelled || res.CancelledBy != sessions.CancelledByCancelRequest || res.Text() != "started" {
		t.Errorf("cancelled turn = %+v", res)
	}
}

func TestIntegrationCloseAndChildren(t *testing.T) {
	srv := refservertest.Start(t, func(c *refserver.Config) { c.MaxChildren = 2 })
	svc := sessions.New(refClient(t, srv, 0))
	ctx := context.Background()
	parent := newSession(t, svc, "echo")
	var kids []string
	for i := range 2 {
		k, err := parent.Spawn(ctx, sessions.CreateParams{Agent: "echo", Meta: map[string]any{"n": i}})
		if err != nil {
			t.Fatal(err)
		}
		if k.Info().ParentSessionID != parent.ID() || k.Info().Depth != 1 {
			t.Errorf("child = %+v", k.Info())
		}
		kids = append(kids, k.ID())
	}
	if _, err := parent.Spawn(ctx, sessions.CreateParams{Agent: "echo"}); !errors.Is(err, agentsession.ErrSpawnLimit) {
		t.Errorf("third child = %v, want ErrSpawnLimit", err)
	}
	grandchild := svc.Session(kids[0])
	if _, err := grandchild.Spawn(ctx, sessions.CreateParams{Agent: "echo"}); !errors.Is(err, agentsession.ErrSpawnLimit) {
		t.Errorf("depth 2 = %v, want ErrSpawnLimit", err)
	}
	var got []string
	for k, err := range parent.Children(ctx, lifecycle.StatusActive) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k.ID())
	}
	if diff := cmp.Diff(kids, got); diff != "" {
		t.Errorf("Children (-want +got):\n%s", diff)
	}

	// Close ends the parent and its children, and is idempotent.
	if err := parent.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if parent.Info().Status != lifecycle.StatusCompleted {
		t.Errorf("closed parent status %q", parent.Info().Status)
	}
	if err := parent.Close(ctx); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := svc.Session(parent.ID()).Close(ctx); err != nil {
		t.Errorf("Close from a fresh handle (already_closed) = %v", err)
	}
	for k, err := range parent.Children(ctx, "") {
		if err != nil || k.Info().Status != lifecycle.StatusCompleted {
			t.Errorf("child after parent Close = %+v, %v", k.Info(), err)
		}
	}
	if _, err := parent.Turn(ctx, "after close"); !errors.Is(err, agentsession.ErrSessionEnded) {
		t.Errorf("turn after Close = %v, want ErrSessionEnded", err)
	}
}

func TestIntegrationStream(t *testing.T) {
	srv := refservertest.Start(t)
	s := newSession(t, sessions.New(refClient(t, srv, 0)), "scripted")
	st := s.TurnStream(context.Background(), script(5*time.Millisecond, "a", "b", "c"))
	var text string
	for ev, err := range st.Events() {
		if err != nil {
			t.Fatal(err)
		}
		text += ev.Text()
	}
	res, err := st.Result()
	if err != nil || text != "abc" || res.Text() != "abc" || res.EventCount != 3 || res.TurnIndex != 1 || st.Resumes() != 0 {
		t.Errorf("stream: text %q result %+v err %v", text, res, err)
	}
}

// cutter is a Doer that cuts the body of the first len(cuts) event streams
// after cuts[i] bytes, as a dropped connection would.
type cutter struct {
	mu   sync.Mutex
	cuts []int
	seen int
}

func (c *cutter) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen < len(c.cuts) {
		resp.Body = &cutBody{rc: resp.Body, left: c.cuts[c.seen]}
	}
	c.seen++
	return resp, nil
}

type cutBody struct {
	rc   io.ReadCloser
	left int
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		b.rc.Close()
		return 0, io.ErrUnexpectedEOF
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= n
	return n, err
}

func (b *cutBody) Close() error { return b.rc.Close() }

func TestIntegrationStreamCutMidTurnResumes(t *testing.T) {
	srv := refservertest.Start(t)
	dir := t.TempDir()
	// Cut the first stream inside the third event frame, and the resumed
	// one inside its second frame: the turn must still be seen whole, once.
	cut := &cutter{cuts: []int{330, 150}}
	c := refClient(t, srv, 0, agentsession.WithDoer(cut), agentsession.WithTurnRecord(dir))
	s := newSession(t, sessions.New(c), "scripted")
	var contents []string
	for i := range 8 {
		contents = append(contents, fmt.Sprintf("e%d", i+1))
	}
	st := s.TurnStream(context.Background(), script(15*time.Millisecond, contents...))
	var seqs []int64
	var got []string
	for ev, err := range st.Events() {
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ev.Seq)
		got = append(got, ev.Text())
	}
	if diff := cmp.Diff(contents, got); diff != "" {
		t.Errorf("events seen (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{1, 2, 3, 4, 5, 6, 7, 8}, seqs); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	if st.Resumes() != 2 {
		t.Errorf("Resumes = %d, want 2", st.Resumes())
	}
	// The server's event log agrees.
	var logged []string
	for ev, err := range s.Events(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		logged = append(logged, ev.Text())
	}
	if diff := cmp.Diff(contents, logged); diff != "" {
		t.Errorf("event log (-want +got):\n%s", diff)
	}
	// The record holds the turn, its events and the resumes.
	turns, err := record.Read(dir, s.ID())
	if err != nil || len(turns) != 1 {
		t.Fatalf("record: %d turns, %v", len(turns), err)
	}
	tr := turns[0]
	if !tr.Stream || tr.Resumes != 2 || len(tr.Events) != 8 || tr.StopReason != "end_turn" || tr.TurnIndex != 1 || len(tr.Attempts) != 3 {
		t.Errorf("record = %+v", tr)
	}
}

func TestIntegrationTurnRecord(t *testing.T) {
	srv := refservertest.Start(t)
	dir := t.TempDir()
	svc := sessions.New(refClient(t, srv, 0, agentsession.WithTurnRecord(dir)))
	s := newSession(t, svc, "echo")
	ctx := context.Background()
	for _, p := range []string{"first", "second"} {
		if _, err := s.Turn(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = s.Turn(ctx, "") // rejected by the server: recorded with its error
	turns, err := record.Read(dir, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(turns) != 3 {
		t.Fatalf("%d turns recorded, want 3", len(turns))
	}
	for i, want := range []string{"first", "second"} {
		tr := turns[i]
		var ev sessions.Event
		if len(tr.Events) == 1 {
			_ = json.Unmarshal(tr.Events[0], &ev)
		}
		if tr.Prompt != want || tr.StopReason != "end_turn" || ev.Text() != want || tr.TurnIndex != int32(i+1) ||
			len(tr.Attempts) != 1 || tr.Attempts[0].Status != 200 || tr.IdempotencyKey == "" || tr.RequestID == "" || tr.DurationMs <= 0 {
			t.Errorf("turn %d record = %+v", i+1, tr)
		}
	}
	if bad := turns[2]; !strings.Contains(bad.Error, "400") || bad.Attempts[0].Status != 400 {
		t.Errorf("failed turn record = %+v", bad)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, s.ID()+".jsonl"))
	if bytes.Contains(raw, []byte(srv.Tokens[0])) {
		t.Error("the record contains the token")
	}
}

// 100 sessions × 10 turns at once: turns on different sessions run in
// parallel, each session's turns in order.
func TestIntegrationManySessionsConcurrently(t *testing.T) {
	srv := refservertest.Start(t)
	dir := t.TempDir()
	svc := sessions.New(refClient(t, srv, 0, agentsession.WithTurnRecord(dir)))
	const nSessions, nTurns = 100, 10
	var wg sync.WaitGroup
	errs := make(chan error, nSessions)
	ids := make([]string, nSessions)
	for i := range nSessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := svc.NewSession(context.Background(), sessions.CreateParams{Agent: "echo"})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = s.ID()
			for j := range nTurns {
				p := fmt.Sprintf("s%d-t%d", i, j)
				res, err := s.Turn(context.Background(), p)
				if err != nil {
					errs <- err
					return
				}
				if res.Text() != p || res.TurnIndex != int32(j+1) {
					errs <- fmt.Errorf("session %d turn %d: %q, index %d", i, j, res.Text(), res.TurnIndex)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, id := range ids {
		if turns, err := record.Read(dir, id); err != nil || len(turns) != nTurns {
			t.Errorf("record of %s: %d turns, %v", id, len(turns), err)
		}
	}
}
