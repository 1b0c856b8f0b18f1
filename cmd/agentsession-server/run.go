package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/store"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2
)

// shutdownGrace bounds a graceful shutdown.
const shutdownGrace = 30 * time.Second

// settings are the command's configuration before it becomes a
// refserver.Config.
type settings struct {
	addr, db, tokens, tokensFile, scripts string
	logLevel, logFormat                   string
	maxBody, maxFile                      int64
	maxChildren, maxDepth, maxQueued      int
	maxTurnTimeout, stallAfter, keepAlive time.Duration
	rateLimit                             float64
	rateBurst                             int
}

// envNames maps each flag to its environment variable.
var envNames = map[string]string{
	"addr":             "AGENTSESSION_ADDR",
	"db":               "AGENTSESSION_DB",
	"tokens":           "AGENTSESSION_TOKENS",
	"tokens-file":      "AGENTSESSION_TOKENS_FILE",
	"scripts":          "AGENTSESSION_SCRIPTS_DIR",
	"log-level":        "AGENTSESSION_LOG_LEVEL",
	"log-format":       "AGENTSESSION_LOG_FORMAT",
	"max-body-bytes":   "AGENTSESSION_MAX_BODY_BYTES",
	"max-file-bytes":   "AGENTSESSION_MAX_FILE_BYTES",
	"max-children":     "AGENTSESSION_MAX_CHILDREN",
	"max-depth":        "AGENTSESSION_MAX_DEPTH",
	"max-queued-turns": "AGENTSESSION_MAX_QUEUED_TURNS",
	"max-turn-timeout": "AGENTSESSION_MAX_TURN_TIMEOUT",
	"stall-after":      "AGENTSESSION_STALL_AFTER",
	"keep-alive":       "AGENTSESSION_KEEP_ALIVE",
	"rate-limit":       "AGENTSESSION_RATE_LIMIT",
	"rate-burst":       "AGENTSESSION_RATE_BURST",
}

func newFlagSet(s *settings, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("agentsession-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.addr, "addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	fs.StringVar(&s.db, "db", "agentsession.db", "SQLite database file, created if missing; :memory: keeps everything in memory")
	fs.StringVar(&s.tokens, "tokens", "", "comma-separated bearer tokens; each one is a tenant")
	fs.StringVar(&s.tokensFile, "tokens-file", "", "file of bearer tokens, one per line (# starts a comment)")
	fs.StringVar(&s.scripts, "scripts", "", "directory whose <name>.json AgentScripts become scripted agents called <name>")
	fs.StringVar(&s.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&s.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.Int64Var(&s.maxBody, "max-body-bytes", refserver.DefaultMaxBodyBytes, "largest JSON request body (413 above)")
	fs.Int64Var(&s.maxFile, "max-file-bytes", refserver.DefaultMaxFileBytes, "largest uploaded file (413 above)")
	fs.IntVar(&s.maxChildren, "max-children", refserver.DefaultMaxChildren, "most active children per session (negative: none)")
	fs.IntVar(&s.maxDepth, "max-depth", refserver.DefaultMaxDepth, "deepest child session (negative: no children)")
	fs.IntVar(&s.maxQueued, "max-queued-turns", refserver.DefaultMaxQueuedTurns, "most turns queued behind the running one")
	fs.DurationVar(&s.maxTurnTimeout, "max-turn-timeout", refserver.DefaultMaxTurnTimeout, "default and largest turn timeout")
	fs.DurationVar(&s.stallAfter, "stall-after", refserver.DefaultStallAfter, "a running turn without progress this long makes the session stalled")
	fs.DurationVar(&s.keepAlive, "keep-alive", refserver.DefaultKeepAlive, "interval of keep-alive comments on quiet event streams")
	fs.Float64Var(&s.rateLimit, "rate-limit", 0, "requests per second per tenant (0: no limit)")
	fs.IntVar(&s.rateBurst, "rate-burst", 0, "rate-limit burst (0: the rate, at least 1)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: agentsession-server [flags]\n\nRuns the Agent Session API reference server. Each flag can also be set\nby an environment variable; a flag on the command line wins.\n\n")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stderr, "  -%s (env %s, default %q)\n    \t%s\n", f.Name, envNames[f.Name], f.DefValue, f.Usage)
		})
	}
	return fs
}

// parseSettings reads flags, then the environment for every flag not given
// on the command line.
func parseSettings(args []string, getenv func(string) string, stderr io.Writer) (settings, error) {
	var s settings
	fs := newFlagSet(&s, stderr)
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envNames[f.Name]
		if given[f.Name] || env == "" {
			return
		}
		if v := getenv(env); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", env, v, err))
			}
		}
	})
	return s, errors.Join(errs...)
}

// readTokens collects the tokens of the list and of the file.
func readTokens(list, file string) ([]string, error) {
	var tokens []string
	for _, t := range strings.Split(list, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tokens = append(tokens, t)
		}
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("tokens file: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			tokens = append(tokens, line)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("tokens file %s: %w", file, err)
		}
	}
	return tokens, nil
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

func openStore(path string) (store.Store, error) {
	if path == ":memory:" {
		return store.NewMemory(), nil
	}
	return store.OpenSQLite(path)
}

// run is the whole command; main only wires it to the process. It returns
// the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "agentsession-server: "+format+"\n", a...)
		return code
	}
	s, err := parseSettings(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return fail(exitConfig, "%v", err)
	}
	log, err := newLogger(s.logLevel, s.logFormat, stderr)
	if err != nil {
		return fail(exitConfig, "%v", err)
	}
	tokens, err := readTokens(s.tokens, s.tokensFile)
	if err != nil {
		return fail(exitConfig, "%v", err)
	}
	if len(tokens) == 0 {
		return fail(exitConfig, "no bearer token configured: set AGENTSESSION_TOKENS (comma-separated) or -tokens, or a tokens file with -tokens-file")
	}
	st, err := openStore(s.db)
	if err != nil {
		return fail(exitConfig, "open the database: %v", err)
	}
	defer st.Close()
	srv, err := refserver.New(refserver.Config{
		Store: st, Tokens: tokens, ScriptsDir: s.scripts, Logger: log,
		MaxBodyBytes: s.maxBody, MaxFileBytes: s.maxFile,
		MaxChildren: zeroMeansNone(s.maxChildren), MaxDepth: zeroMeansNone(s.maxDepth),
		MaxQueuedTurns: s.maxQueued, MaxTurnTimeout: s.maxTurnTimeout,
		StallAfter: s.stallAfter, KeepAlive: s.keepAlive,
		RateLimit: s.rateLimit, RateBurst: s.rateBurst,
	})
	if err != nil {
		return fail(exitConfig, "%v", err)
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fail(exitConfig, "listen on %s: %v", s.addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	log.Info("serving", slog.String("url", url), slog.String("db", s.db), slog.Int("tenants", len(tokens)),
		slog.Any("agents", srv.Config().Agents.Names()))
	fmt.Fprintf(stdout, "listening on %s\n", url)

	select {
	case err := <-served:
		return fail(exitFailed, "serve: %v", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	code := exitOK
	// Turns first, so their streams end with turn.completed; then the
	// listener and the open requests.
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("end running turns", slog.String("error", err.Error()))
		code = exitFailed
	}
	if err := hs.Shutdown(sctx); err != nil {
		log.Error("close the listener", slog.String("error", err.Error()))
		code = exitFailed
	}
	log.Info("stopped")
	return code
}

// zeroMeansNone maps the flag value 0 (no children) to refserver's
// "negative forbids", since refserver reads 0 as "the default".
func zeroMeansNone(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
