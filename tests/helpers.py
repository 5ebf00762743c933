"""Helpers shared by the test modules: problem+json checks, cursor pagination, row counts,
the article requests most tests start from, and the `newsdesk` command."""

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.articles.models import Article
from app.claims.models import Attribution, Claim
from app.db import get_sessionmaker
from app.main import create_app
from app.media.storage import MediaStore
from app.settings import Settings
from app.sources.models import Source
from bench.processes import background, free_port
from tests.factories import article_data

ROOT = Path(__file__).parents[1]
PROBLEM = "application/problem+json"
LINK = re.compile(r'<([^>]+)>; rel="next"')
MAX_PAGES = 20


# --- an app to call ------------------------------------------------------------------------


@asynccontextmanager
async def client_of(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a new app with `settings`, its requests in the test's `sessionmaker`."""
    app = create_app(settings)
    app.dependency_overrides[get_sessionmaker] = lambda: sessionmaker
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client


def store_of(client: httpx.AsyncClient) -> MediaStore:
    """The media store of the app `client` calls."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    store: MediaStore = transport.app.state.media_store  # type: ignore[attr-defined]
    return store


# --- problem+json --------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """`response` is a problem+json error with `status` and every member filled in, and
    leaks no traceback or HTML page."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0].strip() == PROBLEM
    body = response.json()
    for member in ("type", "title", "status", "detail"):
        assert member in body, body
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.text
    assert "<html" not in response.text.lower()
    return body


def error_locs(problem: dict[str, Any]) -> list[list]:
    """The `loc` of every entry in a validation problem's `errors`."""
    return [error["loc"] for error in problem["errors"]]


# --- pagination ----------------------------------------------------------------------------


async def walk_pages(
    client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
) -> tuple[list[dict], int]:
    """Follow `Link: rel="next"` from `url` to the last page; the items seen and the page count.

    Every page is a 200; the last one (next_cursor null) has no Link header, and every other
    page's Link carries its next_cursor. When `url` sets `limit`, every page but the last is
    full and the Link keeps that limit."""
    limit = parse_qs(urlsplit(url).query).get("limit", [None])[0]
    seen: list[dict] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = await client.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(page["data"])
        pages += 1
        if page["next_cursor"] is None:
            assert "link" not in response.headers
            next_url = None
        else:
            match = LINK.fullmatch(response.headers["link"])
            assert match
            next_url = match.group(1)
            assert f"cursor={page['next_cursor']}" in next_url
            if limit is not None:
                assert len(page["data"]) == int(limit)
                assert f"limit={limit}" in next_url
        assert pages <= MAX_PAGES
    return seen, pages


# --- row counts ----------------------------------------------------------------------------


async def count_rows(session: AsyncSession, model: type) -> int:
    """How many rows the table of `model` holds."""
    return await session.scalar(select(func.count()).select_from(model)) or 0


async def row_counts(session: AsyncSession) -> dict[str, int]:
    """How many rows each table of the content model holds."""
    return {
        model.__name__: await count_rows(session, model)
        for model in (Article, Claim, Attribution, Source)
    }


# --- the changes feed ----------------------------------------------------------------------


def replay(events: list[dict[str, Any]]) -> set[str]:
    """The ids a partner holds after applying these change events in order."""
    present: set[str] = set()
    for event in events:
        if event["event"] in ("article.unpublished", "article.deleted"):
            present.discard(event["article_id"])
        else:
            present.add(event["article_id"])
    return present


# --- articles over HTTP --------------------------------------------------------------------


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def create_article(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    """POST /v1/articles with `article_data(**overrides)`; the 201 body."""
    response = await client.post("/v1/articles", json=article_data(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def fetch_article(
    client: httpx.AsyncClient, reference: Any, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """GET /v1/articles/{reference} (an id or a slug); the 200 body."""
    response = await client.get(f"/v1/articles/{reference}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- the command line ----------------------------------------------------------------------


def newsdesk(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `newsdesk *args` as a user would, in a subprocess, against the database at `url`
    (with `stdin` as its standard input)."""
    env = {**os.environ, "NEWSDESK_DATABASE_URL": url}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Served:
    base: str
    process: subprocess.Popen[str]
    log: Path


@contextmanager
def serving(
    url: str, *args: str, log: Path, env: dict[str, str] | None = None, ready: str = "/healthz"
) -> Iterator[Served]:
    """`newsdesk serve *args` on the database at `url`, on a free loopback port (the
    benchmarks' `background`: its own process group, up once `ready` answers 200, stopped
    afterwards); its output goes to `log`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *args]
    env = {"NEWSDESK_DATABASE_URL": url, "NEWSDESK_PUBLIC_BASE_URL": base, **(env or {})}
    with background(command, log, f"{base}{ready}", env) as process:
        yield Served(base, process, log)
