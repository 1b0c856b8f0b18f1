package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/sdkclient"
	"github.com/agentsession/agentsession/record"
	"github.com/agentsession/agentsession/retry"
)

// TurnOption adjusts one turn.
type TurnOption func(*turnConfig)

type turnConfig struct {
	files      []string
	timeout    time.Duration
	busy       BusyPolicy
	idle       time.Duration
	maxResumes int
	meta       map[string]any
	permission func(context.Context, *PermissionRequest) (string, error)
	call       []agentsession.CallOption
	err        error
}

// DefaultMaxResumes is how many times in a row a stream is resumed without
// receiving anything before TurnStream gives up.
const DefaultMaxResumes = 5

// WithFiles attaches uploaded files (their FileToken) to the turn.
func WithFiles(tokens ...string) TurnOption {
	return func(c *turnConfig) { c.files = append(c.files, tokens...) }
}

// WithTimeout asks the server to end the turn after d (stop reason
// cancelled, cancelled by timeout); the server's default and maximum is its
// limits.max_turn_timeout_ms. Bound the client's wait with the context.
func WithTimeout(d time.Duration) TurnOption {
	return func(c *turnConfig) {
		if d <= 0 || d/time.Millisecond > math.MaxInt32 {
			c.err = fmt.Errorf("sessions: WithTimeout: %v is not between 1ms and %v", d, time.Duration(math.MaxInt32)*time.Millisecond)
			return
		}
		c.timeout = d
	}
}

// WithBusyPolicy sends the turn at once, even while another turn of the
// session runs, and lets the server apply p: BusyReject fails with
// agentsession.ErrBusy without waiting, BusyEnqueue queues the turn behind
// the running one (ErrBusy when the queue is full), BusyInterrupt cancels the
// running turn (it ends with StopCancelled, CancelledByInterrupt) and runs
// this one. Without WithBusyPolicy the Client orders the session's turns
// itself (see Session.Turn).
func WithBusyPolicy(p BusyPolicy) TurnOption {
	return func(c *turnConfig) { c.busy = p }
}

// WithMeta sends meta, the caller's own correlation data, with the turn;
// the server returns it unchanged (TurnResult.Meta, Turn.Meta,
// TurnAccepted.Meta).
func WithMeta(meta map[string]any) TurnOption {
	return func(c *turnConfig) { c.meta = meta }
}

// WithIdleTimeout makes TurnStream fail with ErrIdleTimeout when no event
// arrives for d (the server's keep-alive comments do not count). The turn
// keeps running on the server; Cancel it if needed.
func WithIdleTimeout(d time.Duration) TurnOption {
	return func(c *turnConfig) {
		if d < 0 {
			c.err = fmt.Errorf("sessions: WithIdleTimeout: negative duration %v", d)
			return
		}
		c.idle = d
	}
}

// WithMaxResumes sets how many times in a row TurnStream resumes a dropped
// stream without receiving anything new before it gives up
// (DefaultMaxResumes; 0 never resumes).
func WithMaxResumes(n int) TurnOption {
	return func(c *turnConfig) {
		if n < 0 {
			c.err = fmt.Errorf("sessions: WithMaxResumes: negative count %d", n)
			return
		}
		c.maxResumes = n
	}
}

// WithCallOptions passes call options to the turn's HTTP calls, such as
// agentsession.IdempotencyKey(key): sending the same turn again with the
// same key never starts a second turn, it answers with the first one's
// result (a stream replays its events).
func WithCallOptions(opts ...agentsession.CallOption) TurnOption {
	return func(c *turnConfig) { c.call = append(c.call, opts...) }
}

func newTurnConfig(opts []TurnOption) *turnConfig {
	c := &turnConfig{maxResumes: DefaultMaxResumes}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return c
}

func (c *turnConfig) body(prompt string) gen.TurnRequest {
	r := gen.TurnRequest{Prompt: prompt, Files: c.files, BusyPolicy: c.busy, Meta: c.meta}
	if c.timeout > 0 {
		r.TimeoutMs = int32((c.timeout + time.Millisecond - 1) / time.Millisecond)
	}
	return r
}

// callOptions returns the options of one of the turn's HTTP calls: the
// caller's, then extra.
func (c *turnConfig) callOptions(extra ...agentsession.CallOption) []agentsession.CallOption {
	if len(c.call) == 0 {
		return extra
	}
	return append(append(make([]agentsession.CallOption, 0, len(c.call)+len(extra)), c.call...), extra...)
}

