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
import asyncio
import contextlib
import importlib.metadata
import itertools
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "bench" / "scripts"
VAR = REPO / "var" / "bench"
CORPUS_MODULE = "bench.corpus"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/newsdesk_bench"
BACKENDS = ("sqlite", "postgresql")
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
THREADS, CONNECTIONS = 2, 32
# Slow answers are counted in the latency figures rather than dropped as timeouts.
WRK_TIMEOUT = "10s"
RESULT_MARK = "BENCH-RESULT "
INSTALL_HINT = "apt-get install wrk nginx-light  (Debian/Ubuntu; as root or with sudo)"

RESULTS_HEADING = "## Results"
SCALE_HEADING = "## Scale"
PROFILE_HEADING = "## Profile"
SECTION_ORDER = (RESULTS_HEADING, SCALE_HEADING)
PREAMBLE = """# Benchmarks

Newsdesk under load, measured by `bench/run.py` (see `bench/README.md`). Each figure is
also given as a ratio to nginx serving the same bytes from disk in the same run: the ratios
are what compare across machines, the absolute numbers are this machine's. `make bench`
regenerates the Results section, `make bench-scale` the Scale section; the Profile section
is written by hand and kept as it is."""
PROFILE_PLACEHOLDER = f"""{PROFILE_HEADING}

_Written by hand: `bench/run.py` keeps everything from this heading to the end of the file._
"""


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


# --- wrk ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured (from the JSON line printed by bench/scripts/report.lua)."""

    requests: int
    duration_s: float
    bytes: int
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def bytes_per_response(self) -> int:
        """Bytes on the wire per response, headers included."""
        return round(self.bytes / self.requests) if self.requests else 0

    @property
    def socket_errors(self) -> int:
        return sum(count for kind, count in self.errors.items() if kind != "status")


def parse_wrk_output(output: str) -> WrkResult:
    """The result line of wrk's output (the rest of it is wrk's own report)."""
    lines = [line for line in output.splitlines() if line.startswith(RESULT_MARK)]
    if not lines:
        raise BenchError(f"wrk printed no {RESULT_MARK.strip()} line:\n{output.strip()}")
    data = json.loads(lines[-1].removeprefix(RESULT_MARK))
    latency = data["latency_us"]
    return WrkResult(
        requests=int(data["requests"]),
        duration_s=data["duration_us"] / 1e6,
        bytes=int(data["bytes"]),
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        errors={kind: int(count) for kind, count in data["errors"].items()},
        statuses={int(status): int(count) for status, count in data["statuses"].items()},
    )


@dataclass(frozen=True)
class Load:
    """One wrk invocation: the URL, the Lua script and its arguments, and the status every
    response must have (checked only by scripts that count statuses: see bench/scripts/)."""

    url: str
    script: str = "get.lua"
    headers: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    expect: int | None = None
    threads: int = THREADS
    connections: int = CONNECTIONS
    timeout: str = WRK_TIMEOUT
    # Reaches post_article.lua as BENCH_API_KEY, so that it is on no command line.
    api_key: str = field(default="", repr=False)

    def command(self, wrk: str, duration: float) -> list[str]:
        command = [wrk, f"-t{self.threads}", f"-c{self.connections}", f"-d{duration:g}s"]
        command += ["--latency", "--timeout", self.timeout, "-s", str(SCRIPTS / self.script)]
        for header in self.headers:
            command += ["-H", header]
        command.append(self.url)
        return command + (["--", *self.args] if self.args else [])


def check_result(result: WrkResult, load: Load) -> list[str]:
    """What is wrong with a run, if anything: no answers, socket errors, error statuses or
    (for counting scripts) any status but the expected one."""
    problems = []
    if result.requests == 0:
        problems.append("no request completed")
    if result.socket_errors:
        problems.append(f"socket errors {result.errors}")
    if result.errors.get("status"):
        problems.append(f"{result.errors['status']} responses with status >= 400")
    if load.expect is not None:
        unexpected = {code: n for code, n in result.statuses.items() if code != load.expect}
        if unexpected or not result.statuses:
            problems.append(f"expected only {load.expect}, got statuses {result.statuses}")
    return problems


# --- results and targets --------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    load: Load
    baseline: str | None = None  # the nginx file it is compared with
    unit: str = "req/s"


@dataclass
class Measurement:
    scenario: Scenario
    result: WrkResult
    command: str
    baseline_rps: float | None = None

    @property
    def key(self) -> str:
        return self.scenario.key

    @property
    def rps(self) -> float:
        return self.result.rps

    @property
    def ratio(self) -> float | None:
        return self.rps / self.baseline_rps if self.baseline_rps else None

    @property
    def p50_ms(self) -> float:
        return self.result.p50_ms

    @property
    def p99_ms(self) -> float:
        return self.result.p99_ms


