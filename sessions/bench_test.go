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
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sessions"
)

// BenchmarkEchoTurn compares one echo turn through the SDK with the same
// request made by a minimal hand-written net/http + encoding/json client,
// against the same in-process reference server (memory store). Both send
// the same headers, Idempotency-Key included, so that the server does the
// same work; "handwritten-nokey" shows what the key costs the server.
//
//	go test -run '^$' -bench EchoTurn -benchmem -count 5 ./sessions
func BenchmarkEchoTurn(b *testing.B) {
	b.Run("sdk", func(b *testing.B) {
		srv, hc := benchServer(b)
		c, err := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithToken(srv.Tokens[0]),
			agentsession.WithoutEnvironment(), agentsession.WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		svc := sessions.New(c)
		ctx := context.Background()
		var s *sessions.Session
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
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
	})
	for _, withKey := range []bool{true, false} {
		name := "handwritten"
		if !withKey {
			name += "-nokey"
		}
		b.Run(name, func(b *testing.B) {
			srv, hc := benchServer(b)
			var id, url string
			b.ReportAllocs()
			b.ResetTimer()
			for n := range b.N {
				if n%turnsPerSession == 0 {
					b.StopTimer()
					id = createSession(b, hc, srv)
					url = srv.URL + "/v1/sessions/" + id + "/turns"
					b.StartTimer()
				}
				body, _ := json.Marshal(map[string]string{"prompt": "hello"})
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+srv.Tokens[0])
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json")
				req.Header.Set("User-Agent", "handwritten/1")
				if withKey {
					req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%s-%d", id, n))
				}
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var res struct {
					TurnIndex  int    `json:"turn_index"`
					StopReason string `json:"stop_reason"`
					Events     []struct {
						Type    string `json:"type"`
						Content string `json:"content"`
					} `json:"events"`
				}
				err = json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || res.Events[0].Content != "hello" {
					b.Fatalf("turn %d: %d %v %+v", n, resp.StatusCode, err, res)
				}
			}
		})
	}
}

// turnsPerSession bounds a session's history during the benchmark, so that
// the server's per-turn cost (which grows with the history) is the same in
// every variant whatever b.N is.
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

// canned answers every request with one echo TurnResult, in memory.
type canned struct{}

const echoJSON = `{"session_id":"s1","turn_index":4,"stop_reason":"end_turn","duration_ms":0,"event_count":1,"first_seq":10,"last_seq":10,"started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:01Z","usage":{"input_tokens":1,"output_tokens":1},"events":[{"seq":10,"turn_index":4,"type":"text","content":"hello","created_at":"2026-01-01T00:00:00Z"}]}`

func (canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(echoJSON)), Request: r}, nil
}

// BenchmarkTurnClientCPU measures the client side alone: the same turn
// through the SDK and through the hand-written client, over a transport that
// answers from memory (no server, no network, no scheduling noise).
//
//	go test -run '^$' -bench TurnClientCPU -benchmem ./sessions
func BenchmarkTurnClientCPU(b *testing.B) {
	hc := &http.Client{Transport: canned{}}
	b.Run("sdk", func(b *testing.B) {
		c, _ := agentsession.NewClient(agentsession.WithBaseURL("http://x"), agentsession.WithToken("t"), agentsession.WithoutEnvironment(), agentsession.WithHTTPClient(hc))
		s := sessions.New(c).Session("s1")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Turn(context.Background(), "hello"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body, _ := json.Marshal(map[string]string{"prompt": "hello"})
			req, _ := http.NewRequest("POST", "http://x/v1/sessions/s1/turns", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer t")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "k")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var res struct {
				TurnIndex  int    `json:"turn_index"`
				StopReason string `json:"stop_reason"`
				Events     []struct {
					Type    string `json:"type"`
					Content string `json:"content"`
				} `json:"events"`
			}
			json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
		}
	})
}
