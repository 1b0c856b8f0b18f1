package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentsession/agentsession/internal/faultproxy"
	"github.com/agentsession/agentsession/scenarios/internal/format"
)

// fakeRun is a job whose runner "observed" a session with the given status
// and a turn with the given text.
func fakeRun(t *testing.T, sdk, profile, run, sid, status, text string) *job {
	t.Helper()
	obs := []format.Observation{
		{Step: 1, Do: "create_session", Value: raw(t, map[string]any{"session_id": sid, "status": status,
			"meta": map[string]any{"run": run}, "created_at": "2026-01-01T00:00:00Z"})},
		{Step: 2, Do: "turn", Value: raw(t, map[string]any{"session_id": sid, "turn_index": 1}), Text: &text},
	}
	return &job{sdk: sdk, profile: profile, run: run,
		result: &format.Result{SDK: sdk, Run: run, Scenarios: []format.ScenarioResult{{ID: "t", Observations: obs}}},
		stats:  faultproxy.Stats{Requests: 3, Faults: 1, FaultsByKind: map[faultproxy.Kind]int{faultproxy.KindReset: 1}}}
}

func evalScenario() []format.Scenario {
	return []format.Scenario{{ID: "t", Steps: []format.Step{
		{Do: "create_session", As: "s", Expect: map[string]any{"value": map[string]any{"meta": map[string]any{"run": "${run}"}}}},
		{Do: "turn", Session: "s"},
	}}}
}

func serverOf(run, sid string, turns ...serverTurn) []*serverSession {
	return []*serverSession{{ID: sid, Tenant: "a", Scenario: "t", Alias: "s", Status: "active", Turns: turns}}
}

func TestEvaluateAllEqual(t *testing.T) {
	cfg := Config{SDKs: []string{"go", "ts"}}
	jobs := []*job{
		fakeRun(t, "go", "direct", "rgo0000a", sidA, "active", "hi"),
		fakeRun(t, "go", "bodies", "rgo0000b", sidB, "active", "hi"),
		fakeRun(t, "ts", "direct", "rts0000a", sidX, "active", "hi"),
	}
	state := map[string][]*serverSession{
		"rgo0000a": serverOf("rgo0000a", sidA, turn(1, "hi", "hi")),
		"rgo0000b": serverOf("rgo0000b", sidB, turn(1, "hi", "hi")),
		"rts0000a": serverOf("rts0000a", sidX, turn(1, "hi", "hi")),
	}
	rep := evaluate(cfg, evalScenario(), jobs, state)
	if !rep.OK() {
		t.Fatalf("failures: %v", rep.Failures)
	}
	if len(rep.Rows) != 3 || rep.Rows[1].ScenariosPassed != 1 || rep.Rows[1].StepsPassed != 2 || rep.Rows[1].ServerTurns != 1 ||
		rep.Rows[1].FaultsInjected != 1 || rep.Rows[1].Requests != 3 {
		t.Fatalf("rows: %+v", rep.Rows)
	}
	if rep.Matrix["t"]["go/bodies"] != "ok" || rep.Matrix["t"]["ts/direct"] != "ok" {
		t.Fatalf("matrix: %v", rep.Matrix)
	}
	if strings.Join(rep.Profiles, ",") != "direct,bodies" {
		t.Fatalf("profiles %v", rep.Profiles)
	}
}

