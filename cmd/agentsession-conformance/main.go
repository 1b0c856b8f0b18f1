// Command agentsession-conformance runs the Agent Session API conformance
// suite against a server and writes results.json, junit.xml and report.html.
//
//	AGENTSESSION_CONFORMANCE_TOKEN=... AGENTSESSION_CONFORMANCE_TOKEN2=... \
//	  agentsession-conformance -base-url http://127.0.0.1:8080
//
// Settings come from flags, AGENTSESSION_CONFORMANCE_* environment variables
// and an optional YAML file (-config), in that order of precedence, then
// defaults. Exit status: 0 when every MUST check passed, 1 when one did not,
// 2 on a configuration error, 130 when interrupted. See conformance/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/agentsession/agentsession/conformance"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// defaultReportDir is where the reports go unless -out or the config says otherwise.
const defaultReportDir = "conformance-report"

// run is the whole command, with its environment passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agentsession-conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configFile    = fs.String("config", "", "YAML config file (default: $"+conformance.EnvConfigFile+")")
		baseURL       = fs.String("base-url", "", "the server's base URL, without /v1")
		token         = fs.String("token", "", "bearer token (prefer $"+conformance.EnvPrefix+"TOKEN: flags show in the process list)")
		token2        = fs.String("token2", "", "a second tenant's token: enables the isolation checks")
		profile       = fs.String("profile", "", "core (MUST checks only) or full (default)")
		include       = fs.String("include", "", "comma-separated groups or check IDs to run (ID prefixes with *: LIFE-0*)")
		exclude       = fs.String("exclude", "", "comma-separated groups or check IDs to leave out")
		echoAgent     = fs.String("echo-agent", "", "the echo agent's name (default: the first of kind echo)")
		scriptedAgent = fs.String("scripted-agent", "", "the scripted agent's name (default: the first of kind scripted)")
		checkTimeout  = fs.Duration("check-timeout", 0, "time limit of one check (default 60s)")
		reqTimeout    = fs.Duration("request-timeout", 0, "time limit of one request (default 20s)")
		bodyTimeout   = fs.Duration("body-read-timeout", 0, "the server's bound on reading a request body, when known (enables the 408 check when at most 5s)")
		concurrency   = fs.Int("concurrency", 0, "checks run at once (default 8)")
		prefix        = fs.String("prefix", "", "prefix of everything the run creates (default: cf- and random hex)")
		keep          = fs.Bool("keep", false, "keep the sessions the run created, for debugging")
		out           = fs.String("out", "", "directory for the reports (default "+defaultReportDir+"; -out= writes none)")
		restart       = fs.String("restart-command", "", "shell command that restarts the server keeping its data (enables the restart checks)")
		list          = fs.Bool("list", false, "print the check catalogue as JSON and exit")
		writeChecks   = fs.String("write-checks", "", "write the catalogue as Markdown (CHECKS.md) to this file and exit")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: agentsession-conformance [flags]\n\nRuns the Agent Session API conformance suite against a server.\nExit status: 0 every MUST check passed, 1 one did not, 2 configuration error.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nEnvironment (flags win over it; it wins over the -config file):\n")
		for _, v := range conformance.EnvVars {
			fmt.Fprintf(stderr, "  %-44s %s\n", v[0], v[1])
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return 2
	}
	if *list {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(conformance.Catalogue()); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		return 0
	}
	if *writeChecks != "" {
		return writeChecksFile(*writeChecks, stderr)
	}

	cfg, err := conformance.LoadConfig(*configFile, getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if cfg.ReportDir == "" {
		cfg.ReportDir = defaultReportDir
	}
	// Flags that were given win over the environment and the file.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	str := func(name string, dst *string, v string) {
		if set[name] {
			*dst = v
		}
	}
	str("base-url", &cfg.BaseURL, *baseURL)
	str("token", &cfg.Token, *token)
	str("token2", &cfg.Token2, *token2)
	if set["profile"] {
		cfg.Profile = conformance.Profile(*profile)
	}
	if set["include"] {
		cfg.Include = conformance.SplitList(*include)
	}
	if set["exclude"] {
		cfg.Exclude = conformance.SplitList(*exclude)
	}
	str("echo-agent", &cfg.EchoAgent, *echoAgent)
	str("scripted-agent", &cfg.ScriptedAgent, *scriptedAgent)
	dur := func(name string, dst *time.Duration, v time.Duration) {
		if set[name] {
			*dst = v
		}
	}
	dur("check-timeout", &cfg.CheckTimeout, *checkTimeout)
	dur("request-timeout", &cfg.RequestTimeout, *reqTimeout)
	dur("body-read-timeout", &cfg.BodyReadTimeout, *bodyTimeout)
	if set["concurrency"] {
		cfg.Concurrency = *concurrency
	}
	str("prefix", &cfg.Prefix, *prefix)
	if set["keep"] {
		cfg.Keep = *keep
	}
	str("out", &cfg.ReportDir, *out)
	str("restart-command", &cfg.RestartCommand, *restart)
	cfg.Progress = stdout

	res, err := conformance.Run(ctx, cfg)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, err)
		return 130 // interrupted, as a shell reports SIGINT
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if cfg.ReportDir != "" {
		fmt.Fprintf(stdout, "reports: %s\n", filepath.Join(cfg.ReportDir, conformance.HTMLFile))
	}
	return res.ExitCode()
}

func writeChecksFile(path string, stderr io.Writer) int {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := conformance.WriteChecksMarkdown(f); err != nil {
		f.Close()
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	return 0
}
