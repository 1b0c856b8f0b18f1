package conformance

import (
	"fmt"
	"slices"
	"strings"
)

// RequirementOutcome is the verdict on one requirement of the contract.
type RequirementOutcome string

// The outcomes of a requirement.
const (
	// ReqPass: every check of the requirement that ran passed (at least one ran).
	ReqPass RequirementOutcome = "pass"
	// ReqFail: a check of a MUST requirement did not pass.
	ReqFail RequirementOutcome = "fail"
	// ReqWarn: a check of a SHOULD or MAY requirement did not pass.
	ReqWarn RequirementOutcome = "warn"
	// ReqUnverified: no check of the requirement could judge the server
	// (skipped by the run's limits, not selected, or a harness error).
	ReqUnverified RequirementOutcome = "unverified"
	// ReqNotApplicable: the server does not declare the requirement's
	// features, or has nothing it applies to.
	ReqNotApplicable RequirementOutcome = "not_applicable"
)

// RequirementResult is the verdict on one server requirement.
type RequirementResult struct {
	Requirement
	Outcome RequirementOutcome `json:"outcome"`
	// Checks are the checks that trace to the requirement; Failed those of
	// them that did not pass.
	Checks []string `json:"checks"`
	Failed []string `json:"failed"`
	// Reason says why a requirement is unverified or not applicable.
	Reason string `json:"reason"`
}

// The compliance levels, from the lowest.
const (
	LevelNone     = "none"
	LevelCore     = "core"
	LevelStandard = "standard"
	LevelFull     = "full"
)

// Compliance is the level a server reached. Each level is a set of
// requirements that must all pass: core the MUST requirements of the core
// API, standard those and the MUST requirements of every feature the server
// declares, full those and every SHOULD requirement, with every optional
// feature of the contract declared. MAY requirements are reported, never
// required.
type Compliance struct {
	// Level is the highest level reached: none, core, standard or full.
	Level  string        `json:"level"`
	Levels []LevelResult `json:"levels"`
	// FalseAdvertising lists the features the server declares whose MUST
	// requirements it fails.
	FalseAdvertising []FalseAdvertising `json:"false_advertising"`
}

// LevelResult is the state of one compliance level.
type LevelResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Reached     bool   `json:"reached"`
	// Requirements counts the level's requirements; Passed those that
	// passed, NotApplicable those the server has nothing for.
	Requirements  int `json:"requirements"`
	Passed        int `json:"passed"`
	NotApplicable int `json:"not_applicable"`
	// Failed and Unverified list the requirements that keep the level from
	// being reached; Undeclared the optional features full needs and the
	// server does not declare.
	Failed     []string `json:"failed"`
	Unverified []string `json:"unverified"`
	Undeclared []string `json:"undeclared"`
}

// FalseAdvertising is a declared feature whose MUST requirements fail.
type FalseAdvertising struct {
	Feature      string   `json:"feature"`
	Requirements []string `json:"requirements"`
	Checks       []string `json:"checks"`
}

// levelSpec describes a compliance level's set of requirements.
type levelSpec struct {
	name, description string
	in                func(r Requirement, declared func(string) bool) bool
	allFeatures       bool
}

var levelSpecs = []levelSpec{
	{LevelCore, "every MUST requirement of the core API (no optional feature)",
		func(r Requirement, _ func(string) bool) bool { return r.Level == Must && len(r.Features) == 0 }, false},
	{LevelStandard, "core, and every MUST requirement of each feature the server declares",
		func(r Requirement, declared func(string) bool) bool {
			return r.Level == Must && allDeclared(r.Features, declared)
		}, false},
	{LevelFull, "standard, and every SHOULD requirement, with every optional feature declared",
		func(r Requirement, declared func(string) bool) bool {
			return (r.Level == Must || r.Level == Should) && allDeclared(r.Features, declared)
		}, true},
}

func allDeclared(features []string, declared func(string) bool) bool {
	for _, f := range features {
		if !declared(f) {
			return false
		}
	}
	return true
}

// featureNames lists the optional features in the contract's order.
var featureNames = []string{"streaming", "resume", "files", "lifecycle", "children", "replay", "idempotency", "enqueue", "interrupt",
	"permissions", "session_stream", "steer"}

// assess turns the checks' outcomes into a verdict on every server
// requirement and the compliance level.
func assess(checks []CheckResult, e *env) ([]RequirementResult, Compliance) {
	declared := func(f string) bool { return e.has(featureNeeds[f]) }
	byID := map[string]CheckResult{}
	for _, c := range checks {
		byID[c.ID] = c
	}
	tracing := map[string][]string{}
	for _, c := range catalogue {
		for _, id := range c.Requirements {
			tracing[id] = append(tracing[id], c.ID)
		}
	}
	results := []RequirementResult{}
	for _, r := range Requirements() {
		if r.Subject != SubjectServer {
			continue
		}
		rr := RequirementResult{Requirement: r, Checks: nonNilStrings(tracing[r.ID]), Failed: []string{}}
		rr.Outcome, rr.Reason = judge(r, rr.Checks, byID, declared, &rr.Failed)
		results = append(results, rr)
	}
	return results, comply(results, declared)
}

