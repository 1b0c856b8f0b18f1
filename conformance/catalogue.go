package conformance

import (
	"context"
	"slices"
	"strings"
)

// Need names something a check requires beyond the core API. A check whose
// needs the server (or the configuration) does not meet is skipped.
type Need string

// The needs a check can declare. Features come from getCapabilities.
const (
	NeedSecondToken Need = "second_token"          // a second tenant's token (isolation)
	NeedScripted    Need = "agent:scripted"        // an agent of kind scripted
	NeedStreaming   Need = "feature:streaming"     // features.streaming
	NeedResume      Need = "feature:resume"        // features.resume
	NeedFiles       Need = "feature:files"         // features.files
	NeedLifecycle   Need = "feature:lifecycle"     // features.lifecycle
	NeedChildren    Need = "feature:children"      // features.children
	NeedReplay      Need = "feature:replay"        // features.replay
	NeedIdempotency Need = "feature:idempotency"   // features.idempotency
	NeedEnqueue     Need = "busy_policy:enqueue"   // features.busy_policies has enqueue
	NeedInterrupt   Need = "busy_policy:interrupt" // features.busy_policies has interrupt
)

// The groups, in the order the suite runs and reports them.
var groupOrder = []string{
	"service", "auth", "isolation", "sessions", "turns", "busy", "streaming",
	"lifecycle", "children", "idempotency", "pagination", "files", "badinput", "protocol",
}

// Groups returns the check groups in report order.
func Groups() []string { return slices.Clone(groupOrder) }

// CheckInfo describes one check of the catalogue. It is what `-list` prints
// and what CHECKS.md renders.
type CheckInfo struct {
	ID         string   `json:"id"`
	Level      Level    `json:"level"`
	Group      string   `json:"group"`
	Operations []string `json:"operations"`
	Rule       string   `json:"rule"`
	Requires   []Need   `json:"requires,omitempty"`
}

// check is a catalogue entry with the code that runs it.
type check struct {
	CheckInfo
	run func(ctx context.Context, t *tester) error
	// post checks run after every other check, over every exchange of the run.
	post bool
}

// catalogue holds every check in report order; it is built once at init from
// the group files (checks_*.go).
var catalogue = buildCatalogue()

func buildCatalogue() []*check {
	var all []*check
	for _, group := range [][]*check{
		serviceChecks(), authChecks(), isolationChecks(), sessionChecks(), turnChecks(),
		busyChecks(), streamingChecks(), lifecycleChecks(), childChecks(), idempotencyChecks(),
		paginationChecks(), fileChecks(), badInputChecks(), protocolChecks(),
	} {
		all = append(all, group...)
	}
	return all
}

// Catalogue returns every check the suite knows, in report order.
func Catalogue() []CheckInfo {
	out := make([]CheckInfo, len(catalogue))
	for i, c := range catalogue {
		out[i] = c.CheckInfo
		out[i].Operations = slices.Clone(c.Operations)
		out[i].Requires = slices.Clone(c.Requires)
	}
	return out
}

// def builds a catalogue entry; the group files use it to stay compact.
func def(id string, level Level, ops string, rule string, run func(ctx context.Context, t *tester) error, needs ...Need) *check {
	group := ""
	switch prefix, _, _ := strings.Cut(id, "-"); prefix {
	case "SVC":
		group = "service"
	case "AUTH":
		group = "auth"
	case "ISO":
		group = "isolation"
	case "SESS":
		group = "sessions"
	case "TURN":
		group = "turns"
	case "BUSY":
		group = "busy"
	case "STRM":
		group = "streaming"
	case "LIFE":
		group = "lifecycle"
	case "CHLD":
		group = "children"
	case "IDEM":
		group = "idempotency"
	case "PAGE":
		group = "pagination"
	case "FILE":
		group = "files"
	case "BAD":
		group = "badinput"
	case "PROTO":
		group = "protocol"
	default:
		panic("conformance: check id with unknown group prefix: " + id)
	}
	return &check{
		CheckInfo: CheckInfo{
			ID: id, Level: level, Group: group,
			Operations: strings.Fields(ops), Rule: rule, Requires: needs,
		},
		run: run,
	}
}
