package acp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is one ACP agent: how to start it and what it may do. LoadConfig
// reads a file of them; New checks one and fills in the defaults.
//
// Env values are templates: "${NAME}" stands for the server's environment
// variable NAME, read when the agent process starts, and "$$" for "$".
// A Config therefore holds the names of secrets rather than their values
// (unless a file writes a value literally); String and LogValue show env
// names only, never values.
type Config struct {
	// Name is the agent's name in the registry and in CreateSessionRequest
	// (1-128 of A-Z a-z 0-9 . _ -).
	Name string `yaml:"name"`
	// Description is shown in capabilities; default "ACP agent <command>".
	Description string `yaml:"description"`
	// Command and Args start the agent; the command is looked up in the
	// PATH the agent is given.
	Command string   `yaml:"command"`
	Args    []string `yaml:"args"`
	// Cwd is the sessions' working directory (an existing directory; a
	// relative path in a file is relative to the file's directory). With
	// SessionDirs each session works in its own subdirectory Cwd/<session id>,
	// made on its first turn. The agent process runs there, session/new
	// receives it, and file-system and terminal requests are confined to it.
	Cwd         string `yaml:"cwd"`
	SessionDirs bool   `yaml:"session_dirs"`
	// Env is added to the agent's environment; values may be "${NAME}"
	// templates (see Config).
	Env map[string]string `yaml:"env"`
	// InheritEnv names the server's variables the agent gets as they are;
	// nil means DefaultInheritEnv, an empty list none. Nothing else of the
	// server's environment reaches the agent.
	InheritEnv []string `yaml:"inherit_env"`
	// FS enables the agent's fs/read_text_file and fs/write_text_file
	// requests (advertised in initialize). Off by default.
	FS FSConfig `yaml:"fs"`
	// Terminal enables the terminal/* requests: the agent may run any
	// command, in the session's working directory, with the agent's
	// environment. It is not a sandbox. Off by default.
	Terminal bool `yaml:"terminal"`
	// StateDir, when set, keeps which ACP session each server session uses,
	// so that after a server restart the bridge can session/load it (when
	// the agent supports session/load). Made when missing.
	StateDir string `yaml:"state_dir"`
	// Options are the agent options sessions of this agent may set
	// (createSession's agent_options, declared in capabilities); each one
	// reaches the session's agent process as an environment variable.
	Options []OptionConfig `yaml:"options"`
	// Limits bound the agent; zero values mean the defaults.
	Limits Limits `yaml:"limits"`
}

// OptionConfig declares one agent option: its name, JSON type, the values
// it allows and its default, as capabilities show them, and Env, the
// variable of the agent's environment that carries the session's value (a
// string as it is, any other value as JSON), so "model" can become
// ANTHROPIC_MODEL for claude-code-acp. A session that sets no value and an
// option without a default leave Env unset.
type OptionConfig struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"` // string, integer, number or boolean
	Description string `yaml:"description"`
	Default     any    `yaml:"default"`
	Enum        []any  `yaml:"enum"`
	Env         string `yaml:"env"`
}

// FSConfig says which file-system requests the agent may make.
type FSConfig struct {
	Read  bool `yaml:"read"`
	Write bool `yaml:"write"`
}

