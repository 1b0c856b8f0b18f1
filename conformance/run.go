package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentsession/agentsession/gen"
)

// SchemaVersion is the version of the results.json layout (see README.md).
const SchemaVersion = 1

// Result is the outcome of a run; it is also what results.json holds.
type Result struct {
	SchemaVersion int            `json:"schema_version"`
	Suite         SuiteInfo      `json:"suite"`
	Target        TargetInfo     `json:"target"`
	Config        ConfigInfo     `json:"config"`
	StartedAt     time.Time      `json:"started_at"`
	DurationMS    int64          `json:"duration_ms"`
	Verdict       Outcome        `json:"verdict"` // pass or fail
	Summary       Counts         `json:"summary"`
	Groups        []GroupSummary `json:"groups"`
	Levels        []LevelSummary `json:"levels"`
	Checks        []CheckResult  `json:"checks"`
	// Requirements is the verdict on every server requirement of the
	// contract, and Compliance the level the server reached.
	Requirements []RequirementResult `json:"requirements"`
	Compliance   Compliance          `json:"compliance"`
	Cleanup      CleanupInfo         `json:"cleanup"`
	Notes        []string            `json:"notes"`
}

// SuiteInfo names the suite and the contract version it tests.
type SuiteInfo struct {
	Name        string `json:"name"`
	SpecVersion string `json:"spec_version"`
}

// TargetInfo describes the server under test.
type TargetInfo struct {
	BaseURL       string   `json:"base_url"`
	ServerName    string   `json:"server_name"`
	ServerVersion string   `json:"server_version"`
	APIVersion    string   `json:"api_version"`
	EchoAgent     string   `json:"echo_agent"`
	ScriptedAgent string   `json:"scripted_agent"`
	SecondTenant  bool     `json:"second_tenant"`
	Declared      []string `json:"declared"` // the needs the server meets, e.g. feature:streaming
}

// ConfigInfo is the configuration of the run, without the tokens.
type ConfigInfo struct {
	Profile     Profile  `json:"profile"`
	Include     []string `json:"include"`
	Exclude     []string `json:"exclude"`
	Prefix      string   `json:"prefix"`
	Keep        bool     `json:"keep"`
	Concurrency int      `json:"concurrency"`
}

// Counts counts outcomes.
type Counts struct {
	Total int `json:"total"`
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Warn  int `json:"warn"`
	Skip  int `json:"skip"`
	Error int `json:"error"`
}

func (c *Counts) add(o Outcome) {
	c.Total++
	switch o {
	case Pass:
		c.Pass++
	case Fail:
		c.Fail++
	case Warn:
		c.Warn++
	case Skip:
		c.Skip++
	case Error:
		c.Error++
	}
}

// String renders the counts as "12 pass, 1 fail" (zeros left out).
func (c Counts) String() string {
	var parts []string
	for _, p := range []struct {
		n    int
		name string
	}{{c.Pass, "pass"}, {c.Fail, "fail"}, {c.Warn, "warn"}, {c.Skip, "skip"}, {c.Error, "error"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.name))
		}
	}
	if len(parts) == 0 {
		return "nothing run"
	}
	return strings.Join(parts, ", ")
}

// GroupSummary counts the outcomes of one group.
type GroupSummary struct {
	Group string `json:"group"`
	Counts
	DurationMS int64 `json:"duration_ms"`
}

// LevelSummary counts the outcomes of one requirement level.
type LevelSummary struct {
	Level Level `json:"level"`
	Counts
}

// CheckResult is one check's verdict.
type CheckResult struct {
	CheckInfo
	Outcome Outcome `json:"outcome"`
	// SkipKind, for a skipped check, says why (see SkipKind).
	SkipKind   SkipKind `json:"skip_kind,omitempty"`
	Message    string   `json:"message"`
	Violations []string `json:"violations"`
	Notes      []string `json:"notes"`
	DurationMS int64    `json:"duration_ms"`
	Requests   int      `json:"requests"`
	// Culprit is the exchange that showed the failure (fail, warn, error).
	Culprit *Exchange `json:"culprit,omitempty"`
	// Exchanges are the check's requests, for fail, warn and error only
	// (at most maxReportedExchanges).
	Exchanges []*Exchange `json:"exchanges,omitempty"`
}

