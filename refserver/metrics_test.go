package refserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/store"
)

// scrape reads the metrics as Prometheus does: GET, text format.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct == "" || ct[:10] != "text/plain" {
		t.Fatalf("scrape Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("scrape: not the Prometheus text format: %v", err)
	}
	return fams
}

// value is the value of the series of name with the labels (a counter or
// gauge's value, a histogram's count); 0 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	for _, m := range f.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// sum is the sum of the observations of histogram name (all series).
func sum(fams map[string]*dto.MetricFamily, name string) float64 {
	var total float64
	if f := fams[name]; f != nil {
		for _, m := range f.GetMetric() {
			total += m.GetHistogram().GetSampleSum()
		}
	}
	return total
}

func hasLabels(m *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			found = found || (l.GetName() == kv[i] && l.GetValue() == kv[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}

// waitFor polls the metrics until cond holds.
func waitFor(t *testing.T, h http.Handler, what string, cond func(map[string]*dto.MetricFamily) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(scrape(t, h)) {
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The series move as the server works: requests by operation and status,
// running and queued turns, open streams, store writes and SQLite commits.
func TestMetricsMove(t *testing.T) {
	m := refserver.NewMetrics()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "m.db"), store.WithCommitObserver(m.ObserveCommit))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, c := start(t, func(cfg *refserver.Config) { cfg.Store, cfg.Metrics = st, m })
	h := m.Handler()

	before := scrape(t, h)
	id := c.newSession("echo")
	c.sendTurn(id, gen.TurnRequest{Prompt: "hello"})
	c.do("GET", "/v1/sessions/"+id+"/turns/9", nil).want(t, http.StatusNotFound)
	c.do("GET", "/v1/nowhere", nil).want(t, http.StatusNotFound)
	after := scrape(t, h)
	for _, s := range []struct {
		name   string
		labels []string
		delta  float64
	}{
		{"agentsession_http_requests_total", []string{"operation", "createSession", "status", "201"}, 1},
		{"agentsession_http_requests_total", []string{"operation", "sendTurn", "status", "200"}, 1},
		{"agentsession_http_requests_total", []string{"operation", "getTurn", "status", "404"}, 1},
		{"agentsession_http_requests_total", []string{"operation", "unmatched", "status", "404"}, 1},
		{"agentsession_http_request_duration_seconds", []string{"operation", "sendTurn", "status", "200"}, 1},
		// createSession, sendTurn's acceptance and its end
		{"agentsession_store_update_duration_seconds", []string{"result", "ok"}, 3},
	} {
		if got := value(after, s.name, s.labels...) - value(before, s.name, s.labels...); got != s.delta {
			t.Errorf("%s%v moved by %v, want %v", s.name, s.labels, got, s.delta)
		}
	}
	// The three writes took two commits (the acceptance commits with the
	// turn's end) or, on a slow machine, three.
	commits := value(after, "agentsession_store_commit_duration_seconds") - value(before, "agentsession_store_commit_duration_seconds")
	batched := sum(after, "agentsession_store_commit_batch_updates") - sum(before, "agentsession_store_commit_batch_updates")
	if commits < 2 || commits > 3 || batched != 3 {
		t.Errorf("%v commits of %v writes, want 2 or 3 commits of 3 writes", commits, batched)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if after[name] == nil {
			t.Errorf("no %s: the Go runtime's and the process's metrics are missing", name)
		}
	}

	// A slow turn runs, a second waits behind it, a stream is open.
	slow := c.newSession("scripted")
	running := c.doAsync("POST", "/v1/sessions/"+slow+"/turns", gen.TurnRequest{Prompt: script("", wait(300*time.Millisecond))})
	c.waitTurn(slow, 1, gen.TurnStatusRunning)
	queued := c.doAsync("POST", "/v1/sessions/"+slow+"/turns", gen.TurnRequest{Prompt: script("", text(0, "second")), BusyPolicy: gen.BusyPolicyEnqueue})
	c.waitTurn(slow, 2, gen.TurnStatusQueued)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := c.stream(ctx, "GET", "/v1/sessions/"+slow+"/turns/1/stream", nil)
	defer resp.Body.Close()
	waitFor(t, h, "1 running, 1 queued, 1 stream", func(f map[string]*dto.MetricFamily) bool {
		return value(f, "agentsession_turns_running") == 1 && value(f, "agentsession_turns_queued") == 1 &&
			value(f, "agentsession_stream_subscribers") == 1
	})
	result(t, running).want(t, http.StatusOK)
	result(t, queued).want(t, http.StatusOK)
	readFrames(t, resp.Body) // the stream ends with turn 1
	waitFor(t, h, "nothing running, queued or streaming", func(f map[string]*dto.MetricFamily) bool {
		return value(f, "agentsession_turns_running") == 0 && value(f, "agentsession_turns_queued") == 0 &&
			value(f, "agentsession_stream_subscribers") == 0
	})
}

// The API does not serve the metrics, whatever the token: they are only
// on the handler the operator mounts on a listener of its own.
func TestMetricsNotOnTheAPI(t *testing.T) {
	m := refserver.NewMetrics()
	_, c := start(t, func(cfg *refserver.Config) { cfg.Metrics = m })
	for _, p := range []string{"/metrics", "/v1/metrics", "/debug/pprof/"} {
		r := c.do("GET", p, nil)
		if r.Status != http.StatusNotFound {
			t.Errorf("GET %s with a tenant token: %d, want 404: %s", p, r.Status, r.Body)
		}
	}
	if value(scrape(t, m.Handler()), "agentsession_http_requests_total", "operation", "unmatched", "status", "404") != 3 {
		t.Error("the refused requests were not counted")
	}
}

// One Metrics serves one Server: a second registration is refused.
func TestMetricsOnePerServer(t *testing.T) {
	m := refserver.NewMetrics()
	start(t, func(cfg *refserver.Config) { cfg.Metrics = m })
	if _, err := refserver.New(refserver.Config{Tokens: []string{"t"}, Metrics: m}); err == nil {
		t.Error("a second server on the same Metrics: no error")
	}
}
