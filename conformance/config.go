package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Profile selects checks by requirement level.
type Profile string

// The profiles.
const (
	ProfileCore Profile = "core" // MUST checks only
	ProfileFull Profile = "full" // every check (the default)
)

// Config says which server to test and how. The zero value of every field
// but BaseURL and Token has a sensible default (see the field comments).
type Config struct {
	// BaseURL is the server's root, without the /v1 prefix:
	// "http://127.0.0.1:8080" or "https://api.example.com/agents".
	BaseURL string `yaml:"base_url"`
	// Token is the bearer token of the tenant the suite works as. Required.
	Token string `yaml:"token"`
	// Token2 is a second tenant's token; it enables the isolation checks.
	Token2 string `yaml:"token2"`

	// Profile is "core" (MUST checks only) or "full" (default).
	Profile Profile `yaml:"profile"`
	// Include keeps only these groups or check IDs ("auth", "SESS-001",
	// "LIFE-0*"); empty keeps everything. Exclude drops groups or IDs and
	// wins over Include.
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`

	// EchoAgent and ScriptedAgent name the agents to use. Empty picks the first
	// agent of kind echo / scripted that getCapabilities lists. The checks
	// that need a scripted agent are skipped when there is none.
	EchoAgent     string `yaml:"echo_agent"`
	ScriptedAgent string `yaml:"scripted_agent"`

	// CheckTimeout bounds one check (default 60s); RequestTimeout one HTTP
	// request (default 20s).
	CheckTimeout   time.Duration `yaml:"check_timeout"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// BodyReadTimeout is the server's bound on the time a request body takes
	// to arrive, when it has one and you know it: the check that a body
	// past it is answered 408 waits that long (at most 5 s; otherwise, and
	// when unset, the check is skipped). The contract has no member that
	// declares it.
	BodyReadTimeout time.Duration `yaml:"body_read_timeout"`
	// Concurrency is how many checks run at once (default 8). Checks never
	// share sessions, so any value is safe; 1 makes the run sequential.
	Concurrency int `yaml:"concurrency"`

	// Prefix marks everything the run creates: it is the start of every
	// plan_slug and the value of meta.conformance_run. Default: "cf-" and 8
	// random hex digits.
	Prefix string `yaml:"prefix"`
	// Keep leaves the sessions the run created open for debugging; by default
	// every one of them is closed at the end of its check.
	Keep bool `yaml:"keep"`

	// ReportDir, when set, is where Run writes results.json, junit.xml and
	// report.html.
	ReportDir string `yaml:"report_dir"`

	// RestartCommand, when set, is a shell command (sh -c) that restarts the
	// server under test, keeping its data: it enables the checks that a
	// turn running at a restart is ended and that idempotency keys survive
	// one. It must return once the server has stopped and started again (the
	// suite then waits for getHealth). Restart does the same from Go and wins
	// over RestartCommand.
	RestartCommand string                          `yaml:"restart_command"`
	Restart        func(ctx context.Context) error `yaml:"-"`

	// HTTPClient sends the requests (default: a client with its own pooled
	// transport). Its Timeout should be zero: RequestTimeout applies.
	HTTPClient *http.Client `yaml:"-"`
	// Progress receives one line per group as groups finish, then a summary;
	// nil prints nothing.
	Progress io.Writer `yaml:"-"`
}

// ErrConfig marks configuration errors (exit status 2 in the binary): a
// missing base URL or token, a bad profile or filter, an unreachable server,
// a token the server rejects.
var ErrConfig = errors.New("configuration error")

func configErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
}

// The environment variables LoadConfig reads.
const (
	EnvPrefix = "AGENTSESSION_CONFORMANCE_"
	// EnvConfigFile names the YAML file when none is given explicitly.
	EnvConfigFile = EnvPrefix + "CONFIG"
)

