package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/agentsession/agentsession/gen/spec"
)

// TestRequirementsAreTraced is the traceability gate of issue "Conformance
// suite 2": every server requirement of the contract has a check at its
// level, every check names requirements that exist, and no check tests a
// requirement at another level than the contract's (a contract MUST is
// never a suite SHOULD).
func TestRequirementsAreTraced(t *testing.T) {
	reqs := Requirements()
	if len(reqs) < 100 {
		t.Fatalf("%d requirements in the contract: the x-requirements lists were not read", len(reqs))
	}
	byID := map[string]Requirement{}
	for _, r := range reqs {
		byID[r.ID] = r
	}
	checked := map[string][]string{}
	for _, c := range Catalogue() {
		if len(c.Requirements) == 0 {
			t.Errorf("%s names no requirement", c.ID)
		}
		seen := map[string]bool{}
		for _, id := range c.Requirements {
			r, ok := byID[id]
			switch {
			case !ok:
				t.Errorf("%s traces to %s, which the contract does not define", c.ID, id)
				continue
			case seen[id]:
				t.Errorf("%s names %s twice", c.ID, id)
			case r.Subject != SubjectServer:
				t.Errorf("%s traces to %s, a requirement on the %s: the suite tests servers", c.ID, id, r.Subject)
			case r.Level != c.Level:
				t.Errorf("%s is a %s check but %s is a %s requirement (%s)", c.ID, c.Level, id, r.Level, r.Where)
			}
			seen[id] = true
			for _, n := range r.needsOf() {
				if !slices.Contains(c.Requires, n) {
					t.Errorf("%s traces to %s (features %v) but does not require %s: it would run on servers the requirement does not apply to", c.ID, id, r.Features, n)
				}
			}
			checked[id] = append(checked[id], c.ID)
		}
	}
	for _, r := range reqs {
		if r.Subject == SubjectServer && len(checked[r.ID]) == 0 {
			t.Errorf("%s [%s] (%s) has no check: %s", r.ID, r.Level, r.Where, r.Statement)
		}
	}
}

func TestRequirementsParse(t *testing.T) {
	good := `{"info":{"x-requirements":[{"id":"REQ-AUTH-001","level":"MUST","statement":"a statement long enough"}]},
	"paths":{"/v1/x":{"get":{"operationId":"getX","x-requirements":[{"id":"REQ-SESS-001","level":"MAY","features":["files"],"statement":"another statement long enough"}]}}},
	"components":{"schemas":{"S":{"properties":{"p":{"x-requirements":[{"id":"REQ-AUTH-002","level":"SHOULD","subject":"client","statement":"clients do something long"}]}}}}}}`
	reqs, err := parseRequirements([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reqs {
		got = append(got, r.ID+" "+string(r.Level)+" "+r.Subject+" "+r.Where+" "+strings.Join(r.Features, ","))
	}
	want := []string{
		"REQ-AUTH-001 MUST server guide ",
		"REQ-AUTH-002 SHOULD client schema S.p ",
		"REQ-SESS-001 MAY server operation getX files",
	}
	if !slices.Equal(got, want) {
		t.Errorf("parsed %q, want %q", got, want)
	}
	for _, bad := range []struct{ name, doc, want string }{
		{"bad id", `{"info":{"x-requirements":[{"id":"AUTH-1","level":"MUST","statement":"a statement long enough"}]}}`, "not REQ-AREA-000"},
		{"bad level", `{"info":{"x-requirements":[{"id":"REQ-AUTH-001","level":"must","statement":"a statement long enough"}]}}`, "level"},
		{"unknown area", `{"info":{"x-requirements":[{"id":"REQ-XYZ-001","level":"MUST","statement":"a statement long enough"}]}}`, "unknown area"},
		{"duplicate", `{"info":{"x-requirements":[{"id":"REQ-AUTH-001","level":"MUST","statement":"a statement long enough"},{"id":"REQ-AUTH-001","level":"MUST","statement":"a statement long enough"}]}}`, "also defined"},
		{"unknown feature", `{"info":{"x-requirements":[{"id":"REQ-AUTH-001","level":"MUST","features":["teleport"],"statement":"a statement long enough"}]}}`, "unknown feature"},
		{"unknown member", `{"info":{"x-requirements":[{"id":"REQ-AUTH-001","level":"MUST","statment":"typo"}]}}`, "unknown member"},
		{"client with features", `{"info":{"x-requirements":[{"id":"REQ-AUTH-001","level":"MUST","subject":"client","features":["files"],"statement":"a statement long enough"}]}}`, "server requirements only"},
	} {
		if _, err := parseRequirements([]byte(bad.doc)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one saying %q", bad.name, err, bad.want)
		}
	}
}

// The requirements and operations awaiting checks are the contract's, have
// no check yet (an entry whose check has landed must go), and are every
// server requirement left without one.
func TestAwaitingChecks(t *testing.T) {
	all, err := loadRequirements()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Requirement{}
	for _, r := range all {
		byID[r.ID] = r
	}
	checked := map[string]bool{}
	named := map[string]bool{}
	for _, c := range Catalogue() {
		for _, id := range c.Requirements {
			checked[id] = true
		}
		for _, op := range c.Operations {
			named[op] = true
		}
	}
	for id := range awaitingChecks {
		r, ok := byID[id]
		switch {
		case !ok:
			t.Errorf("%s awaits checks but the contract does not define it", id)
		case r.Subject != SubjectServer:
			t.Errorf("%s awaits checks but binds the %s", id, r.Subject)
		case checked[id]:
			t.Errorf("%s has a check now: remove it from awaitingChecks", id)
		}
	}
	if got := AwaitingChecks(); len(got) != len(awaitingChecks) {
		t.Errorf("AwaitingChecks lists %d requirements, the list has %d", len(got), len(awaitingChecks))
	}
	for _, r := range Requirements() {
		if awaitingChecks[r.ID] {
			t.Errorf("Requirements lists %s, which awaits checks", r.ID)
		}
	}
	doc, err := spec.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops[op.OperationID] = true
		}
	}
	for op := range awaitingOperations {
		switch {
		case !ops[op]:
			t.Errorf("operation %s awaits checks but the contract does not have it", op)
		case named[op]:
			t.Errorf("a check names %s now: remove it from awaitingOperations", op)
		}
	}
}
