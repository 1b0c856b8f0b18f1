package refserver_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSuiteOnSQLite runs this package's tests again with every server on
// the SQLite store (AGENTSESSION_TEST_STORE=sqlite), which commits in
// groups and defers a turn's acceptance to its first write: the behaviour
// must be the memory store's.
func TestSuiteOnSQLite(t *testing.T) {
	if os.Getenv(testStoreEnv) != "" {
		t.Skip("already on", os.Getenv(testStoreEnv))
	}
	if testing.Short() {
		t.Skip("-short")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^Test", "-test.skip", "^TestSuiteOnSQLite$", "-test.count", "1")
	cmd.Env = append(os.Environ(), testStoreEnv+"=sqlite")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests on SQLite failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("no PASS:\n%s", out)
	}
}
