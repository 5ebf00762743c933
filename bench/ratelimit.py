"""How exactly a key's rate limit holds when two `newsdesk serve` instances share it.

    .venv/bin/python -m bench.ratelimit [--rate 600] [--duration 20] [--connections 16]

Two servers (one worker each, their own ports, one SQLite database) are driven at once
with a key limited to `--rate` requests a minute, for `--duration` seconds, by
`--connections` clients alternating between the servers as fast as they are answered.
A token bucket that starts full lets through `rate` requests at once and `rate/60` a second
after that, so the ideal count of 200s is `rate + rate * seconds / 60`; the run reports what
got through against that, first with the buckets shared in Redis (`--redis-url`), then, for
contrast, with each server's own buckets. Loopback only; exits 1 if the shared run is more
than 2% off the ideal.
"""

import argparse
import asyncio
import contextlib
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import VAR, log
from bench.databases import fresh_sqlite
from bench.processes import background, free_port, run_command

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))
TOLERANCE = 0.02


@dataclass(frozen=True)
class Tally:
    label: str
    statuses: Counter[int]
    seconds: float
    rate: int

    @property
    def ideal(self) -> float:
        return self.rate + self.rate * self.seconds / 60

    @property
    def accuracy(self) -> float:
        return self.statuses[200] / self.ideal

    def line(self) -> str:
        others = sum(n for status, n in self.statuses.items() if status not in (200, 429))
        return (
            f"{self.label:<24} {self.statuses[200]:>6,} passed {self.statuses[429]:>7,} refused"
            f" {others:>3} other  ideal {self.ideal:>6,.0f}  passed/ideal {self.accuracy:.3f}"
        )


@contextlib.contextmanager
def two_servers(url: str, redis_url: str) -> Iterator[list[str]]:
    env = {
        "NEWSDESK_DATABASE_URL": url,
        "NEWSDESK_REDIS_URL": redis_url,
        "NEWSDESK_WEBHOOKS_DISPATCHER": "false",
    }
    with contextlib.ExitStack() as stack:
        bases = []
        for index in range(2):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            command = [NEWSDESK, "serve", "--port", str(port), "--workers", "1"]
            log_path = VAR / f"ratelimit-{index}.log"
            stack.enter_context(
                background([*command, "--no-access-log"], log_path, f"{base}/healthz", env)
            )
            bases.append(base)
        yield bases


async def drive(bases: list[str], key: str, seconds: float, connections: int) -> Counter[int]:
    """Requests from `connections` clients, alternating servers, for `seconds`."""
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}"}

    async def client(number: int) -> None:
        async with httpx.AsyncClient(headers=headers, timeout=10) as http:
            turn = number
            while time.monotonic() < deadline:
                base = bases[turn % len(bases)]
                turn += 1
                response = await http.get(f"{base}/v1/sections")
                statuses[response.status_code] += 1

    await asyncio.gather(*(client(n) for n in range(connections)))
    return statuses


def measure(label: str, redis_url: str, options: argparse.Namespace) -> Tally:
    database = fresh_sqlite(VAR / "newsdesk-ratelimit.db")  # not the benchmarks' corpus
    env = {"NEWSDESK_DATABASE_URL": database.url}
    run_command([NEWSDESK, "migrate"], env, [])
    command = [NEWSDESK, "keys", "create", "--name", "limited", "--scope", "content:read"]
    created = run_command([*command, "--rate", str(options.rate)], env, [])
    key = created.strip().splitlines()[-1]
    with two_servers(database.url, redis_url) as bases:
        log(f"{label}: {options.connections} clients on {', '.join(bases)}")
        began = time.monotonic()
        statuses = asyncio.run(drive(bases, key, options.duration, options.connections))
        return Tally(label, statuses, time.monotonic() - began, options.rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=600, help="the key's requests a minute")
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    options = parser.parse_args()
    shared = measure("shared through Redis", options.redis_url, options)
    apart = measure("each server its own", "", options)
    print(f"key limited to {options.rate}/min, 2 servers, {options.duration:g} s:")
    print(shared.line())
    print(apart.line())
    if abs(shared.accuracy - 1) > TOLERANCE or set(shared.statuses) - {200, 429}:
        sys.exit(1)


if __name__ == "__main__":
    main()
