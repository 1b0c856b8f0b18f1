package conformance

import (
	"os/exec"
	"strings"
	"testing"
)

// The suite must judge every server the same way, so neither the library nor
// the binary may depend on the reference server.
func TestSuiteDoesNotImportTheReferenceServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".", "../cmd/agentsession-conformance").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed too little to be real: %q", out)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/agentsession/agentsession/refserver") {
			t.Errorf("the suite depends on %s", p)
		}
	}
}
