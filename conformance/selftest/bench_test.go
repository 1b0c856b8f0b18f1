package selftest

import (
	"context"
	"testing"

	"github.com/agentsession/agentsession/conformance"
	"github.com/agentsession/agentsession/refserver/refservertest"
)

// BenchmarkFullSuite times one full run (every check, two tenants) against
// the in-process reference server:
//
//	go test -run '^$' -bench FullSuite -benchtime 5x ./conformance/selftest
func BenchmarkFullSuite(b *testing.B) {
	srv := refservertest.Start(b)
	for b.Loop() {
		res, err := conformance.Run(context.Background(), conformance.Config{
			BaseURL: srv.URL, Token: srv.Tokens[0], Token2: srv.Tokens[1],
		})
		if err != nil {
			b.Fatal(err)
		}
		if !res.Passed() {
			b.Fatalf("the run failed: %d problems", len(res.Problems()))
		}
		b.ReportMetric(float64(len(res.Checks)), "checks/op")
	}
}
