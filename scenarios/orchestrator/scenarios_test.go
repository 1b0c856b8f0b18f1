//go:build scenarios

package main

import (
	"context"
	"os"
	"testing"
)

// TestScenarios is the whole suite, run by `make scenarios`:
//
//	go test -tags scenarios -run '^TestScenarios$' -v ./scenarios/orchestrator
//
// configured by the environment (SCENARIO_SDKS, SCENARIO_PROFILES,
// SCENARIO_RUNNER_TS, ...; see main.go). It fails with every failure the
// report lists.
func TestScenarios(t *testing.T) {
	cfg, err := parseConfig(nil, os.Getenv, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Orchestrate(context.Background(), cfg, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("%d failures: the report above lists them; %s has them as JSON", len(rep.Failures), rep.Path)
	}
}
