package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/agentsession/agentsession/internal/faultproxy"
)

// Exit statuses, as agentsession-server's.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2
)

// shutdownGrace bounds a graceful shutdown; streams still open then are
// closed.
const shutdownGrace = 10 * time.Second

// run is the whole command; main only wires it to the process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "agentsession-faultproxy: "+format+"\n", a...)
		return code
	}
	fs := flag.NewFlagSet("agentsession-faultproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "listen address (port 0 picks a free port)")
	target := fs.String("target", "", "base URL of the server to forward to, such as http://127.0.0.1:8080 (required)")
	configPath := fs.String("config", "", "rules file, JSON or YAML (none: forward everything untouched)")
	seed := fs.Int64("seed", 0, "seed of the rules' probabilities (overrides the file's seed)")
	logLevel := fs.String("log-level", "info", "log level on stderr: debug (every request), info (every fault), warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return fail(exitConfig, "%v", err)
	}
	if fs.NArg() > 0 {
		return fail(exitConfig, "unexpected arguments %q", fs.Args())
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*logLevel)); err != nil {
		return fail(exitConfig, "log level %q: want debug, info, warn or error", *logLevel)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	if *target == "" {
		return fail(exitConfig, "-target is required (the server's base URL)")
	}
	u, err := url.Parse(*target)
	if err != nil {
		return fail(exitConfig, "-target: %v", err)
	}
	var cfg faultproxy.Config
	if *configPath != "" {
		data, err := os.ReadFile(*configPath)
		if err != nil {
			return fail(exitConfig, "read the config: %v", err)
		}
		if cfg, err = faultproxy.ParseConfig(data); err != nil {
			return fail(exitConfig, "%s: %v", *configPath, err)
		}
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "seed" {
			cfg.Seed = *seed
		}
	})
	p, err := faultproxy.New(u, cfg, faultproxy.WithLogger(log))
	if err != nil {
		return fail(exitConfig, "%v", err)
	}
	srv, err := faultproxy.Listen(*listen, p)
	if err != nil {
		return fail(exitConfig, "%v", err)
	}
	log.Info("serving", "url", srv.URL, "target", u.Redacted(), "rules", len(cfg.Rules), "seed", cfg.Seed)
	fmt.Fprintf(stdout, "listening on %s\n", srv.URL)

	select {
	case err := <-srv.Done():
		return fail(exitFailed, "serve: %v", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shutdown", "error", err.Error())
		return exitFailed
	}
	log.Info("stopped", "faults", p.Stats().Faults)
	return exitOK
}
