package retry

import "sync"

// Budget defaults, those of the AWS SDKs' "standard" retry mode.
const (
	DefaultBudgetCapacity = 500 // tokens in a full bucket
	DefaultRetryCost      = 5   // tokens one retry costs
	DefaultTimeoutCost    = 10  // tokens a retry after a transport timeout costs
	DefaultRefund         = 1   // tokens a request that succeeds without a retry returns
)

// Budget is a retry token bucket shared by every request of a client (AWS SDK
// "standard" mode), so an outage does not multiply the load on the server:
// a retry costs DefaultRetryCost tokens (DefaultTimeoutCost after a transport
// timeout); a request that finally succeeds (any response that is not a
// retryable failure) returns the cost of its last retry, or DefaultRefund when
// it needed none, up to the capacity. When the bucket cannot pay for a
// retry, requests are no longer retried: the last response or error is
// returned at once. The first attempt of a request is never refused.
//
// A Budget is safe for concurrent use. The zero Budget is a full bucket of
// DefaultBudgetCapacity tokens.
type Budget struct {
	mu       sync.Mutex
	init     bool
	capacity int
	tokens   int
}

// NewBudget returns a full bucket of capacity tokens (DefaultBudgetCapacity
// when capacity <= 0) with the default costs: retry 5, timeout 10, refund 1.
func NewBudget(capacity int) *Budget {
	if capacity <= 0 {
		capacity = DefaultBudgetCapacity
	}
	return &Budget{init: true, capacity: capacity, tokens: capacity}
}

// lazyInit fills a zero Budget; b.mu must be held.
func (b *Budget) lazyInit() {
	if !b.init {
		b.init, b.capacity, b.tokens = true, DefaultBudgetCapacity, DefaultBudgetCapacity
	}
}

// Available returns the tokens left in the bucket.
func (b *Budget) Available() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lazyInit()
	return b.tokens
}

// Capacity returns the size of a full bucket.
func (b *Budget) Capacity() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lazyInit()
	return b.capacity
}

// take pays for one retry; ok is false (nothing taken) when the bucket cannot.
func (b *Budget) take(timeout bool) (cost int, ok bool) {
	cost = DefaultRetryCost
	if timeout {
		cost = DefaultTimeoutCost
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lazyInit()
	if b.tokens < cost {
		return 0, false
	}
	b.tokens -= cost
	return cost, true
}

// succeeded returns tokens after a request that succeeded: lastCost, the
// cost of its last retry, or DefaultRefund when it was not retried.
func (b *Budget) succeeded(lastCost int) {
	refund := lastCost
	if refund == 0 {
		refund = DefaultRefund
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lazyInit()
	b.tokens = min(b.capacity, b.tokens+refund)
}
