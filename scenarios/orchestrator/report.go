package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/agentsession/agentsession/internal/faultproxy"
	"github.com/agentsession/agentsession/scenarios/internal/format"
)

// Row is one SDK under one profile.
type Row struct {
	SDK             string `json:"sdk"`
	Profile         string `json:"profile"`
	Run             string `json:"run"`
	Scenarios       int    `json:"scenarios"`
	ScenariosPassed int    `json:"scenarios_passed"`
	Steps           int    `json:"steps"`
	StepsPassed     int    `json:"steps_passed"`
	// Requests and faults are the proxy's counters.
	Requests       int                     `json:"requests"`
	FaultsInjected int                     `json:"faults_injected"`
	FaultsByKind   map[faultproxy.Kind]int `json:"faults_by_kind"`
	// What the server holds for the run, compared with the direct run's.
	ServerSessions    int `json:"server_sessions"`
	ServerTurns       int `json:"server_turns"`
	DuplicateTurns    int `json:"duplicate_turns"`
	LostTurns         int `json:"lost_turns"`
	DuplicateSessions int `json:"duplicate_sessions"`
	// The streamed turns' events against the server's.
	EventsStreamed   int `json:"events_streamed"`
	EventsDuplicated int `json:"events_duplicated"`
	EventsLost       int `json:"events_lost"`
	// The session streams' lifecycle events against the server's.
	LifecycleStreamed   int     `json:"lifecycle_streamed"`
	LifecycleDuplicated int     `json:"lifecycle_duplicated"`
	LifecycleLost       int     `json:"lifecycle_lost"`
	Failures            int     `json:"failures"`
	Seconds             float64 `json:"seconds"`
}

// Report is the outcome of a whole suite.
type Report struct {
	SDKs      []string `json:"sdks"`
	Profiles  []string `json:"profiles"`
	Scenarios []string `json:"scenarios"`
	// Matrix says, per scenario, "ok" or how many failures each run had,
	// keyed "sdk/profile".
	Matrix   map[string]map[string]string `json:"matrix"`
	Rows     []Row                        `json:"rows"`
	Failures []Failure                    `json:"failures"`
	Seconds  float64                      `json:"seconds"`
	// Path is where summary.json was written.
	Path string `json:"-"`
}

// OK reports whether everything passed.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

