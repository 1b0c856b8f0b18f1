package retry_test

import (
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
// the GET and returns the final answer.
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

	resp, err := client.Get(srv.URL + "/greeting")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(resp.StatusCode, string(body), "after", calls.Load(), "attempts")
	// Output:
	// 200 hello after 3 attempts
}

// Transport.Do reports every attempt, and reads a successful answer whole
// within its attempt: a body cut short is retried like a lost connection.
func ExampleTransport_Do() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Length", "100") // promises 100 bytes, sends 5
			fmt.Fprint(w, "hello")
			return
		}
		fmt.Fprint(w, "hello, whole")
	}))
	defer srv.Close()

	p := retry.DefaultPolicy()
	p.MinWait, p.MaxWait = time.Millisecond, 2*time.Millisecond
	tr := retry.NewTransport(p, nil)
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	res, err := tr.Do(req, retry.Call{AttemptTimeout: 5 * time.Second, OnAttempt: func(a retry.Attempt) {
		fmt.Printf("attempt %d: %d %v\n", a.Number, a.StatusCode, a.Err)
	}})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("%q after %d attempts\n", res.Body, res.Attempts)
	// Output:
	// attempt 1: 200 reading the body of the 200 answer: unexpected EOF
	// attempt 2: 200 <nil>
	// "hello, whole" after 2 attempts
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
