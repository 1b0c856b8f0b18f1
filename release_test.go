package agentsession_test

import (
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/agentsession/agentsession"
)

// The SDK's Version (the User-Agent's) is the newest release CHANGELOG.md
// describes.
func TestVersionIsTheChangelogs(t *testing.T) {
	b, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\]`).FindSubmatch(b)
	if m == nil {
		t.Fatal("CHANGELOG.md has no ## [X.Y.Z] section")
	}
	if string(m[1]) != agentsession.Version {
		t.Errorf("Version = %s, CHANGELOG.md's newest release is %s", agentsession.Version, m[1])
	}
}

// README's dependency sentence is true: the SDK's packages depend on exactly
// the modules it names (besides the standard library and this module).
func TestReadmeNamesTheSDKsDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}",
		".", "./sessions", "./lifecycle", "./retry", "./record", "./sse").Output()
	if err != nil {
		t.Fatal(err)
	}
	mods := map[string]bool{}
	for _, m := range strings.Fields(string(out)) {
		if m != "github.com/agentsession/agentsession" {
			mods[m] = true
		}
	}
	var got []string
	for m := range mods {
		got = append(got, m)
	}
	sort.Strings(got)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)The SDK depends on (.*?)nothing else`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md lost its dependency sentence")
	}
	sentence := strings.Join(strings.Fields(string(m[1])), " ")
	if len(got) < 4 {
		t.Fatalf("go list found only %v", got)
	}
	// Each module by its path without github.com/ and a /vN suffix (or, for
	// one of the same owner as the one before it, its last element).
	named := map[string]bool{}
	for _, mod := range got {
		name := regexp.MustCompile(`/v[0-9]+$`).ReplaceAllString(strings.TrimPrefix(mod, "github.com/"), "")
		base := name[strings.LastIndex(name, "/")+1:]
		if !strings.Contains(sentence, name) && !strings.Contains(sentence, "with "+base) {
			t.Errorf("the SDK depends on %s, which README.md's sentence does not name: %q", mod, sentence)
		}
		named[name], named[base] = true, true
	}
	for _, w := range regexp.MustCompile(`[a-z0-9-]+/[a-z0-9-]+|go-[a-z0-9]+`).FindAllString(sentence, -1) {
		if !named[w] && w != "gen/spec" && w != "gen/server" {
			t.Errorf("README.md's sentence names %s, which the SDK does not depend on (%v)", w, got)
		}
	}
}
