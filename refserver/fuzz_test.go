package refserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver"
)

// FuzzRequestBodies sends arbitrary bodies to every operation that takes
// one: the answer is never a 5xx, and an error is a problem document.
// `go test` runs the seeds; `go test -fuzz FuzzRequestBodies ./refserver/`
// explores further.
func FuzzRequestBodies(f *testing.F) {
	// Scripts may ask for long delays: a short turn timeout keeps the
	// fuzzer's requests from waiting on them.
	srv, c := start(f, func(cfg *refserver.Config) { cfg.MaxTurnTimeout = 100 * time.Millisecond })
	id := c.newSession("scripted")
	targets := []struct{ method, path string }{
		{"POST", "/v1/sessions"},
		{"POST", "/v1/sessions/" + id + "/turns"},
		{"POST", "/v1/sessions/" + id + "/log"},
		{"POST", "/v1/sessions/" + id + "/artifacts"},
		{"PATCH", "/v1/sessions/" + id + "/context"},
		{"POST", "/v1/sessions/" + id + "/handoff"},
		{"POST", "/v1/sessions/" + id + "/continue"},
		{"POST", "/v1/sessions/" + id + "/replay"},
		{"POST", "/v1/sessions/" + id + "/children"},
		{"POST", "/v1/sessions/" + id + "/end"},
	}
	for _, seed := range []string{
		`{"agent":"echo"}`, `{"prompt":"{\"steps\":[]}"}`, `{"type":"info","message":"m"}`, `{"path":"p","action":"created"}`,
		`{"a":{"b":null}}`, `{"summary":"s","next_steps":["x"]}`, `{"status":"failed"}`, `null`, `[]`, `""`, `{`, `{"prompt":1e400}`,
		`{"agent":"\u0000"}`, `{"timeout_ms":-1,"prompt":"x"}`, "\xff\xfe", `{"agent":"echo","meta":{"a":[1,{"b":true}]}}`,
	} {
		for i := range targets {
			f.Add(uint8(i), []byte(seed))
		}
	}
	hc := &http.Client{Timeout: 5 * time.Second} // a hang is a bug too
	f.Fuzz(func(t *testing.T, target uint8, body []byte) {
		tg := targets[int(target)%len(targets)]
		req, _ := http.NewRequest(tg.method, srv.URL+tg.path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+srv.Tokens[0])
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q: %d %s", tg.method, tg.path, body, resp.StatusCode, data)
		}
		if resp.StatusCode >= 400 {
			var p gen.Problem
			if json.Unmarshal(data, &p) != nil || p.Code == "" || int(p.Status) != resp.StatusCode {
				t.Fatalf("%s %s %q: not a problem: %s", tg.method, tg.path, body, data)
			}
		}
	})
}
