package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	"github.com/agentsession/agentsession/refserver"
	"github.com/agentsession/agentsession/refserver/agent/acp"
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

// defaultReadHeaderTimeout bounds the arrival of a request's headers (the
// body has refserver's own bound).
const defaultReadHeaderTimeout = 10 * time.Second

// settings are the command's configuration before it becomes a
// refserver.Config.
type settings struct {
	addr, db, tokens, tokensFile, scripts string
	agentsFile, acpAgent                  string
	logLevel, logFormat                   string
	maxBody, maxFile                      int64
	maxChildren, maxDepth, maxQueued      int
	maxTurnTimeout, stallAfter, keepAlive time.Duration
	bodyReadTimeout, readHeaderTimeout    time.Duration
	rateLimit                             float64
	rateBurst                             int
	metricsAddr, metricsPath, metricsTok  string
	pprof                                 bool
}

// envNames maps each flag to its environment variable.
var envNames = map[string]string{
	"addr":                "AGENTSESSION_ADDR",
	"db":                  "AGENTSESSION_DB",
	"tokens":              "AGENTSESSION_TOKENS",
	"tokens-file":         "AGENTSESSION_TOKENS_FILE",
	"scripts":             "AGENTSESSION_SCRIPTS_DIR",
	"agents-file":         "AGENTSESSION_AGENTS_FILE",
	"acp-agent":           "AGENTSESSION_ACP_AGENT",
	"log-level":           "AGENTSESSION_LOG_LEVEL",
	"log-format":          "AGENTSESSION_LOG_FORMAT",
	"max-body-bytes":      "AGENTSESSION_MAX_BODY_BYTES",
	"max-file-bytes":      "AGENTSESSION_MAX_FILE_BYTES",
	"max-children":        "AGENTSESSION_MAX_CHILDREN",
	"max-depth":           "AGENTSESSION_MAX_DEPTH",
	"max-queued-turns":    "AGENTSESSION_MAX_QUEUED_TURNS",
	"max-turn-timeout":    "AGENTSESSION_MAX_TURN_TIMEOUT",
	"stall-after":         "AGENTSESSION_STALL_AFTER",
	"keep-alive":          "AGENTSESSION_KEEP_ALIVE",
	"body-read-timeout":   "AGENTSESSION_BODY_READ_TIMEOUT",
	"read-header-timeout": "AGENTSESSION_READ_HEADER_TIMEOUT",
	"rate-limit":          "AGENTSESSION_RATE_LIMIT",
	"rate-burst":          "AGENTSESSION_RATE_BURST",
	"metrics-addr":        "AGENTSESSION_METRICS_ADDR",
	"metrics-path":        "AGENTSESSION_METRICS_PATH",
	"metrics-token":       "AGENTSESSION_METRICS_TOKEN",
	"pprof":               "AGENTSESSION_PPROF",
}