@dataclass(frozen=True)
class Target:
    """A target of the issue: `metric` of scenario `key` compared with `threshold`."""

    text: str
    key: str
    metric: str  # a Measurement property, or "slowdown" in scale mode
    op: str  # ">=" or "<="
    threshold: float
    backends: tuple[str, ...] = BACKENDS
    size: int | None = None  # scale targets: the corpus size it is set at

    def met(self, value: float) -> bool:
        return value >= self.threshold if self.op == ">=" else value <= self.threshold


@dataclass(frozen=True)
class Outcome:
    target: Target
    backend: str
    value: float | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "not measured"
        return "met" if self.target.met(self.value) else "**missed**"


TARGETS = (
    Target("Scenario 1 ≥ 0.2x nginx", "1", "ratio", ">=", 0.2),
    Target("Scenario 2 ≥ 0.3x nginx", "2", "ratio", ">=", 0.3),
    Target("Scenario 3 ≥ 0.1x nginx", "3", "ratio", ">=", 0.1),
    Target("Scenario 3 (section) ≥ 0.1x nginx", "3s", "ratio", ">=", 0.1),
    Target("Scenario 3 (tag) ≥ 0.1x nginx", "3t", "ratio", ">=", 0.1),
    Target("Scenario 6 ≥ 300 articles/s", "6", "rps", ">=", 300, backends=("postgresql",)),
    Target("Scenario 1 p99 under scenario 6's load ≤ 50 ms", "7", "p99_ms", "<=", 50),
)
SCALE_TARGETS = (
    Target("Scenario 4 p50 ≤ 20 ms at 1M articles", "4", "p50_ms", "<=", 20, size=1_000_000),
    Target("Scenario 1 at 1M within 1.5x of 10k", "1", "slowdown", "<=", 1.5, size=1_000_000),
    Target("Scenario 3 at 1M within 1.5x of 10k", "3", "slowdown", "<=", 1.5, size=1_000_000),
)
SCALE_BASE_SIZE = 10_000


def evaluate(
    targets: Sequence[Target], backend: str, measurements: Sequence[Measurement]
) -> list[Outcome]:
    """Each target that applies to `backend`, with the measured value (None if missing)."""
    by_key = {m.key: m for m in measurements}
    outcomes = []
    for target in targets:
        if backend not in target.backends:
            continue
        measurement = by_key.get(target.key)
        value = getattr(measurement, target.metric) if measurement else None
        outcomes.append(Outcome(target, backend, value))
    return outcomes


def slowdown(base: Measurement | None, large: Measurement | None) -> float | None:
    """How many times fewer requests per second the larger archive serves."""
    if base is None or large is None or not large.rps:
        return None
    return base.rps / large.rps


def evaluate_scale(runs: Sequence["ScaleRun"]) -> list[Outcome]:
    by_size = {run.size: {m.key: m for m in run.measurements} for run in runs}
    outcomes = []
    for target in SCALE_TARGETS:
        at_size = by_size.get(target.size or 0, {})
        if target.metric == "slowdown":
            base = by_size.get(SCALE_BASE_SIZE, {})
            value = slowdown(base.get(target.key), at_size.get(target.key))
        else:
            measurement = at_size.get(target.key)
            value = getattr(measurement, target.metric) if measurement else None
        outcomes.append(Outcome(target, "postgresql", value))
    return outcomes


@dataclass
class BackendRun:
    backend: str
    articles: int
    database_version: str
    load_seconds: float
    measurements: list[Measurement] = field(default_factory=list)
    nginx: list[Measurement] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


@dataclass
class ScaleRun:
    size: int
    database_version: str
    load_seconds: float | None  # None: an earlier run's corpus, reused
    measurements: list[Measurement] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


# --- BENCHMARKS.md --------------------------------------------------------------------------


def merge_section(existing: str | None, section: str) -> str:
    """The document with `section` (its text starting with its `## ` heading) put in place
    of the section of that heading. Everything from `## Profile` to the end, the preamble and
    the other sections are kept as they are; a new section goes in SECTION_ORDER's place."""
    existing = existing or ""
    profile = re.search(rf"^{re.escape(PROFILE_HEADING)}\b", existing, re.MULTILINE)
    head = existing[: profile.start()] if profile else existing
    tail = existing[profile.start() :] if profile else PROFILE_PLACEHOLDER
    preamble, *sections = re.split(r"^(?=## )", head, flags=re.MULTILINE)
    heading = section.splitlines()[0].strip()

    def rank(text: str) -> int:
        title = text.splitlines()[0].strip()
        return SECTION_ORDER.index(title) if title in SECTION_ORDER else len(SECTION_ORDER)

    kept = [text for text in sections if text.splitlines()[0].strip() != heading]
    position = next((i for i, text in enumerate(kept) if rank(text) > rank(section)), len(kept))
    kept.insert(position, section)
    parts = [preamble.strip("\n") or PREAMBLE, *(text.strip("\n") for text in kept)]
    return "\n\n".join(parts) + "\n\n" + tail


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}x"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def fmt_outcome_value(outcome: Outcome) -> str:
    value, metric = outcome.value, outcome.target.metric
    if metric == "ratio":
        return fmt_ratio(value)
    if metric == "slowdown":
        return "—" if value is None else f"{value:.2f}x"
    if metric.endswith("_ms"):
        return "—" if value is None else f"{fmt_ms(value)} ms"
    return "—" if value is None else f"{fmt_number(value)}/s"


