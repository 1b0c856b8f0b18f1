// Package format holds the cross-language scenario format of
// scenarios/README.md as Go types: the scenario files the runners execute
// and the result file they write. The Go runner and the orchestrator share
// it; the TypeScript and Python runners follow the README.
package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scenario is one scenarios/*.yaml file.
type Scenario struct {
	ID    string `yaml:"id" json:"id"`
	Title string `yaml:"title" json:"title"`
	// Faults are proxy rules (internal/faultproxy's Rule, as data): the
	// orchestrator decodes them; runners ignore them.
	Faults []map[string]any `yaml:"faults" json:"faults,omitempty"`
	Steps  []Step           `yaml:"steps" json:"steps"`
	// File is the file's base name.
	File string `yaml:"-" json:"-"`
}

// Step is one operation of a scenario.
type Step struct {
	Do          string         `yaml:"do" json:"do"`
	Session     string         `yaml:"session" json:"session,omitempty"`
	With        map[string]any `yaml:"with" json:"with,omitempty"`
	As          string         `yaml:"as" json:"as,omitempty"`
	Client      string         `yaml:"client" json:"client,omitempty"`
	Expect      map[string]any `yaml:"expect" json:"expect,omitempty"`
	ExpectError string         `yaml:"expect_error" json:"expect_error,omitempty"`
}

// Clients a step may name.
const (
	ClientDefault     = "default"
	ClientOtherTenant = "other_tenant"
	ClientBadToken    = "bad_token"
)

// Result is the file a runner writes.
type Result struct {
	SDK        string           `json:"sdk"`
	SDKVersion string           `json:"sdk_version"`
	Run        string           `json:"run"`
	Scenarios  []ScenarioResult `json:"scenarios"`
}

// ScenarioResult is one scenario's observations.
type ScenarioResult struct {
	ID           string        `json:"id"`
	Observations []Observation `json:"observations"`
	// Aborted says why the runner could not go on with the scenario (a step
	// it does not understand), nil when it ran every step.
	Aborted *string `json:"aborted"`
}

// Observation is what one step did.
type Observation struct {
	Step  int             `json:"step"`
	Do    string          `json:"do"`
	Value json.RawMessage `json:"value,omitempty"`
	Text  *string         `json:"text,omitempty"`
	Error *ErrorInfo      `json:"error"`
}

// ErrorInfo is a failed step's typed error.
type ErrorInfo struct {
	Kind   string `json:"kind"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	// Message is for people reading a report; it is never compared and
	// never carries a token.
	Message string `json:"message,omitempty"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9-]+$`)

// LoadDir reads every *.yaml scenario of dir in file-name order.
func LoadDir(dir string) ([]Scenario, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Scenario
	seen := map[string]bool{}
	for _, f := range files {
		sc, err := LoadFile(f)
		if err != nil {
			return nil, err
		}
		if seen[sc.ID] {
			return nil, fmt.Errorf("%s: scenario id %q used twice", f, sc.ID)
		}
		seen[sc.ID] = true
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenarios (*.yaml) in %s", dir)
	}
	return out, nil
}

// LoadFile reads one scenario file, refusing unknown keys. It leaves the
// operations and their `with` members to the caller: a runner aborts just
// the scenario it cannot carry out (README "Running a runner"), the
// orchestrator refuses the whole suite first (Validate).
func LoadFile(path string) (Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, err
	}
	var sc Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", path, err)
	}
	sc.File = filepath.Base(path)
	if !idPattern.MatchString(sc.ID) {
		return Scenario{}, fmt.Errorf("%s: id %q is not [a-z0-9-]+", path, sc.ID)
	}
	if strings.TrimSuffix(sc.File, ".yaml") != sc.ID {
		return Scenario{}, fmt.Errorf("%s: id %q is not the file's name", path, sc.ID)
	}
	if len(sc.Steps) == 0 {
		return Scenario{}, fmt.Errorf("%s: no steps", path)
	}
	for i, st := range sc.Steps {
		if st.Do == "" {
			return Scenario{}, fmt.Errorf("%s: step %d has no `do`", path, i+1)
		}
		switch st.Client {
		case "", ClientDefault, ClientOtherTenant, ClientBadToken:
		default:
			return Scenario{}, fmt.Errorf("%s: step %d: unknown client %q", path, i+1, st.Client)
		}
		if st.ExpectError != "" && st.Expect != nil {
			return Scenario{}, fmt.Errorf("%s: step %d has both expect and expect_error", path, i+1)
		}
		if st.ExpectError != "" && !knownKind(st.ExpectError) {
			return Scenario{}, fmt.Errorf("%s: step %d: unknown error kind %q", path, i+1, st.ExpectError)
		}
		// JSON values from here on: maps with string keys, float64 numbers.
		if sc.Steps[i].With, err = jsonObject(st.With); err != nil {
			return Scenario{}, fmt.Errorf("%s: step %d: with: %w", path, i+1, err)
		}
		if sc.Steps[i].Expect, err = jsonObject(st.Expect); err != nil {
			return Scenario{}, fmt.Errorf("%s: step %d: expect: %w", path, i+1, err)
		}
	}
	return sc, nil
}

func knownKind(k string) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// jsonObject turns a decoded YAML map into plain JSON values.
func jsonObject(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = json.Unmarshal(b, &out)
	return out, err
}

// RunPlaceholder is what the README's `${run}` stands for.
const RunPlaceholder = "${run}"

// Subst replaces ${run} by run in every string of v (a JSON value), keys
// excepted, and returns the new value.
func Subst(v any, run string) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, RunPlaceholder, run)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Subst(e, run)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Subst(e, run)
		}
		return out
	}
	return v
}
