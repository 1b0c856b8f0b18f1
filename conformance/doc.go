// Package conformance is the Agent Session API conformance suite: it runs a
// catalogue of checks against any server that claims to implement
// openapi.yaml and says, check by check, whether it does.
//
// The suite talks to the server only over HTTP and validates every response
// it receives (status, headers, body and each server-sent event) against the
// contract embedded in the gen/spec package; it never imports the reference
// server. Each check has a stable ID, a requirement level (MUST, SHOULD,
// MAY), the operations it exercises, a one-line rule and the contract's
// requirements it tests (the x-requirements of openapi.yaml, see
// Requirements), whose level it has: see Catalogue and CHECKS.md. A run
// judges every server requirement and states the compliance level the
// server reached (Result.Requirements, Result.Compliance).
//
// Run it from Go (for example in a test of your own server):
//
//	cfg, err := conformance.LoadConfig("", nil) // AGENTSESSION_CONFORMANCE_* variables
//	if err != nil {
//		log.Fatal(err)
//	}
//	cfg.Progress = os.Stdout
//	res, err := conformance.Run(ctx, cfg)
//	if err != nil {
//		log.Fatal(err) // errors.Is(err, conformance.ErrConfig): fix the settings
//	}
//	for _, c := range res.Problems() {
//		fmt.Println(c.ID, c.Outcome, c.Message)
//	}
//	os.Exit(res.ExitCode())
//
// or with the binary cmd/agentsession-conformance. README.md explains the
// configuration, the outcomes and the reports (results.json, junit.xml,
// report.html).
package conformance

//go:generate go run ../cmd/agentsession-conformance -write-checks CHECKS.md