def scenario_row(m: Measurement) -> list[str]:
    return [
        f"{m.key}. {m.scenario.label}",
        f"{fmt_number(m.rps)} {m.scenario.unit}",
        fmt_ratio(m.ratio),
        fmt_ms(m.p50_ms),
        fmt_ms(m.p99_ms),
        fmt_number(m.result.bytes_per_response),
    ]


SCENARIO_HEADER = ("scenario", "req/s", "ratio to nginx", "p50 ms", "p99 ms", "bytes")


def backend_table(run: BackendRun) -> str:
    rows = [scenario_row(m) for m in run.measurements]
    rows += [scenario_row(m) for m in run.nginx]
    return markdown_table(SCENARIO_HEADER, rows)


def targets_table(outcomes: Sequence[Outcome]) -> str:
    rows = [
        [o.target.text, BACKEND_NAMES[o.backend], fmt_outcome_value(o), o.verdict] for o in outcomes
    ]
    return markdown_table(("target", "backend", "measured", "verdict"), rows)


@dataclass(frozen=True)
class Environment:
    """The machine and the versions of everything measured."""

    when: str
    machine: list[tuple[str, str]]
    versions: list[tuple[str, str]]
    command: str

    def markdown(self) -> str:
        rows = [[name, value] for name, value in self.machine + self.versions]
        return markdown_table(("", ""), rows)


def commands_block(title: str, commands: Sequence[str]) -> str:
    body = "\n".join(commands)
    return f"<details><summary>{title}</summary>\n\n```sh\n{body}\n```\n\n</details>"


def results_section(
    env: Environment, options: argparse.Namespace, runs: Sequence[BackendRun]
) -> str:
    outcomes = [o for run in runs for o in evaluate(TARGETS, run.backend, run.measurements)]
    parts = [
        RESULTS_HEADING,
        f"Regenerated by `{env.command}` on {env.when}.",
        "### Machine and versions\n\n" + env.markdown(),
        "### Run\n\n"
        + "\n".join(
            [
                f"- Corpus: {options.articles:,} published articles with claims and sources "
                f"(`python -m {CORPUS_MODULE} --count {options.articles} --seed 1`), "
                "loaded into a fresh database per backend.",
                f"- Server: `newsdesk serve --workers {options.workers} --no-access-log` on "
                f"127.0.0.1; nginx `worker_processes {options.workers}` serving the exact bytes of "
                "scenarios 1 and 3 from disk, measured in the same run.",
                f"- Load: `wrk -t{THREADS} -c{CONNECTIONS} --latency --timeout {WRK_TIMEOUT}`, "
                f"{options.duration:g} s per scenario after a {options.warmup:g} s warm-up; "
                "scenario 7 is two wrk processes at once (`-t1 -c16` each): scenario 1 "
                "and scenario 6.",
                "- Ratio: Newsdesk's req/s over nginx's for the matching file (the article "
                "for 1, 2 and 7; the list of 20 for 3, 4 and 5). Bytes: per response on "
                "the wire, headers included.",
            ]
        ),
    ]
    for run in runs:
        parts.append(
            f"### {BACKEND_NAMES[run.backend]} {run.database_version}\n\n"
            f"Corpus loaded in {run.load_seconds:.0f} s.\n\n" + backend_table(run)
        )
    parts.append("### Targets\n\n" + targets_table(outcomes))
    for run in runs:
        parts.append(commands_block(f"Commands: {BACKEND_NAMES[run.backend]}", run.commands))
    return "\n\n".join(parts) + "\n"


def scale_table(runs: Sequence[ScaleRun]) -> str:
    base = {m.key: m for m in runs[0].measurements} if runs else {}
    rows = []
    for key in dict.fromkeys(m.key for run in runs for m in run.measurements):
        for run in runs:
            m = next((m for m in run.measurements if m.key == key), None)
            if m is None:
                continue
            smallest = base.get(key)
            versus = m.rps / smallest.rps if smallest and smallest.rps else None
            rows.append(
                [
                    f"{key}. {m.scenario.label}",
                    fmt_number(run.size),
                    fmt_number(m.rps),
                    fmt_ratio(versus),
                    fmt_ms(m.p50_ms),
                    fmt_ms(m.p99_ms),
                    fmt_number(m.result.bytes_per_response),
                ]
            )
    smallest = fmt_number(runs[0].size) if runs else "smallest"
    header = ("scenario", "articles", "req/s", f"req/s vs {smallest}", "p50 ms", "p99 ms")
    return markdown_table((*header, "bytes"), rows)


