"""The benchmark runner's own logic: reading wrk's result line, refusing broken runs,
judging targets and rewriting BENCHMARKS.md without losing the hand-written profile."""

import json

import pytest

from bench import common, databases, report, results, run, scenarios, wrk
from bench.results import Measurement, Scenario
from bench.wrk import Load, WrkResult


def wrk_output(statuses: dict[int, int] | None = None, **errors: int) -> str:
    data = {
        "requests": 1000,
        "duration_us": 2_000_000,
        "bytes": 6_500_000,
        "errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0, **errors},
        "latency_us": {"p50": 1500, "p99": 9000, "mean": 2000, "max": 20000},
        "statuses": {str(code): n for code, n in (statuses or {}).items()},
    }
    return f"Running 2s test @ http://127.0.0.1/\n{wrk.RESULT_MARK}{json.dumps(data)}\n"


def measurement(key: str, rps: float, p50_ms: float = 1, p99_ms: float = 5) -> Measurement:
    result = WrkResult(
        requests=int(rps * 10),
        duration_s=10,
        bytes=int(rps * 10) * 100,
        p50_ms=p50_ms,
        p99_ms=p99_ms,
        errors={},
        statuses={},
    )
    return Measurement(Scenario(key, key, Load("http://x/")), result, "wrk …")


def test_wrk_result_line_is_read() -> None:
    result = wrk.parse_wrk_output(wrk_output({200: 1000}))
    assert result.rps == 500
    assert (result.p50_ms, result.p99_ms) == (1.5, 9.0)
    assert result.bytes_per_response == 6500
    assert result.statuses == {200: 1000}


def test_output_without_a_result_line_stops_the_run() -> None:
    with pytest.raises(common.BenchError, match="no BENCH-RESULT"):
        wrk.parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


@pytest.mark.parametrize(
    ("output", "expect", "problem"),
    [
        (wrk_output(connect=3), None, "socket errors"),
        (wrk_output(status=7), None, "7 responses with status >= 400"),
        (wrk_output({304: 990, 200: 10}), 304, "expected only 304"),
        (wrk_output({}), 201, "expected only 201"),
    ],
)
def test_broken_runs_are_refused(output: str, expect: int | None, problem: str) -> None:
    result = wrk.parse_wrk_output(output)
    problems = wrk.check_result(result, Load("http://x/", expect=expect))
    assert any(problem in p for p in problems), problems


def test_clean_run_has_no_problems() -> None:
    result = wrk.parse_wrk_output(wrk_output({304: 1000}))
    assert wrk.check_result(result, Load("http://x/", expect=304)) == []


def test_targets_are_judged_against_their_thresholds() -> None:
    article = measurement("1", 3000)
    article.baseline_rps = 10_000  # 0.3x nginx: meets 0.2x
    listing = measurement("3", 500)
    listing.baseline_rps = 10_000  # 0.05x: misses 0.1x
    under_writes = measurement("7", 900, p99_ms=80)  # misses 50 ms
    outcomes = {
        o.target.key: o
        for o in results.evaluate(results.TARGETS, "sqlite", [article, listing, under_writes])
    }
    assert outcomes["1"].verdict == "met"
    assert outcomes["3"].verdict == "**missed**"
    assert outcomes["7"].verdict == "**missed**"
    assert outcomes["2"].verdict == "not measured"
    assert "6" not in outcomes  # write throughput is a PostgreSQL target


def test_scale_targets_compare_the_largest_archive_with_10k() -> None:
    runs = [
        results.ScaleRun(10_000, "15", 1, [measurement("1", 3000), measurement("3", 1000)]),
        results.ScaleRun(
            1_000_000,
            "15",
            600,
            [measurement("1", 2500), measurement("3", 500), measurement("4", 50, p50_ms=12)],
        ),
    ]
    outcomes = {o.target.key: o for o in results.evaluate_scale(runs)}
    assert outcomes["1"].value == pytest.approx(1.2)
    assert outcomes["1"].verdict == "met"
    assert outcomes["3"].value == pytest.approx(2.0)
    assert outcomes["3"].verdict == "**missed**"
    assert outcomes["4"].verdict == "met"


def test_a_new_results_section_keeps_scale_and_the_hand_written_profile() -> None:
    existing = (
        "# Benchmarks\n\nIntro.\n\n## Results\n\nold results\n\n## Scale\n\nscale figures\n\n"
        "## Profile\n\nwritten by hand\n\n### Before\n\nkept too\n"
    )
    merged = report.merge_section(existing, "## Results\n\nnew results\n")
    assert "old results" not in merged
    assert merged.index("new results") < merged.index("scale figures")
    assert merged.endswith("## Profile\n\nwritten by hand\n\n### Before\n\nkept too\n")
    assert merged.startswith("# Benchmarks\n\nIntro.")


def test_scale_section_goes_after_results_and_a_missing_file_gets_a_preamble() -> None:
    merged = report.merge_section(None, "## Scale\n\nsizes\n")
    assert merged.startswith(report.PREAMBLE)
    assert report.PROFILE_HEADING in merged
    merged = report.merge_section(merged, "## Results\n\nfigures\n")
    assert merged.index("## Results") < merged.index("## Scale") < merged.index("## Profile")


@pytest.mark.parametrize(("text", "value"), [("10k", 10_000), ("1M", 1_000_000), ("2_500", 2500)])
def test_sizes_are_read_with_suffixes(text: str, value: int) -> None:
    assert run.count(text) == value


def test_wrk_command_keeps_the_api_key_off_the_command_line() -> None:
    load = Load("http://127.0.0.1:1/v1/articles", "post_article.lua", args=("t1",), api_key="nd_x")
    command = load.command("wrk", 10)
    assert "nd_x" not in " ".join(command)
    assert command[-2:] == ["--", "t1"]
    assert command[1:4] == ["-t2", "-c32", "-d10s"]


def test_each_scale_size_has_a_database_of_its_own() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/newsdesk_bench"
    assert databases.sized_url(url, 100_000) == (
        "postgresql+asyncpg://postgres@127.0.0.1:5432/newsdesk_bench_100000"
    )


def test_scale_mode_measures_search_with_few_connections_and_a_long_timeout() -> None:
    fixture = scenarios.Fixture("a-story", '"tag"', "world", "trade", ("trade", "deal"))
    chosen = {s.key: s for s in scenarios.scale_scenarios("http://127.0.0.1:1", fixture)}
    assert set(chosen) == {"1", "3", "4"}
    assert chosen["4"].load.connections == wrk.SCALE_SEARCH_CONNECTIONS
    assert "--timeout" in (command := chosen["4"].load.command("wrk", 10))
    assert command[command.index("--timeout") + 1] == wrk.SCALE_SEARCH_TIMEOUT
    assert chosen["1"].load.connections == wrk.CONNECTIONS
