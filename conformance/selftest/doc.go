// Package selftest tests the conformance suite itself: against the reference
// server (every MUST and SHOULD check passes) and against deliberately broken
// servers built by wrapping the reference server's handler (each defect is
// caught by the check the table names). It holds only tests; it lives apart
// from package conformance because it imports the reference server, which
// the suite itself must never do.
package selftest
