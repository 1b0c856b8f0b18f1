package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/agentsession/agentsession/gen/spec"
)

// Requirement is one rule of the contract: an entry of an x-requirements
// list in openapi.yaml, next to the statement it comes from.
type Requirement struct {
	ID    string `json:"id"`
	Level Level  `json:"level"`
	// Statement is the rule, as the contract words it.
	Statement string `json:"statement"`
	// Features are the optional features (getCapabilities) the rule needs:
	// it applies only to a server that declares all of them.
	Features []string `json:"features"`
	// Subject is who the rule binds: server (the suite tests it), client or
	// contract (the document itself; make check-breaking tests it).
	Subject string `json:"subject"`
	// Where names the place of the statement: "guide", "operation
	// createSession", "schema Session.turn_count", "parameter Limit",
	// "response Unauthorized".
	Where string `json:"where"`
}

// The subjects of a requirement.
const (
	SubjectServer   = "server"
	SubjectClient   = "client"
	SubjectContract = "contract"
)

// featureNeeds maps a requirement's features to the needs of the checks.
var featureNeeds = map[string]Need{
	"streaming":   NeedStreaming,
	"resume":      NeedResume,
	"files":       NeedFiles,
	"lifecycle":   NeedLifecycle,
	"children":    NeedChildren,
	"replay":      NeedReplay,
	"idempotency": NeedIdempotency,
	"enqueue":     NeedEnqueue,
	"interrupt":   NeedInterrupt,
	// Contract 1.2.
	"permissions":    NeedPermissions,
	"session_stream": NeedSessionStream,
	"steer":          NeedSteer,
}

// areaOrder is the order CHECKS.md and the reports list requirements in.
var areaOrder = []string{
	"AUTH", "TEN", "RID", "ERR", "SVC", "CAP", "SESS", "TURN", "EVT", "STRM", "BUSY", "PERM", "ACT",
	"LIFE", "CHLD", "IDEM", "PAGE", "FILE", "AGT", "RATE", "VER",
}

var requirementID = regexp.MustCompile(`^REQ-([A-Z]+)-(\d{3})$`)

// Requirements returns every requirement of the embedded contract, in area
// order (see CHECKS.md), server, client and contract ones alike, but those
// still awaiting checks (AwaitingChecks).
func Requirements() []Requirement {
	reqs, err := loadRequirements()
	if err != nil {
		// The embedded contract is part of the binary: a bad entry is a
		// build defect, caught by the tests.
		panic("conformance: " + err.Error())
	}
	out := make([]Requirement, 0, len(reqs))
	for _, r := range reqs {
		if awaitingChecks[r.ID] {
			continue
		}
		r.Features = slices.Clone(r.Features)
		out = append(out, r)
	}
	return out
}

var loadRequirements = sync.OnceValues(func() ([]Requirement, error) {
	raw, err := spec.GetSpecJSON()
	if err != nil {
		return nil, err
	}
	return parseRequirements(raw)
})

// requirementIndex maps an ID to its requirement.
var requirementIndex = sync.OnceValue(func() map[string]Requirement {
	m := map[string]Requirement{}
	for _, r := range Requirements() {
		m[r.ID] = r
	}
	return m
})

