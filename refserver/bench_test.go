package refserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/refserver/store"
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
