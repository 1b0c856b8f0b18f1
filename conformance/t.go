package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/sse"
)

// env is what the checks know about the server under test.
type env struct {
	caps      gen.Capabilities
	echo      string // the echo agent's name
	scripted  string // the scripted agent's name, "" when there is none
	prefix    string
	hasSecond bool
	restart   func(ctx context.Context) error
}

// tester is a check's handle on the server: it sends requests (validating every
// answer), remembers what the check created so it can be cleaned up, and
// collects what the report shows.
type tester struct {
	c   *client
	chk *check
	env *env

	mu        sync.Mutex
	exchanges []*Exchange
	created   []createdSession
	notes     []string
}

type createdSession struct {
	id string
	as tenant
}

// Logf adds a note to the check's report entry.
func (t *tester) Logf(format string, args ...any) {
	t.mu.Lock()
	t.notes = append(t.notes, t.c.redact(fmt.Sprintf(format, args...)))
	t.mu.Unlock()
}

// Do sends a request and reads the whole answer. A request that got no
// answer (connection refused or reset, timeout) is an ErrFail.
func (t *tester) Do(ctx context.Context, r request) (*response, error) {
	resp, hr, err := t.c.roundTrip(ctx, r, t.chk.ID, t.add)
	if err != nil {
		return nil, err
	}
	if hr != nil {
		// An event stream where the check expected none (Stream was set to
		// see what the server does): the status tells enough.
		_ = hr.Body.Close()
	}
	t.track(resp, r.As)
	return resp, nil
}

// Stream sends a request with Accept: text/event-stream. When the server
// answers 200 with an event stream the returned Stream is live and must be
// closed; otherwise it holds the whole answer and Live reports false.
func (t *tester) Stream(ctx context.Context, r request) (*eventStream, error) {
	r.Stream = true
	resp, hr, err := t.c.roundTrip(ctx, r, t.chk.ID, t.add)
	if err != nil {
		return nil, err
	}
	s := &eventStream{response: resp, c: t.c, start: time.Now(), session: resp.Ex.Operation == "streamSession"}
	if hr != nil {
		s.body = hr.Body
		s.reader = sse.NewReader(io.TeeReader(hr.Body, &s.raw))
	}
	return s, nil
}

// Live reports whether the answer is an open event stream.
func (s *eventStream) Live() bool { return s.body != nil }

// ExpectLive fails unless the answer is a 200 text/event-stream.
func (s *eventStream) ExpectLive() error {
	if s.Live() {
		return nil
	}
	if s.Status != http.StatusOK {
		return s.Expect(http.StatusOK)
	}
	return s.Failf("status 200 with Content-Type %q, want text/event-stream", s.Header.Get("Content-Type"))
}

func (t *tester) add(ex *Exchange) {
	t.mu.Lock()
	t.exchanges = append(t.exchanges, ex)
	t.mu.Unlock()
}

// track remembers sessions the server created for this check, so that
// cleanup can close them whatever the check did.
func (t *tester) track(resp *response, as tenant) {
	if resp.Status != http.StatusCreated {
		return
	}
	switch resp.Ex.Operation {
	case "createSession", "continueSession", "replaySession", "spawnChild":
	default:
		return
	}
	var s struct {
		SessionID string `json:"session_id"`
	}
	if json.Unmarshal(resp.Body, &s) == nil && s.SessionID != "" {
		t.mu.Lock()
		t.created = append(t.created, createdSession{id: s.SessionID, as: as})
		t.mu.Unlock()
	}
}

// cleanup closes every session the check created, newest first. Its
// exchanges are validated like any other but reported apart: they are not
// part of the check's verdict.
func (t *tester) cleanup(ctx context.Context) (closed int, problems []string) {
	t.mu.Lock()
	created := append([]createdSession(nil), t.created...)
	t.mu.Unlock()
	for i := len(created) - 1; i >= 0; i-- {
		s := created[i]
		resp, _, err := t.c.roundTrip(ctx, request{Method: http.MethodDelete, Path: path("/v1/sessions/%s", s.id), As: s.as}, "cleanup", nil)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: close %s: %v", t.chk.ID, s.id, err))
		case resp.Status != http.StatusOK:
			problems = append(problems, fmt.Sprintf("%s: close %s: status %d", t.chk.ID, s.id, resp.Status))
		default:
			closed++
		}
		if resp != nil {
			for _, v := range resp.Ex.Violations {
				problems = append(problems, fmt.Sprintf("%s: close %s: %s", t.chk.ID, s.id, v))
			}
		}
	}
	return closed, problems
}

// violations gathers the contract violations of every exchange of the check.
func (t *tester) violations() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	var out []string
	for _, ex := range t.exchanges {
		out = append(out, ex.Violations...)
	}
	return out
}
