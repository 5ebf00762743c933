"""What ingesting pages costs the readers of a server: read latency with and without a
steady stream of ingests, and what one ingest takes.

    .venv/bin/python -m bench.ingest_load [--duration 20] [--readers 8] [--ingesters 2]

One `newsdesk serve` (one worker, SQLite, the demo stories) is read by `--readers` clients
asking for a demo article as fast as they are answered, for `--duration` seconds; then the
same again while `--ingesters` clients post the seed page to `POST /v1/ingest?dry_run=true`
back to back (the language pipeline is loaded by one ingest between the runs). Reading and
parsing a page runs in a worker thread, so reads should barely notice. Prints the read p50
and p99 of both runs and the ingest p50; loopback only. Then the worker's memory before and
after the pipeline loaded, and the in-process p50 of drafting an 800-word story (paragraphs
of the gold stories, in order) after warm-up: parse and extraction, no HTTP.
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

from app.ingest import service
from bench.common import REPO, VAR, log
from bench.databases import fresh_sqlite
from bench.processes import background, free_port, run_command

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))
GOLD = REPO / "tests" / "ingest" / "gold"
SEED = (GOLD / "seed-raw.txt").read_bytes()
LONG_STORY_WORDS = 800


def long_story() -> str:
    """A headline, then story paragraphs from the gold pages in order, to 800 words."""
    paragraphs: list[str] = []
    for page in sorted(GOLD.glob("*-raw.txt")):
        story = service.read(service.Raw(page.read_text("utf-8")))
        paragraphs += story.paragraphs
        if sum(len(p.split()) for p in paragraphs) >= LONG_STORY_WORDS:
            break
    return "Long story for the ingest bench\n\n" + "\n\n".join(paragraphs) + "\n"


def draft_p50(text: str, runs: int = 20) -> float:
    service.draft(service.Raw(text))  # loads the pipeline
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        service.draft(service.Raw(text))
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def resident_mib(group: int) -> float:
    """The resident memory of the processes in a process group (the server and its
    workers), from /proc."""
    total_kib = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if os.getpgid(int(status.parent.name)) != group:
                continue
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue  # gone meanwhile
        total_kib += int(fields.get("VmRSS", "0 kB").split()[0])
    return total_kib / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def read_until(client: httpx.AsyncClient, path: str, stop: float, took: list[float]) -> None:
    while time.monotonic() < stop:
        started = time.perf_counter()
        response = await client.get(path)
        response.raise_for_status()
        took.append(time.perf_counter() - started)


async def ingest_until(client: httpx.AsyncClient, key: str, stop: float, took: list[float]) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "text/plain"}
    while time.monotonic() < stop:
        started = time.perf_counter()
        response = await client.post("/v1/ingest?dry_run=true", content=SEED, headers=headers)
        response.raise_for_status()
        took.append(time.perf_counter() - started)


async def run(
    base: str, key: str, options: argparse.Namespace, ingesters: int
) -> tuple[list[float], list[float]]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        slug = (await client.get("/v1/articles", params={"limit": 1})).json()["data"][0]["slug"]
        path = f"/v1/articles/{slug}"
        reads: list[float] = []
        ingests: list[float] = []
        stop = time.monotonic() + options.duration
        await asyncio.gather(
            *(read_until(client, path, stop, reads) for _ in range(options.readers)),
            *(ingest_until(client, key, stop, ingests) for _ in range(ingesters)),
        )
    return reads, ingests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--ingesters", type=int, default=2)
    options = parser.parse_args()

    database = fresh_sqlite(VAR / "ingest-load.db")
    env = {
        "NEWSDESK_DATABASE_URL": database.url,
        "NEWSDESK_WEBHOOKS_DISPATCHER": "false",
        "NEWSDESK_RATE_LIMIT_PER_KEY": "0",
        "NEWSDESK_RATE_LIMIT_ANONYMOUS": "0",
    }
    run_command([NEWSDESK, "migrate"], env)
    run_command([NEWSDESK, "demo"], env)
    key = (
        run_command(
            [NEWSDESK, "keys", "create", "--name", "bench", "--scope", "content:write"], env
        )
        .strip()
        .splitlines()[-1]
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [NEWSDESK, "serve", "--port", str(port), "--workers", "1", "--no-access-log"]
    with background(command, VAR / "ingest-load.log", f"{base}/healthz", env) as server:
        log(f"reading for {options.duration:.0f} s, then again while pages are ingested")
        warm_up = argparse.Namespace(duration=2, readers=options.readers)
        asyncio.run(run(base, key, warm_up, 0))  # the first reads fill caches and pools
        quiet, _ = asyncio.run(run(base, key, options, 0))  # a worker that never ingested
        memory_before = resident_mib(server.pid)
        warm = httpx.post(
            f"{base}/v1/ingest?dry_run=true",
            content=SEED,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "text/plain"},
            timeout=60,
        )
        warm.raise_for_status()
        memory_after = resident_mib(server.pid)
        busy, ingests = asyncio.run(run(base, key, options, options.ingesters))
    for label, took in (("reads alone", quiet), ("reads while ingesting", busy)):
        print(
            f"{label:<24} {len(took):>7,} reads  p50 {percentile(took, 0.5) * 1000:6.1f} ms"
            f"  p99 {percentile(took, 0.99) * 1000:6.1f} ms"
        )
    print(
        f"{'ingests (seed page)':<24} {len(ingests):>7,} pages  "
        f"p50 {statistics.median(ingests) * 1000:6.1f} ms"
    )
    print(
        f"{'worker memory':<24} {memory_before:7.0f} MiB before the first ingest, "
        f"{memory_after:.0f} MiB after (the language pipeline loaded)"
    )
    story = long_story()
    print(
        f"{'draft in process':<24} {len(story.split()):>7,} words  "
        f"p50 {draft_p50(story) * 1000:6.1f} ms (after warm-up, no HTTP)"
    )


if __name__ == "__main__":
    main()
