"""BENCHMARKS.md: the Results and Scale sections written from the runs, and merged into the
file without touching the other section or the hand-written Profile."""

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import BACKEND_NAMES, CORPUS_MODULE
from bench.results import (
    TARGETS,
    BackendRun,
    Measurement,
    Outcome,
    ScaleRun,
    evaluate,
    evaluate_scale,
)
from bench.wrk import (
    CONNECTIONS,
    SCALE_SEARCH_CONNECTIONS,
    SCALE_SEARCH_TIMEOUT,
    THREADS,
    WRK_TIMEOUT,
)

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