// LoadConfig builds a Config from an optional YAML file (empty path: none,
// unless AGENTSESSION_CONFORMANCE_CONFIG names one) overlaid with the
// AGENTSESSION_CONFORMANCE_* environment variables read through getenv
// (os.Getenv when nil). Environment wins over the file; defaults fill what
// neither sets when Run starts. The binary applies its flags on top, so the
// precedence is flags > environment > file > defaults.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var cfg Config
	if path == "" {
		path = getenv(EnvConfigFile)
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, configErrorf("config file: %v", err)
		}
		var file fileConfig
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
			return cfg, configErrorf("config file %s: %v", path, err)
		}
		if err := file.apply(&cfg); err != nil {
			return cfg, configErrorf("config file %s: %v", path, err)
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// fileConfig is the YAML file's shape: durations are strings ("30s").
type fileConfig struct {
	BaseURL         string   `yaml:"base_url"`
	Token           string   `yaml:"token"`
	Token2          string   `yaml:"token2"`
	Profile         string   `yaml:"profile"`
	Include         []string `yaml:"include"`
	Exclude         []string `yaml:"exclude"`
	EchoAgent       string   `yaml:"echo_agent"`
	ScriptedAgent   string   `yaml:"scripted_agent"`
	CheckTimeout    string   `yaml:"check_timeout"`
	RequestTimeout  string   `yaml:"request_timeout"`
	BodyReadTimeout string   `yaml:"body_read_timeout"`
	Concurrency     int      `yaml:"concurrency"`
	Prefix          string   `yaml:"prefix"`
	Keep            bool     `yaml:"keep"`
	ReportDir       string   `yaml:"report_dir"`
	RestartCommand  string   `yaml:"restart_command"`
}

func (f fileConfig) apply(cfg *Config) error {
	cfg.BaseURL, cfg.Token, cfg.Token2 = f.BaseURL, f.Token, f.Token2
	cfg.Profile = Profile(f.Profile)
	cfg.Include, cfg.Exclude = f.Include, f.Exclude
	cfg.EchoAgent, cfg.ScriptedAgent = f.EchoAgent, f.ScriptedAgent
	cfg.Concurrency, cfg.Prefix, cfg.Keep, cfg.ReportDir = f.Concurrency, f.Prefix, f.Keep, f.ReportDir
	cfg.RestartCommand = f.RestartCommand
	var err error
	if f.CheckTimeout != "" {
		if cfg.CheckTimeout, err = time.ParseDuration(f.CheckTimeout); err != nil {
			return fmt.Errorf("check_timeout: %v", err)
		}
	}
	if f.RequestTimeout != "" {
		if cfg.RequestTimeout, err = time.ParseDuration(f.RequestTimeout); err != nil {
			return fmt.Errorf("request_timeout: %v", err)
		}
	}
	if f.BodyReadTimeout != "" {
		if cfg.BodyReadTimeout, err = time.ParseDuration(f.BodyReadTimeout); err != nil {
			return fmt.Errorf("body_read_timeout: %v", err)
		}
	}
	return nil
}

// EnvVars lists the environment variables LoadConfig reads and what they set;
// the binary prints it in its usage text.
var EnvVars = [][2]string{
	{EnvPrefix + "BASE_URL", "the server's base URL"},
	{EnvPrefix + "TOKEN", "the bearer token (tenant 1)"},
	{EnvPrefix + "TOKEN2", "a second tenant's token: enables the isolation checks"},
	{EnvPrefix + "PROFILE", "core | full"},
	{EnvPrefix + "INCLUDE", "comma-separated groups or check IDs to run"},
	{EnvPrefix + "EXCLUDE", "comma-separated groups or check IDs to leave out"},
	{EnvPrefix + "ECHO_AGENT", "the echo agent's name"},
	{EnvPrefix + "SCRIPTED_AGENT", "the scripted agent's name"},
	{EnvPrefix + "CHECK_TIMEOUT", "time limit of one check (Go duration)"},
	{EnvPrefix + "REQUEST_TIMEOUT", "time limit of one request (Go duration)"},
	{EnvPrefix + "BODY_READ_TIMEOUT", "the server's bound on reading a request body (Go duration; enables the 408 check when at most 5s)"},
	{EnvPrefix + "CONCURRENCY", "checks run at once"},
	{EnvPrefix + "PREFIX", "prefix of everything the run creates"},
	{EnvPrefix + "KEEP", "true: keep the sessions the run created"},
	{EnvPrefix + "REPORT_DIR", "where to write the reports"},
	{EnvPrefix + "RESTART_COMMAND", "shell command that restarts the server (enables the restart checks)"},
	{EnvConfigFile, "the YAML config file"},
}

func applyEnv(cfg *Config, getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := getenv(EnvPrefix + name); v != "" {
			*dst = v
		}
	}
	list := func(name string, dst *[]string) {
		if v := getenv(EnvPrefix + name); v != "" {
			*dst = SplitList(v)
		}
	}
	dur := func(name string, dst *time.Duration) error {
		if v := getenv(EnvPrefix + name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return configErrorf("%s%s: %v", EnvPrefix, name, err)
			}
			*dst = d
		}
		return nil
	}
	str("BASE_URL", &cfg.BaseURL)
	str("TOKEN", &cfg.Token)
	str("TOKEN2", &cfg.Token2)
	var profile string
	str("PROFILE", &profile)
	if profile != "" {
		cfg.Profile = Profile(profile)
	}
	list("INCLUDE", &cfg.Include)
	list("EXCLUDE", &cfg.Exclude)
	str("ECHO_AGENT", &cfg.EchoAgent)
	str("SCRIPTED_AGENT", &cfg.ScriptedAgent)
	if err := dur("CHECK_TIMEOUT", &cfg.CheckTimeout); err != nil {
		return err
	}
	if err := dur("REQUEST_TIMEOUT", &cfg.RequestTimeout); err != nil {
		return err
	}
	if err := dur("BODY_READ_TIMEOUT", &cfg.BodyReadTimeout); err != nil {
		return err
	}
	if v := getenv(EnvPrefix + "CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return configErrorf("%sCONCURRENCY: %v", EnvPrefix, err)
		}
		cfg.Concurrency = n
	}
	str("PREFIX", &cfg.Prefix)
	if v := getenv(EnvPrefix + "KEEP"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return configErrorf("%sKEEP: %v", EnvPrefix, err)
		}
		cfg.Keep = b
	}
	str("REPORT_DIR", &cfg.ReportDir)
	str("RESTART_COMMAND", &cfg.RestartCommand)
	return nil
}

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$`)

// withDefaults validates cfg and fills its defaults.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.BaseURL == "" {
		return cfg, configErrorf("no base URL (set -base-url or %sBASE_URL)", EnvPrefix)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, configErrorf("base URL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return cfg, configErrorf("base URL %q must not have a query or fragment", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if strings.HasSuffix(cfg.BaseURL, "/v1") {
		return cfg, configErrorf("base URL %q: leave out the /v1 prefix", cfg.BaseURL)
	}
	if cfg.Token == "" {
		return cfg, configErrorf("no token (set %sTOKEN)", EnvPrefix)
	}
	if cfg.Token2 != "" && cfg.Token2 == cfg.Token {
		return cfg, configErrorf("the second token must belong to another tenant: it equals the first")
	}
	for _, tok := range []string{cfg.Token, cfg.Token2} {
		if strings.ContainsAny(tok, " \t\r\n") {
			return cfg, configErrorf("a token contains white space")
		}
	}
	switch cfg.Profile {
	case "":
		cfg.Profile = ProfileFull
	case ProfileCore, ProfileFull:
	default:
		return cfg, configErrorf("profile %q: want core or full", cfg.Profile)
	}
	if _, err := selectChecks(cfg.Profile, cfg.Include, cfg.Exclude); err != nil {
		return cfg, err
	}
	if cfg.CheckTimeout < 0 || cfg.RequestTimeout < 0 || cfg.BodyReadTimeout < 0 || cfg.Concurrency < 0 {
		return cfg, configErrorf("timeouts and concurrency must not be negative")
	}
	if cfg.CheckTimeout == 0 {
		cfg.CheckTimeout = 60 * time.Second
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 20 * time.Second
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 8
	}
	if cfg.Prefix == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		cfg.Prefix = "cf-" + hex.EncodeToString(b[:])
	}
	if !prefixPattern.MatchString(cfg.Prefix) {
		return cfg, configErrorf("prefix %q: use 1-40 of A-Z a-z 0-9 _ - (it starts plan slugs)", cfg.Prefix)
	}
	if cfg.Restart == nil && strings.TrimSpace(cfg.RestartCommand) != "" {
		cfg.Restart = shellRestart(cfg.RestartCommand)
	}
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		// A redirect is an answer to judge, not to follow.
		cfg.HTTPClient = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	return cfg, nil
}

// selectChecks applies the profile and the filters to the catalogue. A filter
// entry that matches nothing is a configuration error (it is a typo).
func selectChecks(profile Profile, include, exclude []string) ([]*check, error) {
	matches := func(c *check, pattern string) bool {
		p := strings.ToUpper(pattern)
		if p == strings.ToUpper(c.Group) || p == c.ID {
			return true
		}
		if stem, ok := strings.CutSuffix(p, "*"); ok {
			return strings.HasPrefix(c.ID, stem)
		}
		return false
	}
	for _, pattern := range slices.Concat(include, exclude) {
		found := false
		for _, c := range catalogue {
			if matches(c, pattern) {
				found = true
				break
			}
		}
		if !found {
			return nil, configErrorf("%q matches no group or check ID", pattern)
		}
	}
	var out []*check
	for _, c := range catalogue {
		if profile == ProfileCore && c.Level != Must {
			continue
		}
		keep := len(include) == 0
		for _, p := range include {
			keep = keep || matches(c, p)
		}
		for _, p := range exclude {
			if matches(c, p) {
				keep = false
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return out, nil
}

// shellRestart runs command with sh -c; its output is kept (bounded) for the
// error when it fails.
func shellRestart(command string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("restart command: %v: %s", err, excerpt(bytes.TrimSpace(out.Bytes()), 500))
		}
		return nil
	}
}
