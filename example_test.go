package agentsession_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/agentsession/agentsession"
	"github.com/agentsession/agentsession/gen"
)

// fakeServer answers like an Agent Session API server: health is up, every
// session is unknown.
func fakeServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req_example")
		if r.URL.Path == "/v1/health" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"ok","version":"1.0.0","time":"2026-11-21T10:00:00Z"}`)
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"type":"https://agentsession.dev/problems/not_found","title":"Not found","status":404,`+
			`"detail":"No session sess_missing.","code":"not_found","request_id":"req_example"}`)
	}))
}

func ExampleNewClient() {
	srv := fakeServer()
	defer srv.Close()

	c, err := agentsession.NewClient(
		agentsession.WithBaseURL(srv.URL),
		agentsession.WithToken("my-token"),
		agentsession.WithUserAgent("example-app/1.0"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := c.Health(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Status, h.Version)
	// Output: ok 1.0.0
}

func ExampleNewClient_invalidOption() {
	_, err := agentsession.NewClient(agentsession.WithBaseURL("ftp://example.com"))
	fmt.Println(err)
	// Output: agentsession: invalid base URL "ftp://example.com": the scheme must be http or https
}

func ExampleAPIError() {
	srv := fakeServer()
	defer srv.Close()
	c, _ := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithToken("my-token"))

	req, _ := gen.NewGetSessionRequest(c.BaseURL(), "sess_missing")
	_, err := c.Do(context.Background(), req, &gen.Session{})

	fmt.Println(errors.Is(err, agentsession.ErrNotFound))
	var ae *agentsession.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.StatusCode, ae.Code, ae.Detail, ae.RequestID)
		fmt.Println(ae.Code == gen.ProblemCodeNotFound)
	}
	// Output:
	// true
	// 404 not_found No session sess_missing. req_example
	// true
}

func ExampleClient_Do() {
	srv := fakeServer()
	defer srv.Close()
	c, _ := agentsession.NewClient(agentsession.WithBaseURL(srv.URL), agentsession.WithToken("my-token"))

	// Any operation: a generated request builder, the SDK's request path.
	req, _ := gen.NewGetHealthRequest(c.BaseURL())
	var h gen.Health
	resp, err := c.Do(context.Background(), req, &h, agentsession.RequestID("my-trace-1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Status, resp.StatusCode, resp.RequestID, resp.Attempts)
	// Output: ok 200 req_example 1
}