// Limits bound one agent. The zero value of each means its default.
type Limits struct {
	// TurnOutputBytes bounds what the agent writes on stdout during one
	// turn; past it the process is stopped and the turn ends with an error.
	TurnOutputBytes int64 `yaml:"turn_output_bytes"`
	// StderrTailBytes is how much of the end of the agent's stderr an error
	// quotes.
	StderrTailBytes int `yaml:"stderr_tail_bytes"`
	// StartTimeout bounds starting the process, initialize and
	// session/new (or session/load).
	StartTimeout time.Duration `yaml:"start_timeout"`
	// TurnTimeout, when set, is the default and the longest timeout of a
	// turn of this agent (below the server's own largest), so an agent
	// that never answers is bounded even when the turn sets no timeout_ms.
	TurnTimeout time.Duration `yaml:"turn_timeout"`
	// CancelGrace is how long a cancelled turn waits for the agent's answer
	// to session/cancel before the process is stopped.
	CancelGrace time.Duration `yaml:"cancel_grace"`
	// StopGrace is how long a stopping process may take to exit after its
	// stdin closes before it is terminated.
	StopGrace time.Duration `yaml:"stop_grace"`
	// ReadFileBytes bounds a file the agent reads with fs/read_text_file.
	ReadFileBytes int64 `yaml:"read_file_bytes"`
	// TerminalOutputBytes bounds the output a terminal keeps (its end).
	TerminalOutputBytes int `yaml:"terminal_output_bytes"`
	// MaxTerminals bounds the terminals of one session at a time.
	MaxTerminals int `yaml:"max_terminals"`
	// MaxProcesses bounds the agent's processes (one per session with a
	// live process); starting one more stops the least recently used idle
	// one, and fails when every one is running a turn. 0 means no bound.
	MaxProcesses int `yaml:"max_processes"`
}

// Defaults of Limits' zero values.
const (
	DefaultTurnOutputBytes     = 8 << 20 // below acp-go-sdk's 10 MB line limit, so a flood is reported as one
	DefaultStderrTailBytes     = 4 << 10
	DefaultStartTimeout        = 30 * time.Second
	DefaultCancelGrace         = 3 * time.Second
	DefaultStopGrace           = 3 * time.Second
	DefaultReadFileBytes       = 4 << 20
	DefaultTerminalOutputBytes = 1 << 20
	DefaultMaxTerminals        = 4
)

// DefaultInheritEnv are the server's variables an agent gets when its
// config names none: what a program needs to find commands, a home and a
// locale, and nothing that is likely a secret.
var DefaultInheritEnv = []string{"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM", "SHELL"}

// withDefaults returns l with every zero value replaced by its default.
func (l Limits) withDefaults() Limits {
	set := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	seti := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	set(&l.TurnOutputBytes, DefaultTurnOutputBytes)
	seti(&l.StderrTailBytes, DefaultStderrTailBytes)
	setd(&l.StartTimeout, DefaultStartTimeout)
	setd(&l.CancelGrace, DefaultCancelGrace)
	setd(&l.StopGrace, DefaultStopGrace)
	set(&l.ReadFileBytes, DefaultReadFileBytes)
	seti(&l.TerminalOutputBytes, DefaultTerminalOutputBytes)
	seti(&l.MaxTerminals, DefaultMaxTerminals)
	return l
}

func (l Limits) validate() error {
	switch {
	case l.TurnOutputBytes < 0, l.StderrTailBytes < 0, l.ReadFileBytes < 0, l.TerminalOutputBytes < 0,
		l.MaxTerminals < 0, l.MaxProcesses < 0:
		return errors.New("limits: sizes and counts must not be negative")
	case l.StartTimeout < 0, l.CancelGrace < 0, l.StopGrace < 0, l.TurnTimeout < 0:
		return errors.New("limits: durations must not be negative")
	}
	return nil
}