func TestEvaluateFailsOnEveryKindOfDifference(t *testing.T) {
	cfg := Config{SDKs: []string{"go", "ts"}}
	jobs := []*job{
		fakeRun(t, "go", "direct", "rgo0000a", sidA, "active", "hi"),
		// Under faults the Go runner saw another text, and the server holds a
		// second turn.
		fakeRun(t, "go", "bodies", "rgo0000b", sidB, "active", "hi hi"),
		// The TypeScript runner saw another status than Go.
		fakeRun(t, "ts", "direct", "rts0000a", sidX, "paused", "hi"),
	}
	state := map[string][]*serverSession{
		"rgo0000a": serverOf("rgo0000a", sidA, turn(1, "hi", "hi")),
		"rgo0000b": serverOf("rgo0000b", sidB, turn(1, "hi", "hi"), turn(2, "hi", "hi")),
		"rts0000a": serverOf("rts0000a", sidX, turn(1, "hi", "hi")),
	}
	rep := evaluate(cfg, evalScenario(), jobs, state)
	byCheck := map[string]Failure{}
	for _, f := range rep.Failures {
		byCheck[f.SDK+"/"+f.Profile+" "+f.Check] = f
	}
	pd, ok := byCheck["go/bodies profile-diff"]
	if !ok || pd.Step != 2 || !strings.Contains(pd.Message, `text: go/direct has "hi", go/bodies has "hi hi"`) {
		t.Errorf("profile-diff: %+v", pd)
	}
	sd, ok := byCheck["ts/direct sdk-diff"]
	if !ok || sd.Step != 1 || !strings.Contains(sd.Message, `value.status: go/direct has "active", ts/direct has "paused"`) {
		t.Errorf("sdk-diff: %+v", sd)
	}
	sv, ok := byCheck["go/bodies server"]
	if !ok || !strings.Contains(sv.Message, `session t/s: extra  turn 2 "hi"`) {
		t.Errorf("server: %+v", sv)
	}
	if len(rep.Failures) != 3 {
		t.Errorf("%d failures, want 3: %v", len(rep.Failures), rep.Failures)
	}
	if rep.Rows[1].DuplicateTurns != 1 || rep.Rows[1].ScenariosPassed != 0 || rep.Matrix["t"]["go/bodies"] != "FAIL 2" {
		t.Errorf("go/bodies row %+v, matrix %v", rep.Rows[1], rep.Matrix)
	}
	// The reference SDK is not blamed for the other's difference.
	if rep.Matrix["t"]["go/direct"] != "ok" || rep.Matrix["t"]["ts/direct"] != "FAIL 1" {
		t.Errorf("matrix %v", rep.Matrix)
	}
	var out bytes.Buffer
	rep.print(&out)
	for _, want := range []string{"3 FAILURES", "- [ts/direct] t step 1 (create_session): sdk-diff:", "FAIL (3 failures: profile-diff 1, sdk-diff 1, server 1)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the printed report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestEvaluateOnlyComparesRunsThatPassedOnTheirOwn(t *testing.T) {
	cfg := Config{SDKs: []string{"go", "ts"}}
	goRun := fakeRun(t, "go", "direct", "rgo0000a", sidA, "active", "hi")
	goRun.result.Scenarios[0].Observations[1] = format.Observation{Step: 2, Do: "turn",
		Error: &format.ErrorInfo{Kind: "untyped", Message: "agentsession: unexpected response"}}
	jobs := []*job{goRun, fakeRun(t, "ts", "direct", "rts0000a", sidX, "paused", "hi")}
	rep := evaluate(cfg, evalScenario(), jobs, map[string][]*serverSession{})
	if len(rep.Failures) != 1 || rep.Failures[0].Check != "untyped" || rep.Failures[0].SDK != "go" {
		t.Fatalf("failures: %v (want only go's untyped error; ts is the reference once go failed)", rep.Failures)
	}
}

func TestEvaluateReportsRunnerFailuresAndLeaks(t *testing.T) {
	j := fakeRun(t, "py", "direct", "rpy0000a", sidA, "active", "hi")
	j.result.SDK = "python"
	j.secretLeak = []string{"out/py-direct.log"}
	crashed := &job{sdk: "py", profile: "bodies", run: "rpy0000b", err: os.ErrNotExist}
	rep := evaluate(Config{SDKs: []string{"py"}}, evalScenario(), []*job{j, crashed}, map[string][]*serverSession{})
	var got []string
	for _, f := range rep.Failures {
		got = append(got, f.Profile+" "+f.Check)
	}
	want := "direct secret,direct runner,bodies runner"
	if strings.Join(got, ",") != want {
		t.Fatalf("failures %q, want %q", strings.Join(got, ","), want)
	}
	if rep.Matrix["t"]["py/direct"] == "ok" || rep.Rows[0].ScenariosPassed != 0 || rep.Matrix["t"]["py/bodies"] != "FAIL run" {
		t.Fatalf("a run with a runner failure passed: %v %+v", rep.Matrix, rep.Rows[0])
	}
}

func TestLoadProfilesAddsTheScenariosRules(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	scs, err := format.LoadDir(filepath.Join(root, "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := loadProfiles(Config{Root: root}, scs)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 4 || ps[0].name != directProfile {
		t.Fatalf("profiles %v: want direct first", profileNames(ps))
	}
	own := 0
	for _, sc := range scs {
		own += len(sc.Faults)
	}
	if own == 0 {
		t.Fatal("no scenario declares faults")
	}
	for _, p := range ps {
		names := map[string]bool{}
		for _, r := range p.cfg.Rules {
			names[r.Name] = true
		}
		if !names["scenario-03-cut"] || !names["scenario-11-rate-limited"] {
			t.Errorf("profile %s lacks the scenarios' rules: %v", p.name, names)
		}
	}
	if _, err := loadProfiles(Config{Root: root, Profiles: []string{"nope"}}, scs); err == nil {
		t.Fatal("an unknown profile was accepted")
	}
	bad := []format.Scenario{{ID: "x", Faults: []map[string]any{{"fault": map[string]any{"kind": "explode"}}}}}
	if _, err := loadProfiles(Config{Root: root}, bad); err == nil || !strings.Contains(err.Error(), "scenario x") {
		t.Fatalf("a scenario with a bad rule: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	env := map[string]string{"SCENARIO_SDKS": "go, ts", "SCENARIO_RUNNER_TS": "node x.js", "SCENARIO_PROFILES": "direct"}
	cfg, err := parseConfig([]string{"-profiles", "direct,streams", "-only", "04-cancel"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.SDKs, ",") != "go,ts" || strings.Join(cfg.Profiles, ",") != "direct,streams" || cfg.Only != "04-cancel" ||
		cfg.Runners["ts"] != "node x.js" || cfg.Runners["py"] != DefaultRunners["py"] {
		t.Fatalf("config %+v", cfg)
	}
	if _, err := parseConfig([]string{"extra"}, func(string) string { return "" }, &bytes.Buffer{}); err == nil {
		t.Fatal("a stray argument was accepted")
	}
	c := Config{Root: "/x", SDKs: []string{"rust"}}
	if err := c.fill(); err == nil || !strings.Contains(err.Error(), "SCENARIO_RUNNER_RUST") {
		t.Fatalf("an SDK without a runner: %v", err)
	}
}

func TestReportJSON(t *testing.T) {
	rep := evaluate(Config{SDKs: []string{"go"}}, evalScenario(),
		[]*job{fakeRun(t, "go", "direct", "rgo0000a", sidA, "active", "hi")},
		map[string][]*serverSession{"rgo0000a": serverOf("rgo0000a", sidA, turn(1, "hi", "hi"))})
	path := filepath.Join(t.TempDir(), "summary.json")
	if err := rep.writeJSON(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var back struct {
		Rows     []map[string]any `json:"rows"`
		Failures []any            `json:"failures"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != 1 || back.Rows[0]["server_turns"] != 1.0 || back.Failures == nil {
		t.Fatalf("summary.json: %s", b)
	}
}

// The orchestrator refuses a suite with a scenario it cannot check, naming
// the file and the step, and accepts the repository's.
func TestLoadScenariosValidates(t *testing.T) {
	if _, err := loadScenarios("../"); err != nil {
		t.Fatalf("the repository's scenarios: %v", err)
	}
	dir := t.TempDir()
	body := "id: x\nsteps:\n  - {do: create_session, as: s}\n  - {do: session_stream, session: s, with: {bakground: true}}\n"
	if err := os.WriteFile(filepath.Join(dir, "x.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadScenarios(dir)
	if err == nil || !strings.Contains(err.Error(), "x.yaml: step 2 (session_stream): unknown `with` member \"bakground\"") {
		t.Fatalf("err = %v", err)
	}
}
