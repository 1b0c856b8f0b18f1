# Agent Session API — developer tasks. `make help` lists them.
SHELL := /bin/bash
GO    ?= go
NPM_STAMP := node_modules/.package-lock.json

.PHONY: help generate check-generated lint-spec build test test-go run tools demo
.PHONY: docs docs-test test-spec-tools check-breaking

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

generate: ## regenerate every binding from openapi.yaml: gen/ (Go), the TypeScript types, the Python models
	$(GO) generate ./gen/...
	$(MAKE) ts-generate py-generate

check-generated: ts-check-generated py-check-generated ## fail when gen/, the TypeScript types or the Python models are stale (regenerates into a temp copy and compares)
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	cp -r gen openapi.yaml go.mod go.sum $$tmp/; \
	(cd $$tmp/gen && $(GO) generate ./... ) || exit 1; \
	if ! diff -r -q gen $$tmp/gen; then \
	  echo "gen/ is stale: run 'make generate' and commit the result"; exit 1; \
	fi; echo "gen/ is up to date"

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

tools: $(NPM_STAMP) ## install the pinned npm tools (Redocly, Spectral, Playwright core)

# --- spec quality, API docs, breaking-change gate (README.md: "API docs" and "Spec gates")
REDOCLY  := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --no-install redocly
SPECTRAL := npx --no-install spectral
DOCS_OUT ?= docs/index.html

lint-spec: $(NPM_STAMP) ## lint openapi.yaml: Redocly (recommended-strict) and Spectral (.spectral.yaml); any warning fails
	$(REDOCLY) lint openapi.yaml
	$(SPECTRAL) lint --ruleset .spectral.yaml --fail-severity=warn openapi.yaml

docs: $(NPM_STAMP) ## build docs/index.html, the self-contained API reference, from openapi.yaml
	$(REDOCLY) build-docs openapi.yaml --inlineBundle --output $(DOCS_OUT)
	node docs/make-offline.mjs $(DOCS_OUT)

docs-test: docs ## build docs/index.html, then open it offline in headless Chromium: every tag and operation renders, no console errors
	scripts/install-chromium.sh
	node --test docs/browser.test.mjs

test-spec-tools: $(NPM_STAMP) ## prove each Spectral project rule fires and the breaking-change gate fails when it should
	node --test spectral/rules.test.mjs scripts/check-breaking.test.mjs

check-breaking: ## fail on breaking changes to openapi.yaml since BASE (default: the last v* tag, else the file's first commit)
	BASE="$(BASE)" scripts/check-breaking.sh

build: ## build every binary into bin/
	$(GO) build -o bin/ ./cmd/...

test: test-go ts-test py-lint py-test scenarios ## every test: Go (vet, gofmt, -race), the TypeScript SDK, the Python SDK (ruff, mypy --strict, pytest), the cross-language scenarios under faults

test-go: ## vet, check formatting, and run every Go test with the race detector
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) test -race -count=1 ./...

demo: ## run every example against a fresh reference server (SQLite in a temp dir) and show what happened
	GO='$(GO)' $(GO) run ./internal/demo

# The conformance suite against the reference server (conformance/README.md).
CONFORMANCE_OUT ?= out/conformance

.PHONY: conformance
conformance: ## run the conformance suite (full profile, two tenants) against a fresh reference server on an ephemeral port; reports in out/conformance
	GO='$(GO)' OUT='$(CONFORMANCE_OUT)' conformance/run-against-refserver.sh

.PHONY: conformance-acp
conformance-acp: ## the conformance suite with the ACP test agent behind the bridge as its echo agent (agent acp-test of an agents file); reports in out/conformance-acp
	GO='$(GO)' OUT='$(CONFORMANCE_OUT)-acp' ACP=1 conformance/run-against-refserver.sh

# The reference server needs a token; `make run AGENTSESSION_TOKENS=a,b` overrides it.
AGENTSESSION_TOKENS ?= dev-token

run: ## run the reference server on its embedded SQLite default (agentsession.db, token dev-token)
	AGENTSESSION_TOKENS='$(AGENTSESSION_TOKENS)' $(GO) run ./cmd/agentsession-server

include mk/typescript.mk
include mk/python.mk
include mk/scenarios.mk
