// Package selftest tests the conformance suite itself. Against the
// reference server, run in-process with short thresholds and a restart hook,
// every check passes and every server requirement of the contract passes
// (TestReferenceServerPasses). For every server requirement at least one
// deliberately broken server, built by wrapping the reference server's
// handler, breaks it, and the checks that trace to that requirement catch
// it (TestDefectsAreCaught). It holds only tests; it lives apart from package
// conformance because it imports the reference server, which the suite
// itself must never do.
package selftest
