"""No N+1: each read costs a fixed number of queries, however many articles, claims and
sources it shows. Each test counts the statements a request sends with 2 articles and
again with 12 (of more claims each), and the two counts must be equal."""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.factories import article_data, make_article

pytestmark = pytest.mark.anyio

READS = (
    "/v1/articles?limit=50",
    "/v1/articles?limit=25&include=claims",
    "/v1/articles?limit=50&section=local",
    "/v1/articles?limit=50&tag=harbour",
    "/v1/articles?limit=50&q=pier",
    "/v1/feeds/rss",
    "/v1/feeds/atom",
    "/v1/feeds/json",
    "/v1/changes?limit=100",
    "/v1/sources?limit=100",
    "/v1/authors?limit=100",
    "/v1/tags",
    "/v1/sections",
)


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs (savepoints left out)."""
    statements: list[str] = []

    def record(conn, cursor, statement: str, *args: object) -> None:
        if "SAVEPOINT" not in statement.upper():
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def queries(client: httpx.AsyncClient, engine: AsyncEngine, url: str) -> int:
    with counting(engine) as statements:
        response = await client.get(url)
    assert response.status_code == 200, (url, response.text)
    return len(statements)


def claims(n: int) -> list[dict]:
    """`n` claims, each attributed to a source of its own."""
    template = article_data()["claims"][0]
    return [
        {
            **template,
            "anchor": None,
            "attributions": [
                {
                    "source": {"name": f"Pier Witness {i}", "kind": "person"},
                    "role": "asserted_by",
                    "cue": "said",
                }
            ],
        }
        for i in range(n)
    ]


async def make_articles(session: AsyncSession, start: int, stop: int, claim_count: int) -> None:
    for i in range(start, stop):
        # An author of its own (and one shared): lists of authors and bylines grow too.
        byline = [{"name": f"Pier Reporter {i}"}, {"name": "Ines Calder"}]
        await make_article(session, slug=f"pier-{i}", claims=claims(claim_count), authors=byline)


@pytest.mark.parametrize("url", READS)
async def test_lists_cost_the_same_queries_for_2_articles_as_for_12(
    client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine, url: str
) -> None:
    await make_articles(session, 0, 2, claim_count=1)
    few = await queries(client, engine, url)
    await make_articles(session, 2, 12, claim_count=6)
    many = await queries(client, engine, url)
    assert many == few


async def test_an_article_costs_the_same_queries_with_1_claim_as_with_10(
    client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    await make_article(session, slug="one-claim", claims=claims(1))
    await make_article(session, slug="ten-claims", claims=claims(10))
    for suffix in ("", "/claims", "?format=jsonld", "?format=ninjs"):
        one = await queries(client, engine, f"/v1/articles/one-claim{suffix}")
        ten = await queries(client, engine, f"/v1/articles/ten-claims{suffix}")
        assert one == ten, suffix


async def test_a_cached_article_costs_one_query(
    client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    await make_article(session, slug="cached", claims=claims(8))
    miss = await queries(client, engine, "/v1/articles/cached")
    hit = await queries(client, engine, "/v1/articles/cached")
    assert miss > 1
    assert hit == 1  # the version check; nothing else is loaded or rendered


async def test_writing_an_article_reads_as_much_for_1_known_source_as_for_8(
    client: httpx.AsyncClient,
    session: AsyncSession,
    engine: AsyncEngine,
    writer: dict,
    backend: str,
) -> None:
    await make_article(session, slug="sources-known", claims=claims(8))
    # The rate limiter reads a key's limit once per worker: not part of a write's cost.
    await client.get("/v1/articles", headers=writer)

    async def write(slug: str, claim_count: int) -> list[str]:
        data = article_data(slug=slug, claims=claims(claim_count))
        with counting(engine) as statements:
            response = await client.post("/v1/articles", json=data, headers=writer)
        assert response.status_code == 201, response.text
        return statements

    one, eight = await write("one-source", 1), await write("eight-sources", 8)

    def selects(statements: list[str]) -> int:
        return sum(s.lstrip().upper().startswith("SELECT") for s in statements)

    assert selects(one) == selects(eight)  # the sources are found in one query
    if backend == "postgresql":
        # Inserts of many rows go in one statement; SQLite inserts rows whose ids it makes
        # one at a time (SQLAlchemy cannot match its RETURNING rows to them otherwise).
        assert len(one) == len(eight)
