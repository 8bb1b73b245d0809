# The two commands: `make run` and `make test`. Each sets itself up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# Test processes (pytest-xdist); a module stays on one, so its servers start once.
TEST_WORKERS ?= 2

.PHONY: run test lint format install migrate seed schema operations graphiql-assets migrations bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## Serve on http://127.0.0.1:8000 (SQLite + in-memory cache unless DATABASE_URL / CACHE_URL say otherwise).
run: install
	$(BIN)/member-api migrate
	$(BIN)/member-api seed-demo --if-empty
	$(BIN)/member-api serve

## Lint, type-check and the whole test suite.
test: lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

migrate: install
	$(BIN)/member-api migrate

seed: install
	$(BIN)/member-api seed-demo

## Regenerate schema/*.graphql after a GraphQL change.
schema: install
	$(BIN)/member-api export-schema

## The clients' operations shipped in the package (and the image) for persisted queries.
operations: install
	$(BIN)/member-api persisted-queries --write src/member_api/graphql/operations.json

## Refetch GraphiQL's browser files from npm (versions pinned in the script).
graphiql-assets:
	tools/fetch-graphiql-assets

## The main operations on PostgreSQL + Redis against a bare starlette baseline: requests/s
## under wrk, then instructions per request under valgrind (needs wrk and valgrind).
bench: install
	$(BIN)/python bench/all.py
	$(BIN)/python bench/cpu.py

## Write a migration after a model change.
migrations: install
	$(BIN)/member-api makemigrations

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