// CleanupInfo says what the run left behind.
type CleanupInfo struct {
	Closed   int      `json:"closed"`
	Kept     int      `json:"kept"`
	Problems []string `json:"problems"`
}

// SkipKind says why a check was skipped, which decides what its skip means
// for its requirements.
type SkipKind string

// The kinds of skip.
const (
	// SkipNotDeclared: the check needs a feature the server does not
	// declare; its requirements do not apply.
	SkipNotDeclared SkipKind = "not_declared"
	// SkipNotApplicable: the server has nothing the check could test (for
	// example no agent with a fixed script); its requirements do not apply.
	SkipNotApplicable SkipKind = "not_applicable"
	// SkipUnverifiable: the run could not test it (no second token, no
	// scripted agent, no restart hook, a limit too large to fill); its
	// requirements stay unverified.
	SkipUnverifiable SkipKind = "unverifiable"
)

const maxReportedExchanges = 30

// Passed reports whether every MUST check that ran passed.
func (r *Result) Passed() bool { return r.Verdict == Pass }

// ExitCode is the binary's exit status for this result: 0 when every MUST
// check passed, 1 otherwise.
func (r *Result) ExitCode() int {
	if r.Passed() {
		return 0
	}
	return 1
}

// Problems returns the checks that did not pass or skip, in report order.
func (r *Result) Problems() []CheckResult {
	var out []CheckResult
	for _, c := range r.Checks {
		if c.Outcome == Fail || c.Outcome == Warn || c.Outcome == Error {
			out = append(out, c)
		}
	}
	return out
}

// Check returns the result of the check with this ID.
func (r *Result) Check(id string) (CheckResult, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return CheckResult{}, false
}

// Run runs the selected checks against the server cfg names and returns the
// verdict. The error is non-nil only when the run could not happen or was
// cut short: it wraps ErrConfig for a configuration problem (bad settings,
// unreachable server, rejected token) and ctx's error when ctx ended first
// (the sessions created so far are still closed). When cfg.ReportDir is set the reports are written
// there too.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	selected, err := selectChecks(cfg.Profile, cfg.Include, cfg.Exclude)
	if err != nil {
		return nil, err
	}
	v, err := newValidator(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &client{cfg: cfg, v: v}
	start := time.Now()
	e, notes, err := preflight(ctx, c)
	if err != nil {
		return nil, err
	}
	res := &Result{
		SchemaVersion: SchemaVersion,
		Suite:         SuiteInfo{Name: "agentsession-conformance", SpecVersion: SpecVersion()},
		Target: TargetInfo{
			BaseURL: cfg.BaseURL, ServerName: e.caps.Server.Name, ServerVersion: e.caps.Server.Version,
			APIVersion: e.caps.APIVersion, EchoAgent: e.echo, ScriptedAgent: e.scripted,
			SecondTenant: e.hasSecond, Declared: e.declared(),
		},
		Config: ConfigInfo{
			Profile: cfg.Profile, Include: nonNilStrings(cfg.Include), Exclude: nonNilStrings(cfg.Exclude),
			Prefix: cfg.Prefix, Keep: cfg.Keep, Concurrency: cfg.Concurrency,
		},
		StartedAt: start.UTC(),
		Notes:     nonNilStrings(notes),
		Checks:    make([]CheckResult, len(selected)),
		Cleanup:   CleanupInfo{Problems: []string{}},
	}
	prog := newProgress(cfg, selected, res)

	var normal, serial, post []int
	for i, chk := range selected {
		switch {
		case chk.post:
			post = append(post, i)
		case chk.serial:
			serial = append(serial, i)
		default:
			normal = append(normal, i)
		}
	}
	var cleanupMu sync.Mutex
	runOne := func(i int) {
		cr, closed, kept, problems := runCheck(ctx, c, e, selected[i])
		res.Checks[i] = cr
		cleanupMu.Lock()
		res.Cleanup.Closed += closed
		res.Cleanup.Kept += kept
		res.Cleanup.Problems = append(res.Cleanup.Problems, problems...)
		cleanupMu.Unlock()
		prog.done(i)
	}
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	for _, i := range normal {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			runOne(i)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		// Interrupted: no verdict (the checks cut short would read as failures).
		return nil, fmt.Errorf("run interrupted: %w", err)
	}
	// The checks that restart the server run alone, after the others; the
	// post-run checks look at every exchange of the run, so they go last.
	for _, i := range append(serial, post...) {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("run interrupted: %w", ctx.Err())
		}
		runOne(i)
	}
	slices.Sort(res.Cleanup.Problems)

	res.DurationMS = time.Since(start).Milliseconds()
	res.summarize(prog.groupDurations())
	res.Requirements, res.Compliance = assess(res.Checks, e)
	prog.summary()
	if cfg.ReportDir != "" {
		if err := WriteReports(res, cfg.ReportDir); err != nil {
			return res, fmt.Errorf("write reports: %w", err)
		}
	}
	return res, nil
}

