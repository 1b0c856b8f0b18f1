package conformance

import (
	"errors"
	"fmt"
)

// Level is how strongly the contract requires what a check tests (RFC 2119).
type Level string

// The requirement levels. A failed MUST fails the run; a failed SHOULD or MAY
// is reported as a warning.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
	May    Level = "MAY"
)

// Outcome is the verdict of one check.
type Outcome string

// The outcomes of a check.
const (
	Pass Outcome = "pass" // the server did what the rule requires
	Fail Outcome = "fail" // a MUST rule was broken
	Warn Outcome = "warn" // a SHOULD or MAY rule was broken
	Skip Outcome = "skip" // the check needs a feature the server does not declare (or a second token)
	// Error means the suite itself could not run the check; it is not a
	// verdict on the server, but it does fail the run for a MUST check.
	Error Outcome = "error"
)

// Outcomes lists every outcome in report order.
var Outcomes = []Outcome{Pass, Fail, Warn, Skip, Error}

// Sentinel errors a check returns (wrapped, with a message) to state its
// outcome, in the style of the OCI distribution-spec conformance suite:
//
//	return fmt.Errorf("%w: status %d, want 201", conformance.ErrFail, status)
//
// A check that returns nil passes (unless a response it received broke the
// contract's schemas); any other error is an Error outcome.
var (
	// ErrFail: the server broke the check's rule.
	ErrFail = errors.New("fail")
	// ErrSkip: the check could not test this server (a limit too large to
	// fill, a threshold too long to wait for): its requirements stay
	// unverified.
	ErrSkip = errors.New("skip")
	// ErrNotApplicable (an ErrSkip): the server has nothing the check tests,
	// so its requirements do not apply.
	ErrNotApplicable = fmt.Errorf("%w: not applicable", ErrSkip)
)

// failure is an ErrFail that remembers the HTTP exchange that showed it, so
// the report can print that request as a curl command.
type failure struct {
	msg string
	ex  *Exchange
}

func (f *failure) Error() string { return f.msg }

func (f *failure) Is(target error) bool { return target == ErrFail }

// Failf returns an ErrFail with a message.
func Failf(format string, args ...any) error {
	return &failure{msg: fmt.Sprintf(format, args...)}
}

// Skipf returns an ErrSkip with the reason.
func Skipf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSkip}, args...)...)
}

// NotApplicablef returns an ErrNotApplicable with the reason.
func NotApplicablef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNotApplicable}, args...)...)
}

// exchangeOf returns the exchange a failure carries, if any.
func exchangeOf(err error) *Exchange {
	var f *failure
	if errors.As(err, &f) {
		return f.ex
	}
	return nil
}
