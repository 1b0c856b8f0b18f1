package selftest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentsession/agentsession/conformance"
	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/store"
)

// The reference server as the self-tests run it: short thresholds, so that
// the checks of the default turn timeout, the stall threshold and keep-alive
// comments can wait for them; small body limits; one agent with a fixed
// script; and a restart hook. With them no requirement of the contract stays unverified.
const (
	stallAfter     = time.Second
	maxTurnTimeout = 3 * time.Second
	keepAlive      = 200 * time.Millisecond
	// bodyReadTimeout is short so that the check of the 408 can wait for it.
	bodyReadTimeout = time.Second
	// Small body limits keep the checks that fill them cheap under -race.
	maxBodyBytes = 128 << 10
	maxFileBytes = 64 << 10
)

// fixedScript is the script of the agent "fixed".
const fixedScript = `{"steps":[{"event":{"type":"thinking","content":"the fixed script"}},{"delay_ms":20,"event":{"type":"text","content":"always the same answer"}}],"stop_reason":"end_turn"}`

var tokens = []string{"selftest-token-tenant-a", "selftest-token-tenant-b"}

// target is a reference server that a restart hook can restart: a new
// refserver.Server on the same store, as a process restarted on its
// database would be. Its handler always serves the current instance.
type target struct {
	URL    string
	Tokens []string
	// Restarts counts the restarts so far (defects that forget what they
	// knew before a restart read it).
	Restarts atomic.Int64

	cfg  refserver.Config
	cur  atomic.Pointer[refserver.Server]
	mu   sync.Mutex // serializes restarts
	http *httptest.Server
}

// scriptsDir writes the fixed-script agent's file once per process.
var scriptsDir = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "conformance-selftest-scripts-")
	if err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "fixed.json"), []byte(fixedScript), 0o600)
})

// startTarget starts the reference server, wrapped by inject (nil: none),
// in the self-tests' configuration (defaults: false) or in refserver's
// own defaults (defaults: true; no restart hook then).
func startTarget(inject injector, defaults bool) (*target, error) {
	tg := &target{Tokens: tokens, cfg: refserver.Config{Tokens: tokens, Store: store.NewMemory()}}
	if !defaults {
		dir, err := scriptsDir()
		if err != nil {
			return nil, err
		}
		tg.cfg.StallAfter, tg.cfg.MaxTurnTimeout, tg.cfg.KeepAlive, tg.cfg.ScriptsDir = stallAfter, maxTurnTimeout, keepAlive, dir
		tg.cfg.MaxBodyBytes, tg.cfg.MaxFileBytes = maxBodyBytes, maxFileBytes
		tg.cfg.BodyReadTimeout = bodyReadTimeout
	}
	s, err := refserver.New(tg.cfg)
	if err != nil {
		return nil, err
	}
	tg.cur.Store(s)
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tg.cur.Load().ServeHTTP(w, r) })
	if inject != nil {
		h = inject(h, tg)
	}
	tg.http = httptest.NewServer(h)
	tg.URL = tg.http.URL
	return tg, nil
}

// Restart stops the current server (which ends its running turns) and
// starts a new one on the same store.
func (tg *target) Restart(ctx context.Context) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if err := tg.cur.Load().Shutdown(ctx); err != nil {
		return err
	}
	s, err := refserver.New(tg.cfg)
	if err != nil {
		return fmt.Errorf("start again: %w", err)
	}
	tg.cur.Store(s)
	tg.Restarts.Add(1)
	return nil
}

// Close stops the server.
func (tg *target) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = tg.cur.Load().Shutdown(ctx)
	tg.http.Close()
}

// config is the suite's configuration for a run against the target.
func (tg *target) config() conformance.Config {
	cfg := conformance.Config{BaseURL: tg.URL, Token: tg.Tokens[0], Token2: tg.Tokens[1]}
	if tg.cfg.ScriptsDir != "" {
		cfg.Restart = tg.Restart
		cfg.BodyReadTimeout = tg.cfg.BodyReadTimeout
	}
	return cfg
}

// startTestTarget is startTarget for a test: it fails the test on an error
// and closes the server when the test ends.
func startTestTarget(t testing.TB, inject injector, defaults bool) *target {
	t.Helper()
	tg, err := startTarget(inject, defaults)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.Close)
	return tg
}
