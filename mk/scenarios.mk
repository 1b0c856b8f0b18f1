# The cross-language scenario suite (scenarios/README.md): the orchestrator
# starts the reference server and a fault proxy per run, runs each SDK's
# runner under every fault profile and checks the results, the SDKs against
# each other and the server's turns and events. Included by the Makefile.
#
#   make scenarios                                   the Go runner, every profile
#   make scenarios SCENARIO_SDKS=go,ts,py            the three SDKs
#   make scenarios SCENARIO_PROFILES=direct,streams SCENARIO_ONLY=03-stream-cut-resume
#
# The TypeScript and Python runners are started with SCENARIO_RUNNER_TS and
# SCENARIO_RUNNER_PY (command lines run from the repository root); results,
# logs and summary.json go to SCENARIO_OUT (out/scenarios).
SCENARIO_SDKS      ?= go
SCENARIO_PROFILES  ?=
SCENARIO_ONLY      ?=
SCENARIO_OUT       ?= $(CURDIR)/out/scenarios
SCENARIO_RUNNER_TS ?= node clients/typescript/build/scenarios/runner.js
SCENARIO_RUNNER_PY ?= clients/python/.venv/bin/python clients/python/scenarios/runner.py

.PHONY: scenarios

# The TypeScript and Python runners are built (or their venv made) first when asked for.
SCENARIO_PREREQS := $(if $(findstring ts,$(SCENARIO_SDKS)),ts-scenario-runner) $(if $(findstring py,$(SCENARIO_SDKS)),py-venv)

scenarios: $(SCENARIO_PREREQS) ## the scenario suite: SDK runners (SCENARIO_SDKS=go,ts,py) × fault profiles against the reference server; summary in out/scenarios/summary.json
	SCENARIO_SDKS='$(SCENARIO_SDKS)' SCENARIO_PROFILES='$(SCENARIO_PROFILES)' SCENARIO_ONLY='$(SCENARIO_ONLY)' \
	SCENARIO_OUT='$(SCENARIO_OUT)' SCENARIO_RUNNER_TS='$(SCENARIO_RUNNER_TS)' SCENARIO_RUNNER_PY='$(SCENARIO_RUNNER_PY)' \
	GO='$(GO)' $(GO) test -tags scenarios -count=1 -run '^TestScenarios$$' -v -timeout 20m ./scenarios/orchestrator
