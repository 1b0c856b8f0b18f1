// Command orchestrator runs the cross-language scenario suite
// (scenarios/README.md): it builds and starts the reference server, puts a
// fault-injecting proxy per run in front of it, runs each SDK's runner
// under each fault profile, checks every observation, compares the SDKs and
// the profiles with each other, and counts turns and events on the server
// through the API. `make scenarios` runs it (through `go test -tags
// scenarios`); it also runs on its own:
//
//	go run ./scenarios/orchestrator -sdks go,ts,py -profiles direct,bodies
//
// Every flag has an environment variable (SCENARIO_SDKS, ...), which the
// flag overrides. It writes the runners' results and logs and
// summary.json to out/scenarios and exits 1 when anything failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Main parses the command line (over the environment), runs the suite and
// returns the exit code: 0 when everything passed, 1 when something failed,
// 2 on a bad command line.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, os.Getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "orchestrator:", err)
		return 2
	}
	rep, err := Orchestrate(ctx, cfg, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "orchestrator:", err)
		return 1
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("orchestrator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sdks := fs.String("sdks", env("SCENARIO_SDKS", "go"), "the SDKs' runners to run, comma-separated, the reference first (SCENARIO_SDKS)")
	profiles := fs.String("profiles", env("SCENARIO_PROFILES", ""), "fault profiles, comma-separated; empty: all of scenarios/faults (SCENARIO_PROFILES)")
	only := fs.String("only", env("SCENARIO_ONLY", ""), "run only this scenario (SCENARIO_ONLY)")
	out := fs.String("out", env("SCENARIO_OUT", ""), "output directory; default out/scenarios (SCENARIO_OUT)")
	parallel := fs.Int("parallel", atoi(env("SCENARIO_PARALLEL", "0")), "runs at a time; 0: all (SCENARIO_PARALLEL)")
	timeout := fs.Duration("timeout", 10*time.Minute, "the longest one runner may take (SCENARIO_TIMEOUT)")
	goCmd := fs.String("go", env("GO", "go"), "the go command (GO)")
	root := fs.String("root", env("SCENARIO_ROOT", ""), "the repository root; default: found from the working directory (SCENARIO_ROOT)")
	runners := map[string]*string{}
	for _, sdk := range []string{"go", "ts", "py"} {
		name := "SCENARIO_RUNNER_" + strings.ToUpper(sdk)
		runners[sdk] = fs.String("runner-"+sdk, env(name, DefaultRunners[sdk]),
			fmt.Sprintf("the %s runner's command line, run from the root (%s)", sdk, name))
	}
	if v := getenv("SCENARIO_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return Config{}, fmt.Errorf("SCENARIO_TIMEOUT: %w", err)
		}
		*timeout = d
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg := Config{Root: *root, Go: *goCmd, SDKs: split(*sdks), Profiles: split(*profiles), Only: *only,
		Out: *out, Parallel: *parallel, RunnerTimeout: *timeout, Runners: map[string]string{}}
	for sdk, cmd := range runners {
		cfg.Runners[sdk] = *cmd
	}
	return cfg, nil
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
