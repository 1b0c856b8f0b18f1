// Package refservertest runs the reference server in-process for tests: on
// loopback, with an in-memory store, the echo and scripted agents and two
// tenants.
//
//	srv := refservertest.Start(t)
//	req, _ := http.NewRequest("GET", srv.URL+"/v1/capabilities", nil)
//	req.Header.Set("Authorization", "Bearer "+srv.Tokens[0])
//
// Options tweak the configuration, for example a short keep-alive:
//
//	srv := refservertest.Start(t, func(c *refserver.Config) { c.KeepAlive = 50 * time.Millisecond })
package refservertest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/agentsession/agentsession/refserver"
)

// Server is a running in-process reference server.
type Server struct {
	// URL is the base URL, such as "http://127.0.0.1:41234"; API paths
	// start with /v1.
	URL string
	// Tokens are two bearer tokens: two tenants.
	Tokens []string
	Server *refserver.Server
	HTTP   *httptest.Server
}

// Start runs the reference server in-process on loopback with an in-memory
// store and the echo and scripted agents; t.Cleanup shuts it down. Options
// tweak the config (applied after the defaults of this package: the two
// tokens and an in-memory store). A store set by an option is not closed
// by the cleanup: its owner closes it.
func Start(t testing.TB, opts ...func(*refserver.Config)) *Server {
	t.Helper()
	cfg := refserver.Config{Tokens: []string{"test-token-tenant-a", "test-token-tenant-b"}}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := refserver.New(cfg)
	if err != nil {
		t.Fatalf("refservertest: %v", err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("refservertest: %v", err)
		}
		hs.Close()
	})
	return &Server{URL: hs.URL, Tokens: cfg.Tokens, Server: s, HTTP: hs}
}