def scale_section(env: Environment, options: argparse.Namespace, runs: Sequence[ScaleRun]) -> str:
    loads = ", ".join(
        f"{run.size:,} in {run.load_seconds:.0f} s"
        if run.load_seconds is not None
        else f"{run.size:,} loaded by an earlier run (`--reuse`)"
        for run in runs
    )
    parts = [
        SCALE_HEADING,
        f"Regenerated by `{env.command}` on {env.when}.",
        "### Machine and versions\n\n" + env.markdown(),
        "### Run\n\n"
        + "\n".join(
            [
                f"- PostgreSQL only; for each size a database of its own loaded with "
                f"`python -m {CORPUS_MODULE} --count N --seed 1` ({loads}).",
                f"- Server: `newsdesk serve --workers {options.workers} --no-access-log`; load: "
                f"`wrk -t{THREADS} -c{CONNECTIONS} --latency`, {options.duration:g} s per "
                f"scenario after a {options.warmup:g} s warm-up; search (4) with "
                f"`-t1 -c{SCALE_SEARCH_CONNECTIONS} --timeout {SCALE_SEARCH_TIMEOUT}`, "
                "since at the larger sizes one search takes longer than 32 of them queued "
                "behind each other may wait.",
                "- `req/s vs` compares each size with the smallest; the targets compare "
                "1M articles with 10k.",
            ]
        ),
        "### PostgreSQL\n\n" + scale_table(runs),
        "### Targets\n\n" + targets_table(evaluate_scale(runs)),
    ]
    parts += [commands_block(f"Commands: {run.size:,} articles", run.commands) for run in runs]
    return "\n\n".join(parts) + "\n"


def write_section(path: Path, section: str) -> None:
    existing = path.read_text(encoding="utf-8") if path.exists() else None
    path.write_text(merge_section(existing, section), encoding="utf-8")


# --- processes and tools --------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def find_tool(name: str) -> str | None:
    # nginx lives in /usr/sbin, which is not on every user's PATH.
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which(name, path=path)


@dataclass(frozen=True)
class Tools:
    wrk: str
    nginx: str
    newsdesk: str

    @classmethod
    def find(cls) -> "Tools":
        wrk, nginx = find_tool("wrk"), find_tool("nginx")
        missing = [name for name, path in (("wrk", wrk), ("nginx", nginx)) if path is None]
        if missing:
            raise BenchError(f"{' and '.join(missing)} not found. Install with:\n  {INSTALL_HINT}")
        newsdesk = Path(sys.executable).parent / "newsdesk"
        if not newsdesk.exists():
            raise BenchError(f"{newsdesk} not found: run `make bench` (it installs Newsdesk).")
        assert wrk
        assert nginx
        return cls(wrk, nginx, str(newsdesk))


def shell_line(command: Sequence[str], env: dict[str, str] | None = None) -> str:
    """A command as one copyable line, with the environment it needs and repo-relative
    paths."""
    prefix = " ".join(f"{name}={shlex.quote(value)}" for name, value in (env or {}).items())
    text = shlex.join(command).replace(f"{REPO}/", "")
    return f"{prefix} {text}" if prefix else text


