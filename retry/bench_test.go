package retry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The cost of the retry layer on a request that succeeds at once, against a
// plain pooled client and the same in-process server:
//
//	go test -run '^$' -bench RoundTrip -benchmem ./retry
func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	clients := map[string]*http.Client{
		"plain": {Transport: srv.Client().Transport},
		"retry": NewClient(DefaultPolicy(), &http.Client{Transport: srv.Client().Transport}),
	}
	for _, name := range []string{"plain", "retry"} {
		client := clients[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"prompt":"hi"}`))
				req.Header.Set("Idempotency-Key", "k")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
