package acp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/agentsession/agentsession/refserver/agent/acp"
)

func fsConfig(t *testing.T) acp.Config {
	cfg := config(t)
	cfg.FS = acp.FSConfig{Read: true, Write: true}
	return cfg
}

func TestFileRequestsInsideTheWorkingDirectory(t *testing.T) {
	cfg := fsConfig(t)
	b := newBridge(t, cfg)
	if err := os.WriteFile(filepath.Join(cfg.Cwd, "README.md"), []byte("# project\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, b, "s1", script(
		"/read README.md",
		"/write src/main.go package main",
		"/read "+filepath.Join(cfg.Cwd, "src", "main.go"),
		"/write README.md # renamed",
		"/read README.md",
	))
	want := []string{
		"read README.md: # project\n",
		"wrote 12 bytes to src/main.go",
		"read " + filepath.Join(cfg.Cwd, "src", "main.go") + ": package main",
		"wrote 9 bytes to README.md",
		"read README.md: # renamed",
	}
	if diff := cmp.Diff(want, r.events.texts()); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}
}

func TestFileRequestsOutsideTheWorkingDirectoryAreRefused(t *testing.T) {
	cfg := fsConfig(t)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("top secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Links inside that lead outside: to a file, and to a directory.
	if err := os.Symlink(secret, filepath.Join(cfg.Cwd, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(cfg.Cwd, "out")); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(cfg.Cwd, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(rel, filepath.Join(cfg.Cwd, "rel-link.txt")); err != nil {
		t.Fatal(err)
	}
	// A relative link that stays inside is fine.
	if err := os.WriteFile(filepath.Join(cfg.Cwd, "inside.txt"), []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("inside.txt", filepath.Join(cfg.Cwd, "in-link.txt")); err != nil {
		t.Fatal(err)
	}
	b := newBridge(t, cfg)
	for _, cmd := range []string{
		"/read ../" + filepath.Base(outside) + "/secret.txt",
		"/read " + secret,
		"/read /etc/passwd",
		"/read link.txt",
		"/read rel-link.txt",
		"/read out/secret.txt",
		"/write ../escaped.txt x",
		"/write out/escaped.txt x",
		"/write link.txt overwritten",
		"/write rel-link.txt overwritten",
	} {
		got := mustRun(t, b, "s1", cmd).events.texts()
		if len(got) != 1 || !strings.Contains(got[0], "failed:") || strings.Contains(got[0], "top secret") {
			t.Errorf("%s: %q, want a refusal", cmd, got)
			continue
		}
		if !strings.Contains(got[0], "outside the session's working directory") {
			t.Errorf("%s: %q does not say why", cmd, got[0])
		}
	}
	if got := mustRun(t, b, "s1", "/read in-link.txt").events.texts(); !cmp.Equal(got, []string{"read in-link.txt: inside"}) {
		t.Errorf("a link inside: %q", got)
	}
	if data, _ := os.ReadFile(secret); string(data) != "top secret" {
		t.Errorf("the file outside was changed: %q", data)
	}
	for _, p := range []string{filepath.Join(filepath.Dir(cfg.Cwd), "escaped.txt"), filepath.Join(outside, "escaped.txt")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written", p)
		}
	}
}

func TestFileRequestsWhenNotEnabled(t *testing.T) {
	cfg := config(t)
	cfg.FS = acp.FSConfig{Read: true}
	if err := os.WriteFile(filepath.Join(cfg.Cwd, "a.txt"), []byte("A"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBridge(t, cfg)
	got := mustRun(t, b, "s1", script("/read a.txt", "/write a.txt B", "/terminal echo hi")).events.texts()
	want := []string{
		"read a.txt: A",
		"write a.txt failed: fs/write_text_file is not enabled for agent testagent (fs.write)",
		"terminal failed: terminal is not enabled for agent testagent (terminal)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}
}

func TestReadFileBytesBoundsReads(t *testing.T) {
	cfg := fsConfig(t)
	cfg.Limits.ReadFileBytes = 10
	if err := os.WriteFile(filepath.Join(cfg.Cwd, "big.txt"), []byte(strings.Repeat("x", 11)), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBridge(t, cfg)
	got := mustRun(t, b, "s1", "/read big.txt").events.texts()
	if len(got) != 1 || !strings.Contains(got[0], "11 bytes, more than the 10-byte limit") {
		t.Errorf("texts %q", got)
	}
}

func TestTerminalRunsInTheWorkingDirectory(t *testing.T) {
	cfg := config(t)
	cfg.Terminal = true
	b := newBridge(t, cfg)
	got := mustRun(t, b, "s1", script("/terminal pwd", "/terminal false", "/terminal no-such-command-here")).events.texts()
	real, _ := filepath.EvalSymlinks(cfg.Cwd)
	if len(got) != 3 || got[0] != "terminal exit 0: "+real || got[1] != "terminal exit 1: " {
		t.Fatalf("texts %q", got)
	}
	if !strings.Contains(got[2], "terminal failed") || !strings.Contains(got[2], "executable file not found") {
		t.Errorf("a missing command: %q", got[2])
	}
}
