# cxaudit — two commands set up everything on a fresh machine:
#   make demo   create the environment, build the demo client, render its report
#   make test   create the environment if missing, run the tests (all but the slow end-to-end ones)
#   make test-slow   the slow end-to-end checks (chain runs in three languages, data shapes, packaging);
#                    .ci/run runs both
SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= 2

.PHONY: env demo test test-slow lab lint bench bench-scale clean

env: $(STAMP)

# Re-install when the dependency list changes.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cxaudit demo
	$(BIN)/cxaudit run demo --jobs $(JOBS) --edition both

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -m slow

lab: $(STAMP)
	@test -f data/demo/audit.yaml || $(BIN)/cxaudit demo
	$(BIN)/jupyter lab notebooks/

lint: $(STAMP)
	$(BIN)/ruff check cxaudit tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The whole audit at the default, large and XL demo sizes beside the same analysis in one Python process
# (wall, CPU, peak memory of the process tree): bench/results/scale-<date>.{json,md}. SIZES=default,large to
# leave XL out; run XL on a quiet machine.
SIZES ?= default,large,xl
bench-scale: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/scale.py --sizes $(SIZES) --jobs $(JOBS)

clean:
	rm -rf $(VENV) reports/*/ .pytest_cache
