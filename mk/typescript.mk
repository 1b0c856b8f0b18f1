# The TypeScript SDK (clients/typescript, npm package @agentsession/sdk).
# Included by the top-level Makefile; README.md in that directory says more.
TS_DIR   := clients/typescript
TS_STAMP := $(TS_DIR)/node_modules/.stamp-npm-ci
TS_GEN   := $(TS_DIR)/src/generated/openapi.ts
TS_NPX   := cd $(TS_DIR) && npx --no-install

.PHONY: ts-install ts-generate ts-check-generated ts-build ts-test ts-bench ts-bench-cpu ts-scenario-runner

# Quiet unless it fails, so that ts-scenario-runner prints nothing.
$(TS_STAMP): $(TS_DIR)/package.json $(TS_DIR)/package-lock.json
	@out=$$(cd $(TS_DIR) && npm ci --no-audit --no-fund --ignore-scripts 2>&1) || { echo "$$out"; echo "npm ci failed in $(TS_DIR)"; exit 1; }
	@touch $@

ts-install: $(TS_STAMP) ## install the TypeScript SDK's pinned dev dependencies (npm ci)

ts-generate: $(TS_STAMP) ## regenerate clients/typescript/src/generated/openapi.ts from openapi.yaml (openapi-typescript)
	cd $(TS_DIR) && node scripts/generate.mjs

ts-check-generated: $(TS_STAMP) ## fail when the TypeScript SDK's generated types are stale
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	(cd $(TS_DIR) && node scripts/generate.mjs $$tmp/openapi.ts) || exit 1; \
	if ! diff -q $(TS_GEN) $$tmp/openapi.ts >/dev/null; then \
	  echo "$(TS_GEN) is stale: run 'make ts-generate' and commit the result"; exit 1; \
	fi; echo "$(TS_GEN) is up to date"

ts-build: $(TS_STAMP) ## type-check (tsc --strict) and build clients/typescript/dist (ESM + .d.ts)
	$(TS_NPX) tsc -p tsconfig.json

TS_SERVER := $(TS_DIR)/build/bin/agentsession-server
TS_FAULTPROXY := $(TS_DIR)/build/bin/agentsession-faultproxy

# The scenario runner (scenarios/README.md, "Running a runner"): scenarios/runner.ts,
# built on the package's public API (dist/, imported as @agentsession/sdk) into
# clients/typescript/build/scenarios/runner.js. The orchestrator runs
# `make ts-scenario-runner` (it prints nothing unless it fails), then, from the
# repository root:
#
#   node clients/typescript/build/scenarios/runner.js --base-url URL --token TOKEN \
#     --token2 TOKEN2 --run RUN_ID --scenarios scenarios --out FILE [--only ID]
#
# (any working directory will do with absolute paths). Exit status 0 when the
# scenarios ran, 2 on a bad command line, 1 when FILE cannot be written.
ts-scenario-runner: $(TS_STAMP) ## build dist and the TypeScript scenario runner, clients/typescript/build/scenarios/runner.js (prints nothing)
	@$(TS_NPX) tsc -p tsconfig.json
	@$(TS_NPX) tsc -p scenarios/tsconfig.json

# ts-scenario-runner builds dist as well: one tsc per output, also under make -j.
ts-test: ts-scenario-runner ## the TypeScript SDK's unit and integration tests (against the reference server and the fault proxy, built with go build)
	$(TS_NPX) tsc -p tsconfig.test.json
	$(GO) build -o $(TS_SERVER) ./cmd/agentsession-server
	$(GO) build -o $(TS_FAULTPROXY) ./cmd/agentsession-faultproxy
	cd $(TS_DIR) && AGENTSESSION_SERVER_BIN=$(abspath $(TS_SERVER)) AGENTSESSION_FAULTPROXY_BIN=$(abspath $(TS_FAULTPROXY)) node --test --test-concurrency=2 build/test/

# The echo-turn benchmark (clients/typescript/bench/echo.ts; the package README's
# "Performance" says what it prints). ROUNDS, BATCH and WARMUP change the counts.
ts-bench: ts-build ## echo turn: the TypeScript SDK against raw fetch on one reference server, interleaved (ABBA rounds)
	$(TS_NPX) tsc -p tsconfig.test.json
	$(GO) build -o $(TS_SERVER) ./cmd/agentsession-server
	cd $(TS_DIR) && MODE=server AGENTSESSION_SERVER_BIN=$(abspath $(TS_SERVER)) node build/bench/echo.js

ts-bench-cpu: ts-build ## echo turn: the TypeScript SDK against raw fetch on an in-memory fetch (the client's own CPU cost only)
	$(TS_NPX) tsc -p tsconfig.test.json
	cd $(TS_DIR) && MODE=cpu node build/bench/echo.js
