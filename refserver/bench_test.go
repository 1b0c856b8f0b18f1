package refserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/refservertest"
	"github.com/agentsession/agentsession/refserver/store"
)

// BenchmarkEchoTurn measures one echo turn round trip (JSON sendTurn) over
// loopback HTTP with a real net/http client, for each store.
//
//	go test -run '^$' -bench EchoTurn -benchmem ./refserver/
func BenchmarkEchoTurn(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"memory", func(*testing.B) store.Store { return store.NewMemory() }},
		{"sqlite", func(b *testing.B) store.Store {
			st, err := store.OpenSQLite(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	}
	for _, sc := range stores {
		b.Run(sc.name, func(b *testing.B) {
			st := sc.open(b)
			srv := refservertest.Start(b, func(c *refserver.Config) { c.Store = st })
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			post := func(path, body string) []byte {
				req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewBufferString(body))
				req.Header.Set("Authorization", "Bearer "+srv.Tokens[0])
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				defer resp.Body.Close()
				data, _ := io.ReadAll(resp.Body)
				if resp.StatusCode >= 300 {
					b.Fatalf("%s: %d %s", path, resp.StatusCode, data)
				}
				return data
			}
			var sess gen.Session
			if err := json.Unmarshal(post("/v1/sessions", `{"agent":"echo"}`), &sess); err != nil {
				b.Fatal(err)
			}
			path := "/v1/sessions/" + sess.SessionID + "/turns"
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				post(path, `{"prompt":"Summarise the open pull requests."}`)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
		})
	}
}
