package faultproxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/internal/faultproxy"
	"github.com/agentsession/agentsession/internal/sdktest"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/sessions"
)

// serverGet reads path from the reference server directly (never through
// the proxy or the SDK), so counts are the server's own.
func serverGet(t *testing.T, srv *refservertest.Server, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+srv.Tokens[0])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// threeTexts is a scripted-agent prompt whose turn streams three text events.
const threeTexts = `{"steps":[{"event":{"type":"text","content":"a"}},{"delay_ms":20,"event":{"type":"text","content":"b"}},` +
	`{"delay_ms":20,"event":{"type":"text","content":"c"}}]}`

// TestGoSDKThroughFaults runs the reference server behind the proxy and
// shows that a Go SDK turn whose first attempt meets a fault still
// succeeds, with exactly one turn on the server and, for a stream, every
// event exactly once.
func TestGoSDKThroughFaults(t *testing.T) {
	srv := refservertest.Start(t)
	sendTurn := faultproxy.Match{Methods: []string{"POST"}, Path: `^/v1/sessions/[^/]+/turns$`}
	once := faultproxy.Schedule{First: 1}
	tests := []struct {
		name   string
		stream bool
		rules  []faultproxy.Rule
	}{
		{"503 before the server", false, []faultproxy.Rule{{Match: sendTurn, Schedule: once,
			Fault: faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 503}}}},
		{"429 with Retry-After", false, []faultproxy.Rule{{Match: sendTurn, Schedule: once,
			Fault: faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 429, RetryAfter: intp(0)}}}},
		{"502 after the server ran the turn", false, []faultproxy.Rule{{Match: sendTurn, Schedule: once,
			Fault: faultproxy.Fault{Kind: faultproxy.KindStatus, Status: 502, AfterResponse: true}}}},
		{"dropped before the server", false, []faultproxy.Rule{{Match: sendTurn, Schedule: once,
			Fault: faultproxy.Fault{Kind: faultproxy.KindDrop}}}},
		{"dropped after the server ran the turn", false, []faultproxy.Rule{{Match: sendTurn, Schedule: once,
			Fault: faultproxy.Fault{Kind: faultproxy.KindDrop, AfterResponse: true, RST: true}}}},
		{"stalled, then dropped after the server ran the turn", false, []faultproxy.Rule{{Match: sendTurn, Schedule: once,
			Fault: faultproxy.Fault{Kind: faultproxy.KindStall, Duration: faultproxy.Duration(30 * time.Millisecond), Then: faultproxy.ThenDrop, AfterResponse: true}}}},
		{"every attempt faulted up to the per-request cap", false, []faultproxy.Rule{{Match: sendTurn,
			Schedule: faultproxy.Schedule{PerRequest: 3},
			Fault:    faultproxy.Fault{Kind: faultproxy.KindDrop, AfterResponse: true}}}},
		{"stream cut after 2 events", true, []faultproxy.Rule{{Match: faultproxy.Match{Stream: new(true)}, Schedule: once,
			Fault: faultproxy.Fault{Kind: faultproxy.KindSSECut, AfterEvents: 2}}}},
		{"stream cut inside the 2nd event", true, []faultproxy.Rule{{Match: faultproxy.Match{Stream: new(true)}, Schedule: once,
			Fault: faultproxy.Fault{Kind: faultproxy.KindSSECut, AfterEvents: 1, MidFrame: true, RST: true}}}},
		{"stream reset before any event, then cut when sent again", true, []faultproxy.Rule{
			{Name: "open", Match: sendTurn, Schedule: once, Fault: faultproxy.Fault{Kind: faultproxy.KindReset, AfterBytes: 0}},
			{Name: "resume", Match: faultproxy.Match{Stream: new(true)}, Schedule: once,
				Fault: faultproxy.Fault{Kind: faultproxy.KindSSECut, AfterEvents: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := faultproxy.Start(t, srv.URL, faultproxy.Config{Rules: tt.rules})
			c, err := agentsession.NewClient(agentsession.WithBaseURL(fp.URL), agentsession.WithToken(srv.Tokens[0]),
				agentsession.WithoutEnvironment(), agentsession.WithRetryPolicy(sdktest.FastRetry()))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			agent := "echo"
			if tt.stream {
				agent = "scripted"
			}
			s, err := sessions.New(c).NewSession(ctx, sessions.CreateParams{Agent: agent})
			if err != nil {
				t.Fatal(err)
			}

			var gotText string
			var seqs []int64
			if tt.stream {
				st := s.TurnStream(ctx, threeTexts)
				for ev, err := range st.Events() {
					if err != nil {
						t.Fatalf("stream: %v", err)
					}
					seqs = append(seqs, ev.Seq)
				}
				res, err := st.Result()
				if err != nil {
					t.Fatal(err)
				}
				gotText = res.Text()
				if st.Resumes() < 1 {
					t.Errorf("the stream never resumed: the fault did not bite")
				}
			} else {
				res, err := s.Turn(ctx, "hello through faults")
				if err != nil {
					t.Fatalf("turn: %v", err)
				}
				gotText = res.Text()
			}
			want := "hello through faults"
			if tt.stream {
				want = "abc"
			}
			if gotText != want {
				t.Errorf("text %q, want %q", gotText, want)
			}

			var turns gen.TurnList
			serverGet(t, srv, "/v1/sessions/"+s.ID()+"/turns", &turns)
			if len(turns.Items) != 1 {
				t.Errorf("the server has %d turns, want exactly 1", len(turns.Items))
			}
			if tt.stream {
				var events gen.EventList
				serverGet(t, srv, "/v1/sessions/"+s.ID()+"/events", &events)
				var logged []int64
				for _, e := range events.Items {
					logged = append(logged, e.Seq)
				}
				if fmt.Sprint(seqs) != fmt.Sprint(logged) {
					t.Errorf("the SDK yielded seqs %v, the server logged %v: each exactly once", seqs, logged)
				}
			}
			st := fp.Proxy.Stats()
			wantFaults := 0
			for _, r := range tt.rules {
				switch {
				case r.Schedule.PerRequest > 0:
					wantFaults += r.Schedule.PerRequest
				default:
					wantFaults += r.Schedule.First
				}
			}
			if st.Faults != wantFaults {
				t.Errorf("%d faults injected, want %d: %+v", st.Faults, wantFaults, st)
			}
			if strings.Contains(fmt.Sprint(st), srv.Tokens[0]) {
				t.Error("the token is in the stats")
			}
		})
	}
}
