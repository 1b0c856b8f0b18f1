package sessions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sessions"
)

// BenchmarkEchoTurn compares one echo turn through the SDK with the same
// request made by a hand-written net/http + encoding/json client, against
// the same in-process reference server (memory store). The hand-written
// client sends the same headers, Idempotency-Key included, so that the
// server does the same work; "handwritten" decodes the answer into the
// contract's model (gen.TurnResult), as the SDK does, "handwritten-minimal"
// only the event texts.
//
//	go test -run '^$' -bench 'EchoTurn|TurnClientCPU' -benchmem -count 10 ./sessions
func BenchmarkEchoTurn(b *testing.B) {
	b.Run("sdk", func(b *testing.B) {
		// The SDK as configured by default: its own pooled transport (the
		// same idle-connection settings as the hand-written client's).
		srv, _ := benchServer(b)
		c, err := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithToken(srv.Tokens[0]),
			agentsession.WithoutEnvironment())
		if err != nil {
			b.Fatal(err)
		}
		svc := sessions.New(c)
		ctx := context.Background()
		var s *sessions.Session
		turn := func(i int) {
			if i%turnsPerSession == 0 {
				b.StopTimer()
				s = newSession(b, svc, "echo")
				b.StartTimer()
			}
			res, err := s.Turn(ctx, "hello")
			if err != nil || res.Text() != "hello" {
				b.Fatalf("turn: %v", err)
			}
		}
		for i := range warmup {
			turn(i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			turn(i)
		}
	})
	for _, minimal := range []bool{false, true} {
		name := "handwritten"
		if minimal {
			name += "-minimal"
		}
		b.Run(name, func(b *testing.B) {
			srv, hc := benchServer(b)
			var id, url string
			turn := func(n int) {
				if n%turnsPerSession == 0 {
					b.StopTimer()
					id = createSession(b, hc, srv)
					url = srv.URL + "/v1/sessions/" + id + "/turns"
					b.StartTimer()
				}
				if text := handwrittenTurn(b, hc, url, srv.Tokens[0], fmt.Sprintf("bench-%s-%d", id, n), minimal); text != "hello" {
					b.Fatalf("turn %d: text %q", n, text)
				}
			}
			for n := range warmup {
				turn(n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n := range b.N {
				turn(warmup + n)
			}
		})
	}
}

// handwrittenTurn is the hand-written client's turn: it returns the text.
func handwrittenTurn(b *testing.B, hc *http.Client, url, token, key string, minimal bool) string {
	body, _ := json.Marshal(map[string]string{"prompt": "hello"})
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "handwritten/1")
	req.Header.Set("Idempotency-Key", key)
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
	var text strings.Builder
	if minimal {
		var res struct {
			Events []struct {
				Type    string `json:"type"`
				Content string `json:"content"`
			} `json:"events"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			b.Fatal(err)
		}
		for _, e := range res.Events {
			if e.Type == "text" {
				text.WriteString(e.Content)
			}
		}
		return text.String()
	}
	var res gen.TurnResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		b.Fatal(err)
	}
	for _, e := range res.Events {
		if e.Type == gen.EventTypeText {
			text.WriteString(e.Content)
		}
	}
	return text.String()
}

// warmup turns run untimed before each variant, so that the one that runs
// first in the process does not pay for warming up the heap, the
// connections and the server alone.
const warmup = 300

// turnsPerSession bounds a session's history during the benchmark, so that
// the server's per-turn cost is the same in every variant whatever b.N is.
const turnsPerSession = 100

// benchServer starts a fresh server per variant, and a client transport
// that keeps enough idle connections.
func benchServer(b *testing.B) (*refservertest.Server, *http.Client) {
	srv := refservertest.Start(b)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	b.Cleanup(tr.CloseIdleConnections)
	return srv, &http.Client{Transport: tr}
}

func createSession(b *testing.B, hc *http.Client, srv *refservertest.Server) string {
	req, _ := http.NewRequest("POST", srv.URL+"/v1/sessions", bytes.NewReader([]byte(`{"agent":"echo"}`)))
	req.Header.Set("Authorization", "Bearer "+srv.Tokens[0])
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		SessionID string `json:"session_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		b.Fatal(err)
	}
	return s.SessionID
}

// canned answers every request with one echo TurnResult, from memory.
type canned struct{}

const echoJSON = `{"session_id":"s1","turn_index":4,"stop_reason":"end_turn","duration_ms":0,"event_count":1,"first_seq":10,"last_seq":10,"started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:01Z","usage":{"input_tokens":1,"output_tokens":1},"events":[{"seq":10,"turn_index":4,"type":"text","content":"hello","created_at":"2026-01-01T00:00:00Z"}]}`

func (c canned) Do(r *http.Request) (*http.Response, error) { return c.RoundTrip(r) }

func (canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(echoJSON)), Request: r}, nil
}

// BenchmarkTurnClientCPU measures the client side alone: the same turn
// through the SDK and through the hand-written client, over a transport that
// answers from memory (no server, no network, no scheduling noise).
func BenchmarkTurnClientCPU(b *testing.B) {
	b.Run("sdk", func(b *testing.B) {
		// canned as the SDK's Doer, canned as the hand-written client's
		// Transport: one http.Client layer each (the SDK's is inside retry).
		c, _ := agentsession.NewClient(agentsession.WithBaseURL("http://x"), agentsession.WithToken("t"),
			agentsession.WithoutEnvironment(), agentsession.WithDoer(canned{}))
		s := sessions.New(c).Session("s1")
		b.ReportAllocs()
		for b.Loop() {
			if res, err := s.Turn(context.Background(), "hello"); err != nil || res.Text() != "hello" {
				b.Fatal(err)
			}
		}
	})
	hc := &http.Client{Transport: canned{}}
	for _, minimal := range []bool{false, true} {
		name := "handwritten"
		if minimal {
			name += "-minimal"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if text := handwrittenTurn(b, hc, "http://x/v1/sessions/s1/turns", "t", "k", minimal); text != "hello" {
					b.Fatalf("text %q", text)
				}
			}
		})
	}
}
