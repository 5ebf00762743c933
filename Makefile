# `make run` serves the API with demo content on SQLite; `make test` lints and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint openapi ingest-eval clean

$(BIN)/newsdesk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(BIN)/newsdesk
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/newsdesk
	$(BIN)/newsdesk migrate
	$(BIN)/newsdesk demo --if-empty
	$(BIN)/newsdesk serve

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

# Precision, recall and F1 of claim extraction on the hand-annotated gold set.
ingest-eval: $(VENV)/.dev
	$(BIN)/python -m tests.ingest.scorer

# Regenerates the published contract; commit the result with the change that caused it.
openapi: $(BIN)/newsdesk
	$(BIN)/newsdesk openapi > openapi/openapi.json

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
