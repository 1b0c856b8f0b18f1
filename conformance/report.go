package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The report file names WriteReports uses.
const (
	ResultsFile = "results.json"
	JUnitFile   = "junit.xml"
	HTMLFile    = "report.html"
)

// WriteReports writes results.json, junit.xml and report.html into dir,
// creating it when needed.
func WriteReports(r *Result, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer) error{
		ResultsFile: r.WriteJSON,
		JUnitFile:   r.WriteJUnit,
		HTMLFile:    r.WriteHTML,
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes the result as indented JSON (the results.json format).
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// JUnit XML, in the shape CI systems read (one suite per group).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Time       string           `xml:"time,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
}

type junitProperties struct {
	Items []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the result as JUnit XML: a "compliance" testsuite first
// (the level reached as a property, one testcase per level and one failing
// testcase per falsely advertised feature), then one testsuite per group,
// one testcase per check. A warn is a passing testcase whose system-out says
// why; a level not reached because of a failed MUST is a failure, one not
// reached for another reason (unverified requirements, SHOULDs, undeclared
// features) is skipped, so that CI fails only where the verdict does.
func (r *Result) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "agentsession-conformance", Time: seconds(r.DurationMS)}
	out.Suites = append(out.Suites, r.complianceSuite())
	byGroup := map[string]*junitSuite{}
	var order []string
	for _, c := range r.Checks {
		s := byGroup[c.Group]
		if s == nil {
			s = &junitSuite{Name: c.Group}
			byGroup[c.Group] = s
			order = append(order, c.Group)
		}
		tc := junitCase{
			Name:      c.ID + " [" + string(c.Level) + "] " + c.Rule,
			Classname: "conformance." + c.Group,
			Time:      seconds(c.DurationMS),
		}
		detail := checkDetail(c)
		switch c.Outcome {
		case Fail:
			tc.Failure = &junitMessage{Message: oneLine(c.Message, 500), Type: string(c.Level), Text: detail}
			s.Failures++
		case Error:
			tc.Error = &junitMessage{Message: oneLine(c.Message, 500), Type: "harness", Text: detail}
			s.Errors++
		case Skip:
			tc.Skipped = &junitMessage{Message: c.Message}
			s.Skipped++
		case Warn:
			tc.SystemOut = "WARN (" + string(c.Level) + " rule not met)\n" + detail
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	for _, g := range order {
		s := byGroup[g]
		for _, gs := range r.Groups {
			if gs.Group == g {
				s.Time = seconds(gs.DurationMS)
			}
		}
		out.Suites = append(out.Suites, *s)
	}
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// complianceSuite is the JUnit testsuite of the compliance levels.
func (r *Result) complianceSuite() junitSuite {
	c := r.Compliance
	s := junitSuite{Name: "compliance", Time: "0.000", Properties: &junitProperties{Items: []junitProperty{
		{Name: "compliance_level", Value: c.Level},
		{Name: "compliance", Value: c.Summary()},
	}}}
	for _, l := range c.Levels {
		tc := junitCase{Name: fmt.Sprintf("compliance level %s: %s", l.Name, l.Description), Classname: "conformance.compliance", Time: "0.000"}
		switch {
		case l.Reached:
		case r.levelFailsVerdict(l):
			tc.Failure = &junitMessage{Message: "not reached: " + strings.Join(l.Failed, ", ") + " not met", Type: "MUST", Text: r.levelDetail(l)}
			s.Failures++
		default:
			tc.Skipped = &junitMessage{Message: "not reached: " + oneLine(r.levelDetail(l), 500)}
			s.Skipped++
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	for _, fa := range c.FalseAdvertising {
		s.Tests++
		s.Failures++
		s.Cases = append(s.Cases, junitCase{
			Name: "false advertising: " + fa.Feature, Classname: "conformance.compliance", Time: "0.000",
			Failure: &junitMessage{Message: fmt.Sprintf("declares %s but fails %s", fa.Feature, strings.Join(fa.Requirements, ", ")), Type: "MUST",
				Text: "failing checks: " + strings.Join(fa.Checks, ", ")},
		})
	}
	return s
}

// levelFailsVerdict reports whether a level is missed because a MUST
// requirement failed (which also fails the run).
func (r *Result) levelFailsVerdict(l LevelResult) bool {
	for _, id := range l.Failed {
		for _, rr := range r.Requirements {
			if rr.ID == id && rr.Outcome == ReqFail {
				return true
			}
		}
	}
	return false
}

// levelDetail says why a level is not reached.
func (r *Result) levelDetail(l LevelResult) string {
	var parts []string
	if len(l.Failed) > 0 {
		parts = append(parts, "not met: "+strings.Join(l.Failed, ", "))
	}
	if len(l.Unverified) > 0 {
		parts = append(parts, "unverified: "+strings.Join(l.Unverified, ", "))
	}
	if len(l.Undeclared) > 0 {
		parts = append(parts, "features not declared: "+strings.Join(l.Undeclared, ", "))
	}
	if len(parts) == 0 {
		parts = append(parts, "a lower level is not reached")
	}
	return strings.Join(parts, "; ")
}

func seconds(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) }

// duration renders a time for people: "120 ms", "1.5 s", "0 ms" (never "0.0 s").
func duration(ms int64) string {
	if ms < 1000 {
		return fmt.Sprintf("%d ms", ms)
	}
	return fmt.Sprintf("%.1f s", float64(ms)/1000)
}

// checkDetail is a plain-text account of a problem: message, violations,
// the culprit request as curl, its status and an excerpt of the answer.
func checkDetail(c CheckResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rule: %s\nrequirements: %s\n%s\n", c.Rule, strings.Join(c.Requirements, ", "), c.Message)
	for _, v := range c.Violations {
		fmt.Fprintf(&b, "schema: %s\n", v)
	}
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if ex := c.Culprit; ex != nil {
		fmt.Fprintf(&b, "request: %s\n", ex.Curl)
		if ex.Status != 0 {
			fmt.Fprintf(&b, "status: %d\n", ex.Status)
		}
		if ex.Error != "" {
			fmt.Fprintf(&b, "error: %s\n", ex.Error)
		}
		if ex.ResponseExcerpt != "" {
			fmt.Fprintf(&b, "response: %s\n", ex.ResponseExcerpt)
		}
	}
	return b.String()
}

// WriteHTML writes a self-contained HTML report (no external resources).
func (r *Result) WriteHTML(w io.Writer) error {
	return reportTemplate.Execute(w, r)
}

// tokenHint says which variables a curl command needs, or "" when it sends
// no token.
func tokenHint(curl string) string {
	var vars []string
	for _, v := range []string{TokenVar, Token2Var} {
		if strings.Contains(curl, v+`"`) || strings.Contains(curl, v+" ") || strings.HasSuffix(curl, v) {
			vars = append(vars, strings.TrimPrefix(v, "$"))
		}
	}
	switch len(vars) {
	case 0:
		return ""
	case 1:
		return "set " + vars[0] + " to the token to run it"
	}
	return "set " + strings.Join(vars, " and ") + " to the tokens to run it"
}

// requestsTitle titles the list of a check's requests.
func requestsTitle(n, total int) string {
	switch {
	case n == 1 && total <= 1:
		return "The only request of the check"
	case n == total:
		return fmt.Sprintf("All %d requests of the check", n)
	}
	return fmt.Sprintf("The last %d of the check's %d requests", n, total)
}

// requirementsByOutcome groups the requirement results for the report.
func requirementsByOutcome(r *Result, outcomes ...RequirementOutcome) []RequirementResult {
	var out []RequirementResult
	for _, rr := range r.Requirements {
		for _, o := range outcomes {
			if rr.Outcome == o {
				out = append(out, rr)
			}
		}
	}
	return out
}

// requirementCounts counts the requirement results by outcome.
func requirementCounts(r *Result) map[RequirementOutcome]int {
	m := map[RequirementOutcome]int{}
	for _, rr := range r.Requirements {
		m[rr.Outcome]++
	}
	return m
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"duration":      duration,
	"lower":         func(o any) string { return strings.ToLower(fmt.Sprint(o)) },
	"join":          strings.Join,
	"problems":      func(r *Result) []CheckResult { return r.Problems() },
	"tokenHint":     tokenHint,
	"requestsTitle": requestsTitle,
	"reqsWith": func(r *Result, outcomes ...string) []RequirementResult {
		var os []RequirementOutcome
		for _, o := range outcomes {
			os = append(os, RequirementOutcome(o))
		}
		return requirementsByOutcome(r, os...)
	},
	"reqCount":    func(r *Result, o string) int { return requirementCounts(r)[RequirementOutcome(o)] },
	"levelDetail": func(r *Result, l LevelResult) string { return r.levelDetail(l) },
}).Parse(reportHTML))

const reportHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Agent Session API conformance: {{if .Passed}}PASS{{else}}FAIL{{end}}, {{.Compliance.Level}} — {{.Target.BaseURL}}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;width:100%;margin:.5rem 0} th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eef;vertical-align:top}
th{background:#f5f6fa} td.id{white-space:nowrap} th.n,td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.summary{width:auto;min-width:32rem}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:.3rem;font-weight:700;color:#fff}
.v-pass{background:#1a7f37} .v-fail{background:#cf222e}
.level{display:inline-block;padding:.2rem .7rem;border-radius:.3rem;font-weight:700;border:2px solid #1d2330;margin-left:.3rem}
.l-none{border-color:#cf222e;color:#cf222e} .l-core{border-color:#9a6700;color:#9a6700} .l-standard{border-color:#0969da;color:#0969da} .l-full{border-color:#1a7f37;color:#1a7f37}
.o{font-weight:600;text-transform:uppercase;font-size:.8rem;padding:.05rem .4rem;border-radius:.2rem;white-space:nowrap}
.o-pass,.o-reached{background:#dafbe1;color:#1a7f37} .o-fail{background:#ffebe9;color:#cf222e} .o-warn{background:#fff8c5;color:#9a6700}
.o-skip,.o-not_applicable{background:#eaeef2;color:#57606a} .o-error{background:#ffd8b5;color:#953800} .o-unverified,.o-not-reached{background:#ddf4ff;color:#0550ae}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:.85rem}
.problem{border:1px solid #e1e4e8;border-left:4px solid #cf222e;padding:.5rem 1rem;margin:1rem 0;border-radius:.3rem}
.problem.warn{border-left-color:#9a6700} .problem.error{border-left-color:#953800}
.advert{border:2px solid #cf222e;background:#fff5f5;padding:.5rem 1rem;border-radius:.3rem;margin:1rem 0}
.meta{color:#57606a} code{font-size:.9em} summary{cursor:pointer} td a{white-space:nowrap}
</style>
</head>
<body>
<h1>Agent Session API conformance <span class="verdict v-{{lower .Verdict}}">{{if .Passed}}PASS{{else}}FAIL{{end}}</span><span class="level l-{{.Compliance.Level}}" title="compliance level">{{.Compliance.Level}}</span></h1>
<p class="meta">Target <code>{{.Target.BaseURL}}</code>{{if .Target.ServerName}} ({{.Target.ServerName}} {{.Target.ServerVersion}}){{end}} ·
contract {{.Suite.SpecVersion}} · profile {{.Config.Profile}} · run prefix <code>{{.Config.Prefix}}</code> ·
started {{.StartedAt.Format "2006-01-02 15:04:05 UTC"}} · took {{duration .DurationMS}}<br>
Agents used: <code>{{.Target.EchoAgent}}</code> (the echo agent){{if .Target.ScriptedAgent}}, <code>{{.Target.ScriptedAgent}}</code> (the scripted agent){{else}}, no scripted agent{{end}} ·
second tenant: {{if .Target.SecondTenant}}yes{{else}}no (isolation checks skipped){{end}} ·
declared or available: {{if .Target.Declared}}{{join .Target.Declared ", "}}{{else}}nothing{{end}}</p>
{{range .Notes}}<p class="meta">Note: {{.}}</p>{{end}}
<p>{{.Summary.Total}} checks: {{.Summary.Pass}} pass, {{.Summary.Fail}} fail, {{.Summary.Warn}} warn, {{.Summary.Skip}} skip, {{.Summary.Error}} error.
The run passes when every MUST check passes; a failed SHOULD or MAY is a warning; skipped checks test features the server does not declare, or that this run could not test.</p>

<h2>Compliance</h2>
<p>Compliance level <strong>{{.Compliance.Level}}</strong>{{with .Compliance.Missing}}; {{.}}{{else}}: every level reached{{end}}.
Of {{len .Requirements}} server requirements, {{reqCount . "pass"}} pass, {{reqCount . "fail"}} fail, {{reqCount . "warn"}} warn, {{reqCount . "unverified"}} are unverified and {{reqCount . "not_applicable"}} do not apply.</p>
{{range .Compliance.FalseAdvertising}}<div class="advert"><strong>False advertising:</strong> the server declares <code>{{.Feature}}</code> in getCapabilities but fails {{join .Requirements ", "}} (checks {{join .Checks ", "}}).</div>
{{end}}
<table class="summary"><tr><th>level</th><th>reached</th><th class="n">requirements</th><th class="n">pass</th><th class="n">do not apply</th><th>keeping it from being reached</th></tr>
{{range .Compliance.Levels}}<tr><td><strong>{{.Name}}</strong><br><span class="meta">{{.Description}}</span></td><td>{{if .Reached}}<span class="o o-reached">reached</span>{{else}}<span class="o o-not-reached">not reached</span>{{end}}</td>
<td class="n">{{.Requirements}}</td><td class="n">{{.Passed}}</td><td class="n">{{.NotApplicable}}</td><td>{{if not .Reached}}{{levelDetail $ .}}{{end}}</td></tr>
{{end}}</table>

<h2>By group</h2>
<table class="summary"><tr><th>group</th><th class="n">checks</th><th class="n">pass</th><th class="n">fail</th><th class="n">warn</th><th class="n">skip</th><th class="n">error</th><th class="n">time</th></tr>
{{range .Groups}}<tr><td>{{.Group}}</td><td class="n">{{.Total}}</td><td class="n">{{.Pass}}</td><td class="n">{{.Fail}}</td><td class="n">{{.Warn}}</td><td class="n">{{.Skip}}</td><td class="n">{{.Error}}</td><td class="n">{{duration .DurationMS}}</td></tr>
{{end}}</table>

<h2>By level</h2>
<table class="summary"><tr><th>level</th><th class="n">checks</th><th class="n">pass</th><th class="n">fail</th><th class="n">warn</th><th class="n">skip</th><th class="n">error</th></tr>
{{range .Levels}}<tr><td>{{.Level}}</td><td class="n">{{.Total}}</td><td class="n">{{.Pass}}</td><td class="n">{{.Fail}}</td><td class="n">{{.Warn}}</td><td class="n">{{.Skip}}</td><td class="n">{{.Error}}</td></tr>
{{end}}</table>

{{with problems .}}<h2>What to fix</h2>
{{range .}}{{$chk := .}}<div class="problem {{lower .Outcome}}" id="{{.ID}}">
<p><span class="o o-{{lower .Outcome}}">{{.Outcome}}</span> <strong>{{.ID}}</strong> [{{.Level}}] <code>{{join .Operations ", "}}</code><br>
<em>Rule:</em> {{.Rule}}<br><em>Requirements:</em> {{range $i, $r := .Requirements}}{{if $i}}, {{end}}<a href="#{{$r}}">{{$r}}</a>{{end}}</p>
<pre>{{.Message}}</pre>
{{with .Violations}}<p>Schema violations:</p><pre>{{range .}}{{.}}
{{end}}</pre>{{end}}
{{with .Notes}}<p>Notes:</p><pre>{{range .}}{{.}}
{{end}}</pre>{{end}}
{{with .Culprit}}<p>The request that showed it{{with tokenHint .Curl}} ({{.}}){{end}}:</p>
<pre>{{.Curl}}</pre>
<p>{{if .Status}}Status <strong>{{.Status}}</strong>{{if .RequestID}} · X-Request-Id <code>{{.RequestID}}</code>{{end}}{{end}}{{if .Error}} Error: {{.Error}}{{end}}</p>
{{with .ResponseExcerpt}}<p>Response (excerpt):</p><pre>{{.}}</pre>{{end}}{{end}}
{{with .Exchanges}}<details><summary>{{requestsTitle (len .) $chk.Requests}}</summary>
{{range .}}<pre>{{.Curl}}
→ {{if .Status}}{{.Status}}{{else}}{{.Error}}{{end}}{{range .Violations}}
  schema: {{.}}{{end}}</pre>{{end}}</details>{{end}}
</div>
{{end}}{{end}}

{{with reqsWith . "fail" "warn" "unverified"}}<h2>Requirements not met or not verified</h2>
<table><tr><th>ID</th><th>level</th><th>outcome</th><th>statement</th><th>checks</th></tr>
{{range .}}<tr id="{{.ID}}"><td class="id">{{.ID}}</td><td>{{.Level}}</td><td><span class="o o-{{.Outcome}}">{{.Outcome}}</span></td>
<td>{{.Statement}}<br><span class="meta">{{.Where}}{{if .Features}} · features: {{join .Features ", "}}{{end}}{{if .Reason}} · {{.Reason}}{{end}}</span></td>
<td>{{range $i, $c := .Checks}}{{if $i}} {{end}}<a href="#check-{{$c}}">{{$c}}</a>{{end}}</td></tr>
{{end}}</table>{{end}}

<h2>Every requirement</h2>
<details><summary>{{len .Requirements}} server requirements of the contract, each with the checks that test it</summary>
<table><tr><th>ID</th><th>level</th><th>outcome</th><th>statement</th><th>checks</th></tr>
{{range .Requirements}}<tr><td class="id">{{.ID}}</td><td>{{.Level}}</td><td><span class="o o-{{.Outcome}}">{{.Outcome}}</span></td>
<td>{{.Statement}}<br><span class="meta">{{.Where}}{{if .Features}} · features: {{join .Features ", "}}{{end}}{{if .Reason}} · {{.Reason}}{{end}}</span></td>
<td>{{join .Checks " "}}</td></tr>
{{end}}</table></details>

<h2>Every check</h2>
<table><tr><th>ID</th><th>level</th><th>outcome</th><th>operations</th><th>rule</th><th class="n">time</th></tr>
{{range .Checks}}<tr id="check-{{.ID}}"><td class="id">{{if or (eq .Outcome "fail") (eq .Outcome "warn") (eq .Outcome "error")}}<a href="#{{.ID}}">{{.ID}}</a>{{else}}{{.ID}}{{end}}</td><td>{{.Level}}</td><td><span class="o o-{{lower .Outcome}}">{{.Outcome}}</span></td>
<td><code>{{join .Operations ", "}}</code></td><td>{{.Rule}}<br><span class="meta">{{join .Requirements ", "}}{{if eq .Outcome "skip"}} · {{.Message}}{{end}}</span></td><td class="n">{{duration .DurationMS}}</td></tr>
{{end}}</table>

<h2>Cleanup</h2>
<p>Closed {{.Cleanup.Closed}} sessions{{if .Cleanup.Kept}}, kept {{.Cleanup.Kept}} (prefix <code>{{.Config.Prefix}}</code>){{end}}.{{if not .Cleanup.Problems}} No problems.{{end}}</p>
{{with .Cleanup.Problems}}<pre>{{range .}}{{.}}
{{end}}</pre>{{end}}
</body>
</html>
`
