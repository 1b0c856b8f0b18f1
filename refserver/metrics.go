package refserver

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/agentsession/agentsession/refserver/store"
)

// Metrics are the server's Prometheus metrics, on a registry of their own
// (with the Go runtime's and the process's). Serve Handler on a listener
// of its own, away from the API and its tenant tokens. One Metrics serves
// one Server.
//
//	agentsession_http_requests_total{operation,status}          counter
//	agentsession_http_request_duration_seconds{operation,status} histogram (a stream: until it ends)
//	agentsession_turns_running, agentsession_turns_queued        gauges
//	agentsession_stream_subscribers                              gauge: open event streams
//	agentsession_store_update_duration_seconds{result}           histogram: a write as the server waits for it (queue, transaction, commit)
//	agentsession_store_commit_duration_seconds                   histogram: SQLite's COMMIT (writing the WAL)
//	agentsession_store_commit_batch_updates                      histogram: writes committed together (group commit)
//	agentsession_store_commit_errors_total                       counter
//
// operation is the contract's operationId ("sendTurn"), or "unmatched"
// for a request no operation matched; status is the HTTP status code
// (499 when the client left before an answer).
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	streams      prometheus.Gauge
	update       *prometheus.HistogramVec
	commit       prometheus.Histogram
	commitBatch  prometheus.Histogram
	commitErrors prometheus.Counter
}

// NewMetrics returns the metrics, registered on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentsession_http_requests_total",
			Help: "API requests answered, by operation (operationId) and HTTP status.",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "agentsession_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer (an event stream: until it ends), by operation and HTTP status.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"operation", "status"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agentsession_stream_subscribers",
			Help: "Event streams (text/event-stream answers) open now.",
		}),
		update: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "agentsession_store_update_duration_seconds",
			Help:    "Time a store write takes as the server waits for it: queueing for the writer, the transaction and its commit. result is ok or error.",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"result"}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agentsession_store_commit_duration_seconds",
			Help:    "Time of the SQLite store's COMMIT (writing the transaction to the WAL).",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agentsession_store_commit_batch_updates",
			Help:    "Store writes committed by one SQLite transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentsession_store_commit_errors_total",
			Help: "SQLite write transactions that failed to begin or commit.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.streams, m.update, m.commit, m.commitBatch, m.commitErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the registry the metrics are on, to add others or gather them.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveCommit records one SQLite write transaction; pass it to
// store.WithCommitObserver.
func (m *Metrics) ObserveCommit(ci store.CommitInfo) {
	if ci.Err != nil {
		m.commitErrors.Inc()
		return
	}
	m.commit.Observe(ci.Commit.Seconds())
	m.commitBatch.Observe(float64(ci.Updates))
}

// register adds the gauges that read the server's state when scraped.
func (m *Metrics) register(s *Server) error {
	running := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "agentsession_turns_running",
		Help: "Turns running now (at most one per session).",
	}, func() float64 { r, _ := s.turns.counts(); return float64(r) })
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "agentsession_turns_queued",
		Help: "Turns waiting behind a session's running turn (busy_policy enqueue or interrupt).",
	}, func() float64 { _, q := s.turns.counts(); return float64(q) })
	if err := m.reg.Register(running); err != nil {
		return err
	}
	return m.reg.Register(queued)
}

func (m *Metrics) observeRequest(op string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(op, code).Inc()
	m.duration.WithLabelValues(op, code).Observe(d.Seconds())
}

// metricsStore times the writes of the store it wraps.
type metricsStore struct {
	store.Store
	m *Metrics
}

// UpdateDeferred times the write until fn has run; the commit that follows
// is the next write's.
func (s metricsStore) UpdateDeferred(ctx context.Context, fn func(store.Tx) error, maxDelay time.Duration) (func() error, error) {
	start := time.Now()
	wait, err := store.UpdateDeferred(s.Store, ctx, fn, maxDelay)
	result := "ok"
	if err != nil {
		result = "error"
	}
	s.m.update.WithLabelValues(result).Observe(time.Since(start).Seconds())
	return wait, err
}

func (s metricsStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	start := time.Now()
	err := s.Store.Update(ctx, fn)
	result := "ok"
	if err != nil {
		result = "error"
	}
	s.m.update.WithLabelValues(result).Observe(time.Since(start).Seconds())
	return err
}
