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
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
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

// WriteJUnit writes the result as JUnit XML: one testsuite per group, one
// testcase per check. A warn is a passing testcase whose system-out says why.
func (r *Result) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "agentsession-conformance", Time: seconds(r.DurationMS)}
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
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, *s)
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

func seconds(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) }

// checkDetail is a plain-text account of a problem: message, violations,
// the culprit request as curl, its status and an excerpt of the answer.
func checkDetail(c CheckResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rule: %s\n%s\n", c.Rule, c.Message)
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

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"seconds": func(ms int64) string { return fmt.Sprintf("%.1f s", float64(ms)/1000) },
	"lower":   func(o Outcome) string { return strings.ToLower(string(o)) },
	"join":    strings.Join,
	"problems": func(r *Result) []CheckResult {
		return r.Problems()
	},
}).Parse(reportHTML))

const reportHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Agent Session API conformance: {{if .Passed}}PASS{{else}}FAIL{{end}} — {{.Target.BaseURL}}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;width:100%;margin:.5rem 0} th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eef;vertical-align:top}
th{background:#f5f6fa} td.id{white-space:nowrap} td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:.3rem;font-weight:700;color:#fff}
.v-pass{background:#1a7f37} .v-fail{background:#cf222e}
.o{font-weight:600;text-transform:uppercase;font-size:.8rem;padding:.05rem .4rem;border-radius:.2rem}
.o-pass{background:#dafbe1;color:#1a7f37} .o-fail{background:#ffebe9;color:#cf222e} .o-warn{background:#fff8c5;color:#9a6700}
.o-skip{background:#eaeef2;color:#57606a} .o-error{background:#ffd8b5;color:#953800}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:.85rem}
.problem{border:1px solid #e1e4e8;border-left:4px solid #cf222e;padding:.5rem 1rem;margin:1rem 0;border-radius:.3rem}
.problem.warn{border-left-color:#9a6700} .problem.error{border-left-color:#953800}
.meta{color:#57606a} code{font-size:.9em}
</style>
</head>
<body>
<h1>Agent Session API conformance <span class="verdict v-{{lower .Verdict}}">{{if .Passed}}PASS{{else}}FAIL{{end}}</span></h1>
<p class="meta">Target <code>{{.Target.BaseURL}}</code>{{if .Target.ServerName}} ({{.Target.ServerName}} {{.Target.ServerVersion}}){{end}} ·
contract {{.Suite.SpecVersion}} · profile {{.Config.Profile}} · run prefix <code>{{.Config.Prefix}}</code> ·
started {{.StartedAt.Format "2006-01-02 15:04:05 UTC"}} · {{seconds .DurationMS}}<br>
Agents: echo <code>{{.Target.EchoAgent}}</code>{{if .Target.ScriptedAgent}}, scripted <code>{{.Target.ScriptedAgent}}</code>{{end}} ·
second tenant: {{if .Target.SecondTenant}}yes{{else}}no (isolation checks skipped){{end}} ·
declared: {{join .Target.Declared ", "}}</p>
{{range .Notes}}<p class="meta">Note: {{.}}</p>{{end}}
<p>{{.Summary.Total}} checks: {{.Summary.Pass}} pass, {{.Summary.Fail}} fail, {{.Summary.Warn}} warn, {{.Summary.Skip}} skip, {{.Summary.Error}} error.
The run passes when every MUST check passes; a failed SHOULD or MAY is a warning; skipped checks test features the server does not declare.</p>

<h2>By group</h2>
<table><tr><th>group</th><th>checks</th><th>pass</th><th>fail</th><th>warn</th><th>skip</th><th>error</th><th>time</th></tr>
{{range .Groups}}<tr><td>{{.Group}}</td><td class="n">{{.Total}}</td><td class="n">{{.Pass}}</td><td class="n">{{.Fail}}</td><td class="n">{{.Warn}}</td><td class="n">{{.Skip}}</td><td class="n">{{.Error}}</td><td class="n">{{seconds .DurationMS}}</td></tr>
{{end}}</table>

<h2>By level</h2>
<table><tr><th>level</th><th>checks</th><th>pass</th><th>fail</th><th>warn</th><th>skip</th><th>error</th></tr>
{{range .Levels}}<tr><td>{{.Level}}</td><td class="n">{{.Total}}</td><td class="n">{{.Pass}}</td><td class="n">{{.Fail}}</td><td class="n">{{.Warn}}</td><td class="n">{{.Skip}}</td><td class="n">{{.Error}}</td></tr>
{{end}}</table>

{{with problems .}}<h2>What to fix</h2>
{{range .}}<div class="problem {{lower .Outcome}}" id="{{.ID}}">
<p><span class="o o-{{lower .Outcome}}">{{.Outcome}}</span> <strong>{{.ID}}</strong> [{{.Level}}] <code>{{join .Operations ", "}}</code><br>
<em>Rule:</em> {{.Rule}}</p>
<pre>{{.Message}}</pre>
{{with .Violations}}<p>Schema violations:</p><pre>{{range .}}{{.}}
{{end}}</pre>{{end}}
{{with .Notes}}<p>Notes:</p><pre>{{range .}}{{.}}
{{end}}</pre>{{end}}
{{with .Culprit}}<p>Request (set <code>AGENTSESSION_TOKEN</code> to your token to run it):</p>
<pre>{{.Curl}}</pre>
<p>{{if .Status}}Status <strong>{{.Status}}</strong>{{if .RequestID}} · X-Request-Id <code>{{.RequestID}}</code>{{end}}{{end}}{{if .Error}} Error: {{.Error}}{{end}}</p>
{{with .ResponseExcerpt}}<p>Response (excerpt):</p><pre>{{.}}</pre>{{end}}{{end}}
{{with .Exchanges}}<details><summary>All {{len .}} requests of this check</summary>
{{range .}}<pre>{{.Curl}}
→ {{if .Status}}{{.Status}}{{else}}{{.Error}}{{end}}{{range .Violations}}
  schema: {{.}}{{end}}</pre>{{end}}</details>{{end}}
</div>
{{end}}{{end}}

<h2>Every check</h2>
<table><tr><th>ID</th><th>level</th><th>outcome</th><th>operations</th><th>rule</th><th>time</th></tr>
{{range .Checks}}<tr><td class="id">{{if or (eq .Outcome "fail") (eq .Outcome "warn") (eq .Outcome "error")}}<a href="#{{.ID}}">{{.ID}}</a>{{else}}{{.ID}}{{end}}</td><td>{{.Level}}</td><td><span class="o o-{{lower .Outcome}}">{{.Outcome}}</span></td>
<td><code>{{join .Operations ", "}}</code></td><td>{{.Rule}}{{if eq .Outcome "skip"}}<br><span class="meta">{{.Message}}</span>{{end}}</td><td class="n">{{seconds .DurationMS}}</td></tr>
{{end}}</table>

<h2>Cleanup</h2>
<p>Closed {{.Cleanup.Closed}} sessions{{if .Cleanup.Kept}}, kept {{.Cleanup.Kept}} (prefix <code>{{.Config.Prefix}}</code>){{end}}.</p>
{{with .Cleanup.Problems}}<pre>{{range .}}{{.}}
{{end}}</pre>{{end}}
</body>
</html>
`
