package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// results.json keeps every member README.md documents, also when it is
// empty: a reader may index d["notes"] without a KeyError.
func TestResultsJSONHasEveryDocumentedMember(t *testing.T) {
	srv := fakeServer(t, nil)
	withCatalogue(t, getCheck("SESS-901", Must, "/v1/sessions/x", func(r *response) error { return r.Expect(404) }).traces("REQ-ERR-011"))
	dir := t.TempDir()
	res := testRun(t, srv, func(c *Config) { c.ReportDir = dir; c.Token2 = fakeToken2 })
	if len(res.Notes) != 0 || len(res.Cleanup.Problems) != 0 || len(res.Config.Include) != 0 {
		t.Fatalf("the run was meant to leave notes, cleanup problems and filters empty: %q %q %q", res.Notes, res.Cleanup.Problems, res.Config.Include)
	}
	data, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	first := func(v any) map[string]any {
		l, _ := v.([]any)
		if len(l) == 0 {
			return nil
		}
		return obj(l[0])
	}
	for _, c := range []struct {
		where   string
		m       map[string]any
		members []string
	}{
		{"results", d, []string{"schema_version", "suite", "target", "config", "started_at", "duration_ms", "verdict", "summary", "groups", "levels", "checks", "requirements", "compliance", "cleanup", "notes"}},
		{"suite", obj(d["suite"]), []string{"name", "spec_version"}},
		{"target", obj(d["target"]), []string{"base_url", "echo_agent", "second_tenant", "declared"}},
		{"config", obj(d["config"]), []string{"profile", "include", "exclude", "prefix", "keep", "concurrency"}},
		{"cleanup", obj(d["cleanup"]), []string{"closed", "kept", "problems"}},
		{"checks[0]", first(d["checks"]), []string{"id", "level", "group", "operations", "rule", "requirements", "requires", "outcome", "message", "violations", "notes", "duration_ms", "requests"}},
		{"requirements[0]", first(d["requirements"]), []string{"id", "level", "statement", "features", "subject", "where", "outcome", "checks", "failed", "reason"}},
		{"compliance", obj(d["compliance"]), []string{"level", "levels", "false_advertising"}},
		{"compliance.levels[0]", first(obj(d["compliance"])["levels"]), []string{"name", "description", "reached", "requirements", "passed", "not_applicable", "failed", "unverified", "undeclared"}},
	} {
		for _, k := range c.members {
			if _, ok := c.m[k]; !ok {
				t.Errorf("results.json: %s has no %q member", c.where, k)
			}
		}
	}
	for _, list := range []any{d["notes"], obj(d["cleanup"])["problems"], obj(d["config"])["include"], obj(d["config"])["exclude"]} {
		if _, ok := list.([]any); !ok {
			t.Errorf("an empty list is %v in results.json, want []", list)
		}
	}
}

// The report fixes of issue "Conformance suite 2": counts under their own
// headers, "the check's only request", agents named once, the token hint only
// where a token is sent, and no "0.0 s".
func TestReportHTMLReadsRight(t *testing.T) {
	srv := fakeServer(t, nil)
	withCatalogue(t,
		def("SESS-901", Must, "getSession", "synthetic: fails on an anonymous request", func(ctx context.Context, t *tester) error {
			resp, err := t.Do(ctx, request{Method: http.MethodGet, Path: "/v1/sessions/x", As: asAnonymous})
			if err != nil {
				return err
			}
			return resp.Expect(200)
		}).traces("REQ-ERR-011"),
		def("SESS-902", Must, "getSession", "synthetic: fails on the tenant's request", func(ctx context.Context, t *tester) error {
			for i := 0; i < 3; i++ {
				resp, err := t.get(ctx, "/v1/sessions/y", nil)
				if err != nil {
					return err
				}
				if i == 2 {
					return resp.Expect(200)
				}
			}
			return nil
		}).traces("REQ-ERR-011"),
	)
	var b strings.Builder
	res := testRun(t, srv, nil)
	if err := res.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"All 1 requests", "echo echo", "0.0 s", "scripted scripted"} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html says %q", bad)
		}
	}
	for _, want := range []string{"The only request of the check", "All 3 requests of the check", `<code>echo</code> (the echo agent)`, "Compliance level"} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	one := html[strings.Index(html, `id="SESS-901"`):strings.Index(html, `id="SESS-902"`)]
	if strings.Contains(one, "AGENTSESSION_TOKEN") {
		t.Errorf("the token hint is shown for a request that sends no token:\n%s", one)
	}
	two := html[strings.Index(html, `id="SESS-902"`):]
	if !strings.Contains(two, "set AGENTSESSION_TOKEN to the token to run it") {
		t.Errorf("no token hint for a request that sends the token")
	}
	// In every summary table a number sits under its own header: a header
	// and the cells below it are aligned alike.
	tables := regexp.MustCompile(`(?s)<table class="summary">(.*?)</table>`).FindAllStringSubmatch(html, -1)
	if len(tables) != 3 {
		t.Fatalf("%d summary tables, want 3 (compliance, group, level)", len(tables))
	}
	cellClass := regexp.MustCompile(`<t([hd])( class="n")?>`)
	for _, tb := range tables {
		rows := strings.Split(tb[1], "</tr>")
		var header []bool
		for _, row := range rows {
			cells := cellClass.FindAllStringSubmatch(row, -1)
			if len(cells) == 0 {
				continue
			}
			var classes []bool
			for _, c := range cells {
				classes = append(classes, c[2] != "")
			}
			if cells[0][1] == "h" {
				header = classes
				continue
			}
			if !slices.Equal(classes, header) {
				t.Errorf("a row's cells are aligned %v under headers aligned %v:\n%s", classes, header, row)
			}
		}
	}
}

