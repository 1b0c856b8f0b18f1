package agentsession

import (
	"time"

	"github.com/agentsession/agentsession/gen"
)

// Health is the answer of Client.Health (package gen's model of it).
type Health = gen.Health

// Capabilities is the answer of Client.Capabilities: the server's agents,
// optional features and limits, with the limits that are durations also as
// time.Duration.
type Capabilities struct {
	gen.Capabilities
}

// MaxTurnTimeout is the longest turn timeout the server accepts, and the
// one a turn without its own timeout gets (Limits.MaxTurnTimeoutMs).
func (c *Capabilities) MaxTurnTimeout() time.Duration {
	return time.Duration(c.Limits.MaxTurnTimeoutMs) * time.Millisecond
}

// StallAfter is how long a running turn may show no progress before the
// server reports its session stalled (Limits.StallAfterMs).
func (c *Capabilities) StallAfter() time.Duration {
	return time.Duration(c.Limits.StallAfterMs) * time.Millisecond
}
