# The Python SDK (clients/python): its virtual environment, generated models,
# lint, tests and benchmark. Included by the top-level Makefile.
PY_DIR    := clients/python
PY_VENV   := $(PY_DIR)/.venv
PY        := $(PY_VENV)/bin/python
PY_STAMP  := $(PY_VENV)/.installed
# The interpreter that makes the venv: the development tools need Python >= 3.11.
PYTHON    ?= python3
# An interpreter to prove the SDK on its oldest supported Python (py-test-py310).
PYTHON310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10) python3.10)
PIP_FLAGS := --quiet --disable-pip-version-check --no-input

.PHONY: py-venv py-generate py-check-generated py-lint py-test py-test-py310 py-bench py-scenario-runner

$(PY_STAMP): $(PY_DIR)/requirements.txt $(PY_DIR)/requirements-test.txt $(PY_DIR)/pyproject.toml
	rm -rf $(PY_VENV)
	$(PYTHON) -m venv $(PY_VENV)
	$(PY) -m pip install $(PIP_FLAGS) --no-deps -r $(PY_DIR)/requirements.txt
	$(PY) -m pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e $(PY_DIR)
	$(PY) -m pip check
	@touch $@

py-venv: $(PY_STAMP) ## make clients/python/.venv from the pinned requirements (redone when they change)

py-generate: $(PY_STAMP) ## regenerate clients/python/src/agentsession/_generated.py from openapi.yaml
	$(PY) $(PY_DIR)/scripts/generate.py

py-check-generated: $(PY_STAMP) ## fail when the Python models are stale (regenerates into a temp file and compares)
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(PY) $(PY_DIR)/scripts/generate.py --output $$tmp/_generated.py || exit 1; \
	if ! diff -q $(PY_DIR)/src/agentsession/_generated.py $$tmp/_generated.py; then \
	  echo "clients/python models are stale: run 'make py-generate' and commit the result"; exit 1; \
	fi; echo "clients/python models are up to date"

py-lint: $(PY_STAMP) ## ruff (check and format) and mypy --strict on the Python SDK
	cd $(PY_DIR) && .venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

py-test: $(PY_STAMP) ## the Python SDK's tests: unit tests and integration tests against a reference server the tests build and start
	cd $(PY_DIR) && .venv/bin/python -m pytest -q

py-test-py310: ## the Python SDK's tests on Python 3.10 (its oldest supported version), in clients/python/.venv310
	rm -rf $(PY_DIR)/.venv310
	$(PYTHON310) -m venv $(PY_DIR)/.venv310
	$(PY_DIR)/.venv310/bin/python -m pip install $(PIP_FLAGS) --no-deps -r $(PY_DIR)/requirements-test.txt
	$(PY_DIR)/.venv310/bin/python -m pip check
	cd $(PY_DIR) && PYTHONPATH=src .venv310/bin/python -m pytest -q -p no:cacheprovider

py-bench: $(PY_STAMP) ## the SDK's echo turn against raw httpx on one reference server, interleaved (ratio printed)
	cd $(PY_DIR) && .venv/bin/python bench/bench_echo.py $(PY_BENCH_ARGS)

# The Python scenario runner (scenarios/README.md, "Running a runner"). The orchestrator
# starts it from the repository root (its SCENARIO_RUNNER_PY setting) as
#
#   clients/python/.venv/bin/python clients/python/scenarios/runner.py \
#       --base-url URL --token TOKEN --token2 TOKEN2 --run RUN_ID --scenarios scenarios \
#       --out FILE [--only ID]
#
# `make py-scenario-runner` makes sure that virtual environment exists and prints that
# command line without its flags.
PY_SCENARIO_RUNNER := $(PY) $(PY_DIR)/scenarios/runner.py

py-scenario-runner: $(PY_STAMP) ## make sure the Python scenario runner can start (the venv), and print its command line
	@$(PY_SCENARIO_RUNNER) --help >/dev/null
	@echo "$(PY_SCENARIO_RUNNER)"