def run_command(
    command: Sequence[str], env: dict[str, str] | None = None, record: list[str] | None = None
) -> str:
    """Run a command to completion and return its standard output; fail with its output."""
    if record is not None:
        record.append(shell_line(command, env))
    completed = subprocess.run(  # noqa: S603 (our own, fixed commands)
        command,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise BenchError(f"`{shell_line(command)}` failed ({completed.returncode}):\n{output}")
    return completed.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{url} exited ({process.returncode}):\n{tail(log_path)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise BenchError(f"{url} did not answer within {timeout:.0f} s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL to the whole process group (it was started in its own)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def background(
    command: Sequence[str], log_path: Path, health_url: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """A server process, started and up (health_url answers 200) for the with-block, in a
    process group of its own; stopped after it unless it has already exited."""
    with log_path.open("w") as log_file:
        process = subprocess.Popen(  # noqa: S603 (our own, fixed commands)
            command,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_up(health_url, process, log_path, timeout=60)
            yield process
        finally:
            stop(process)


def run_wrk(
    tools: Tools, loads: Sequence[Load], duration: float, *, check: bool = True
) -> list[WrkResult]:
    """Run wrk once per load, all at the same time; fail on errors or unexpected statuses
    (unless not to `check`: a warm-up may end before a slow request completes)."""
    commands = [load.command(tools.wrk, duration) for load in loads]
    processes = [
        subprocess.Popen(  # noqa: S603 (our own, fixed commands)
            command,
            cwd=REPO,
            env={**os.environ, "BENCH_API_KEY": load.api_key},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for command, load in zip(commands, loads, strict=True)
    ]
    outputs = [process.communicate()[0] for process in processes]
    results = []
    for command, load, process, output in zip(commands, loads, processes, outputs, strict=True):
        if process.returncode != 0:
            raise BenchError(f"`{shell_line(command)}` failed:\n{output.strip()}")
        if not check:
            continue
        result = parse_wrk_output(output)
        problems = check_result(result, load)
        if problems:
            raise BenchError(f"`{shell_line(command)}`: " + "; ".join(problems))
        results.append(result)
    return results


# --- databases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    url: str
    version: str


def fresh_sqlite(path: Path = VAR / "newsdesk-bench.db") -> Database:
    """An empty SQLite database at `path` (the file and its WAL removed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Database(f"sqlite+aiosqlite:///{path}", sqlite3.sqlite_version)


def _on_server(url: str, work: Callable[[Any, str], Any]) -> Any:
    """`work(connection, quoted database name)` on a connection to the server of `url`
    (its `postgres` database)."""
    target = make_url(url)
    if not target.database:
        raise BenchError(f"{url} names no database")
    admin = target.set(drivername="postgresql", database="postgres")
    name = '"' + target.database.replace('"', '""') + '"'

    async def run() -> Any:
        connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
        try:
            return await work(connection, name)
        finally:
            await connection.close()

    try:
        return asyncio.run(run())
    except (OSError, asyncpg.PostgresError) as error:
        raise BenchError(f"PostgreSQL at {admin.render_as_string()}: {error}") from error


async def _version(connection: Any) -> str:
    return str(await connection.fetchval("SHOW server_version")).split()[0]


def fresh_postgres(url: str) -> Database:
    """Drop and create the database of `url`."""

    async def recreate(connection: Any, name: str) -> str:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {name}")
        return await _version(connection)

    return Database(url, _on_server(url, recreate))


def existing_postgres(url: str) -> Database:
    async def version(connection: Any, name: str) -> str:
        return await _version(connection)

    return Database(url, _on_server(url, version))


def sized_url(url: str, size: int) -> str:
    """Scale mode keeps a database per size (`newsdesk_bench_100000`, …), so that `--reuse`
    can skip loading every one of them again."""
    target = make_url(url)
    return target.set(database=f"{target.database}_{size}").render_as_string(hide_password=False)


def corpus_size(url: str) -> int | None:
    """How many articles the database of `url` holds; None if it does not exist or has no
    article table."""

    async def count() -> int | None:
        try:
            connection = await asyncpg.connect(
                make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            )
        except asyncpg.InvalidCatalogNameError:
            return None
        try:
            return int(await connection.fetchval("SELECT count(*) FROM article"))
        except asyncpg.UndefinedTableError:
            return None
        finally:
            await connection.close()

    return asyncio.run(count())


@dataclass
class Newsdesk:
    """A migrated database with the corpus loaded, and how to serve it."""

    tools: Tools
    database: Database
    load_seconds: float
    commands: list[str]

    @property
    def env(self) -> dict[str, str]:
        return {"NEWSDESK_DATABASE_URL": self.database.url}

    @classmethod
    def prepare(cls, tools: Tools, database: Database, articles: int | None) -> "Newsdesk":
        """Migrate the database and load `articles` (None: it holds them already)."""
        commands: list[str] = []
        env = {"NEWSDESK_DATABASE_URL": database.url}
        log(f"migrating {database.url}")
        run_command([tools.newsdesk, "migrate"], env, commands)
        if articles is None:
            return cls(tools, database, 0.0, commands)
        log(f"loading {articles:,} articles")
        began = time.monotonic()
        corpus = [sys.executable, "-m", CORPUS_MODULE, "--database-url", database.url]
        run_command([*corpus, "--count", str(articles), "--seed", "1"], None, commands)
        load_seconds = time.monotonic() - began
        log(f"loaded in {load_seconds:.0f} s")
        return cls(tools, database, load_seconds, commands)

    def create_key(self) -> str:
        command = [self.tools.newsdesk, "keys", "create", "--name", "bench"]
        output = run_command([*command, "--scope", "content:write"], self.env, self.commands)
        return output.strip().splitlines()[-1].strip()

    @contextlib.contextmanager
    def serve(self, workers: int) -> Iterator[str]:
        """The base URL of `newsdesk serve` on a free port, for the with-block."""
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [self.tools.newsdesk, "serve", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(workers), "--no-access-log"]
        env = {**self.env, "NEWSDESK_PUBLIC_BASE_URL": base, "NEWSDESK_PUBLIC_READ": "true"}
        self.commands.append(shell_line(command, env) + " &")
        VAR.mkdir(parents=True, exist_ok=True)
        with background(command, VAR / "serve.log", f"{base}/healthz", env):
            yield base


# --- nginx ----------------------------------------------------------------------------------


NGINX_CONF = """\
daemon off;
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{ }}
    default_type application/json;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
    }}
}}
"""


@contextlib.contextmanager
def nginx_serving(tools: Tools, files: dict[str, bytes], workers: int) -> Iterator[str]:
    """nginx serving `files` (name -> bytes) from a temporary directory; its base URL."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-nginx-") as temp:
        root = Path(temp)
        (root / "www").mkdir()
        (root / "tmp").mkdir()
        for name, body in files.items():
            (root / "www" / name).write_bytes(body)
            (root / "www" / name).chmod(0o644)
        for directory in (root, root / "www"):  # readable by workers running as nobody
            directory.chmod(0o755)
        port = free_port()
        conf = root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=root, port=port, workers=workers))
        base = f"http://127.0.0.1:{port}"
        command = [tools.nginx, "-p", f"{root}/", "-c", str(conf), "-e", str(root / "error.log")]
        first = next(iter(files))
        with background(command, root / "nginx.log", f"{base}/{first}"):
            for name, body in files.items():
                served = httpx.get(f"{base}/{name}").content
                if served != body:
                    raise BenchError(
                        f"nginx serves {len(served)} bytes for {name}, not {len(body)}"
                    )
            yield base


