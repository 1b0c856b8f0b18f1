package refserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/agent"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/refserver/store"
	"github.com/agentsession/agentsession/sse"
)

// benchStores are the stores the benchmarks compare.
var benchStores = []struct {
	name string
	open func(tb testing.TB) store.Store
}{
	{"memory", func(testing.TB) store.Store { return store.NewMemory() }},
	{"sqlite", func(tb testing.TB) store.Store {
		st, err := store.OpenSQLite(filepath.Join(tb.TempDir(), "bench.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { st.Close() })
		return st
	}},
}

// echoClient sends echo turns to one session of a server on st, over
// loopback HTTP with a real net/http client.
type echoClient struct {
	tb   testing.TB
	hc   *http.Client
	url  string
	tok  string
	path string
}

func newEchoClient(tb testing.TB, st store.Store) *echoClient {
	srv := refservertest.Start(tb, func(c *refserver.Config) { c.Store = st })
	c := &echoClient{tb: tb, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}, url: srv.URL, tok: srv.Tokens[0]}
	var sess gen.Session
	if err := json.Unmarshal(c.post("/v1/sessions", `{"agent":"echo"}`), &sess); err != nil {
		tb.Fatal(err)
	}
	c.path = "/v1/sessions/" + sess.SessionID + "/turns"
	return c
}

func (c *echoClient) post(path, body string) []byte {
	req, _ := http.NewRequest("POST", c.url+path, bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+c.tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		c.tb.Fatalf("%s: %d %s", path, resp.StatusCode, data)
	}
	return data
}

func (c *echoClient) turn() { c.post(c.path, `{"prompt":"Summarise the open pull requests."}`) }

// BenchmarkEchoTurn measures one echo turn round trip (JSON sendTurn) over
// loopback HTTP with a real net/http client, for each store.
//
//	go test -run '^$' -bench EchoTurn -benchmem ./refserver/
func BenchmarkEchoTurn(b *testing.B) {
	for _, sc := range benchStores {
		b.Run(sc.name, func(b *testing.B) {
			c := newEchoClient(b, sc.open(b))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				c.turn()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
		})
	}
}

// BenchmarkEchoTurnInterleaved compares the stores in one process under
// the same conditions: each iteration sends one echo turn to a server on
// the memory store and one to a server on SQLite, alternating which goes
// first, so that noise from the machine falls on both alike. It reports
// each store's time per turn and sqlite/memory, SQLite's throughput as a
// fraction of the memory store's (the target is at least 0.5).
//
//	go test -run '^$' -bench EchoTurnInterleaved -benchtime 4000x -count 6 ./refserver/
func BenchmarkEchoTurnInterleaved(b *testing.B) {
	mem, lite := newEchoClient(b, benchStores[0].open(b)), newEchoClient(b, benchStores[1].open(b))
	var memTime, liteTime time.Duration
	i := 0
	for b.Loop() {
		first, second, t1, t2 := mem, lite, &memTime, &liteTime
		if i%2 == 1 {
			first, second, t1, t2 = lite, mem, &liteTime, &memTime
		}
		i++
		start := time.Now()
		first.turn()
		mid := time.Now()
		second.turn()
		*t1 += mid.Sub(start)
		*t2 += time.Since(mid)
	}
	n := float64(b.N)
	b.ReportMetric(float64(memTime.Nanoseconds())/n, "memory-ns/turn")
	b.ReportMetric(float64(liteTime.Nanoseconds())/n, "sqlite-ns/turn")
	b.ReportMetric(float64(memTime)/float64(liteTime), "sqlite/memory")
}

// BenchmarkConcurrentSessions is many clients at once: 1,000 sessions, each
// sending 10 echo turns one after the other, all sessions at the same time,
// from one process over loopback HTTP. It fails on any error and reports
// the latency of a turn (p50, p99, max) and the turns per second.
//
//	go test -run '^$' -bench ConcurrentSessions -benchtime 1x ./refserver/
func BenchmarkConcurrentSessions(b *testing.B) {
	const sessions, turns = 1000, 10
	for _, sc := range benchStores {
		b.Run(sc.name, func(b *testing.B) {
			srv := refservertest.Start(b, func(c *refserver.Config) { c.Store = sc.open(b) })
			tr := &http.Transport{MaxIdleConnsPerHost: sessions, MaxIdleConns: sessions}
			b.Cleanup(tr.CloseIdleConnections)
			clients := make([]*echoClient, sessions)
			for i := range clients {
				c := &echoClient{tb: b, hc: &http.Client{Transport: tr}, url: srv.URL, tok: srv.Tokens[i%2]}
				var sess gen.Session
				if err := json.Unmarshal(c.post("/v1/sessions", `{"agent":"echo"}`), &sess); err != nil {
					b.Fatal(err)
				}
				c.path = "/v1/sessions/" + sess.SessionID + "/turns"
				clients[i] = c
			}
			var latencies []time.Duration
			var errs atomic.Int64
			var elapsed time.Duration
			for b.Loop() {
				per := make([][]time.Duration, sessions)
				var wg sync.WaitGroup
				start := time.Now()
				for i, c := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range turns {
							t0 := time.Now()
							if err := c.tryTurn(); err != nil {
								if errs.Add(1) <= 5 {
									b.Error(err)
								}
								continue
							}
							per[i] = append(per[i], time.Since(t0))
						}
					}()
				}
				wg.Wait()
				elapsed += time.Since(start)
				for _, p := range per {
					latencies = append(latencies, p...)
				}
			}
			if n := errs.Load(); n > 0 {
				b.Fatalf("%d of %d turns failed", n, b.N*sessions*turns)
			}
			slices.Sort(latencies)
			q := func(p float64) float64 {
				return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(q(1), "max-ms")
			b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "turns/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// tryTurn sends one echo turn and returns what went wrong, if anything.
func (c *echoClient) tryTurn() error {
	req, _ := http.NewRequest("POST", c.url+c.path, bytes.NewBufferString(`{"prompt":"Summarise the open pull requests."}`))
	req.Header.Set("Authorization", "Bearer "+c.tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", c.path, resp.StatusCode, data)
	}
	return nil
}

// ticker is an agent that emits events a few milliseconds apart and
// records when it asked for each one.
type ticker struct {
	events int
	gap    time.Duration
	mu     sync.Mutex
	emits  []time.Time
}

func (*ticker) Info() gen.AgentInfo {
	return gen.AgentInfo{Name: "ticker", Kind: gen.AgentKindScripted, Description: "benchmark: events a few ms apart"}
}

func (a *ticker) Run(ctx context.Context, _ agent.Input, emit agent.Emit) (agent.Outcome, error) {
	for i := range a.events {
		if i > 0 {
			time.Sleep(a.gap)
		}
		a.mu.Lock()
		a.emits = append(a.emits, time.Now())
		a.mu.Unlock()
		if err := emit(gen.ScriptEvent{Type: gen.EventTypeText, Content: fmt.Sprintf("token %d", i)}); err != nil {
			return agent.Outcome{}, err
		}
	}
	return agent.Outcome{}, nil
}

// commitClock records when each store write returned, that is when it was
// committed.
type commitClock struct {
	store.Store
	mu   sync.Mutex
	done []time.Time
}

// UpdateDeferred keeps the store's deferred writes (a turn's acceptance);
// it records when fn ran, for the order of the writes.
func (c *commitClock) UpdateDeferred(ctx context.Context, fn func(store.Tx) error, d time.Duration) (func() error, error) {
	wait, err := store.UpdateDeferred(c.Store, ctx, fn, d)
	c.mu.Lock()
	c.done = append(c.done, time.Now())
	c.mu.Unlock()
	return wait, err
}

func (c *commitClock) Update(ctx context.Context, fn func(store.Tx) error) error {
	err := c.Store.Update(ctx, fn)
	c.mu.Lock()
	c.done = append(c.done, time.Now())
	c.mu.Unlock()
	return err
}

// BenchmarkStreamLatency streams turns of 10 events 2 ms apart and times,
// on loopback: the first event (request sent to first event frame read),
// each event from the agent's emit to the client's read, the commit (emit
// to its write returning) and the rest, from the commit to the read.
//
//	go test -run '^$' -bench StreamLatency -benchtime 200x ./refserver/
func BenchmarkStreamLatency(b *testing.B) {
	const events = 10
	for _, sc := range benchStores {
		b.Run(sc.name, func(b *testing.B) {
			tk := &ticker{events: events, gap: 2 * time.Millisecond}
			agents, err := agent.NewRegistry(agent.Echo(), agent.Scripted(), tk)
			if err != nil {
				b.Fatal(err)
			}
			clock := &commitClock{Store: sc.open(b)}
			srv := refservertest.Start(b, func(c *refserver.Config) { c.Store, c.Agents = clock, agents })
			c := &echoClient{tb: b, hc: &http.Client{}, url: srv.URL, tok: srv.Tokens[0]}
			var sess gen.Session
			if err := json.Unmarshal(c.post("/v1/sessions", `{"agent":"ticker"}`), &sess); err != nil {
				b.Fatal(err)
			}
			var first, emitToRead, commit, afterCommit []time.Duration
			for b.Loop() {
				tk.mu.Lock()
				tk.emits = tk.emits[:0]
				tk.mu.Unlock()
				clock.mu.Lock()
				clock.done = clock.done[:0]
				clock.mu.Unlock()
				req, _ := http.NewRequest("POST", c.url+"/v1/sessions/"+sess.SessionID+"/turns", bytes.NewBufferString(`{"prompt":"go"}`))
				req.Header.Set("Authorization", "Bearer "+c.tok)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "text/event-stream")
				sent := time.Now()
				resp, err := c.hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				rd := sse.NewReader(resp.Body)
				var reads []time.Time
				for {
					f, err := rd.Next()
					if err != nil {
						b.Fatalf("stream: %v", err)
					}
					if f.Event == "" {
						reads = append(reads, time.Now())
					}
					if f.Event == "turn.completed" {
						break
					}
				}
				io.Copy(io.Discard, resp.Body) // to the end, so the connection is reused
				resp.Body.Close()
				if len(reads) != events {
					b.Fatalf("%d events read, want %d", len(reads), events)
				}
				first = append(first, reads[0].Sub(sent))
				tk.mu.Lock()
				clock.mu.Lock()
				// The writes: the accept, one per event, the end.
				if len(clock.done) != events+2 || len(tk.emits) != events {
					b.Fatalf("%d writes and %d emits, want %d and %d", len(clock.done), len(tk.emits), events+2, events)
				}
				for i := range events {
					committed := clock.done[i+1]
					emitToRead = append(emitToRead, reads[i].Sub(tk.emits[i]))
					commit = append(commit, committed.Sub(tk.emits[i]))
					afterCommit = append(afterCommit, reads[i].Sub(committed))
				}
				clock.mu.Unlock()
				tk.mu.Unlock()
			}
			report := func(d []time.Duration, name string, ps ...float64) {
				slices.Sort(d)
				for _, p := range ps {
					b.ReportMetric(float64(d[int(p*float64(len(d)-1))].Nanoseconds())/1000, fmt.Sprintf("%s-p%02.0f-us", name, p*100))
				}
			}
			report(first, "first-event", 0.5, 0.99)
			report(emitToRead, "emit-to-read", 0.5, 0.99)
			report(commit, "commit", 0.5, 0.99)
			report(afterCommit, "commit-to-read", 0.5, 0.99)
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkACPEchoTurnInterleaved is an echo-like turn end to end (JSON
// sendTurn over loopback HTTP, memory store) answered by the ACP test
// agent behind the bridge (its own process, over stdio) against the same
// turn answered by the built-in echo agent, in one server, alternating
// which goes first so that the machine's noise falls on both alike. It
// reports each one's time per turn and their difference, what a real
// agent process behind the bridge costs a turn.
//
//	go test -run '^$' -bench ACPEchoTurnInterleaved -benchtime 3000x -count 3 ./refserver/
func BenchmarkACPEchoTurnInterleaved(b *testing.B) {
	srv := refservertest.Start(b, withACP(acpAgent(b, "acp-test")))
	client := func(agentName string) *echoClient {
		c := &echoClient{tb: b, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}, url: srv.URL, tok: srv.Tokens[0]}
		var sess gen.Session
		if err := json.Unmarshal(c.post("/v1/sessions", `{"agent":"`+agentName+`"}`), &sess); err != nil {
			b.Fatal(err)
		}
		c.path = "/v1/sessions/" + sess.SessionID + "/turns"
		c.turn() // the first turn of each out of the measure
		return c
	}
	echo, acpTest := client("echo"), client("acp-test")
	var echoTime, acpTime time.Duration
	i := 0
	for b.Loop() {
		first, second, t1, t2 := echo, acpTest, &echoTime, &acpTime
		if i%2 == 1 {
			first, second, t1, t2 = acpTest, echo, &acpTime, &echoTime
		}
		i++
		start := time.Now()
		first.turn()
		mid := time.Now()
		second.turn()
		*t1 += mid.Sub(start)
		*t2 += time.Since(mid)
	}
	n := float64(b.N)
	b.ReportMetric(float64(echoTime.Nanoseconds())/n, "echo-ns/turn")
	b.ReportMetric(float64(acpTime.Nanoseconds())/n, "acp-ns/turn")
	b.ReportMetric(float64((acpTime-echoTime).Nanoseconds())/n, "acp-extra-ns/turn")
}