var (
	validName    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	validEnvName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// validate checks c (with defaults applied) against lookup, the server's
// environment.
func (c Config) validate(lookup func(string) (string, bool)) error {
	if !validName.MatchString(c.Name) {
		return fmt.Errorf("name %q: want 1-128 characters of A-Z a-z 0-9 . _ -", c.Name)
	}
	if c.Command == "" {
		return errors.New("command: required")
	}
	if c.Cwd == "" {
		return errors.New("cwd: required (the directory the agent works in)")
	}
	if !filepath.IsAbs(c.Cwd) {
		return fmt.Errorf("cwd %q: must be an absolute path", c.Cwd)
	}
	if fi, err := os.Stat(c.Cwd); err != nil {
		return fmt.Errorf("cwd: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("cwd %q: not a directory", c.Cwd)
	}
	for _, name := range sortedKeys(c.Env) {
		if !validEnvName.MatchString(name) {
			return fmt.Errorf("env: %q is not a variable name", name)
		}
		if _, err := expandEnv(c.Env[name], lookup); err != nil {
			return fmt.Errorf("env %s: %w", name, err)
		}
	}
	for _, name := range c.InheritEnv {
		if !validEnvName.MatchString(name) {
			return fmt.Errorf("inherit_env: %q is not a variable name", name)
		}
	}
	if c.StateDir != "" && !filepath.IsAbs(c.StateDir) {
		return fmt.Errorf("state_dir %q: must be an absolute path", c.StateDir)
	}
	seenOpt, seenEnv := map[string]bool{}, map[string]bool{}
	for i, o := range c.Options {
		if err := o.validate(); err != nil {
			return fmt.Errorf("options[%d] (%s): %w", i, o.Name, err)
		}
		if seenOpt[o.Name] {
			return fmt.Errorf("options[%d]: a second option named %q", i, o.Name)
		}
		if seenEnv[o.Env] {
			return fmt.Errorf("options[%d] (%s): env %s carries another option too", i, o.Name, o.Env)
		}
		if _, ok := c.Env[o.Env]; ok {
			return fmt.Errorf("options[%d] (%s): env %s is set in env too", i, o.Name, o.Env)
		}
		seenOpt[o.Name], seenEnv[o.Env] = true, true
	}
	return c.Limits.validate()
}

var validOptionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)

func (o OptionConfig) validate() error {
	if !validOptionName.MatchString(o.Name) {
		return fmt.Errorf("name %q: want 1-64 characters of A-Z a-z 0-9 _ . -, starting with a letter or _", o.Name)
	}
	if !validEnvName.MatchString(o.Env) {
		return fmt.Errorf("env %q: want the name of the variable that carries the value", o.Env)
	}
	switch o.Type {
	case "string", "integer", "number", "boolean":
	default:
		return fmt.Errorf("type %q: want string, integer, number or boolean", o.Type)
	}
	for _, v := range o.Enum {
		if !o.fits(v) {
			return fmt.Errorf("enum value %v is not of type %s", v, o.Type)
		}
	}
	if o.Default != nil {
		if !o.fits(o.Default) {
			return fmt.Errorf("default %v is not of type %s", o.Default, o.Type)
		}
		if len(o.Enum) > 0 && !slices.ContainsFunc(o.Enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(o.Default) }) {
			return fmt.Errorf("default %v is not one of enum", o.Default)
		}
	}
	return nil
}

// fits reports whether v (as YAML or JSON decodes it) is of o's type.
func (o OptionConfig) fits(v any) bool {
	switch v := v.(type) {
	case string:
		return o.Type == "string"
	case bool:
		return o.Type == "boolean"
	case int, int64, uint64:
		return o.Type == "integer" || o.Type == "number"
	case float64:
		return o.Type == "number" || (o.Type == "integer" && v == math.Trunc(v) && !math.IsInf(v, 0))
	}
	return false
}