// runCheck runs one check with its own T and time limit, then cleans up.
func runCheck(ctx context.Context, c *client, e *env, chk *check) (cr CheckResult, closed, kept int, problems []string) {
	cr = CheckResult{CheckInfo: chk.CheckInfo, Outcome: Skip, Violations: []string{}, Notes: []string{}}
	if missing := e.missing(chk.Requires); len(missing) > 0 {
		cr.SkipKind = SkipNotDeclared
		cr.Message = "not declared by the server: " + strings.Join(missing, ", ")
		for _, n := range missing {
			if slices.Contains(harnessNeeds, Need(n)) {
				cr.SkipKind = SkipUnverifiable
				cr.Message = "not available to this run: " + strings.Join(missing, ", ")
			}
		}
		return cr, 0, 0, nil
	}
	t := &tester{c: c, chk: chk, env: e}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, c.cfg.CheckTimeout)
	err := safeRun(cctx, t, chk)
	timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded)
	cancel()
	cr.DurationMS = time.Since(start).Milliseconds()
	if c.cfg.Keep {
		t.mu.Lock()
		kept = len(t.created)
		t.mu.Unlock()
	} else {
		// Cleanup gets its own time, even when the run is interrupted, so
		// that a check that ran out of time still closes what it opened.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*c.cfg.RequestTimeout)
		closed, problems = t.cleanup(cctx)
		cancel()
	}

	cr.Violations = nonNilStrings(t.violations())
	t.mu.Lock()
	cr.Notes = nonNilStrings(t.notes)
	cr.Requests = len(t.exchanges)
	exchanges := t.exchanges
	t.mu.Unlock()

	switch {
	case errors.Is(err, ErrSkip):
		cr.Outcome, cr.Message = Skip, strings.TrimPrefix(err.Error(), ErrSkip.Error()+": ")
		cr.SkipKind = SkipUnverifiable
		if errors.Is(err, ErrNotApplicable) {
			cr.SkipKind = SkipNotApplicable
		}
		return cr, closed, kept, problems
	case err == nil && len(cr.Violations) == 0:
		cr.Outcome = Pass
		return cr, closed, kept, problems
	case err == nil:
		cr.Outcome, cr.Message = Fail, "a response broke the contract's schema"
	case errors.Is(err, ErrFail):
		cr.Outcome, cr.Message = Fail, c.redact(err.Error())
		if timedOut {
			cr.Message += fmt.Sprintf(" (the check ran out of its %s)", c.cfg.CheckTimeout)
		}
	case timedOut:
		cr.Outcome, cr.Message = Fail, fmt.Sprintf("the check did not finish within %s: %s", c.cfg.CheckTimeout, c.redact(err.Error()))
	default:
		cr.Outcome, cr.Message = Error, c.redact(err.Error())
	}
	if cr.Outcome == Fail && chk.Level != Must {
		cr.Outcome = Warn
	}
	cr.Culprit = exchangeOf(err)
	if cr.Culprit == nil {
		for _, ex := range exchanges {
			if len(ex.Violations) > 0 {
				cr.Culprit = ex
				break
			}
		}
	}
	if cr.Culprit == nil && len(exchanges) > 0 {
		cr.Culprit = exchanges[len(exchanges)-1]
	}
	if len(exchanges) > maxReportedExchanges {
		exchanges = exchanges[len(exchanges)-maxReportedExchanges:]
	}
	cr.Exchanges = exchanges
	return cr, closed, kept, problems
}

