package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Server is a Proxy listening on a TCP address.
type Server struct {
	// URL is the proxy's base URL, such as "http://127.0.0.1:41234":
	// point a client here instead of at the target.
	URL   string
	Proxy *Proxy
	hs    *http.Server
	done  chan error
}

// Listen serves p on addr ("127.0.0.1:0" picks a free port) until
// Shutdown or Close.
func Listen(addr string, p *Proxy) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen on %s: %w", addr, err)
	}
	s := &Server{
		URL:   "http://" + ln.Addr().String(),
		Proxy: p,
		hs: &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug)},
		done: make(chan error, 1),
	}
	go func() { s.done <- s.hs.Serve(ln) }()
	return s, nil
}

// Done receives the error that stopped serving (http.ErrServerClosed after
// Shutdown or Close).
func (s *Server) Done() <-chan error { return s.done }

// Shutdown stops accepting connections and waits, until ctx ends, for the
// open requests; then it closes whatever is left (a stream may never end).
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.hs.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return s.hs.Close()
	}
	return err
}

// Close stops the server and closes every connection at once.
func (s *Server) Close() error { return s.hs.Close() }

// Start runs a proxy to target on loopback for a test and closes it in
// t.Cleanup; any error fails the test.
//
//	srv := refservertest.Start(t)
//	fp := faultproxy.Start(t, srv.URL, faultproxy.Config{Rules: rules})
//	// point the client at fp.URL; fp.Proxy.Stats() counts the faults
func Start(t testing.TB, target string, cfg Config, opts ...Option) *Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("faultproxy: target %q: %v", target, err)
	}
	p, err := New(u, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Listen("127.0.0.1:0", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