// parseRequirements walks an OpenAPI document (JSON) and collects every
// x-requirements entry, checking each.
func parseRequirements(raw []byte) ([]Requirement, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var out []Requirement
	var errs []string
	seen := map[string]string{}
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		switch x := v.(type) {
		case map[string]any:
			if list, ok := x["x-requirements"]; ok {
				where := describeWhere(doc, path)
				items, _ := list.([]any)
				if len(items) == 0 {
					errs = append(errs, where+": x-requirements is not a non-empty list")
				}
				for _, it := range items {
					r, err := decodeRequirement(it, where)
					if err != nil {
						errs = append(errs, where+": "+err.Error())
						continue
					}
					if prev, dup := seen[r.ID]; dup {
						errs = append(errs, fmt.Sprintf("%s: %s is also defined at %s", where, r.ID, prev))
						continue
					}
					seen[r.ID] = where
					out = append(out, r)
				}
			}
			for k, e := range x {
				if k != "x-requirements" {
					walk(e, append(slices.Clone(path), k))
				}
			}
		case []any:
			for i, e := range x {
				walk(e, append(slices.Clone(path), strconv.Itoa(i)))
			}
		}
	}
	walk(doc, nil)
	if len(errs) > 0 {
		slices.Sort(errs)
		return nil, fmt.Errorf("x-requirements: %s", strings.Join(errs, "; "))
	}
	rank := map[string]int{}
	for i, a := range areaOrder {
		rank[a] = i
	}
	slices.SortFunc(out, func(a, b Requirement) int {
		ma, mb := requirementID.FindStringSubmatch(a.ID), requirementID.FindStringSubmatch(b.ID)
		if d := rank[ma[1]] - rank[mb[1]]; d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func decodeRequirement(v any, where string) (Requirement, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Requirement{}, fmt.Errorf("an entry is not an object")
	}
	for k := range m {
		switch k {
		case "id", "level", "statement", "features", "subject":
		default:
			return Requirement{}, fmt.Errorf("unknown member %q", k)
		}
	}
	r := Requirement{Where: where, Subject: SubjectServer, Features: []string{}}
	r.ID, _ = m["id"].(string)
	level, _ := m["level"].(string)
	r.Level = Level(level)
	r.Statement, _ = m["statement"].(string)
	if s, ok := m["subject"].(string); ok {
		r.Subject = s
	}
	if fs, ok := m["features"].([]any); ok {
		for _, f := range fs {
			s, _ := f.(string)
			r.Features = append(r.Features, s)
		}
	}
	m2 := requirementID.FindStringSubmatch(r.ID)
	switch {
	case m2 == nil:
		return r, fmt.Errorf("id %q is not REQ-AREA-000", r.ID)
	case !slices.Contains(areaOrder, m2[1]):
		return r, fmt.Errorf("%s: unknown area %s", r.ID, m2[1])
	case r.Level != Must && r.Level != Should && r.Level != May:
		return r, fmt.Errorf("%s: level %q is not MUST, SHOULD or MAY", r.ID, level)
	case len(r.Statement) < 20:
		return r, fmt.Errorf("%s: the statement says too little", r.ID)
	case r.Subject != SubjectServer && r.Subject != SubjectClient && r.Subject != SubjectContract:
		return r, fmt.Errorf("%s: subject %q is not client or contract", r.ID, r.Subject)
	case r.Subject != SubjectServer && len(r.Features) > 0:
		return r, fmt.Errorf("%s: features apply to server requirements only", r.ID)
	}
	for _, f := range r.Features {
		if _, ok := featureNeeds[f]; !ok {
			return r, fmt.Errorf("%s: unknown feature %q", r.ID, f)
		}
	}
	return r, nil
}

// describeWhere names the place of path in doc for people.
func describeWhere(doc any, path []string) string {
	at := func(p []string) any {
		v := doc
		for _, k := range p {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		}
		return v
	}
	switch {
	case len(path) == 1 && path[0] == "info":
		return "guide"
	case len(path) == 3 && path[0] == "paths":
		if m, ok := at(path).(map[string]any); ok {
			if id, ok := m["operationId"].(string); ok {
				return "operation " + id
			}
		}
	case len(path) == 3 && path[0] == "components" && path[1] == "schemas":
		return "schema " + path[2]
	case len(path) == 5 && path[0] == "components" && path[1] == "schemas" && path[3] == "properties":
		return "schema " + path[2] + "." + path[4]
	case len(path) == 3 && path[0] == "components" && path[1] == "parameters":
		return "parameter " + path[2]
	case len(path) == 3 && path[0] == "components" && path[1] == "responses":
		return "response " + path[2]
	case len(path) == 3 && path[0] == "components" && path[1] == "headers":
		return "header " + path[2]
	}
	return "/" + strings.Join(path, "/")
}

// needsOf returns the needs a requirement's features impose on its checks.
func (r Requirement) needsOf() []Need {
	var out []Need
	for _, f := range r.Features {
		out = append(out, featureNeeds[f])
	}
	return out
}
