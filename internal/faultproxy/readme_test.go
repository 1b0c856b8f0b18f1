package faultproxy_test

import (
	"context"
	"fmt"
	"os"
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

// readmeYAML is the first ```yaml block of README.md.
func readmeYAML(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no yaml block")
	}
	return []byte(block)
}

// TestReadmeConfig runs a Go SDK session (create, four turns, a streamed
// turn, reads, close) through the README's faults.yaml: everything
// succeeds, the server has each turn once and the stream's events once,
// and every rule of the file fired.
func TestReadmeConfig(t *testing.T) {
	cfg, err := faultproxy.ParseConfig(readmeYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := refservertest.Start(t)
	fp := faultproxy.Start(t, srv.URL, cfg)
	c, err := agentsession.NewClient(agentsession.WithBaseURL(fp.URL), agentsession.WithToken(srv.Tokens[0]),
		agentsession.WithoutEnvironment(), agentsession.WithRetryPolicy(sdktest.FastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc := sessions.New(c)
	s, err := svc.NewSession(ctx, sessions.CreateParams{Agent: "scripted"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		prompt := fmt.Sprintf(`{"steps":[{"event":{"type":"text","content":"turn %d"}}]}`, i)
		res, err := s.Turn(ctx, prompt)
		if err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
		if res.Text() != fmt.Sprintf("turn %d", i) {
			t.Errorf("turn %d: text %q", i, res.Text())
		}
	}
	st := s.TurnStream(ctx, threeTexts)
	var seqs []int64
	for ev, err := range st.Events() {
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		seqs = append(seqs, ev.Seq)
	}
	if res, err := st.Result(); err != nil || res.Text() != "abc" {
		t.Fatalf("stream result %v, %v", res, err)
	}
	if _, err := svc.Get(ctx, s.ID()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range s.History(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}

	var turns gen.TurnList
	serverGet(t, srv, "/v1/sessions/"+s.ID()+"/turns", &turns)
	if len(turns.Items) != 5 || n != 5 {
		t.Errorf("the server has %d turns (the SDK listed %d), want 5", len(turns.Items), n)
	}
	var events gen.EventList
	serverGet(t, srv, "/v1/sessions/"+s.ID()+"/events?after=4", &events)
	var logged []int64
	for _, e := range events.Items {
		logged = append(logged, e.Seq)
	}
	if fmt.Sprint(seqs) != fmt.Sprint(logged) {
		t.Errorf("the stream yielded %v, the server logged %v", seqs, logged)
	}
	stats := fp.Proxy.Stats()
	for _, r := range stats.Rules {
		if r.Faults == 0 {
			t.Errorf("rule %s never fired: %+v", r.Name, stats)
		}
	}
	t.Logf("%d requests, %d faults: %v", stats.Requests, stats.Faults, stats.FaultsByKind)
}
