# `make run` serves the API with demo content on SQLite; `make test` lints and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint openapi ingest-eval bench bench-scale bench-ratelimit bench-ingest bench-media crash-test fuzz clean

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
	$(BIN)/mypy

# One test process per core (pytest-xdist); `.venv/bin/python -m pytest` alone runs serially.
test: lint
	$(BIN)/python -m pytest -n auto

# The inner loop: everything but the tests marked slow (those that start a process), no lint.
test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -n auto -m "not slow"

# Precision, recall and F1 of claim extraction on the hand-annotated gold set, then on
# PolNeAR's dev split (read from ../shared/polnear or $$NEWSDESK_POLNEAR; POLNEAR_ARGS="--errors 5").
ingest-eval: $(VENV)/.dev
	$(BIN)/python -m tests.ingest.scorer
	$(BIN)/python -m tests.ingest.polnear $(POLNEAR_ARGS)

# Load tests with wrk against SQLite and PostgreSQL, nginx alongside; rewrites BENCHMARKS.md.
# Needs wrk and nginx: apt-get install wrk nginx-light (see bench/README.md).
bench: $(BIN)/newsdesk
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# PostgreSQL at 10k, 100k and 1M articles (about an hour, most of it loading the corpus).
bench-scale: $(BIN)/newsdesk
	$(BIN)/python -m bench.run --scale $(BENCH_ARGS)

# Uploading a 12-megapixel JPEG, then renditions and an article with its image under wrk,
# each against nginx serving the same bytes (needs wrk and nginx, as make bench does).
bench-media: $(BIN)/newsdesk
	$(BIN)/python -m bench.media $(BENCH_ARGS)

# SIGKILLs serve mid-write-load on SQLite and PostgreSQL; fails if an acknowledged write is lost.
crash-test: $(BIN)/newsdesk
	$(BIN)/python -m bench.crash $(CRASH_ARGS)

# Two servers sharing one key's rate limit through Redis: requests let through vs the ideal.
bench-ratelimit: $(BIN)/newsdesk
	$(BIN)/python -m bench.ratelimit $(BENCH_ARGS)

# Read latency of one server alone and while pages are ingested, and what an ingest takes.
bench-ingest: $(BIN)/newsdesk
	$(BIN)/python -m bench.ingest_load $(BENCH_ARGS)

# Schemathesis at length on `newsdesk serve` with the demo stories: no 5xx, all as the contract says.
fuzz: $(VENV)/.dev
	$(BIN)/python -m bench.fuzz $(FUZZ_ARGS)

# Regenerates the published contract; commit the result with the change that caused it.
openapi: $(BIN)/newsdesk
	$(BIN)/newsdesk openapi > openapi/openapi.json

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
