"""The benchmark runner: `newsdesk serve` on SQLite and PostgreSQL under `wrk`, with nginx
serving the same bytes from disk in the same run as the yardstick.

    .venv/bin/python -m bench.run [--backends sqlite,postgresql] [--articles 10000]
        [--workers 2] [--duration 10] [--warmup 3] [--output BENCHMARKS.md]
    .venv/bin/python -m bench.run --scale [--sizes 10000,100000,1000000]

Per backend: a fresh database, migrated and loaded with `bench.corpus`; a write key;
`newsdesk serve` on a free loopback port; then each scenario warmed up and measured with
`wrk -t2 -c32 --latency` and a Lua script from `bench/scripts/` that prints one JSON line.
A scenario with errors or unexpected status codes stops the run (exit 1): a broken
benchmark never produces a table. Results are printed as they come and written to
BENCHMARKS.md, whose `## Results` (this mode) or `## Scale` (`--scale`) section is replaced;
the other section and everything from `## Profile` on are kept as they are.
"""

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.common import BACKENDS, REPO, BenchError, backend_list, log
from bench.environment import database_versions, environment
from bench.processes import Tools
from bench.report import fmt_outcome_value, results_section, scale_section, write_section
from bench.results import TARGETS, evaluate, evaluate_scale
from bench.scenarios import run_backend, run_scale_size

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/newsdesk_bench"


def count(text: str) -> int:
    """10000, 10_000, 10k or 1M."""
    text = text.strip().replace("_", "").lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(text[:-1] if factor > 1 else text) * factor


def counts(text: str) -> list[int]:
    return [count(part) for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--backends", type=backend_list, default=list(BACKENDS))
    parser.add_argument("--articles", type=count, default=10_000, help="corpus size")
    parser.add_argument("--workers", type=int, default=2, help="newsdesk serve --workers")
    parser.add_argument("--duration", type=float, default=10, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up each")
    parser.add_argument("--output", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("NEWSDESK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="the database to drop and create (env NEWSDESK_BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--scale", action="store_true", help="PostgreSQL at several sizes")
    parser.add_argument("--sizes", type=counts, default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="scale mode: keep a size's database when it already holds that many articles",
    )
    options = parser.parse_args(argv)
    if options.workers < 1 or options.duration <= 0 or options.warmup < 0:
        parser.error("--workers and --duration must be positive, --warmup not negative")
    return options


def bench_backends(tools: Tools, options: argparse.Namespace) -> str:
    runs = [run_backend(tools, backend, options) for backend in options.backends]
    outcomes = [o for run in runs for o in evaluate(TARGETS, run.backend, run.measurements)]
    print("\n" + "\n".join(f"{o.verdict:>12}  {o.target.text} ({o.backend})" for o in outcomes))
    versions = database_versions({run.backend: run.database_version for run in runs})
    env = environment(tools, versions)
    return results_section(env, options, runs)


def bench_scale(tools: Tools, options: argparse.Namespace) -> str:
    runs = [run_scale_size(tools, size, options) for size in sorted(options.sizes)]
    for o in evaluate_scale(runs):
        print(f"{o.verdict:>12}  {o.target.text}: {fmt_outcome_value(o)}")
    versions = database_versions({"postgresql": runs[0].database_version})
    return scale_section(environment(tools, versions), options, runs)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    began = time.monotonic()
    try:
        tools = Tools.find()
        produce: Callable[[Tools, argparse.Namespace], str] = (
            bench_scale if options.scale else bench_backends
        )
        section = produce(tools, options)
    except BenchError as error:
        print(f"\nbench: {error}", file=sys.stderr)
        return 1
    write_section(options.output, section)
    log(f"wrote {options.output} in {(time.monotonic() - began) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
