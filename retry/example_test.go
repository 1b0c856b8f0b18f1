package retry_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/agentsession/agentsession/retry"
)

// A server that fails twice with 503 before answering: the client retries
// the GET and returns the final answer; the hook sees every attempt.
func Example() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()

	p := retry.DefaultPolicy()
	p.MinWait, p.MaxWait = time.Millisecond, 2*time.Millisecond // keep the example fast
	client := retry.NewClient(p, nil)

	ctx := retry.WithAttemptHook(context.Background(), func(a retry.Attempt) {
		fmt.Printf("attempt %d: %d\n", a.Number, a.StatusCode)
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/greeting", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// attempt 1: 503
	// attempt 2: 503
	// attempt 3: 200
	// 200 hello
}

// A POST is retried only with an Idempotency-Key; every attempt resends the
// same key and body. Without the key the first 503 is final.
func Example_idempotencyKey() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("server: key=%q body=%s\n", r.Header.Get("Idempotency-Key"), body)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	client := retry.NewClient(retry.Policy{MaxAttempts: 2, MinWait: time.Millisecond}, nil)
	for _, key := range []string{"", "key-1"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"prompt":"hi"}`))
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		resp.Body.Close()
		fmt.Println("final status:", resp.StatusCode)
	}
	// Output:
	// server: key="" body={"prompt":"hi"}
	// final status: 503
	// server: key="key-1" body={"prompt":"hi"}
	// server: key="key-1" body={"prompt":"hi"}
	// final status: 503
}
