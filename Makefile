# Agent Session API — developer tasks. `make help` lists them.
SHELL := /bin/bash
GO    ?= go
NPM_STAMP := node_modules/.package-lock.json

.PHONY: help generate check-generated lint-spec build test run tools

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

generate: ## regenerate gen/*.gen.go from openapi.yaml
	$(GO) generate ./gen

check-generated: ## fail when gen/ is stale (regenerates into a temp copy and compares)
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	cp -r gen openapi.yaml go.mod go.sum $$tmp/; \
	(cd $$tmp/gen && $(GO) generate . ) || exit 1; \
	if ! diff -r -q gen $$tmp/gen; then \
	  echo "gen/ is stale: run 'make generate' and commit the result"; exit 1; \
	fi; echo "gen/ is up to date"

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

tools: $(NPM_STAMP) ## install the pinned npm tools (Redocly, Spectral)

lint-spec: $(NPM_STAMP) ## lint openapi.yaml (Redocly recommended rules)
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --no-install redocly lint openapi.yaml

build: ## build every binary into bin/
	$(GO) build -o bin/ ./cmd/...

test: ## vet, check formatting, and run every Go test with the race detector
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) test -race -count=1 ./...

run: ## run the reference server on its embedded SQLite default
	$(GO) run ./cmd/agentsession-server