# --- the scenarios --------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    """What the scenarios ask for, found through the API."""

    slug: str
    etag: str
    section: str
    tag: str
    words: tuple[str, str]


STOPWORDS = frozenset(
    ("after", "amid", "about", "from", "into", "over", "with", "their", "than", "that", "this")
)


def search_words(text: str) -> list[str]:
    """Words of a headline worth searching for: alphabetic, 4+ letters, not stopwords."""
    words = [word.lower() for word in re.findall(r"[A-Za-z]{4,}", text)]
    return [word for word in dict.fromkeys(words) if word not in STOPWORDS]


def busiest(client: httpx.Client, path: str) -> str | None:
    """The name with the most published articles on the first page of /v1/sections or /tags."""
    items = get_json(client, path, {"limit": 100})["data"]
    return max(items, key=lambda item: item["article_count"])["name"] if items else None


def get_json(client: httpx.Client, path: str, params: dict | None = None) -> dict:
    response = client.get(path, params=params)
    if response.status_code != 200:
        raise BenchError(f"GET {response.url} answered {response.status_code}: {response.text}")
    return response.json()


def discover(base: str) -> Fixture:
    """An article with claims (its slug and ETag), the busiest section and tag, and two
    words of its headline that a search finds."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for summary in get_json(client, "/v1/articles", {"limit": 20})["data"]:
            response = client.get(f"/v1/articles/{summary['slug']}")
            article = response.json()
            if response.status_code == 200 and article.get("claims"):
                break
        else:
            raise BenchError("none of the 20 latest articles has claims: is the corpus loaded?")
        section = busiest(client, "/v1/sections") or article.get("section")
        tag = busiest(client, "/v1/tags") or (article.get("tags") or [None])[0]
        if not section or not tag:
            raise BenchError("the corpus has no sections or no tags")
        words = search_words(article["headline"])
        for pair in itertools.pairwise(words):
            if get_json(client, "/v1/articles", {"q": " ".join(pair)})["data"]:
                return Fixture(article["slug"], response.headers["etag"], section, tag, pair)
    raise BenchError(f"no two words of {article['headline']!r} are found by search")


def read_scenarios(base: str, fixture: Fixture) -> list[Scenario]:
    """Scenarios 1 to 5."""
    article = f"{base}/v1/articles/{fixture.slug}"

    def articles(**params: str) -> str:
        return f"{base}/v1/articles?{urlencode(params)}"

    return [
        Scenario("1", "GET /v1/articles/{slug}", Load(article), "article"),
        Scenario(
            "2",
            "GET /v1/articles/{slug}, If-None-Match → 304",
            Load(article, "expect.lua", (f"If-None-Match: {fixture.etag}",), expect=304),
            "article",
        ),
        Scenario("3", "GET /v1/articles?limit=20", Load(articles(limit="20")), "list"),
        Scenario(
            "3s",
            f"… &section={fixture.section}",
            Load(articles(limit="20", section=fixture.section)),
            "list",
        ),
        Scenario(
            "3t", f"… &tag={fixture.tag}", Load(articles(limit="20", tag=fixture.tag)), "list"
        ),
        Scenario(
            "4",
            f"GET /v1/articles?q={'+'.join(fixture.words)}",
            Load(articles(q=" ".join(fixture.words))),
            "list",
        ),
        Scenario("5r", "GET /v1/feeds/rss", Load(f"{base}/v1/feeds/rss"), "list"),
        Scenario("5c", "GET /v1/changes", Load(f"{base}/v1/changes"), "list"),
    ]


def post_load(base: str, key: str, token: str, threads: int, connections: int) -> Load:
    """POST /v1/articles with 8 claims; `token` makes this run's slugs unique."""
    return Load(
        f"{base}/v1/articles",
        "post_article.lua",
        args=(token,),
        expect=201,
        threads=threads,
        connections=connections,
        api_key=key,
    )


