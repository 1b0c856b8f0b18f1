package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/agentsession/agentsession/internal/faultproxy"
	"github.com/agentsession/agentsession/scenarios/internal/format"
)

// Config says what to run.
type Config struct {
	// Root is the repository's root directory.
	Root string
	// Go is the go command that builds the server and the Go runner.
	Go string
	// SDKs are the runners to run, in order; the first is the reference the
	// others are compared with.
	SDKs []string
	// Runners are the command lines of the runners (split on spaces, run
	// from Root); the README's flags are appended. An empty "go" entry
	// means the Go runner built from scenarios/runners/go.
	Runners map[string]string
	// Profiles are the fault profiles to run (scenarios/faults/NAME.yaml);
	// empty means all. direct is the baseline of the server-state checks.
	Profiles []string
	// Only runs one scenario.
	Only string
	// Out is the directory of the results, logs and summary.json.
	Out string
	// Parallel bounds the runs (SDK × profile) at a time; 0 runs them all
	// at once. Each run has its own proxy, so the order of one run's
	// requests, and so its faults, never depends on another's.
	Parallel int
	// RunnerTimeout bounds one runner.
	RunnerTimeout time.Duration
}

// DefaultRunners are the runners' command lines unless configured.
var DefaultRunners = map[string]string{
	"go": "",
	"ts": "node clients/typescript/build/scenarios/runner.js",
	"py": "clients/python/.venv/bin/python clients/python/scenarios/runner.py",
}

const directProfile = "direct"

type profile struct {
	name string
	cfg  faultproxy.Config
}

// job is one runner under one profile.
type job struct {
	sdk, profile, run string
	resultPath        string
	logPath           string
	proxyLogPath      string
	err               error // the runner could not run or exited non-zero
	result            *format.Result
	stats             faultproxy.Stats
	elapsed           time.Duration
	secretLeak        []string // files that hold a token
}

// Orchestrate runs the suite and returns its report; the error is for a
// suite that could not run at all (a scenario's failure is in the report).
func Orchestrate(ctx context.Context, cfg Config, w io.Writer) (*Report, error) {
	start := time.Now()
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	scenarios, err := loadScenarios(filepath.Join(cfg.Root, "scenarios"))
	if err != nil {
		return nil, err
	}
	if cfg.Only != "" {
		var kept []format.Scenario
		for _, sc := range scenarios {
			if sc.ID == cfg.Only {
				kept = append(kept, sc)
			}
		}
		if len(kept) == 0 {
			return nil, fmt.Errorf("no scenario %q", cfg.Only)
		}
		scenarios = kept
	}
	profiles, err := loadProfiles(cfg, scenarios)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	bin, err := os.MkdirTemp("", "scenarios-bin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bin)
	fmt.Fprintf(w, "building the reference server%s...\n", map[bool]string{true: " and the Go runner", false: ""}[cfg.buildsGoRunner()])
	if err := build(ctx, cfg, bin); err != nil {
		return nil, err
	}
	tokens := map[string]string{"a": "scen-" + randomString(20), "b": "scen-" + randomString(20)}
	srv, err := startServer(ctx, filepath.Join(bin, "agentsession-server"), tokens, filepath.Join(cfg.Out, "server.log"))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	fmt.Fprintf(w, "server on %s; running %d scenarios × %d profiles (%s) × %d SDKs (%s)\n", srv.url,
		len(scenarios), len(profiles), profileNames(profiles), len(cfg.SDKs), strings.Join(cfg.SDKs, ","))

	var jobs []*job
	for _, sdk := range cfg.SDKs {
		for _, p := range profiles {
			base := filepath.Join(cfg.Out, sdk+"-"+p.name)
			jobs = append(jobs, &job{sdk: sdk, profile: p.name, run: "r" + randomString(7),
				resultPath: base + ".json", logPath: base + ".log", proxyLogPath: base + ".proxy.log"})
		}
	}
	profileOf := map[string]profile{}
	for _, p := range profiles {
		profileOf[p.name] = p
	}
	parallel := cfg.Parallel
	if parallel <= 0 {
		parallel = len(jobs)
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			j.runUnder(ctx, cfg, bin, srv.url, tokens, profileOf[j.profile])
			status := "done"
			if j.err != nil {
				status = "FAILED: " + redact(j.err.Error(), tokens)
			}
			fmt.Fprintf(w, "  %-3s %-9s run %s: %s in %.1fs\n", j.sdk, j.profile, j.run, status, j.elapsed.Seconds())
		}()
	}
	wg.Wait()

	runs := make([]string, len(jobs))
	for i, j := range jobs {
		runs[i] = j.run
	}
	state, err := readServer(ctx, srv.url, tokens, runs)
	if err != nil {
		return nil, fmt.Errorf("reading the server's state: %w", err)
	}
	rep := evaluate(cfg, scenarios, jobs, state)
	rep.Seconds = time.Since(start).Seconds()
	for i := range rep.Failures {
		rep.Failures[i].Message = redact(rep.Failures[i].Message, tokens)
	}
	rep.print(w)
	rep.Path = filepath.Join(cfg.Out, "summary.json")
	if err := rep.writeJSON(rep.Path); err != nil {
		return rep, err
	}
	fmt.Fprintf(w, "summary: %s\n", rep.Path)
	return rep, nil
}

