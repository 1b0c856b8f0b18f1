package conformance

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress prints one line per group, in report order, as soon as the group
// and every group before it have finished; then a summary.
type progress struct {
	w   io.Writer
	res *Result
	cfg Config

	mu       sync.Mutex
	groups   []string       // groups with selected checks, in order
	pending  map[string]int // checks still running per group
	indexes  map[string][]int
	first    map[string]time.Time
	last     map[string]time.Time
	next     int // the first group not printed yet
	selected []*check
}

func newProgress(cfg Config, selected []*check, res *Result) *progress {
	p := &progress{
		w: cfg.Progress, res: res, cfg: cfg, selected: selected,
		pending: map[string]int{}, indexes: map[string][]int{},
		first: map[string]time.Time{}, last: map[string]time.Time{},
	}
	for i, c := range selected {
		if p.pending[c.Group] == 0 {
			p.groups = append(p.groups, c.Group)
		}
		p.pending[c.Group]++
		p.indexes[c.Group] = append(p.indexes[c.Group], i)
	}
	// Keep report order even if a filter listed groups differently.
	order := map[string]int{}
	for i, g := range groupOrder {
		order[g] = i
	}
	for i := 1; i < len(p.groups); i++ {
		for j := i; j > 0 && order[p.groups[j]] < order[p.groups[j-1]]; j-- {
			p.groups[j], p.groups[j-1] = p.groups[j-1], p.groups[j]
		}
	}
	if p.w != nil {
		fmt.Fprintf(p.w, "Agent Session API conformance (contract %s) against %s, profile %s, %d checks\n",
			SpecVersion(), cfg.BaseURL, cfg.Profile, len(selected))
	}
	return p
}

// done records that check i finished (its result is in res.Checks[i]).
func (p *progress) done(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.selected[i].Group
	now := time.Now()
	started := now.Add(-time.Duration(p.res.Checks[i].DurationMS) * time.Millisecond)
	if f, ok := p.first[g]; !ok || started.Before(f) {
		p.first[g] = started
	}
	p.last[g] = now
	p.pending[g]--
	for p.next < len(p.groups) && p.pending[p.groups[p.next]] == 0 {
		p.printGroup(p.groups[p.next])
		p.next++
	}
}

func (p *progress) printGroup(g string) {
	if p.w == nil {
		return
	}
	var counts Counts
	var bad []string
	for _, i := range p.indexes[g] {
		c := p.res.Checks[i]
		counts.add(c.Outcome)
		if c.Outcome == Fail || c.Outcome == Warn || c.Outcome == Error {
			bad = append(bad, c.ID)
		}
	}
	mark := "[ ok ]"
	switch {
	case counts.Fail > 0 || counts.Error > 0:
		mark = "[FAIL]"
	case counts.Warn > 0:
		mark = "[warn]"
	case counts.Pass == 0:
		mark = "[skip]"
	}
	line := fmt.Sprintf("%s %-13s %3d checks: %s", mark, g, counts.Total, counts)
	if len(bad) > 0 {
		line += "  (" + strings.Join(bad, ", ") + ")"
	}
	fmt.Fprintf(p.w, "%s  %s\n", line, duration(p.last[g].Sub(p.first[g]).Milliseconds()))
}

func (p *progress) groupDurations() map[string]time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]time.Duration{}
	for g, f := range p.first {
		out[g] = p.last[g].Sub(f)
	}
	return out
}

// summary prints the totals, each problem with its culprit request, and the verdict.
func (p *progress) summary() {
	if p.w == nil {
		return
	}
	r := p.res
	fmt.Fprintf(p.w, "\n%d checks in %s: %s\n", r.Summary.Total, duration(r.DurationMS), r.Summary)
	for _, n := range r.Notes {
		fmt.Fprintf(p.w, "note: %s\n", n)
	}
	for _, c := range r.Problems() {
		fmt.Fprintf(p.w, "\n%s %s [%s] %s\n  rule: %s\n  %s\n", strings.ToUpper(string(c.Outcome)), c.ID, c.Level, strings.Join(c.Operations, ", "), c.Rule, indent(c.Message, "  "))
		for i, v := range c.Violations {
			if i == 5 {
				fmt.Fprintf(p.w, "  … %d more schema violations\n", len(c.Violations)-i)
				break
			}
			fmt.Fprintf(p.w, "  schema: %s\n", v)
		}
		if c.Culprit != nil {
			fmt.Fprintf(p.w, "  request: %s\n", c.Culprit.Curl)
			if c.Culprit.Status != 0 {
				fmt.Fprintf(p.w, "  answer: %d %s\n", c.Culprit.Status, oneLine(c.Culprit.ResponseExcerpt, 300))
			}
		}
	}
	if n := len(r.Cleanup.Problems); n > 0 {
		fmt.Fprintf(p.w, "\ncleanup: %d problems closing sessions (see the report)\n", n)
	}
	if r.Cleanup.Kept > 0 {
		fmt.Fprintf(p.w, "\nkept %d sessions (prefix %s)\n", r.Cleanup.Kept, r.Config.Prefix)
	}
	p.compliance()
	verdict := "PASS: every MUST check passed"
	if !r.Passed() {
		verdict = "FAIL: a MUST check did not pass"
	}
	fmt.Fprintf(p.w, "\n%s; compliance level %s\n", verdict, r.Compliance.Level)
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// oneLine squeezes s onto one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// compliance prints the levels, the requirements keeping the next level out
// of reach, and any false advertising.
func (p *progress) compliance() {
	r := p.res
	counts := requirementCounts(r)
	fmt.Fprintf(p.w, "\nCompliance: %s\n  %d server requirements: %d pass, %d fail, %d warn, %d unverified, %d do not apply\n",
		r.Compliance.Summary(), len(r.Requirements), counts[ReqPass], counts[ReqFail], counts[ReqWarn], counts[ReqUnverified], counts[ReqNotApplicable])
	for _, l := range r.Compliance.Levels {
		mark := "[x]"
		if !l.Reached {
			mark = "[ ]"
		}
		line := fmt.Sprintf("  %s %-8s %3d requirements, %d pass, %d do not apply", mark, l.Name, l.Requirements, l.Passed, l.NotApplicable)
		if !l.Reached {
			line += ": " + oneLine(r.levelDetail(l), 200)
		}
		fmt.Fprintln(p.w, line)
	}
	for _, fa := range r.Compliance.FalseAdvertising {
		fmt.Fprintf(p.w, "  FALSE ADVERTISING: declares %s but fails %s (checks %s)\n", fa.Feature, strings.Join(fa.Requirements, ", "), strings.Join(fa.Checks, ", "))
	}
}
