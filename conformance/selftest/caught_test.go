package selftest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/agentsession/agentsession/conformance"
)

// parallelDefects is how many broken servers are tested at once; most
// checks wait on the scripted agent, so more than the CPUs pays.
const parallelDefects = 8

// TestDefectsAreCaught is the suite's own test at scale: for every server
// requirement of the contract at least one broken server breaks it, and the
// checks that trace to the requirement catch each one (fail for a MUST,
// warn for a SHOULD or MAY), with the requirement reported as not met and,
// for a feature the server declares, the feature flagged as false
// advertising. TestReferenceServerPasses shows the unbroken server passes
// every one of those checks.
func TestDefectsAreCaught(t *testing.T) {
	reqs := map[string]conformance.Requirement{}
	for _, r := range conformance.Requirements() {
		reqs[r.ID] = r
	}
	tracing := map[string][]string{}
	for _, c := range conformance.Catalogue() {
		for _, id := range c.Requirements {
			tracing[id] = append(tracing[id], c.ID)
		}
	}
	names := map[string]bool{}
	covered := map[string]int{}
	for _, d := range defects {
		r, ok := reqs[d.req]
		switch {
		case !ok:
			t.Errorf("defect %q breaks %s, which the contract does not define", d.name, d.req)
		case r.Subject != conformance.SubjectServer:
			t.Errorf("defect %q breaks %s, a requirement on the %s", d.name, d.req, r.Subject)
		case names[d.name]:
			t.Errorf("two defects named %q", d.name)
		}
		names[d.name] = true
		covered[d.req]++
	}
	server := 0
	for _, r := range reqs {
		if r.Subject != conformance.SubjectServer {
			continue
		}
		server++
		if covered[r.ID] == 0 {
			t.Errorf("no defect breaks %s [%s] (%s): %s", r.ID, r.Level, r.Where, r.Statement)
		}
	}

	start := time.Now()
	results := make([]runSummary, len(defects))
	errs := make([]error, len(defects))
	sem := make(chan struct{}, parallelDefects)
	var wg sync.WaitGroup
	for i, d := range defects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = runDefect(context.Background(), d, tracing[d.req])
		}()
	}
	wg.Wait()

	caught := 0
	for i, d := range defects {
		r := reqs[d.req]
		ok := t.Run(d.req+" "+d.name, func(t *testing.T) {
			res, err := results[i], errs[i]
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range res.errors {
				t.Errorf("harness error: %s", e)
			}
			if len(res.caught) == 0 {
				t.Fatalf("the defect went unnoticed by %v: %v", tracing[d.req], res.outcomes)
			}
			want := "fail"
			if r.Level != conformance.Must {
				want = "warn"
			}
			if res.reqOutcome != want {
				t.Errorf("requirement %s is %q, want %q", d.req, res.reqOutcome, want)
			}
			if r.Level == conformance.Must && len(r.Features) > 0 && !slices.ContainsFunc(r.Features, func(f string) bool { return slices.Contains(res.advertised, f) }) {
				t.Errorf("the server declares %v but the run flags %v as false advertising", r.Features, res.advertised)
			}
		})
		if ok {
			caught++
		}
	}
	slowest := make([]int, len(defects))
	for i := range slowest {
		slowest[i] = i
	}
	slices.SortFunc(slowest, func(a, b int) int { return int(results[b].took - results[a].took) })
	for _, i := range slowest[:min(8, len(slowest))] {
		t.Logf("slow: %s %s took %s", defects[i].req, defects[i].name, results[i].took.Round(time.Millisecond))
	}
	t.Logf("%d requirements (%d on servers), %d checks, %d defects (every server requirement broken by at least one), %d caught, in %s",
		len(reqs), server, len(conformance.Catalogue()), len(defects), caught, time.Since(start).Round(time.Millisecond))
}

// TestDefectScope runs the whole suite against every broken server and
// reports which other requirements each one breaks: a measure of how narrow
// the defects are. It takes minutes, so it runs only when asked:
//
//	CONFORMANCE_DEFECT_SCOPE=1 go test -run DefectScope -v ./conformance/selftest
func TestDefectScope(t *testing.T) {
	if os.Getenv("CONFORMANCE_DEFECT_SCOPE") == "" {
		t.Skip("set CONFORMANCE_DEFECT_SCOPE=1 to run the whole suite against every defect")
	}
	others := make([][]string, len(defects))
	errs := make([]error, len(defects))
	sem := make(chan struct{}, parallelDefects/2)
	var wg sync.WaitGroup
	for i, d := range defects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			tg, err := startTarget(d.inject, false)
			if err != nil {
				errs[i] = err
				return
			}
			defer tg.Close()
			res, err := conformance.Run(context.Background(), tg.config())
			if err != nil {
				errs[i] = err
				return
			}
			own := false
			for _, r := range res.Requirements {
				switch {
				case r.Outcome != conformance.ReqFail && r.Outcome != conformance.ReqWarn:
				case r.ID == d.req:
					own = true
				default:
					others[i] = append(others[i], r.ID)
				}
			}
			if !own {
				errs[i] = fmt.Errorf("the full run does not fail %s", d.req)
			}
		}()
	}
	wg.Wait()
	narrow := 0
	for i, d := range defects {
		switch {
		case errs[i] != nil:
			t.Errorf("%s %s: %v", d.req, d.name, errs[i])
		case len(others[i]) == 0:
			narrow++
		default:
			t.Logf("%s %s: also %v", d.req, d.name, others[i])
		}
	}
	t.Logf("%d of %d defects break only their own requirement", narrow, len(defects))
}
