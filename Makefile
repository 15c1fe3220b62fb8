# Clarion: `make run` to try it, `make test` to check it. `make help` lists every target.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install accel run test lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) accel ## Create .venv and install what is missing

accel: $(STAMP) ## Compile phi.redaction's hot modules (mypyc) and word scanner (C); optional, skipped if it fails
	@$(PY) phi/redaction/build_accel.py

run: $(STAMP) ## Migrate, load demo data and serve on http://127.0.0.1:8000
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Clarion is starting on http://$(HOST):$(PORT)/admin/  (Ctrl-C to stop)"
	@echo ""
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: $(STAMP) accel ## Run the whole test suite (Postgres/Redis when DATABASE_URL/REDIS_URL are set)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP) accel ## Run the benchmarks: bench/results/*.json and a printed table
	$(PY) -m bench $(BENCH_ARGS)

clean: ## Remove the virtualenv and local state (SQLite, keys, media)
	rm -rf $(VENV) var