// evaluate checks every run and compares runs with each other.
func evaluate(cfg Config, scenarios []format.Scenario, jobs []*job, state map[string][]*serverSession) *Report {
	rep := &Report{SDKs: cfg.SDKs, Matrix: map[string]map[string]string{}, Failures: []Failure{}}
	for _, sc := range scenarios {
		rep.Scenarios = append(rep.Scenarios, sc.ID)
	}
	seenProfile := map[string]bool{}
	type runCheck struct {
		j      *job
		checks []*scenarioCheck // in scenario order
		ownOK  []bool
		jobErr []Failure
		row    Row
	}
	runs := make([]*runCheck, len(jobs))
	find := map[[2]string]*runCheck{}
	for i, j := range jobs {
		if !seenProfile[j.profile] {
			seenProfile[j.profile] = true
			rep.Profiles = append(rep.Profiles, j.profile)
		}
		rc := &runCheck{j: j}
		runs[i] = rc
		find[[2]string{j.sdk, j.profile}] = rc
		if j.err != nil {
			rc.jobErr = append(rc.jobErr, Failure{Check: "runner", Message: j.err.Error()})
		}
		for _, f := range j.secretLeak {
			rc.jobErr = append(rc.jobErr, Failure{Check: "secret", Message: f + " contains a token"})
		}
		if j.result != nil && (j.result.SDK != j.sdk || j.result.Run != j.run) {
			rc.jobErr = append(rc.jobErr, Failure{Check: "runner",
				Message: fmt.Sprintf("the result file says sdk %q run %q, want %q %q", j.result.SDK, j.result.Run, j.sdk, j.run)})
		}
		byID := map[string]*serverSession{}
		for _, ss := range state[j.run] {
			byID[ss.ID] = ss
			rc.row.ServerSessions++
			rc.row.ServerTurns += len(ss.Turns)
		}
		for _, sc := range scenarios {
			al := newAliases(j.run)
			for _, ss := range state[j.run] {
				if ss.Scenario == sc.ID && ss.Alias != "" {
					al.sessions[ss.ID] = ss.Alias
				}
			}
			var res *format.ScenarioResult
			if j.result != nil {
				for k := range j.result.Scenarios {
					if j.result.Scenarios[k].ID == sc.ID {
						res = &j.result.Scenarios[k]
					}
				}
			}
			if j.result == nil {
				// The runner failed as a whole (reported once above): its
				// scenarios fail without a line each.
				rc.checks = append(rc.checks, &scenarioCheck{sc: sc, steps: len(sc.Steps), norm: make([]map[string]any, len(sc.Steps)), al: al})
				rc.ownOK = append(rc.ownOK, false)
				continue
			}
			c := checkScenario(sc, res, al)
			cnt := c.checkStreamsOnServer(byID)
			cnt.add(c.checkSessionStreamsOnServer(byID))
			rc.row.EventsStreamed += cnt.streamed
			rc.row.EventsDuplicated += cnt.duplicated
			rc.row.EventsLost += cnt.lost
			rc.row.LifecycleStreamed += cnt.lifecycleStreamed
			rc.row.LifecycleDuplicated += cnt.lifecycleDuplicated
			rc.row.LifecycleLost += cnt.lifecycleLost
			rc.checks = append(rc.checks, c)
			rc.ownOK = append(rc.ownOK, c.ok())
		}
		// Two sessions for one scenario and alias are duplicates in any run.
		keys, _ := keyed(state[j.run])
		for k, ss := range keys {
			if len(ss) > 1 && !strings.Contains(k, "(no alias") && j.profile == directProfile {
				rc.row.DuplicateSessions += len(ss) - 1
			}
		}
	}

	// Each profile against the direct run of the same SDK: observations and
	// server state.
	for _, rc := range runs {
		if rc.j.profile == directProfile {
			continue
		}
		direct := find[[2]string{rc.j.sdk, directProfile}]
		if direct == nil {
			continue
		}
		if direct.j.result == nil || rc.j.result == nil {
			continue
		}
		d := compareState(state[direct.j.run], state[rc.j.run])
		rc.row.DuplicateTurns += d.duplicateTurns
		rc.row.LostTurns += d.lostTurns
		rc.row.DuplicateSessions += d.duplicateSessions
		for i, c := range rc.checks {
			if lines := d.lines[c.sc.ID]; len(lines) > 0 {
				c.fail(0, "server", fmt.Sprintf("the server's turns and events differ from the direct run's (%s/%s):\n%s",
					rc.j.sdk, directProfile, indent(lines, "      ")))
			}
			if rc.ownOK[i] && direct.ownOK[i] {
				compareObservations(c, direct.checks[i], rc.j.sdk+"/"+directProfile, rc.j.sdk+"/"+rc.j.profile, "profile-diff")
			}
		}
	}
	// Each SDK against the first one that passed the scenario, per profile.
	for _, p := range rep.Profiles {
		for i := range scenarios {
			var ref *runCheck
			for _, sdk := range cfg.SDKs {
				rc := find[[2]string{sdk, p}]
				if rc == nil || !rc.ownOK[i] {
					continue
				}
				if ref == nil {
					ref = rc
					continue
				}
				compareObservations(rc.checks[i], ref.checks[i], ref.j.sdk+"/"+p, rc.j.sdk+"/"+p, "sdk-diff")
			}
		}
	}

	for _, rc := range runs {
		j := rc.j
		rc.row.SDK, rc.row.Profile, rc.row.Run = j.sdk, j.profile, j.run
		rc.row.Requests, rc.row.FaultsInjected, rc.row.FaultsByKind = j.stats.Requests, j.stats.Faults, j.stats.FaultsByKind
		rc.row.Seconds = j.elapsed.Seconds()
		col := j.sdk + "/" + j.profile
		for _, f := range rc.jobErr {
			f.SDK, f.Profile = j.sdk, j.profile
			rep.Failures = append(rep.Failures, f)
			rc.row.Failures++
		}
		for _, c := range rc.checks {
			rc.row.Scenarios++
			rc.row.Steps += c.steps
			rc.row.StepsPassed += c.stepsOK
			cell := "ok"
			if c.ok() && len(rc.jobErr) == 0 {
				rc.row.ScenariosPassed++
			} else {
				cell = fmt.Sprintf("FAIL %d", len(c.failures))
				if len(c.failures) == 0 {
					cell = "FAIL run"
				}
			}
			if rep.Matrix[c.sc.ID] == nil {
				rep.Matrix[c.sc.ID] = map[string]string{}
			}
			rep.Matrix[c.sc.ID][col] = cell
			for _, f := range c.failures {
				f.SDK, f.Profile = j.sdk, j.profile
				rep.Failures = append(rep.Failures, f)
				rc.row.Failures++
			}
		}
		rep.Rows = append(rep.Rows, rc.row)
	}
	return rep
}

