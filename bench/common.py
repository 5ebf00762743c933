"""What the benchmark modules share: the repository's paths, the backends and how a command
line names them, the error that stops a run, and the log line."""

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var" / "bench"
CORPUS_MODULE = "bench.corpus"
BACKENDS = ("sqlite", "postgresql")
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def backend_list(text: str) -> list[str]:
    backends = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown or not backends:
        raise argparse.ArgumentTypeError(f"backends are {', '.join(BACKENDS)}")
    return backends
