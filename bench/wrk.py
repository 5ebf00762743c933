"""wrk: the load parameters, one wrk invocation (`Load`), running it and reading what it
measured from the JSON line of bench/scripts/report.lua, and refusing broken runs."""

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.common import REPO, BenchError
from bench.processes import Tools, shell_line

SCRIPTS = REPO / "bench" / "scripts"
THREADS, CONNECTIONS = 2, 32
# Slow answers are counted in the latency figures rather than dropped as timeouts.
WRK_TIMEOUT = "10s"
RESULT_MARK = "BENCH-RESULT "


# At a million articles one search takes about a second: 32 connections would only queue
# behind each other past any timeout, so scale mode measures search with a few, and the
# latency figures say what one search costs.
SCALE_SEARCH_CONNECTIONS = 4
SCALE_SEARCH_TIMEOUT = "60s"


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
