// Command agentsession-acp-testagent is the ACP test agent of package
// internal/acptestagent over stdio: a client starts it as a subprocess and
// speaks the Agent Client Protocol on its stdin and stdout. Its prompts are
// a small command language (/say, /tool, /ask, /crash, ...; see the
// package documentation); a plain prompt is echoed.
//
//	agentsession-acp-testagent [-state DIR] [-exit-at-start CODE] [-hang-at-start] [-stderr-at-start TEXT] [-require-auth]
//
// -state keeps sessions in DIR and enables session/load. The -*-at-start
// flags make the process misbehave before it answers anything, and
// -require-auth makes session/new fail as an agent without credentials
// does, for tests of a client's start-up errors.
package main

import (
	"os"

	"github.com/agentsession/agentsession/internal/acptestagent"
)

func main() {
	os.Exit(acptestagent.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
