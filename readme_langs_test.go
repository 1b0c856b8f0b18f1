package agentsession_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The TypeScript and Python snippets of README.md are run by those SDKs' own tests as
// part of their package READMEs; here each must appear there verbatim, so the top-level
// README never shows code that nothing runs.
func TestREADMELanguageSnippetsAreTheTestedOnes(t *testing.T) {
	readme := readFile(t, "README.md")
	for lang, source := range map[string]string{
		"ts":     "clients/typescript/README.md",
		"python": "clients/python/README.md",
	} {
		tested := readFile(t, source)
		blocks := regexp.MustCompile("(?s)```"+lang+"\n(.*?)```").FindAllStringSubmatch(readme, -1)
		if len(blocks) == 0 {
			t.Errorf("README.md has no %s block", lang)
		}
		for _, b := range blocks {
			if !strings.Contains(tested, "```"+lang+"\n"+b[1]+"```") {
				t.Errorf("this %s block of README.md is not in %s, whose tests run it:\n%s", lang, source, b[1])
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