// judge decides one requirement from its checks' results.
func judge(r Requirement, checks []string, byID map[string]CheckResult, declared func(string) bool, failed *[]string) (RequirementOutcome, string) {
	var undeclared []string
	for _, f := range r.Features {
		if !declared(f) {
			undeclared = append(undeclared, f)
		}
	}
	if len(undeclared) > 0 {
		return ReqNotApplicable, "the server does not declare " + strings.Join(undeclared, ", ")
	}
	passed, notApplicable := 0, 0
	var unverified []string
	for _, id := range checks {
		c, ran := byID[id]
		switch {
		case !ran:
			unverified = append(unverified, id+": not selected")
		case c.Outcome == Pass:
			passed++
		case c.Outcome == Fail || c.Outcome == Warn:
			*failed = append(*failed, id)
		case c.Outcome == Error:
			unverified = append(unverified, id+": the suite could not run it")
		case c.SkipKind == SkipNotApplicable || c.SkipKind == SkipNotDeclared:
			notApplicable++
			unverified = append(unverified, id+": "+c.Message)
		default:
			unverified = append(unverified, id+": "+c.Message)
		}
	}
	switch {
	case len(*failed) > 0 && r.Level == Must:
		return ReqFail, ""
	case len(*failed) > 0:
		return ReqWarn, ""
	case passed > 0:
		return ReqPass, ""
	case notApplicable > 0 && notApplicable == len(checks):
		return ReqNotApplicable, strings.Join(unverified, "; ")
	}
	return ReqUnverified, strings.Join(unverified, "; ")
}

// comply computes the compliance levels and false advertising.
func comply(results []RequirementResult, declared func(string) bool) Compliance {
	c := Compliance{Level: LevelNone, FalseAdvertising: []FalseAdvertising{}}
	below := true // every lower level was reached
	for _, spec := range levelSpecs {
		lr := LevelResult{Name: spec.name, Description: spec.description, Failed: []string{}, Unverified: []string{}, Undeclared: []string{}}
		for _, r := range results {
			if !spec.in(r.Requirement, declared) {
				continue
			}
			lr.Requirements++
			switch r.Outcome {
			case ReqPass:
				lr.Passed++
			case ReqNotApplicable:
				lr.NotApplicable++
			case ReqFail, ReqWarn:
				lr.Failed = append(lr.Failed, r.ID)
			default:
				lr.Unverified = append(lr.Unverified, r.ID)
			}
		}
		if spec.allFeatures {
			for _, f := range featureNames {
				if !declared(f) {
					lr.Undeclared = append(lr.Undeclared, f)
				}
			}
		}
		lr.Reached = below && len(lr.Failed) == 0 && len(lr.Unverified) == 0 && len(lr.Undeclared) == 0
		if lr.Reached {
			c.Level = spec.name
		}
		below = lr.Reached
		c.Levels = append(c.Levels, lr)
	}
	for _, f := range featureNames {
		if !declared(f) {
			continue
		}
		fa := FalseAdvertising{Feature: f, Requirements: []string{}, Checks: []string{}}
		for _, r := range results {
			if r.Outcome == ReqFail && slices.Contains(r.Features, f) {
				fa.Requirements = append(fa.Requirements, r.ID)
				for _, id := range r.Failed {
					if !slices.Contains(fa.Checks, id) {
						fa.Checks = append(fa.Checks, id)
					}
				}
			}
		}
		if len(fa.Requirements) > 0 {
			slices.Sort(fa.Checks)
			c.FalseAdvertising = append(c.FalseAdvertising, fa)
		}
	}
	return c
}

// Summary is the compliance in one line: "standard (full not reached: 2
// requirements unverified)".
func (c Compliance) Summary() string {
	if m := c.Missing(); m != "" {
		return fmt.Sprintf("%s (%s)", c.Level, m)
	}
	return c.Level
}

// Missing says what keeps the next level out of reach ("full not reached:
// 2 requirements unverified"), or "" when every level is reached.
func (c Compliance) Missing() string {
	var next *LevelResult
	for i := range c.Levels {
		if !c.Levels[i].Reached {
			next = &c.Levels[i]
			break
		}
	}
	if next == nil {
		return ""
	}
	var why []string
	if n := len(next.Failed); n > 0 {
		why = append(why, plural(n, "requirement")+" not met")
	}
	if n := len(next.Unverified); n > 0 {
		why = append(why, plural(n, "requirement")+" unverified")
	}
	if n := len(next.Undeclared); n > 0 {
		why = append(why, "features not declared: "+strings.Join(next.Undeclared, ", "))
	}
	if len(why) == 0 {
		why = append(why, "a lower level is not reached")
	}
	return fmt.Sprintf("%s not reached: %s", next.Name, strings.Join(why, "; "))
}

// plural renders "1 request", "3 requests".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