// loadScenarios reads the scenarios and refuses the suite when one uses an
// operation or `with` member the format does not have: better one clear
// message naming the file and step than three runners aborting it.
func loadScenarios(dir string) ([]format.Scenario, error) {
	scenarios, err := format.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, sc := range scenarios {
		if err := sc.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", dir, err))
		}
	}
	return scenarios, errors.Join(errs...)
}

func (cfg *Config) fill() error {
	if cfg.Root == "" {
		root, err := findRoot()
		if err != nil {
			return err
		}
		cfg.Root = root
	}
	if cfg.Go == "" {
		cfg.Go = "go"
	}
	if len(cfg.SDKs) == 0 {
		cfg.SDKs = []string{"go"}
	}
	runners := map[string]string{}
	for k, v := range DefaultRunners {
		runners[k] = v
	}
	for k, v := range cfg.Runners {
		runners[k] = v
	}
	cfg.Runners = runners
	seen := map[string]bool{}
	for _, sdk := range cfg.SDKs {
		cmd, ok := cfg.Runners[sdk]
		if !ok || (cmd == "" && sdk != "go") {
			return fmt.Errorf("no runner command for SDK %q (set SCENARIO_RUNNER_%s)", sdk, strings.ToUpper(sdk))
		}
		if seen[sdk] {
			return fmt.Errorf("SDK %q listed twice", sdk)
		}
		seen[sdk] = true
	}
	if cfg.Out == "" {
		cfg.Out = filepath.Join(cfg.Root, "out", "scenarios")
	}
	if cfg.RunnerTimeout == 0 {
		cfg.RunnerTimeout = 10 * time.Minute
	}
	return nil
}

func (cfg *Config) buildsGoRunner() bool {
	for _, s := range cfg.SDKs {
		if s == "go" && cfg.Runners["go"] == "" {
			return true
		}
	}
	return false
}

// findRoot walks up from the working directory to the module's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/agentsession/agentsession\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the agentsession repository (no go.mod found)")
		}
		dir = parent
	}
}

// loadProfiles reads the fault profiles and adds every scenario's own rules
// to each (the proxy always carries them).
func loadProfiles(cfg Config, scenarios []format.Scenario) ([]profile, error) {
	var own []faultproxy.Rule
	for _, sc := range scenarios {
		if len(sc.Faults) == 0 {
			continue
		}
		doc, err := json.Marshal(map[string]any{"rules": sc.Faults})
		if err != nil {
			return nil, err
		}
		c, err := faultproxy.ParseConfig(doc)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: faults: %w", sc.ID, err)
		}
		own = append(own, c.Rules...)
	}
	files, err := filepath.Glob(filepath.Join(cfg.Root, "scenarios", "faults", "*.yaml"))
	if err != nil {
		return nil, err
	}
	all := map[string]profile{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		c, err := faultproxy.ParseConfig(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		c.Rules = append(append([]faultproxy.Rule{}, own...), c.Rules...)
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("%s with the scenarios' rules: %w", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		all[name] = profile{name: name, cfg: c}
	}
	names := cfg.Profiles
	if len(names) == 0 {
		names = sortedKeys(all)
	}
	var out []profile
	for _, n := range names {
		p, ok := all[n]
		if !ok {
			return nil, fmt.Errorf("no fault profile %q in scenarios/faults", n)
		}
		out = append(out, p)
	}
	// direct first: it is the baseline the others are compared with.
	sort.SliceStable(out, func(i, j int) bool { return out[i].name == directProfile && out[j].name != directProfile })
	return out, nil
}

func profileNames(ps []profile) string {
	n := make([]string, len(ps))
	for i, p := range ps {
		n[i] = p.name
	}
	return strings.Join(n, ",")
}

func build(ctx context.Context, cfg Config, bin string) error {
	targets := [][2]string{{"agentsession-server", "./cmd/agentsession-server"}}
	if cfg.buildsGoRunner() {
		targets = append(targets, [2]string{"go-runner", "./scenarios/runners/go"})
	}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, cfg.Go, "build", "-o", filepath.Join(bin, t[0]), t[1])
			cmd.Dir = cfg.Root
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go build %s: %v\n%s", t[1], err, out)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

type server struct {
	url  string
	cmd  *exec.Cmd
	logf *os.File
}

// startServer starts the reference server on a free port and waits for its
// "listening on" line.
func startServer(ctx context.Context, path string, tokens map[string]string, logPath string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, "-addr", "127.0.0.1:0", "-db", ":memory:",
		"-tokens", tokens["a"]+","+tokens["b"], "-log-level", "warn")
	cmd.Stderr = logf
	cmd.Env = cleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	s := &server{cmd: cmd, logf: logf}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				found <- strings.TrimSpace(u)
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			s.stop()
			return nil, fmt.Errorf("the server exited before listening (see %s)", logPath)
		}
		s.url = u
		return s, nil
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, errors.New("the server did not say it was listening within 30s")
	}
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	s.logf.Close()
}

