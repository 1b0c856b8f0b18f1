package gen_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Programs that use only the SDK must not link the embedded spec or kin-openapi: the
// generated client and models (package gen) stand alone, and the strict server
// (gen/server) and the embedded contract (gen/spec) are for servers and validators.
func TestSDKDoesNotLinkTheSpec(t *testing.T) {
	pkgs := []string{"github.com/agentsession/agentsession/gen", "github.com/agentsession/agentsession",
		"github.com/agentsession/agentsession/sessions", "github.com/agentsession/agentsession/lifecycle",
		"github.com/agentsession/agentsession/retry", "github.com/agentsession/agentsession/record",
		"github.com/agentsession/agentsession/sse", "github.com/agentsession/agentsession/examples/..."}
	for _, p := range pkgs {
		out, err := exec.Command("go", "list", "-deps", p).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", p, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 5 {
			t.Fatalf("go list -deps %s printed too little to be real: %q", p, out)
		}
		for _, d := range deps {
			if strings.HasPrefix(d, "github.com/getkin/kin-openapi") ||
				d == "github.com/agentsession/agentsession/gen/spec" ||
				d == "github.com/agentsession/agentsession/gen/server" ||
				strings.HasPrefix(d, "github.com/agentsession/agentsession/refserver") {
				t.Errorf("%s depends on %s", p, d)
			}
		}
	}
}