// Turn sends prompt to the session's agent and returns the finished turn.
//
// Without WithBusyPolicy, turns of one session are sent one at a time, in
// the order Turn and TurnStream were called: the Client holds each until
// the previous one ended, across every handle and Service of the session,
// so concurrent callers never overlap (the server would refuse the second
// with agentsession.ErrBusy). Turns of other sessions never wait. With
// WithBusyPolicy the turn is sent at once and the server decides. (A turn
// sent from inside the loop over the same session's TurnStream therefore
// needs a busy policy: without one it would wait for that stream's end.)
//
// The server holds the answer until the turn ends, so the client's
// per-attempt timeout does not apply unless WithTimeout bounds the turn.
//
// When the agent asks for permission, the handler of
// WithPermissionHandler answers and Turn follows the turn to its end.
// Without a handler Turn fails with a *PermissionRequiredError (the turn
// waits on the server, and the session's turn order is released): answer
// with AnswerPermission, then WaitTurn.
func (s *Session) Turn(ctx context.Context, prompt string, opts ...TurnOption) (*TurnResult, error) {
	cfg := newTurnConfig(opts)
	if cfg.err != nil {
		return nil, cfg.err
	}
	st := sdkclient.Of(s.c)
	if cfg.busy == "" {
		held, err := st.TurnOrder.Lock(ctx, s.id)
		if err != nil {
			return nil, err
		}
		defer held.Unlock()
	}

	rec := startRecord(st, s.id, prompt, cfg, false)
	req, err := s.sendTurnRequest(prompt, cfg, -1)
	if err != nil {
		return nil, err
	}
	var extra []agentsession.CallOption
	if at := st.AttemptTimeout; at > 0 {
		// The server answers when the turn ends: only a turn with a timeout
		// bounds the wait (its timeout plus the attempt timeout).
		d := time.Duration(0)
		if cfg.timeout > 0 {
			d = cfg.timeout + at
		}
		extra = append(extra, agentsession.AttemptTimeout(d))
	}
	if rec != nil {
		extra = append(extra, agentsession.OnAttempt(rec.attempt))
	}
	var w wireTurnAnswer
	meta, err := s.c.Do(ctx, req, &w, cfg.callOptions(extra...)...)
	var res *TurnResult
	switch {
	case err == nil && meta.StatusCode == http.StatusAccepted: // TurnWaiting
		res, err = s.awaitWaiting(ctx, cfg, &w, meta)
	case err == nil:
		s.bind(w.Events)
		res = turnResultFrom(w.TurnSummary, w.Events, meta)
	}
	rec.finish(meta, res, err)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// sendTurnRequest builds the sendTurn request; lastSeq >= 0 asks the server
// to replay a stream after that event. It is the hot path, so it builds what
// gen.NewSendTurnRequest would (TestSendTurnRequestMatchesGen keeps them
// equal) without re-parsing the base URL and styling the path parameter.
func (s *Session) sendTurnRequest(prompt string, cfg *turnConfig, lastSeq int64) (*http.Request, error) {
	body, err := json.Marshal(cfg.body(prompt))
	if err != nil {
		return nil, err
	}
	u := s.c.BaseURL() + "v1/sessions/" + url.PathEscape(s.id) + "/turns"
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if lastSeq >= 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(lastSeq, 10))
	}
	return req, nil
}

// turnRecord collects one turn for the turn record; a nil *turnRecord (no
// recorder configured) ignores every call.
type turnRecord struct {
	st    *sdkclient.State
	start time.Time
	mu    sync.Mutex
	t     record.Turn
}

func startRecord(st *sdkclient.State, id, prompt string, cfg *turnConfig, stream bool) *turnRecord {
	if st.Recorder == nil {
		return nil
	}
	now := time.Now()
	return &turnRecord{st: st, start: now, t: record.Turn{
		SessionID: id, Prompt: prompt, Files: cfg.files, Stream: stream, StartedAt: now.UTC(),
	}}
}

func (r *turnRecord) attempt(a retry.Attempt) {
	if r == nil {
		return
	}
	ra := record.Attempt{
		Number: a.Number, Method: a.Method, URL: a.URL, Status: a.StatusCode,
		DurationMs: record.Ms(a.Duration), WaitMs: record.Ms(a.Wait),
	}
	if a.Err != nil {
		ra.Error = a.Err.Error()
	}
	r.mu.Lock()
	r.t.Attempts = append(r.t.Attempts, ra)
	r.mu.Unlock()
}

// finish writes the record line. A failure to write it is logged, not
// returned: the turn itself happened.
func (r *turnRecord) finish(meta *agentsession.Response, res *TurnResult, err error) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &r.t
	t.DurationMs = record.Ms(time.Since(r.start))
	if meta != nil {
		t.RequestID, t.IdempotencyKey = meta.RequestID, meta.IdempotencyKey
	}
	if res != nil {
		if res.TurnIndex != 0 {
			t.TurnIndex = res.TurnIndex
		}
		t.StopReason = string(res.StopReason)
		for _, e := range res.Events {
			t.Events = append(t.Events, e.Raw)
		}
	}
	if err != nil {
		t.Error = err.Error()
	}
	if werr := r.st.Recorder.Append(t); werr != nil {
		l := r.st.Logger
		if l == nil {
			l = slog.Default()
		}
		l.Warn("agentsession: writing the turn record failed", slog.String("session_id", t.SessionID), slog.String("error", werr.Error()))
	}
}
