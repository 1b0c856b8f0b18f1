package conformance_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/agentsession/agentsession/conformance"
	"github.com/agentsession/agentsession/refserver"
)

// Run the session and lifecycle checks against a server in the same
// process (here the reference server; in your tests, your own handler).
func ExampleRun() {
	srv, err := refserver.New(refserver.Config{Tokens: []string{"tenant-a", "tenant-b"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Shutdown(context.Background())

	res, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: ts.URL, Token: "tenant-a", Token2: "tenant-b",
		Include: []string{"sessions", "LIFE-0*"},
	})
	if err != nil {
		fmt.Println(err) // errors.Is(err, conformance.ErrConfig) for bad settings
		return
	}
	for _, c := range res.Problems() {
		fmt.Println(c.ID, c.Outcome, c.Message)
	}
	fmt.Println("verdict:", res.Verdict, "exit code:", res.ExitCode())
	// Output: verdict: pass exit code: 0
}

// The catalogue is data: IDs, levels, operations and rules.
func ExampleCatalogue() {
	for _, c := range conformance.Catalogue() {
		if c.ID == "SESS-006" {
			fmt.Println(c.ID, c.Level, c.Group, c.Operations)
			fmt.Println(c.Rule)
		}
	}
	// Output:
	// SESS-006 MUST sessions [closeSession]
	// closeSession is idempotent: closing again answers 200 with already_closed true and changes nothing
}
