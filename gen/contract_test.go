package gen_test

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// rawSpec is openapi.yaml as plain YAML values, for the structural rules below that
// need to see `$ref`s as written (kin-openapi resolves them away).
type rawSpec struct {
	doc     map[string]any
	schemas map[string]any
}

func loadRaw(t *testing.T) rawSpec {
	t.Helper()
	data, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return rawSpec{doc: doc, schemas: dig(doc, "components", "schemas").(map[string]any)}
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// refName returns the schema name of a `$ref: '#/components/schemas/X'`, or "".
func refName(v any) string {
	ref, _ := dig(v, "$ref").(string)
	return strings.TrimPrefix(ref, "#/components/schemas/")
}

// isEnum reports whether the named schema is an enum.
func (r rawSpec) isEnum(name string) bool {
	_, ok := dig(r.schemas[name], "enum").([]any)
	return ok
}

// walkRefs calls visit for every schema name referenced anywhere under v.
func walkRefs(v any, visit func(string)) {
	switch v := v.(type) {
	case map[string]any:
		if n := refName(v); n != "" {
			visit(n)
		}
		for k, c := range v {
			if k == "example" || k == "examples" {
				continue
			}
			walkRefs(c, visit)
		}
	case []any:
		for _, c := range v {
			walkRefs(c, visit)
		}
	}
}

// closure returns the named schemas reachable from roots, roots included.
func (r rawSpec) closure(roots ...string) map[string]bool {
	seen := map[string]bool{}
	var add func(string)
	add = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		walkRefs(r.schemas[n], add)
	}
	for _, n := range roots {
		add(n)
	}
	return seen
}

// responseSchemas are the named schemas a response can contain.
func (r rawSpec) responseSchemas() map[string]bool {
	var roots []string
	collect := func(v any) { walkRefs(v, func(n string) { roots = append(roots, n) }) }
	collect(dig(r.doc, "components", "responses"))
	for _, item := range dig(r.doc, "paths").(map[string]any) {
		for _, op := range item.(map[string]any) {
			collect(dig(op, "responses"))
		}
	}
	return r.closure(roots...)
}

// enumMembers lists, for one schema, its members whose values come from an enum,
// as "member" (or "member[]" for an array of enum values), with the member's schema.
func (r rawSpec) enumMembers(name string) map[string]any {
	out := map[string]any{}
	props, _ := dig(r.schemas[name], "properties").(map[string]any)
	for prop, ps := range props {
		if items, ok := dig(ps, "items").(map[string]any); ok && dig(ps, "type") == "array" {
			if r.enumValued(items) {
				out[prop+"[]"] = items
			}
			continue
		}
		if r.enumValued(ps) {
			out[prop] = ps
		}
	}
	return out
}

func (r rawSpec) enumValued(s any) bool {
	if _, ok := dig(s, "enum").([]any); ok {
		return true
	}
	if n := refName(s); n != "" && r.isEnum(n) {
		return true
	}
	alts, _ := dig(s, "anyOf").([]any)
	for _, a := range alts {
		if n := refName(a); n != "" && r.isEnum(n) {
			return true
		}
	}
	return false
}

// discriminators are the members that tell a oneOf's alternatives apart; their
// single-value enums name the alternative and are not open by design (a new kind of
// frame is a new alternative, which clients skip).
func (r rawSpec) discriminators() map[string]bool {
	out := map[string]bool{}
	for _, s := range r.schemas {
		prop, _ := dig(s, "discriminator", "propertyName").(string)
		if prop == "" {
			continue
		}
		for _, alt := range dig(s, "oneOf").([]any) {
			out[refName(alt)+"."+prop] = true
		}
	}
	return out
}

// isOpen reports whether s is `anyOf: [{$ref: <enum>}, {type: string}]`.
func (r rawSpec) isOpen(s any) bool {
	alts, _ := dig(s, "anyOf").([]any)
	if len(alts) != 2 || dig(alts[1], "type") != "string" || len(alts[1].(map[string]any)) != 1 {
		return false
	}
	n := refName(alts[0])
	return n != "" && r.isEnum(n)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Every enum-valued member a response can carry accepts values this version does not
// know, so that a value added in a minor version never breaks a generated client; the
// known values stay one named enum schema each, which generators turn into constants.
func TestResponseEnumsAreOpen(t *testing.T) {
	r := loadRaw(t)
	disc := r.discriminators()
	resp := r.responseSchemas()
	checked := 0
	for _, name := range sortedKeys(resp) {
		for member, s := range r.enumMembers(name) {
			if disc[name+"."+member] {
				continue
			}
			checked++
			if !r.isOpen(s) {
				t.Errorf("%s.%s is in a response but its enum is closed: write it as anyOf: [{$ref: '#/components/schemas/<Enum>'}, {type: string}]", name, member)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d enum-valued response members found; the walk is broken", checked)
	}
}

// Requests stay closed: a server refuses a value it does not know.
func TestRequestEnumsAreClosed(t *testing.T) {
	r := loadRaw(t)
	resp := r.responseSchemas()
	for _, name := range sortedKeys(r.schemas) {
		if resp[name] {
			continue
		}
		for member, s := range r.enumMembers(name) {
			if r.isOpen(s) {
				t.Errorf("%s.%s is only ever sent by clients, yet its enum is open: reference the enum schema directly", name, member)
			}
		}
	}
	for _, want := range []string{"TurnRequest", "EndSessionRequest", "LogEntryRequest", "ArtifactRequest"} {
		if resp[want] {
			t.Errorf("%s is reachable from a response; the request/response split above is wrong", want)
		}
	}
}

// No anonymous object schemas: every object is a named component, so that every
// generator gives it the same name (free-form objects share JSONObject).
func TestNoInlineObjectSchemas(t *testing.T) {
	r := loadRaw(t)
	var walk func(v any, path string, top bool)
	walk = func(v any, path string, top bool) {
		switch v := v.(type) {
		case map[string]any:
			all, _ := v["allOf"].([]any)
			namesOne := len(all) == 1 && refName(all[0]) != "" && v["properties"] == nil
			if !top && (v["type"] == "object" || v["properties"] != nil) && !namesOne {
				t.Errorf("%s: inline object schema; make it a named component", path)
			}
			for k, c := range v {
				if k == "example" || k == "examples" {
					continue
				}
				walk(c, path+"/"+k, false)
			}
		case []any:
			for i, c := range v {
				walk(c, path+"/"+strconv.Itoa(i), false)
			}
		}
	}
	for name, s := range r.schemas {
		walk(s, "#/components/schemas/"+name, true)
	}
	walk(dig(r.doc, "paths"), "#/paths", false)
	walk(dig(r.doc, "components", "responses"), "#/components/responses", false)
}