// safeRun runs a check, turning a panic into an Error outcome.
func safeRun(ctx context.Context, t *tester, chk *check) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the check panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return chk.run(ctx, t)
}

// preflight reads the health and capabilities the checks adapt to. Anything
// that makes testing impossible is a configuration error.
func preflight(ctx context.Context, c *client) (*env, []string, error) {
	e := &env{prefix: c.cfg.Prefix, hasSecond: c.cfg.Token2 != "", restart: c.cfg.Restart}
	var notes []string
	resp, _, err := c.roundTrip(ctx, request{Method: http.MethodGet, Path: "/v1/health", As: asAnonymous}, "preflight", nil)
	if err != nil {
		return nil, nil, configErrorf("cannot reach the server at %s: %v", c.cfg.BaseURL, err)
	}
	if resp.Status == http.StatusNotFound {
		return nil, nil, configErrorf("%s/v1/health answers 404: is the base URL right?", c.cfg.BaseURL)
	}
	resp, _, err = c.roundTrip(ctx, request{Method: http.MethodGet, Path: "/v1/capabilities"}, "preflight", nil)
	if err != nil {
		return nil, nil, configErrorf("cannot reach the server at %s: %v", c.cfg.BaseURL, err)
	}
	if resp.Status == http.StatusUnauthorized {
		return nil, nil, configErrorf("the server rejects the token (401 on getCapabilities)")
	}
	if err := resp.Decode(&e.caps); err != nil || resp.Status != http.StatusOK {
		// Test everything rather than nothing: SVC-001 reports the problem.
		notes = append(notes, fmt.Sprintf("getCapabilities answered %d with an unreadable document: every optional feature is assumed", resp.Status))
		e.caps = gen.Capabilities{Features: gen.Features{
			Streaming: true, Resume: true, Files: true, Lifecycle: true, Children: true, Replay: true, Idempotency: true,
			BusyPolicies: []gen.BusyPolicy{gen.BusyPolicyReject, gen.BusyPolicyEnqueue, gen.BusyPolicyInterrupt},
		}}
		e.caps.Limits = gen.Limits{MaxBodyBytes: 1 << 20, MaxFileBytes: 10 << 20, DefaultPageSize: 20, MaxPageSize: 100, MaxChildren: 5, MaxDepth: 1, MaxQueuedTurns: 16}
	}
	if c.cfg.Token2 != "" {
		resp, _, err := c.roundTrip(ctx, request{Method: http.MethodGet, Path: "/v1/capabilities", As: asSecond}, "preflight", nil)
		if err != nil {
			return nil, nil, configErrorf("cannot reach the server at %s: %v", c.cfg.BaseURL, err)
		}
		if resp.Status == http.StatusUnauthorized {
			return nil, nil, configErrorf("the server rejects the second token (401 on getCapabilities)")
		}
	}
	agentKind := map[string]gen.AgentKind{}
	for _, a := range e.caps.Agents {
		agentKind[a.Name] = a.Kind
	}
	pick := func(configured string, kind gen.AgentKind) (string, error) {
		if configured != "" {
			k, ok := agentKind[configured]
			switch {
			case len(e.caps.Agents) == 0:
			case !ok, k != kind && (kind != gen.AgentKindEcho || k != gen.AgentKindModel):
				return "", configErrorf("agent %q is not listed by getCapabilities as kind %s", configured, kind)
			case k != kind:
				// A real agent that answers as echo does (a bridged test
				// agent): the checks hold it to echo's behaviour.
				notes = append(notes, fmt.Sprintf("agent %q, of kind %s, plays the echo agent: it must answer as echo does", configured, k))
			}
			return configured, nil
		}
		for _, a := range e.caps.Agents {
			// An agent with a fixed script plays it whatever the prompt:
			// it cannot play the suite's scripts.
			if a.Kind == kind && len(a.Script.Steps) == 0 {
				return a.Name, nil
			}
		}
		return "", nil
	}
	if e.echo, err = pick(c.cfg.EchoAgent, gen.AgentKindEcho); err != nil {
		return nil, nil, err
	}
	if e.echo == "" {
		if len(e.caps.Agents) > 0 {
			return nil, nil, configErrorf("the server lists no agent of kind echo; the suite needs one (see conformance/README.md)")
		}
		e.echo = "echo"
	}
	if e.scripted, err = pick(c.cfg.ScriptedAgent, gen.AgentKindScripted); err != nil {
		return nil, nil, err
	}
	if e.scripted == "" {
		notes = append(notes, "no agent of kind scripted: the checks that need one are skipped")
	}
	if !e.hasSecond {
		notes = append(notes, "no second token: the isolation checks are skipped")
	}
	return e, notes, nil
}

