from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import workflow
from tests.factories import make_article
from tests.helpers import PROBLEM, walk_pages

pytestmark = pytest.mark.anyio


async def seed(session: AsyncSession) -> None:
    """Three public articles, plus a draft, a scheduled and a deleted one whose sections
    and tags must not be counted."""
    await make_article(session, section="local", tags=["harbour", "transport"])
    await make_article(session, section="business", tags=["Harbour", "economy"])
    await make_article(session, section="local", tags=["transport"])
    await make_article(session, section=None, tags=[])
    await make_article(session, published=False, section="sport", tags=["drafted", "harbour"])
    await make_article(
        session,
        published_at=datetime.now(UTC) + timedelta(days=1),
        section="weather",
        tags=["future", "harbour"],
    )
    deleted = await make_article(session, section="obituaries", tags=["gone", "harbour"])
    await workflow.delete(session, deleted, "test")
    await session.commit()


async def test_sections_count_only_public_articles_in_name_order(client, session, writer):
    await seed(session)

    response = await client.get("/v1/sections")
    as_writer = await client.get("/v1/sections", headers=writer)

    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {"name": "business", "article_count": 1},
            {"name": "local", "article_count": 2},
        ],
        "next_cursor": None,
    }
    assert "link" not in response.headers
    assert response.headers["cache-control"].startswith("public")
    # The counts are the public ones whoever asks.
    assert as_writer.json() == response.json()


async def test_tags_count_only_public_articles_in_name_order(client, session):
    await seed(session)

    response = await client.get("/v1/tags")

    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {"name": "economy", "article_count": 1},
            {"name": "harbour", "article_count": 2},
            {"name": "transport", "article_count": 2},
        ],
        "next_cursor": None,
    }
    assert response.headers["cache-control"].startswith("public")


async def test_empty_lists(client):
    for path in ("/v1/sections", "/v1/tags"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {"data": [], "next_cursor": None}


async def test_sections_paginate(client, session):
    await seed(session)
    await make_article(session, section="world")

    terms, pages = await walk_pages(client, "/v1/sections?limit=1")

    assert [t["name"] for t in terms] == ["business", "local", "world"]
    assert [t["article_count"] for t in terms] == [1, 2, 1]
    assert pages == 3


async def test_tags_paginate(client, session):
    await seed(session)

    first = await client.get("/v1/tags?limit=2")
    terms, pages = await walk_pages(client, "/v1/tags?limit=2")

    assert [t["name"] for t in first.json()["data"]] == ["economy", "harbour"]
    assert first.json()["next_cursor"]
    assert [t["name"] for t in terms] == ["economy", "harbour", "transport"]
    assert pages == 2


@pytest.mark.parametrize("path", ["/v1/sections", "/v1/tags"])
async def test_etag_and_304(client, session, path):
    await seed(session)
    first = await client.get(path)
    etag = first.headers["etag"]
    assert etag.strip('"W/')

    cached = await client.get(path, headers={"If-None-Match": etag})

    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag

    await make_article(session, section="world", tags=["weather"])
    changed = await client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert "world" in changed.text or "weather" in changed.text


@pytest.mark.parametrize("path", ["/v1/sections", "/v1/tags"])
async def test_bad_paging_parameters_are_422(client, session, path):
    await seed(session)
    other = await client.get("/v1/sections?limit=1" if path == "/v1/tags" else "/v1/tags?limit=1")
    foreign_cursor = other.json()["next_cursor"]
    assert foreign_cursor

    for query in (
        "limit=0",
        "limit=101",
        "limit=ten",
        "cursor=garbage",
        f"cursor={foreign_cursor}",
    ):
        response = await client.get(f"{path}?{query}")
        assert response.status_code == 422, query
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"]