def write_scenario(base: str, key: str, token: str) -> Scenario:
    """Scenario 6: write throughput."""
    load = post_load(base, key, token, THREADS, CONNECTIONS)
    return Scenario("6", "POST /v1/articles, 8 claims", load, None, "articles/s")


def mixed_scenarios(base: str, fixture: Fixture, key: str, token: str) -> tuple[Scenario, Scenario]:
    """Scenario 7: the article read (one wrk, -t1 -c16) while articles are written (another
    wrk, -t1 -c16)."""
    half = CONNECTIONS // 2
    read = Load(f"{base}/v1/articles/{fixture.slug}", threads=1, connections=half)
    write = post_load(base, key, token, 1, half)
    return (
        Scenario("7", "GET /v1/articles/{slug} during writes", read, "article"),
        Scenario("7w", "POST /v1/articles meanwhile", write, None, "articles/s"),
    )


@dataclass
class Bench:
    """Runs scenarios against one server, printing each row as it comes."""

    tools: Tools
    duration: float
    warmup: float
    baselines: dict[str, float] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)

    def measure(self, *scenarios: Scenario, warm: bool = True) -> list[Measurement]:
        """Warm up each scenario on its own (unless told not to), then measure them all at
        the same time."""
        loads = [scenario.load for scenario in scenarios]
        if warm and self.warmup > 0:
            for load in loads:
                run_wrk(self.tools, [load], self.warmup, check=False)
        results = run_wrk(self.tools, loads, self.duration)
        measurements = []
        for scenario, result in zip(scenarios, results, strict=True):
            command = shell_line(scenario.load.command(self.tools.wrk, self.duration))
            baseline = self.baselines.get(scenario.baseline) if scenario.baseline else None
            measurement = Measurement(scenario, result, command, baseline)
            self.commands.append(command)
            print_row(measurement)
            measurements.append(measurement)
        return measurements


def print_header(title: str) -> None:
    print(f"\n{title}", flush=True)
    print(console_row(list(SCENARIO_HEADER)), flush=True)


def console_row(cells: Sequence[str]) -> str:
    widths = (50, 18, 15, 9, 9, 9)
    first, *rest = cells
    return f"{first:<{widths[0]}}" + "".join(
        f"{cell:>{width}}" for cell, width in zip(rest, widths[1:], strict=True)
    )


def print_row(measurement: Measurement) -> None:
    print(console_row(scenario_row(measurement)), flush=True)


def fetch(url: str) -> bytes:
    """The body exactly as wrk gets it (no compression asked for)."""
    response = httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=30)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}")
    return response.content


def measure_nginx(
    bench: Bench, files: dict[str, bytes], labels: dict[str, str], workers: int
) -> list[Measurement]:
    """nginx serving the same bytes; records each file's req/s as the baseline."""
    with nginx_serving(bench.tools, files, workers) as base:
        scenarios = [
            Scenario(f"nginx-{name.split('.')[0]}", labels[name], Load(f"{base}/{name}"))
            for name in files
        ]
        measurements = [m for scenario in scenarios for m in bench.measure(scenario)]
    for name, measurement in zip(files, measurements, strict=True):
        bench.baselines[name.split(".")[0]] = measurement.rps
        measurement.baseline_rps = measurement.rps
    return measurements


def run_backend(tools: Tools, backend: str, options: argparse.Namespace) -> BackendRun:
    log(f"{BACKEND_NAMES[backend]}: fresh database")
    database = fresh_sqlite() if backend == "sqlite" else fresh_postgres(options.postgres_url)
    newsdesk = Newsdesk.prepare(tools, database, options.articles)
    key = newsdesk.create_key()
    run = BackendRun(backend, options.articles, database.version, newsdesk.load_seconds)
    bench = Bench(tools, options.duration, options.warmup, commands=newsdesk.commands)
    with newsdesk.serve(options.workers) as base:
        fixture = discover(base)
        print_header(f"{BACKEND_NAMES[backend]} {database.version}, {options.articles:,} articles")
        files = {
            "article.json": fetch(f"{base}/v1/articles/{fixture.slug}"),
            "list.json": fetch(f"{base}/v1/articles?limit=20"),
        }
        labels = {
            "article.json": "nginx: the article of 1, from disk",
            "list.json": "nginx: the list of 3, from disk",
        }
        run.nginx = measure_nginx(bench, files, labels, options.workers)
        token = str(int(time.time()))
        for scenario in read_scenarios(base, fixture):
            run.measurements += bench.measure(scenario)
        run.measurements += bench.measure(write_scenario(base, key, f"{token}s6"))
        # Both halves are warm by now (scenarios 1 and 6).
        run.measurements += bench.measure(
            *mixed_scenarios(base, fixture, key, f"{token}s7"), warm=False
        )
    run.commands = bench.commands
    return run


