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
	// Contract 1.2.
	NeedPermissions   Need = "feature:permissions"    // features.permissions
	NeedSessionStream Need = "feature:session_stream" // features.session_stream
	NeedSteer         Need = "busy_policy:steer"      // features.busy_policies has steer
	// NeedRestart is a way to restart the server (Config.Restart, or the
	// binary's -restart-command); the checks that use it run one at a time.
	NeedRestart Need = "restart"
)

// harnessNeeds are what the run, not the server, has to provide; a check
// skipped for one of them leaves its requirements unverified.
var harnessNeeds = []Need{NeedSecondToken, NeedScripted, NeedRestart}

// allNeeds lists every need in the order results.json's declared lists them.
var allNeeds = []Need{NeedSecondToken, NeedScripted, NeedRestart, NeedStreaming, NeedResume, NeedFiles, NeedLifecycle,
	NeedChildren, NeedReplay, NeedIdempotency, NeedEnqueue, NeedInterrupt, NeedPermissions, NeedSessionStream, NeedSteer}

// The groups, in the order the suite runs and reports them.
var groupOrder = []string{
	"service", "auth", "isolation", "sessions", "turns", "busy", "permissions", "streaming",
	"sessionstream", "lifecycle", "children", "idempotency", "pagination", "files", "badinput", "protocol",
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
	// Requirements are the IDs of the contract's requirements (x-requirements
	// in openapi.yaml) the check tests; every one has the check's level.
	Requirements []string `json:"requirements"`
	Requires     []Need   `json:"requires"`
}

// check is a catalogue entry with the code that runs it.
type check struct {
	CheckInfo
	run func(ctx context.Context, t *tester) error
	// post checks run after every other check, over every exchange of the run.
	post bool
	// serial checks (those that restart the server) run one at a time after
	// the concurrent ones and before the post-run ones.
	serial bool
}

// traces records the requirements a check tests.
func (c *check) traces(ids ...string) *check {
	c.Requirements = append(c.Requirements, ids...)
	return c
}

// catalogue holds every check in report order; it is built once at init from
// the group files (checks_*.go).
var catalogue = buildCatalogue()

func buildCatalogue() []*check {
	var all []*check
	for _, group := range [][]*check{
		serviceChecks(), authChecks(), isolationChecks(), isolationChecks12(), sessionChecks(), sessionChecks12(),
		turnChecks(), turnChecks12(), busyChecks(), queueChecks(), permissionChecks(), streamingChecks(), sessionStreamChecks(),
		lifecycleChecks(), lifecycleChecks12(), childChecks(), idempotencyChecks(), idempotencyChecks12(),
		paginationChecks(), fileChecks(), badInputChecks(), protocolChecks(), hardeningChecks(),
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
		out[i].Requirements = slices.Clone(c.Requirements)
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
	case "PERM":
		group = "permissions"
	case "STRM":
		group = "streaming"
	case "SSTR":
		group = "sessionstream"
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
	if needs == nil {
		needs = []Need{}
	}
	c := &check{
		CheckInfo: CheckInfo{
			ID: id, Level: level, Group: group,
			Operations: strings.Fields(ops), Rule: rule, Requires: needs, Requirements: []string{},
		},
		run: run,
	}
	c.serial = slices.Contains(needs, NeedRestart)
	return c
}
