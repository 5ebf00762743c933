"""Time one read path inside the process, with no HTTP client or server in the way, and
profile it with pyinstrument: the numbers and profiles of BENCHMARKS.md's Profile section.

    .venv/bin/python -m bench.profile '/v1/articles/{slug}' [--requests 2000] [--profile]
        [--database-url sqlite+aiosqlite:///var/bench/newsdesk-bench.db]

The app runs with its lifespan (engine, caches) against a database that `make bench` left
loaded (or any other); `{slug}` is replaced by the slug of a published article. After a
warm-up the requests run one after another, so the figure is the app's own time per
request on one core.
"""

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from bench.common import VAR

DEFAULT_DATABASE = f"sqlite+aiosqlite:///{VAR / 'newsdesk-bench.db'}"


class InProcess:
    """The app and its lifespan, called as an ASGI server would call it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state: dict[str, Any] = {}

    async def start(self) -> None:
        messages: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        started = asyncio.Event()
        await messages.put({"type": "lifespan.startup"})

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete":
                started.set()

        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        self._lifespan = asyncio.create_task(self.app(scope, messages.get, send))
        await started.wait()

    async def get(self, target: str) -> tuple[int, int]:
        """GET `target`; its status and body size."""
        path, _, query = target.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(b"host", b"127.0.0.1")],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": dict(self.state),
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        return sent[0]["status"], sum(len(m.get("body", b"")) for m in sent[1:])


async def a_slug(database_url: str) -> str:
    from sqlalchemy import select

    from app.articles.models import Article, ArticleStatus
    from app.db import create_engine

    engine = create_engine(database_url)
    async with engine.connect() as connection:
        query = select(Article.slug).where(Article.status == ArticleStatus.published).limit(1)
        slug = await connection.scalar(query)
    await engine.dispose()
    if slug is None:
        raise SystemExit(f"{database_url} holds no published article: run `make bench` first.")
    return slug


async def measure(target: str, requests: int, profile: bool, database_url: str) -> None:
    os.environ["NEWSDESK_DATABASE_URL"] = database_url
    from app.main import create_app
    from app.settings import Settings

    if "{slug}" in target:
        target = target.replace("{slug}", await a_slug(database_url))
    client = InProcess(create_app(Settings()))
    await client.start()
    status, size = await client.get(target)
    if status != 200:
        raise SystemExit(f"GET {target} answered {status}")
    for _ in range(min(requests, 200)):
        await client.get(target)
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
    began = time.perf_counter()
    with profiler or nullcontext():
        for _ in range(requests):
            await client.get(target)
    elapsed = time.perf_counter() - began
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(f"GET {target}: {size:,} bytes, {elapsed / requests * 1e6:,.0f} µs per request")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("target", help="path and query, e.g. '/v1/articles?limit=20'")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    args = parser.parse_args(argv)
    asyncio.run(measure(args.target, args.requests, args.profile, args.database_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