func newFlagSet(s *settings, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("agentsession-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.addr, "addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	fs.StringVar(&s.db, "db", "agentsession.db", "SQLite database file, created if missing; :memory: keeps everything in memory")
	fs.StringVar(&s.tokens, "tokens", "", "comma-separated bearer tokens; each one is a tenant")
	fs.StringVar(&s.tokensFile, "tokens-file", "", "file of bearer tokens, one per line (# starts a comment)")
	fs.StringVar(&s.scripts, "scripts", "", "directory whose <name>.json AgentScripts become scripted agents called <name>")
	fs.StringVar(&s.agentsFile, "agents-file", "", "YAML or JSON file of ACP agents (name, command, args, cwd, env, options, limits); see the README")
	fs.StringVar(&s.acpAgent, "acp-agent", "", "one more ACP agent, as `NAME=COMMAND [ARG...]` (split at spaces), working in the server's directory with the default limits")
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
	fs.DurationVar(&s.bodyReadTimeout, "body-read-timeout", refserver.DefaultBodyReadTimeout, "longest a request body may take to arrive (408 and the connection closed after)")
	fs.DurationVar(&s.readHeaderTimeout, "read-header-timeout", defaultReadHeaderTimeout, "longest a request's headers may take to arrive (the connection is closed after)")
	fs.Float64Var(&s.rateLimit, "rate-limit", 0, "requests per second per tenant (0: no limit)")
	fs.IntVar(&s.rateBurst, "rate-burst", 0, "rate-limit burst (0: the rate, at least 1)")
	fs.StringVar(&s.metricsAddr, "metrics-addr", "", "operator listen address for Prometheus metrics (and pprof); empty: off. Never the API's address")
	fs.StringVar(&s.metricsPath, "metrics-path", "/metrics", "path of the metrics on the operator listener")
	fs.StringVar(&s.metricsTok, "metrics-token", "", "bearer token the operator listener requires (empty: none); not a tenant token")
	fs.BoolVar(&s.pprof, "pprof", false, "serve net/http/pprof under /debug/pprof/ on the operator listener (needs -metrics-addr)")
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

func openStore(path string, m *refserver.Metrics) (store.Store, error) {
	if path == ":memory:" {
		return store.NewMemory(), nil
	}
	var opts []store.SQLiteOption
	if m != nil {
		opts = append(opts, store.WithCommitObserver(m.ObserveCommit))
	}
	return store.OpenSQLite(path, opts...)
}

// checkOperator refuses an operator listener set up in a way that would
// mix it with the API.
func checkOperator(s settings, tokens []string) error {
	switch {
	case s.metricsAddr == "" && s.pprof:
		return errors.New("-pprof needs -metrics-addr: pprof is served only on the operator listener")
	case s.metricsAddr == "" && s.metricsTok != "":
		return errors.New("-metrics-token needs -metrics-addr")
	case s.metricsAddr == "":
		return nil
	case !strings.HasPrefix(s.metricsPath, "/") || strings.HasPrefix(s.metricsPath, "/debug/pprof"):
		return fmt.Errorf("-metrics-path %q: want a path such as /metrics (not under /debug/pprof)", s.metricsPath)
	}
	for _, t := range tokens {
		if s.metricsTok != "" && s.metricsTok == t {
			return errors.New("-metrics-token is also a tenant token: give operators a token of their own")
		}
	}
	return nil
}

// operatorHandler serves the metrics and, when asked, pprof; with a token
// it answers 401 to every request without it.
func operatorHandler(s settings, m *refserver.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+s.metricsPath, m.Handler())
	if s.pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if s.metricsTok == "" {
		return mux
	}
	want := sha256.Sum256([]byte("Bearer " + s.metricsTok))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="agentsession-operator"`)
			http.Error(w, "the operator token is required", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
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
	if s.readHeaderTimeout < 0 {
		return fail(exitConfig, "-read-header-timeout %v: want a positive duration", s.readHeaderTimeout)
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
	if err := checkOperator(s, tokens); err != nil {
		return fail(exitConfig, "%v", err)
	}
	var metrics *refserver.Metrics
	if s.metricsAddr != "" {
		metrics = refserver.NewMetrics()
	}
	st, err := openStore(s.db, metrics)
	if err != nil {
		return fail(exitConfig, "open the database: %v", err)
	}
	defer st.Close()
	var acpAgents []acp.Config
	if s.acpAgent != "" {
		c, err := parseACPAgent(s.acpAgent)
		if err != nil {
			return fail(exitConfig, "%v", err)
		}
		acpAgents = append(acpAgents, c)
	}
	srv, err := refserver.New(refserver.Config{
		Store: st, Tokens: tokens, ScriptsDir: s.scripts, Logger: log, Metrics: metrics,
		AgentsFile: s.agentsFile, ACPAgents: acpAgents,
		MaxBodyBytes: s.maxBody, MaxFileBytes: s.maxFile,
		MaxChildren: zeroMeansNone(s.maxChildren), MaxDepth: zeroMeansNone(s.maxDepth),
		MaxQueuedTurns: s.maxQueued, MaxTurnTimeout: s.maxTurnTimeout,
		StallAfter: s.stallAfter, KeepAlive: s.keepAlive, BodyReadTimeout: s.bodyReadTimeout,
		RateLimit: s.rateLimit, RateBurst: s.rateBurst,
	})
	if err != nil {
		return fail(exitConfig, "%v", err)
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fail(exitConfig, "listen on %s: %v", s.addr, err)
	}
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	var ops *http.Server
	var opsLn net.Listener
	if metrics != nil {
		if opsLn, err = net.Listen("tcp", s.metricsAddr); err != nil {
			ln.Close()
			return fail(exitConfig, "listen on %s (-metrics-addr): %v", s.metricsAddr, err)
		}
		ops = &http.Server{Handler: operatorHandler(s, metrics), ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: s.readHeaderTimeout, IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	served := make(chan error, 2)
	go func() { served <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	log.Info("serving", slog.String("url", url), slog.String("db", s.db), slog.Int("tenants", len(tokens)),
		slog.Any("agents", srv.Config().Agents.Names()))
	var opsURL string
	if ops != nil {
		go func() { served <- ops.Serve(opsLn) }()
		opsURL = "http://" + opsLn.Addr().String() + s.metricsPath
		log.Info("serving metrics", slog.String("url", opsURL), slog.Bool("pprof", s.pprof), slog.Bool("token", s.metricsTok != ""))
	}
	fmt.Fprintf(stdout, "listening on %s\n", url)
	if ops != nil {
		fmt.Fprintf(stdout, "metrics on %s\n", opsURL)
	}

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
	if ops != nil {
		if err := ops.Shutdown(sctx); err != nil {
			log.Error("close the metrics listener", slog.String("error", err.Error()))
			code = exitFailed
		}
	}
	log.Info("stopped")
	return code
}

// parseACPAgent reads -acp-agent's NAME=COMMAND [ARG...]: the agent works
// in the server's working directory, with the default environment and
// limits (a file, -agents-file, says more).
func parseACPAgent(v string) (acp.Config, error) {
	name, command, ok := strings.Cut(v, "=")
	words := strings.Fields(command)
	if !ok || strings.TrimSpace(name) == "" || len(words) == 0 {
		return acp.Config{}, errors.New("-acp-agent: want NAME=COMMAND [ARG...]")
	}
	cwd, err := os.Getwd()
	if err != nil {
		return acp.Config{}, fmt.Errorf("-acp-agent: %w", err)
	}
	return acp.Config{Name: strings.TrimSpace(name), Command: words[0], Args: words[1:], Cwd: cwd}, nil
}

// zeroMeansNone maps the flag value 0 (no children) to refserver's
// "negative forbids", since refserver reads 0 as "the default".
func zeroMeansNone(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
