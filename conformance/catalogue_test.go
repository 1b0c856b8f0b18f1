package conformance

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/agentsession/agentsession/gen/spec"
)

func TestCatalogueIsWellFormed(t *testing.T) {
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
	known := map[Need]bool{}
	for _, n := range allNeeds {
		known[n] = true
	}
	idPattern := regexp.MustCompile(`^[A-Z]+-\d{3}$`)
	seen := map[string]bool{}
	covered := map[string]bool{}
	for _, c := range Catalogue() {
		switch {
		case !idPattern.MatchString(c.ID):
			t.Errorf("%s: the ID does not look like GROUP-123", c.ID)
		case seen[c.ID]:
			t.Errorf("%s: duplicate ID", c.ID)
		case !slices.Contains(groupOrder, c.Group):
			t.Errorf("%s: unknown group %q", c.ID, c.Group)
		case c.Level != Must && c.Level != Should && c.Level != May:
			t.Errorf("%s: level %q", c.ID, c.Level)
		case len(c.Rule) < 20:
			t.Errorf("%s: the rule %q says too little", c.ID, c.Rule)
		}
		seen[c.ID] = true
		for _, op := range c.Operations {
			if !ops[op] {
				t.Errorf("%s: operation %q is not in openapi.yaml", c.ID, op)
			}
			covered[op] = true
		}
		for _, n := range c.Requires {
			if !known[n] {
				t.Errorf("%s: unknown need %q", c.ID, n)
			}
		}
	}
	// Every operation of the contract is exercised by some check.
	for op := range ops {
		if !covered[op] && !awaitingOperations[op] {
			t.Errorf("no check names operation %s", op)
		}
	}
	// Every group of the catalogue has checks.
	for _, g := range groupOrder {
		found := false
		for _, c := range catalogue {
			found = found || c.Group == g
		}
		if !found {
			t.Errorf("group %s has no checks", g)
		}
	}
}

// CHECKS.md is the rendered catalogue; `go generate ./conformance` refreshes it.
func TestChecksMarkdownIsUpToDate(t *testing.T) {
	var want bytes.Buffer
	if err := WriteChecksMarkdown(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("CHECKS.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("CHECKS.md is stale: run `go generate ./conformance` and commit it")
	}
}

func TestSelectChecks(t *testing.T) {
	ids := func(cs []*check) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	all, err := selectChecks(ProfileFull, nil, nil)
	if err != nil || len(all) != len(catalogue) {
		t.Fatalf("full profile: %d checks, %v; want all %d", len(all), err, len(catalogue))
	}
	core, _ := selectChecks(ProfileCore, nil, nil)
	for _, c := range core {
		if c.Level != Must {
			t.Errorf("core profile runs %s (%s)", c.ID, c.Level)
		}
	}
	if len(core) == 0 || len(core) == len(all) {
		t.Errorf("core profile: %d of %d checks", len(core), len(all))
	}
	tests := []struct {
		include, exclude []string
		want             []string
	}{
		{[]string{"service"}, nil, []string{"SVC-001", "SVC-002", "SVC-003"}},
		{[]string{"SVC-002", "auth-001"}, nil, []string{"SVC-002", "AUTH-001"}},
		{[]string{"LIFE-00*"}, []string{"LIFE-002", "LIFE-004", "LIFE-006", "LIFE-008"}, []string{"LIFE-001", "LIFE-003", "LIFE-005", "LIFE-007", "LIFE-009"}},
		{[]string{"Service"}, []string{"service"}, nil},
	}
	for _, tc := range tests {
		got, err := selectChecks(ProfileFull, tc.include, tc.exclude)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("include %v exclude %v: %v, want %v", tc.include, tc.exclude, ids(got), tc.want)
		}
	}
	if _, err := selectChecks(ProfileFull, nil, []string{"SVC-999"}); err == nil {
		t.Error("an exclude that matches nothing is accepted")
	}
}
