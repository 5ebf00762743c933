"""The plans PostgreSQL makes for the hot reads: every one served by an index, lists walked
in key order (keyset, never OFFSET, no sort of the whole archive), search through the GIN
index. The test data is small, so the planner is told to avoid sequential scans and sorts
wherever an index can stand in: a Seq Scan or a Sort that remains is one no index serves."""

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.articles import search
from app.articles.models import Article
from tests.databases import POSTGRES_SERVER
from tests.factories import make_article

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not POSTGRES_SERVER, reason="query plans are checked on PostgreSQL"),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

STORED_TABLES = {"article", "article_tag", "article_author", "claim", "attribution", "source"}
# Reads listed newest first, walked along an index; search is ordered by relevance, which
# only a sort of the matches can give.
KEY_ORDERED = (
    "/v1/articles?limit=20",
    "/v1/articles?limit=20&section=local",
    "/v1/articles?limit=20&tag=harbour",
    "/v1/articles?limit=20&include=claims",
    "/v1/feeds/rss",
)
SINGLE_READS = ("/v1/articles/plan-0", "/v1/articles/plan-0/claims", "/v1/sources")


@pytest.fixture
def captured(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine.sync_engine, "before_cursor_execute", record)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


async def plans(
    session: AsyncSession, statements: list[tuple[str, Any]], *disabled: str
) -> list[tuple[str, dict]]:
    """Each statement's plan, with sequential scans, sorts and `disabled` switched off."""
    connection = await session.connection()
    for setting in ("enable_seqscan", "enable_sort", *disabled):
        await connection.exec_driver_sql(f"SET LOCAL {setting} = off")
    found = []
    for statement, parameters in statements:
        result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        raw = result.scalar_one()
        plan = (raw if isinstance(raw, list) else orjson.loads(raw))[0]["Plan"]
        found.append((statement, plan))
    await connection.exec_driver_sql("RESET ALL")
    return found


@pytest.fixture
async def stored(session: AsyncSession) -> None:
    for i in range(3):
        await make_article(session, slug=f"plan-{i}")


async def read(
    client: httpx.AsyncClient, session: AsyncSession, captured: list, url: str, *disabled: str
) -> list[tuple[str, dict]]:
    captured.clear()
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert captured, "no query was captured"
    assert not [s for s, _ in captured if "OFFSET" in s.upper()], "lists are keyset-paginated"
    return await plans(session, captured, *disabled)


def seq_scans(plan: dict[str, Any]) -> list[str]:
    return [
        node["Relation Name"]
        for node in nodes(plan)
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in STORED_TABLES
    ]


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("url", KEY_ORDERED)
async def test_lists_walk_an_index_in_key_order(
    client: httpx.AsyncClient, session: AsyncSession, captured: list, url: str
) -> None:
    found = await read(client, session, captured, url)
    for _, plan in found:
        assert seq_scans(plan) == []
    # The page itself is read in index order, never sorted.
    pages = [plan for statement, plan in found if "LIMIT" in statement.upper()]
    assert len(pages) == 1
    assert [n["Node Type"] for n in nodes(pages[0]) if n["Node Type"] == "Sort"] == []


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("url", SINGLE_READS)
async def test_single_reads_use_indexes(
    client: httpx.AsyncClient, session: AsyncSession, captured: list, url: str
) -> None:
    for _, plan in await read(client, session, captured, url):
        assert seq_scans(plan) == []


async def test_search_goes_through_the_full_text_index(session: AsyncSession) -> None:
    # The search condition alone, as the app builds it: with sequential and plain index
    # scans off, only a bitmap scan of an index that can answer `@@` is left, so the plan
    # names the GIN index exactly when the condition is the index's own expression.
    query, _ = search.apply(select(Article.id), "postgresql", "pier repairs")
    compiled = query.compile(dialect=postgresql_asyncpg.dialect())
    parameters = tuple(compiled.params[name] for name in compiled.positiontup or ())
    found = await plans(session, [(str(compiled), parameters)], "enable_indexscan")
    plan = found[0][1]
    assert seq_scans(plan) == []
    assert "ix_article_search" in {node.get("Index Name") for node in nodes(plan)}