func TestDuration(t *testing.T) {
	for ms, want := range map[int64]string{0: "0 ms", 7: "7 ms", 999: "999 ms", 1000: "1.0 s", 1549: "1.5 s", 61000: "61.0 s"} {
		if got := duration(ms); got != want {
			t.Errorf("duration(%d) = %q, want %q", ms, got, want)
		}
	}
}

func TestComplianceLevels(t *testing.T) {
	req := func(id string, level Level, outcome RequirementOutcome, features ...string) RequirementResult {
		return RequirementResult{Requirement: Requirement{ID: id, Level: level, Subject: SubjectServer, Features: append([]string{}, features...)},
			Outcome: outcome, Failed: []string{}, Checks: []string{"X-" + id}}
	}
	all := func(string) bool { return true }
	only := func(fs ...string) func(string) bool { return func(f string) bool { return slices.Contains(fs, f) } }
	tests := []struct {
		name     string
		results  []RequirementResult
		declared func(string) bool
		level    string
		advert   []string
	}{
		{"everything passes", []RequirementResult{req("REQ-AUTH-001", Must, ReqPass), req("REQ-STRM-001", Must, ReqPass, "streaming"), req("REQ-ERR-016", Should, ReqPass)}, all, LevelFull, nil},
		{"a core MUST fails", []RequirementResult{req("REQ-AUTH-001", Must, ReqFail), req("REQ-STRM-001", Must, ReqPass, "streaming")}, all, LevelNone, nil},
		{"a feature MUST fails: false advertising", []RequirementResult{req("REQ-AUTH-001", Must, ReqPass), req("REQ-STRM-001", Must, ReqFail, "streaming")}, all, LevelCore, []string{"streaming"}},
		{"a SHOULD warns", []RequirementResult{req("REQ-AUTH-001", Must, ReqPass), req("REQ-ERR-016", Should, ReqWarn)}, all, LevelStandard, nil},
		{"a MAY warns: full still reached", []RequirementResult{req("REQ-AUTH-001", Must, ReqPass), req("REQ-IDEM-008", May, ReqWarn, "idempotency")}, all, LevelFull, nil},
		{"unverified core", []RequirementResult{req("REQ-AUTH-001", Must, ReqUnverified)}, all, LevelNone, nil},
		{"a feature not declared: standard, not full", []RequirementResult{req("REQ-AUTH-001", Must, ReqPass), req("REQ-STRM-001", Must, ReqNotApplicable, "streaming")}, only("resume"), LevelStandard, nil},
		{"not applicable inside a level", []RequirementResult{req("REQ-AUTH-001", Must, ReqPass), req("REQ-AGT-005", Must, ReqNotApplicable)}, all, LevelFull, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := comply(tc.results, tc.declared)
			if c.Level != tc.level {
				t.Errorf("level %s, want %s (%s)", c.Level, tc.level, c.Summary())
			}
			var advert []string
			for _, fa := range c.FalseAdvertising {
				advert = append(advert, fa.Feature)
			}
			if !slices.Equal(advert, tc.advert) {
				t.Errorf("false advertising %v, want %v", advert, tc.advert)
			}
		})
	}
}

func TestJudgeRequirement(t *testing.T) {
	r := Requirement{ID: "REQ-AUTH-001", Level: Must, Subject: SubjectServer, Features: []string{}}
	results := map[string]CheckResult{
		"A": {Outcome: Pass}, "B": {Outcome: Fail}, "C": {Outcome: Skip, SkipKind: SkipUnverifiable, Message: "no second token"},
		"D": {Outcome: Skip, SkipKind: SkipNotApplicable, Message: "nothing to test"}, "E": {Outcome: Error},
	}
	declared := func(string) bool { return true }
	for _, tc := range []struct {
		checks []string
		want   RequirementOutcome
	}{
		{[]string{"A"}, ReqPass}, {[]string{"A", "B"}, ReqFail}, {[]string{"A", "C"}, ReqPass}, {[]string{"C"}, ReqUnverified},
		{[]string{"D"}, ReqNotApplicable}, {[]string{"C", "D"}, ReqUnverified}, {[]string{"E"}, ReqUnverified}, {[]string{"Z"}, ReqUnverified},
	} {
		var failed []string
		if got, _ := judge(r, tc.checks, results, declared, &failed); got != tc.want {
			t.Errorf("checks %v: %s, want %s", tc.checks, got, tc.want)
		}
	}
	should := r
	should.Level = Should
	var failed []string
	if got, _ := judge(should, []string{"B"}, results, declared, &failed); got != ReqWarn {
		t.Errorf("a failed SHOULD requirement is %s, want warn", got)
	}
	streaming := r
	streaming.Features = []string{"streaming"}
	if got, _ := judge(streaming, []string{"B"}, results, func(string) bool { return false }, &failed); got != ReqNotApplicable {
		t.Errorf("a requirement of an undeclared feature is %s, want not_applicable", got)
	}
}
