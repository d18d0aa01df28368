# The two commands: `make demo` and `make test`. Both work on a fresh clone of a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck system-deps bench clean

$(STAMP): pyproject.toml
	@bash scripts/system-deps.sh build run
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Debian packages the tests need (PostgreSQL server, nmap, ...); skipped when already present.
system-deps:
	@bash scripts/system-deps.sh build run test

demo: $(STAMP)
	$(BIN)/camsweep demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) system-deps lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

bench: $(STAMP)
	@for b in benchmarks/*_bench.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache camsweep.db*
