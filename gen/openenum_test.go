package gen_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agentsession/agentsession/gen"
)

// goModels maps each schema with an enum-valued member to its generated Go model.
// TestUnknownEnumFixtures fails when a schema is missing here, so a new one cannot
// slip past the decode check.
var goModels = map[string]func() any{
	"Problem":        func() any { return new(gen.Problem) },
	"Health":         func() any { return new(gen.Health) },
	"AgentInfo":      func() any { return new(gen.AgentInfo) },
	"AgentScript":    func() any { return new(gen.AgentScript) },
	"ScriptEvent":    func() any { return new(gen.ScriptEvent) },
	"Features":       func() any { return new(gen.Features) },
	"Session":        func() any { return new(gen.Session) },
	"Event":          func() any { return new(gen.Event) },
	"TurnAccepted":   func() any { return new(gen.TurnAccepted) },
	"TurnSummary":    func() any { return new(gen.TurnSummary) },
	"TurnResult":     func() any { return new(gen.TurnResult) },
	"Turn":           func() any { return new(gen.Turn) },
	"HandoffContext": func() any { return new(gen.HandoffContext) },
	"LogEntry":       func() any { return new(gen.LogEntry) },
	"Artifact":       func() any { return new(gen.Artifact) },
	"ReplayContext":  func() any { return new(gen.ReplayContext) },
	// Contract 1.2.
	"AgentOption":       func() any { return new(gen.AgentOption) },
	"ScriptBranch":      func() any { return new(gen.ScriptBranch) },
	"PermissionOption":  func() any { return new(gen.PermissionOption) },
	"PermissionRequest": func() any { return new(gen.PermissionRequest) },
	"TurnWaiting":       func() any { return new(gen.TurnWaiting) },
	"LifecycleEvent":    func() any { return new(gen.LifecycleEvent) },
}

// schemasWithEnums are the response schemas that have an enum-valued member of their
// own (allOf parts included), frame discriminators aside.
func schemasWithEnums(r rawSpec) []string {
	disc := r.discriminators()
	var out []string
	for _, name := range sortedKeys(r.responseSchemas()) {
		for _, p := range r.parts(name) {
			found := false
			for member := range r.enumMembers(p) {
				if !disc[p+"."+member] {
					found = true
				}
			}
			if found {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// A response carrying values this version does not know is valid against the contract
// and decodes through the generated models, the value kept as it came.
func TestUnknownEnumFixtures(t *testing.T) {
	r := loadRaw(t)
	doc := loadSpec(t)
	names := schemasWithEnums(r)
	if len(names) < 10 {
		t.Fatalf("only %d schemas with enums found; the walk is broken", len(names))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "unknown-enums", name+".json"))
			if err != nil {
				t.Fatalf("no fixture for %s (every schema with an enum-valued member needs one): %v", name, err)
			}
			var doc1 any
			if err := json.Unmarshal(data, &doc1); err != nil {
				t.Fatal(err)
			}
			if err := doc.Components.Schemas[name].Value.VisitJSON(doc1); err != nil {
				t.Errorf("the contract refuses the fixture: %v", err)
			}
			mk, ok := goModels[name]
			if !ok {
				t.Fatalf("goModels has no Go model for %s", name)
			}
			v := mk()
			dec := json.NewDecoder(bytes.NewReader(data))
			if err := dec.Decode(v); err != nil {
				t.Fatalf("the Go model refuses the fixture: %v", err)
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			unknown := unknownValues(r, name, doc1)
			if len(unknown) == 0 {
				t.Fatal("the fixture sets no enum-valued member to an unknown value")
			}
			for _, unknown := range unknown {
				if !bytes.Contains(again, []byte(`"`+unknown+`"`)) {
					t.Errorf("value %q was lost in the Go model: %s", unknown, again)
				}
			}
			if reflect.ValueOf(v).Elem().IsZero() {
				t.Error("decoded to the zero value")
			}
		})
	}
	for name := range goModels {
		if !strings.Contains(strings.Join(names, ","), name) {
			t.Errorf("goModels lists %s, which has no enum-valued member", name)
		}
	}
}

// unknownValues returns the fixture's values of name's direct enum members that the
// enums do not list; a fixture with none would prove nothing.
func unknownValues(r rawSpec, name string, fixture any) []string {
	var out []string
	members := map[string]any{}
	for _, p := range r.parts(name) {
		for m, s := range r.enumMembers(p) {
			members[m] = s
		}
	}
	for member, s := range members {
		known := map[string]bool{}
		alts, _ := dig(s, "anyOf").([]any)
		if len(alts) > 0 {
			for _, v := range dig(r.schemas[refName(alts[0])], "enum").([]any) {
				known[v.(string)] = true
			}
		}
		key, isArray := strings.CutSuffix(member, "[]")
		v := dig(fixture, key)
		vals := []any{v}
		if isArray {
			vals, _ = v.([]any)
		}
		for _, x := range vals {
			if s, ok := x.(string); ok && !known[s] {
				out = append(out, s)
			}
		}
	}
	return out
}

// parts returns name and the schemas its allOf is made of.
func (r rawSpec) parts(name string) []string {
	out := []string{name}
	if all, ok := dig(r.schemas[name], "allOf").([]any); ok {
		for _, p := range all {
			out = append(out, refName(p))
		}
	}
	return out
}