// cleanEnv is the environment without the SDKs' own variables, so that
// nothing but the command line tells a runner where to go.
func cleanEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AGENTSESSION_") {
			env = append(env, e)
		}
	}
	return env
}

// runUnder runs the job's runner through its own proxy.
func (j *job) runUnder(ctx context.Context, cfg Config, bin, serverURL string, tokens map[string]string, p profile) {
	start := time.Now()
	defer func() { j.elapsed = time.Since(start) }()
	target, err := url.Parse(serverURL)
	if err != nil {
		j.err = err
		return
	}
	plog, err := os.Create(j.proxyLogPath)
	if err != nil {
		j.err = err
		return
	}
	defer plog.Close()
	proxy, err := faultproxy.New(target, p.cfg,
		faultproxy.WithLogger(slog.New(slog.NewTextHandler(plog, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		j.err = err
		return
	}
	ps, err := faultproxy.Listen("127.0.0.1:0", proxy)
	if err != nil {
		j.err = err
		return
	}
	defer ps.Close()

	argv := strings.Fields(cfg.Runners[j.sdk])
	if j.sdk == "go" && len(argv) == 0 {
		argv = []string{filepath.Join(bin, "go-runner")}
	}
	// A relative program path is the repository's (like every path here).
	if strings.Contains(argv[0], "/") && !filepath.IsAbs(argv[0]) {
		argv[0] = filepath.Join(cfg.Root, argv[0])
	}
	argv = append(argv, "--base-url", ps.URL, "--token", tokens["a"], "--token2", tokens["b"],
		"--run", j.run, "--scenarios", filepath.Join(cfg.Root, "scenarios"), "--out", j.resultPath)
	if cfg.Only != "" {
		argv = append(argv, "--only", cfg.Only)
	}
	_ = os.Remove(j.resultPath)
	logf, err := os.Create(j.logPath)
	if err != nil {
		j.err = err
		return
	}
	defer logf.Close()
	rctx, cancel := context.WithTimeout(ctx, cfg.RunnerTimeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, argv[0], argv[1:]...)
	cmd.Dir = cfg.Root
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	j.stats = proxy.Stats()
	if runErr != nil {
		if rctx.Err() != nil {
			runErr = fmt.Errorf("%s runner timed out after %s", j.sdk, cfg.RunnerTimeout)
		}
		j.err = fmt.Errorf("%s runner: %v (log: %s)", j.sdk, runErr, j.logPath)
	}
	for _, f := range []string{j.resultPath, j.logPath} {
		if b, err := os.ReadFile(f); err == nil && (bytes.Contains(b, []byte(tokens["a"])) || bytes.Contains(b, []byte(tokens["b"]))) {
			j.secretLeak = append(j.secretLeak, f)
		}
	}
	if j.err != nil {
		return
	}
	b, err := os.ReadFile(j.resultPath)
	if err != nil {
		j.err = fmt.Errorf("%s runner wrote no result file: %v (log: %s)", j.sdk, err, j.logPath)
		return
	}
	var res format.Result
	if err := json.Unmarshal(b, &res); err != nil {
		j.err = fmt.Errorf("%s: not a result file: %v", j.resultPath, err)
		return
	}
	j.result = &res
}

func randomString(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// redact removes the tokens from a text that will be printed.
func redact(s string, tokens map[string]string) string {
	for _, t := range tokens {
		if t != "" {
			s = strings.ReplaceAll(s, t, "<token>")
		}
	}
	return s
}
