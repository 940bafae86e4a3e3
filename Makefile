# The two commands of the quick start: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test lint typecheck bench clean

# what `make test` runs a second time with STEWARD_TEST_METASTORE=postgres
POSTGRES_PASS := tests/changes tests/run/test_integrity_state.py \
  tests/run/test_integrity_reuse.py tests/run/test_build.py \
  "tests/run/test_run_bad_input.py::test_two_runs_at_once_the_second_refuses_clearly" \
  "tests/run/test_run_bad_input.py::test_second_run_can_wait_for_the_first"

$(VENV)/.demo: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[examples]'
	touch $@

$(VENV)/.dev: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	$(BIN)/python examples/flights/demo.py

test: $(VENV)/.dev
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory lint typecheck
	$(BIN)/python -m pytest -n 2 -q
	@# the metastore-facing tests again, each project's state in PostgreSQL (tests/pg.py)
	STEWARD_TEST_METASTORE=postgres $(BIN)/python -m pytest -n 2 -q -m "not sqlite_only" \
	  $(POSTGRES_PASS)

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports pyproject.toml

typecheck: $(VENV)/.dev
	$(BIN)/mypy

bench: $(VENV)/.dev
	$(PIP) -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) examples/flights/.steward benchmarks/_work
