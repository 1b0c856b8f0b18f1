package selftest

import (
	"context"
	"testing"

	"github.com/agentsession/agentsession/conformance"
)

// BenchmarkFullSuite times one full run (every check, two tenants, the
// restart checks) against the in-process reference server:
//
//	go test -run '^$' -bench FullSuite -benchtime 5x ./conformance/selftest
func BenchmarkFullSuite(b *testing.B) {
	tg := startTestTarget(b, nil, false)
	for b.Loop() {
		res, err := conformance.Run(context.Background(), tg.config())
		if err != nil {
			b.Fatal(err)
		}
		if !res.Passed() {
			b.Fatalf("the run failed: %d problems", len(res.Problems()))
		}
		b.ReportMetric(float64(len(res.Checks)), "checks/op")
	}
}