# At a million articles one search takes about a second: 32 connections would only queue
# behind each other past any timeout, so scale mode measures search with a few, and the
# latency figures say what one search costs.
SCALE_SEARCH_CONNECTIONS = 4
SCALE_SEARCH_TIMEOUT = "60s"


def scale_scenarios(base: str, fixture: Fixture) -> list[Scenario]:
    """Scenarios 1, 3 and 4 (4 with fewer connections, see above)."""
    chosen = []
    for scenario in read_scenarios(base, fixture):
        if scenario.key == "4":
            load = replace(
                scenario.load,
                threads=1,
                connections=SCALE_SEARCH_CONNECTIONS,
                timeout=SCALE_SEARCH_TIMEOUT,
            )
            label = f"{scenario.label} ({SCALE_SEARCH_CONNECTIONS} connections)"
            scenario = replace(scenario, load=load, label=label)
        if scenario.key in {"1", "3", "4"}:
            chosen.append(scenario)
    return chosen


def run_scale_size(tools: Tools, size: int, options: argparse.Namespace) -> ScaleRun:
    url = sized_url(options.postgres_url, size)
    loaded = options.reuse and corpus_size(url) == size
    log(f"PostgreSQL at {size:,} articles: {'reusing' if loaded else 'fresh'} {url}")
    database = existing_postgres(url) if loaded else fresh_postgres(url)
    newsdesk = Newsdesk.prepare(tools, database, None if loaded else size)
    run = ScaleRun(size, database.version, None if loaded else newsdesk.load_seconds)
    bench = Bench(tools, options.duration, options.warmup, commands=newsdesk.commands)
    with newsdesk.serve(options.workers) as base:
        fixture = discover(base)
        print_header(f"PostgreSQL, {size:,} articles")
        for scenario in scale_scenarios(base, fixture):
            run.measurements += bench.measure(scenario)
    run.commands = bench.commands
    return run


# --- the environment ------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    return "unknown"


def tool_version(command: Sequence[str], pattern: str) -> str:
    """The version a tool prints (wrk -v exits 1, nginx -v prints to stderr)."""
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(pattern, completed.stdout + completed.stderr)
    return found.group(1) if found else "unknown"


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_revision() -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown"
    head = subprocess.run(  # noqa: S603
        [git, "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(  # noqa: S603
        [git, "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{head or 'unknown'}{' with uncommitted changes' if dirty else ''}"


def environment(tools: Tools, database_versions: dict[str, str]) -> Environment:
    machine = [
        ("CPU", f"{cpu_model()}, {os.cpu_count()} cores"),
        ("RAM", memory()),
        ("Kernel", f"{platform.system()} {platform.release()}"),
    ]
    versions = [
        ("Newsdesk", f"{package_version('newsdesk')} (git {git_revision()})"),
        ("Python", platform.python_version()),
        *[(name, package_version(name)) for name in ("uvicorn", "fastapi", "SQLAlchemy")],
        *[(name, version) for name, version in database_versions.items()],
        ("nginx", tool_version([tools.nginx, "-v"], r"nginx/(\S+)")),
        ("wrk", tool_version([tools.wrk, "-v"], r"wrk (\S+)")),
    ]
    command = shlex.join(["python", "-m", "bench.run", *sys.argv[1:]])
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Environment(when, machine, versions, command)


DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def database_versions(versions: dict[str, str]) -> dict[str, str]:
    """Backend -> server or library version, as rows naming the driver too."""
    return {
        BACKEND_NAMES[backend]: f"{version} ({DRIVERS[backend]} "
        f"{package_version(DRIVERS[backend])})"
        for backend, version in versions.items()
    }


# --- the command ----------------------------------------------------------------------------


def count(text: str) -> int:
    """10000, 10_000, 10k or 1M."""
    text = text.strip().replace("_", "").lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(text[:-1] if factor > 1 else text) * factor


def counts(text: str) -> list[int]:
    return [count(part) for part in text.split(",") if part.strip()]


def backend_list(text: str) -> list[str]:
    backends = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown or not backends:
        raise argparse.ArgumentTypeError(f"backends are {', '.join(BACKENDS)}")
    return backends


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