// jsonValue is v as encoding/json decodes it (numbers float64), the form
// the server compares and passes on.
func jsonValue(v any) any {
	if v == nil {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(data, &out) != nil {
		return v
	}
	return out
}

// optionEnv is the environment that carries a session's option values.
func (c Config) optionEnv(values map[string]any) []string {
	var env []string
	for _, o := range c.Options {
		v, ok := values[o.Name]
		if !ok || v == nil {
			continue
		}
		s, isString := v.(string)
		if !isString {
			data, err := json.Marshal(v)
			if err != nil {
				continue
			}
			s = string(data)
		}
		env = append(env, o.Env+"="+s)
	}
	return env
}

// environment is the agent's environment: the inherited variables, then
// Env with its templates resolved, then the variables carrying the
// session's option values. It also returns Env's values, to be cut out of
// any stderr quoted.
func (c Config) environment(lookup func(string) (string, bool), options map[string]any) ([]string, []string, error) {
	inherit := c.InheritEnv
	if inherit == nil {
		inherit = DefaultInheritEnv
	}
	var env []string
	for _, name := range inherit {
		if _, set := c.Env[name]; set || slices.ContainsFunc(c.Options, func(o OptionConfig) bool { return o.Env == name }) {
			continue
		}
		if v, ok := lookup(name); ok {
			env = append(env, name+"="+v)
		}
	}
	var secrets []string
	for _, name := range sortedKeys(c.Env) {
		v, err := expandEnv(c.Env[name], lookup)
		if err != nil {
			return nil, nil, fmt.Errorf("env %s: %w", name, err)
		}
		env = append(env, name+"="+v)
		secrets = append(secrets, v)
	}
	return append(env, c.optionEnv(options)...), secrets, nil
}

// expandEnv resolves "${NAME}" and "$$" in s. Any other "$" is itself.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", errors.New(`"${" without a closing "}"`)
			}
			name := s[i+2 : i+2+end]
			if !validEnvName.MatchString(name) {
				return "", fmt.Errorf("${%s}: not a variable name", name)
			}
			v, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("${%s}: %s is not set in the server's environment", name, name)
			}
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String(), nil
}

// String describes c without its env values or arguments (either may hold
// a secret).
func (c Config) String() string {
	return fmt.Sprintf("acp agent %q (command %q, %d args, cwd %q, env %s)",
		c.Name, c.Command, len(c.Args), c.Cwd, strings.Join(sortedKeys(c.Env), ","))
}

// GoString is String, so %#v does not print env values either.
func (c Config) GoString() string { return c.String() }

// LogValue logs c without its env values or arguments.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name), slog.String("command", c.Command), slog.Int("args", len(c.Args)),
		slog.String("cwd", c.Cwd), slog.Any("env", sortedKeys(c.Env)),
		slog.Bool("fs_read", c.FS.Read), slog.Bool("fs_write", c.FS.Write), slog.Bool("terminal", c.Terminal))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// File is the configuration file's shape.
type File struct {
	Agents []Config `yaml:"agents"`
}

// LoadConfig reads the ACP agents of a configuration file, YAML or JSON:
//
//	agents:
//	  - name: claude
//	    command: npx
//	    args: ["-y", "@zed-industries/claude-code-acp"]
//	    cwd: /srv/agent-work
//	    session_dirs: true
//	    env:
//	      ANTHROPIC_API_KEY: ${ANTHROPIC_API_KEY}
//	    fs: {read: true, write: true}
//	    limits: {start_timeout: 60s}
//
// Unknown keys are errors, and so is an env template naming a variable the
// server's environment does not have. Errors name the file and the agent,
// never an env value.
func LoadConfig(path string) ([]Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("acp config: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("acp config %s: %w", path, err)
	}
	cfgs, err := ParseConfig(data, dir, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("acp config %s: %w", path, err)
	}
	return cfgs, nil
}

// ParseConfig is LoadConfig on data: relative cwd and state_dir paths are
// relative to baseDir and env templates are checked against lookup.
func ParseConfig(data []byte, baseDir string, lookup func(string) (string, bool)) ([]Config, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file: want an \"agents\" list")
		}
		return nil, err
	}
	if len(f.Agents) == 0 {
		return nil, errors.New("agents: the list is empty")
	}
	var seen []string
	for i := range f.Agents {
		c := &f.Agents[i]
		if c.Cwd != "" && !filepath.IsAbs(c.Cwd) {
			c.Cwd = filepath.Join(baseDir, c.Cwd)
		}
		if c.StateDir != "" && !filepath.IsAbs(c.StateDir) {
			c.StateDir = filepath.Join(baseDir, c.StateDir)
		}
		if err := c.validate(lookup); err != nil {
			return nil, fmt.Errorf("agents[%d] (%s): %w", i, c.Name, err)
		}
		if slices.Contains(seen, c.Name) {
			return nil, fmt.Errorf("agents[%d]: a second agent named %q", i, c.Name)
		}
		seen = append(seen, c.Name)
	}
	return f.Agents, nil
}