// has reports whether the server and configuration meet a need.
func (e *env) has(n Need) bool {
	f := e.caps.Features
	switch n {
	case NeedSecondToken:
		return e.hasSecond
	case NeedScripted:
		return e.scripted != ""
	case NeedRestart:
		return e.restart != nil
	case NeedStreaming:
		return f.Streaming
	case NeedResume:
		return f.Resume
	case NeedFiles:
		return f.Files
	case NeedLifecycle:
		return f.Lifecycle
	case NeedChildren:
		return f.Children
	case NeedReplay:
		return f.Replay
	case NeedIdempotency:
		return f.Idempotency
	case NeedEnqueue:
		return slices.Contains(f.BusyPolicies, gen.BusyPolicyEnqueue)
	case NeedInterrupt:
		return slices.Contains(f.BusyPolicies, gen.BusyPolicyInterrupt)
	case NeedPermissions:
		return f.Permissions
	case NeedSessionStream:
		return f.SessionStream
	case NeedSteer:
		return slices.Contains(f.BusyPolicies, gen.BusyPolicySteer)
	}
	return false
}

func (e *env) missing(needs []Need) []string {
	var out []string
	for _, n := range needs {
		if !e.has(n) {
			out = append(out, string(n))
		}
	}
	return out
}

func (e *env) declared() []string {
	out := []string{}
	for _, n := range allNeeds {
		if e.has(n) {
			out = append(out, string(n))
		}
	}
	return out
}

// summarize fills the counts and the verdict.
func (r *Result) summarize(durations map[string]time.Duration) {
	r.Verdict = Pass
	groups := map[string]*GroupSummary{}
	levels := map[Level]*LevelSummary{}
	for _, c := range r.Checks {
		r.Summary.add(c.Outcome)
		if groups[c.Group] == nil {
			groups[c.Group] = &GroupSummary{Group: c.Group, DurationMS: durations[c.Group].Milliseconds()}
		}
		groups[c.Group].add(c.Outcome)
		if levels[c.Level] == nil {
			levels[c.Level] = &LevelSummary{Level: c.Level}
		}
		levels[c.Level].add(c.Outcome)
		if c.Outcome == Fail || (c.Outcome == Error && c.Level == Must) {
			r.Verdict = Fail
		}
	}
	for _, g := range groupOrder {
		if s := groups[g]; s != nil {
			r.Groups = append(r.Groups, *s)
		}
	}
	for _, l := range []Level{Must, Should, May} {
		if s := levels[l]; s != nil {
			r.Levels = append(r.Levels, *s)
		}
	}
}

// nonNilStrings returns s, or an empty list for nil, so that results.json
// always has the member.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