// compareObservations fails got's scenario on each step whose observation
// differs from ref's.
func compareObservations(got, ref *scenarioCheck, refLabel, gotLabel, check string) {
	for i, st := range got.sc.Steps {
		a, b := ref.norm[i], got.norm[i]
		if a == nil || b == nil {
			continue
		}
		if d := diff(comparable(st, a), comparable(st, b), "", refLabel, gotLabel); len(d) > 0 {
			got.fail(i+1, check, fmt.Sprintf("%s and %s observed different things:\n%s", refLabel, gotLabel, indent(d, "      ")))
		}
	}
}

func (r *Report) print(w io.Writer) {
	if len(r.Failures) > 0 {
		fmt.Fprintf(w, "\n%d FAILURES\n", len(r.Failures))
		for _, f := range r.Failures {
			fmt.Fprintf(w, "- %s\n", f)
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cols := make([]string, 0, len(r.Rows))
	for _, row := range r.Rows {
		cols = append(cols, row.SDK+"/"+row.Profile)
	}
	fmt.Fprintf(tw, "scenario\t%s\t\n", strings.Join(cols, "\t"))
	for _, id := range r.Scenarios {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = r.Matrix[id][c]
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", id, strings.Join(cells, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sdk\tprofile\tscenarios\tsteps\trequests\tfaults\tturns\tdup turns\tlost turns\tdup sessions\tevents streamed\tevents dup\tevents lost\tlifecycle streamed\tlifecycle dup\tlifecycle lost\tfailures\tseconds\t")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t\n",
			row.SDK, row.Profile, row.ScenariosPassed, row.Scenarios, row.StepsPassed, row.Steps,
			row.Requests, row.FaultsInjected, row.ServerTurns, row.DuplicateTurns, row.LostTurns, row.DuplicateSessions,
			row.EventsStreamed, row.EventsDuplicated, row.EventsLost,
			row.LifecycleStreamed, row.LifecycleDuplicated, row.LifecycleLost, row.Failures, row.Seconds)
	}
	tw.Flush()
	verdict := "PASS"
	if !r.OK() {
		byCheck := map[string]int{}
		for _, f := range r.Failures {
			byCheck[f.Check]++
		}
		var parts []string
		for _, k := range sortedKeys(byCheck) {
			parts = append(parts, fmt.Sprintf("%s %d", k, byCheck[k]))
		}
		verdict = fmt.Sprintf("FAIL (%d failures: %s)", len(r.Failures), strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "\n%s in %.1fs\n", verdict, r.Seconds)
}

func (r *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
