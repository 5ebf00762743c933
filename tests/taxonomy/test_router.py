import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import workflow
from tests.factories import make_article
from tests.helpers import PROBLEM, assert_problem, error_locs, walk_pages

HOSTILE = '<script>alert("x")</script> & <b>Bold</b>'

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
    body = response.json()
    assert [(t["slug"], t["name"], t["article_count"]) for t in body["data"]] == [
        ("business", "Business", 1),
        ("local", "Local", 2),
    ]
    assert all(t["description"] is None for t in body["data"])
    assert body["next_cursor"] is None
    assert "link" not in response.headers
    assert response.headers["cache-control"].startswith("public")
    # The counts are the public ones whoever asks; a writer also sees the sections that
    # only unpublished articles name (readers must not learn of them), and it is private.
    assert [(t["slug"], t["article_count"]) for t in as_writer.json()["data"]] == [
        ("business", 1),
        ("local", 2),
        ("obituaries", 0),
        ("sport", 0),
        ("weather", 0),
    ]
    assert as_writer.headers["cache-control"] == "private, no-store"


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

    assert [t["slug"] for t in terms] == ["business", "local", "world"]
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


async def test_a_section_filter_by_slug_or_derived_name_finds_its_articles(client, session):
    article = await make_article(session, section="us-politics")
    await make_article(session, section="local")

    for value in ("us-politics", "US-Politics", "Us Politics"):
        response = await client.get("/v1/articles", params={"section": value})
        assert [a["id"] for a in response.json()["data"]] == [str(article.id)], value


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


# --- sections as resources ------------------------------------------------------------------


async def test_an_article_naming_a_new_section_creates_it_named_after_its_slug(
    client, session, writer
):
    await make_article(session, section="us-politics")

    response = await client.get("/v1/sections/us-politics")

    assert response.status_code == 200
    section = response.json()
    assert (section["slug"], section["name"], section["description"]) == (
        "us-politics",
        "Us Politics",
        None,
    )
    assert section["article_count"] == 1
    assert response.headers["cache-control"].startswith("public")


async def test_create_and_patch_name_and_description_keeping_the_slug(client, session, writer):
    created = await client.post(
        "/v1/sections",
        json={"slug": "us-politics", "name": "U.S. politics", "description": HOSTILE},
        headers=writer,
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/sections/us-politics"
    assert created.json()["description"] == HOSTILE  # stored as text, as given
    article = await make_article(session, section="us-politics")

    patched = await client.patch(
        "/v1/sections/us-politics", json={"name": "US Politics"}, headers=writer
    )

    assert patched.status_code == 200, patched.text
    assert (patched.json()["slug"], patched.json()["name"]) == ("us-politics", "US Politics")
    assert patched.json()["description"] == HOSTILE
    assert patched.json()["article_count"] == 1
    read = await client.get(f"/v1/articles/{article.id}")
    assert read.json()["section"] == "us-politics"
    listed = await client.get("/v1/articles", params={"section": "us-politics"})
    assert [a["id"] for a in listed.json()["data"]] == [str(article.id)]


async def test_section_write_failures(client, session, writer, reader):
    await make_article(session, section="local")

    exists = await client.post("/v1/sections", json={"slug": "local"}, headers=writer)
    bad = await client.post("/v1/sections", json={"slug": "Not A Slug", "x": 1}, headers=writer)
    renamed = await client.patch("/v1/sections/local", json={"slug": "city"}, headers=writer)
    nulled = await client.patch("/v1/sections/local", json={"name": None}, headers=writer)
    unknown = await client.patch("/v1/sections/nowhere", json={"name": "X"}, headers=writer)

    assert_problem(exists, 409)
    assert sorted(error_locs(assert_problem(bad, 422))) == [["body", "slug"], ["body", "x"]]
    assert error_locs(assert_problem(renamed, 422)) == [["body", "slug"]]
    assert error_locs(assert_problem(nulled, 422)) == [["body", "name"]]
    assert_problem(unknown, 404)
    assert_problem(await client.post("/v1/sections", json={"slug": "x"}), 401)
    assert_problem(await client.post("/v1/sections", json={"slug": "x"}, headers=reader), 403)
    assert_problem(await client.patch("/v1/sections/local", json={}, headers=reader), 403)
    assert (await client.get("/v1/sections/local")).json()["name"] == "Local"


async def test_unknown_and_private_sections_are_404_to_readers(client, session, writer):
    await make_article(session, published=False, section="embargoed")

    assert_problem(await client.get("/v1/sections/nowhere"), 404)
    assert_problem(await client.get("/v1/sections/embargoed"), 404)
    as_writer = await client.get("/v1/sections/embargoed", headers=writer)
    assert as_writer.status_code == 200
    assert as_writer.json()["article_count"] == 0
    assert as_writer.headers["cache-control"] == "private, no-store"


async def test_one_section_has_etag_304_and_head(client, session):
    await make_article(session, section="local")
    first = await client.get("/v1/sections/local")
    etag = first.headers["etag"]

    cached = await client.get("/v1/sections/local", headers={"If-None-Match": etag})
    head = await client.head("/v1/sections/local")

    assert cached.status_code == 304 and cached.content == b""
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag
    await make_article(session, section="local")
    changed = await client.get("/v1/sections/local", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["article_count"] == 2


async def test_concurrent_writes_naming_the_same_new_section_make_one(live) -> None:
    responses = await asyncio.gather(
        *(
            live.client.post(
                "/v1/articles",
                json={"headline": f"Story {n}", "section": "harbour-works"},
                headers=live.headers,
            )
            for n in range(6)
        )
    )
    assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses]
    listed = await live.client.get("/v1/sections", headers=live.headers)
    assert [(s["slug"], s["name"]) for s in listed.json()["data"]] == [
        ("harbour-works", "Harbour Works")
    ]
