package retry

import (
	"context"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBudgetAccounting(t *testing.T) {
	type op struct {
		retry   bool // take a retry token (else: a request succeeded)
		timeout bool
		last    int // for success: cost of the last retry, 0 = none
	}
	tests := []struct {
		name          string
		capacity      int
		ops           []op
		wantOK        []bool
		wantAvailable int
	}{
		{"retry costs 5", 20, []op{{retry: true}}, []bool{true}, 15},
		{"timeout costs 10", 20, []op{{retry: true, timeout: true}}, []bool{true}, 10},
		{"refused when short", 12, []op{{retry: true}, {retry: true}, {retry: true}}, []bool{true, true, false}, 2},
		{"success after retry refunds its cost", 20, []op{{retry: true}, {last: 5}}, []bool{true, true}, 20},
		{"success without retry refunds 1", 20, []op{{retry: true}, {retry: true}, {}}, []bool{true, true, true}, 11},
		{"refund capped at capacity", 20, []op{{}, {last: 10}}, []bool{true, true}, 20},
		{"default capacity", 0, nil, nil, DefaultBudgetCapacity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBudget(tt.capacity)
			var ok []bool
			for _, o := range tt.ops {
				if o.retry {
					_, took := b.take(o.timeout)
					ok = append(ok, took)
				} else {
					b.succeeded(o.last)
					ok = append(ok, true)
				}
			}
			if diff := cmp.Diff(tt.wantOK, ok); diff != "" {
				t.Errorf("take results (-want +got):\n%s", diff)
			}
			if got := b.Available(); got != tt.wantAvailable {
				t.Errorf("Available = %d, want %d", got, tt.wantAvailable)
			}
		})
	}
}

func TestZeroBudgetIsFull(t *testing.T) {
	var b Budget
	if b.Available() != DefaultBudgetCapacity || b.Capacity() != DefaultBudgetCapacity {
		t.Errorf("zero Budget: %d of %d tokens", b.Available(), b.Capacity())
	}
}

// One budget across requests: once a failing request has spent it, the next
// request is not retried at all and still gets its last response.
func TestBudgetExhaustionSharedAcrossRequests(t *testing.T) {
	budget := NewBudget(2 * DefaultRetryCost)
	p := fastPolicy(10)
	p.Budget = budget
	f := setup(t, p, step{status: 503, body: "down"})

	var attempts []int
	for range 3 {
		before := f.mock.count()
		resp, body, err := f.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
		if err != nil || resp.StatusCode != 503 || body != "down" {
			t.Fatalf("got %v %q %v, want the last 503 with its body", resp, body, err)
		}
		attempts = append(attempts, f.mock.count()-before)
	}
	if diff := cmp.Diff([]int{3, 1, 1}, attempts); diff != "" {
		t.Errorf("attempts per request (-want +got):\n%s", diff)
	}
	if budget.Available() != 0 {
		t.Errorf("Available = %d, want 0", budget.Available())
	}

	// The server recovers: successes refill the bucket one token at a time.
	f.mock.steps = []step{status(200)}
	f.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
	if budget.Available() != DefaultRefund {
		t.Errorf("Available = %d after a success, want %d", budget.Available(), DefaultRefund)
	}
}

// The budget is shared by two clients given the same *Budget; a nil Budget
// gives each client its own.
func TestBudgetSharedBetweenClients(t *testing.T) {
	shared := NewBudget(DefaultRetryCost)
	p := fastPolicy(3)
	p.Budget = shared
	a := setup(t, p, status(503))
	b := NewClient(p, a.tr.inner)
	b.Transport.(*Transport).sleep = a.sleep

	a.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
	before := a.mock.count()
	b.Do(newRequest(t, context.Background(), http.MethodGet, testURL, nil))
	if got := a.mock.count() - before; got != 1 {
		t.Errorf("second client made %d attempts, want 1 (budget spent by the first)", got)
	}

	own := NewClient(fastPolicy(3), a.tr.inner)
	if own.Transport.(*Transport).budget == NewClient(fastPolicy(3), a.tr.inner).Transport.(*Transport).budget {
		t.Error("two clients with a nil Budget share one")
	}
}

// Concurrent requests against a dead server spend exactly the budget: the
// total number of attempts does not depend on the interleaving.
func TestBudgetConcurrent(t *testing.T) {
	const requests, retries = 20, 10
	budget := NewBudget(retries * DefaultRetryCost)
	p := fastPolicy(3)
	p.Budget = budget
	f := setup(t, p, status(503))
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			resp, err := f.client.Do(newRequest(t, context.Background(), http.MethodGet, testURL, nil))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	if got := f.mock.count(); got != requests+retries {
		t.Errorf("%d attempts, want %d", got, requests+retries)
	}
	if budget.Available() != 0 {
		t.Errorf("Available = %d, want 0", budget.Available())
	}
}

func TestBudgetTimeoutCost(t *testing.T) {
	budget := NewBudget(DefaultTimeoutCost + DefaultRetryCost)
	p := fastPolicy(5)
	p.Budget = budget
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	f := setup(t, p, step{err: timeout})
	f.client.Do(newRequest(t, context.Background(), http.MethodGet, testURL, nil))
	// One retry at the timeout price (10), then 5 left: not enough for another.
	if got := f.mock.count(); got != 2 {
		t.Errorf("%d attempts, want 2", got)
	}
	if got := budget.Available(); got != DefaultRetryCost {
		t.Errorf("Available = %d, want %d", got, DefaultRetryCost)
	}
}
