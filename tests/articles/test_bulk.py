"""POST /v1/articles/bulk: NDJSON upsert by slug, each line on its own."""

import orjson
import pytest
from sqlalchemy import func, select

from app.articles.models import Article
from tests.factories import article_data, make_article

pytestmark = pytest.mark.anyio
NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(*items: object) -> bytes:
    return b"".join(
        (item if isinstance(item, bytes) else orjson.dumps(item)) + b"\n" for item in items
    )


async def test_mixed_good_and_bad_lines_each_succeed_or_fail_alone(client, session, writer):
    existing = await make_article(session, slug="already-here", published=False)
    body = ndjson(
        article_data(slug="fresh-one"),
        b"{not json",
        article_data(slug="Bad Slug"),
        article_data(slug="already-here", headline="Rewritten by bulk"),
        article_data(slug="fresh-two", claims=[{"statement": "x", "anchor": {"exact": "nope"}}]),
        article_data(headline="No slug given"),
    )
    response = await client.post("/v1/articles/bulk", content=body, headers={**writer, **NDJSON})
    assert response.status_code == 200, response.text
    report = response.json()
    lines = {line["line"]: line for line in report["lines"]}
    assert (report["created"], report["updated"], report["error"]) == (2, 1, 3)

    assert lines[1]["status"] == "created"
    assert lines[1]["slug"] == "fresh-one"
    assert lines[2]["status"] == "error"
    assert "JSON" in lines[2]["errors"][0]["msg"]
    assert lines[3]["status"] == "error"
    assert lines[3]["errors"][0]["loc"] == ["slug"]
    assert lines[4] == {
        "line": 4,
        "status": "updated",
        "id": str(existing.id),
        "slug": "already-here",
        "errors": [],
    }
    assert lines[5]["status"] == "error"
    assert lines[5]["errors"][0]["loc"] == ["body", "claims", 0, "anchor", "exact"]
    assert lines[6]["status"] == "created"
    assert lines[6]["slug"] == "no-slug-given"

    rewritten = (await client.get(f"/v1/articles/{existing.id}", headers=writer)).json()
    assert rewritten["headline"] == "Rewritten by bulk"
    assert rewritten["version"] == 2
    slugs = set(await session.scalars(select(Article.slug)))
    assert slugs == {"already-here", "fresh-one", "no-slug-given"}


async def test_blank_lines_are_skipped_and_numbering_follows_the_upload(client, writer):
    body = b"\n" + ndjson(article_data(slug="third-line")) + b"   \n"
    report = (
        await client.post("/v1/articles/bulk", content=b"\n" + body, headers={**writer, **NDJSON})
    ).json()
    assert [(line["line"], line["status"]) for line in report["lines"]] == [(3, "created")]


async def test_bulk_needs_ndjson_and_the_write_scope(client, session, writer, reader):
    body = ndjson(article_data(slug="x"))
    wrong_type = await client.post(
        "/v1/articles/bulk", content=body, headers={**writer, "Content-Type": "application/json"}
    )
    assert wrong_type.status_code == 415
    assert (await client.post("/v1/articles/bulk", content=body, headers=NDJSON)).status_code == 401
    forbidden = await client.post("/v1/articles/bulk", content=body, headers={**reader, **NDJSON})
    assert forbidden.status_code == 403
    assert await session.scalar(select(func.count()).select_from(Article)) == 0


async def test_a_body_over_one_mebibyte_streams_through_and_a_huge_line_fails_alone(
    client, session, writer, settings
):
    filler = "word " * 4000
    good = [article_data(slug=f"long-{n}", body=filler, claims=[]) for n in range(60)]
    huge = orjson.dumps(article_data(slug="huge", body="x" * (settings.max_body_bytes + 10)))
    body = ndjson(*good, huge)
    assert len(body) > settings.max_body_bytes * 2

    async def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await client.post(
        "/v1/articles/bulk", content=chunks(), headers={**writer, **NDJSON}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == 60
    assert report["lines"][-1]["line"] == 61
    assert report["lines"][-1]["status"] == "error"
    assert "Line over" in report["lines"][-1]["errors"][0]["msg"]


@pytest.mark.slow  # about 12 s
async def test_thousands_of_lines_stream_through(client, session, writer):
    count = 2_000

    async def lines():
        for n in range(count):
            yield orjson.dumps({"slug": f"wire-{n}", "headline": f"Wire item {n}"}) + b"\n"

    response = await client.post("/v1/articles/bulk", content=lines(), headers={**writer, **NDJSON})
    assert response.status_code == 200
    report = response.json()
    assert report["created"] == count
    assert report["error"] == 0
    assert await session.scalar(select(func.count()).select_from(Article)) == count


async def test_bulk_with_an_idempotency_key_replays_its_report(client, session, writer):
    body = ndjson(article_data(slug="once"))
    headers = {**writer, **NDJSON, "Idempotency-Key": '"bulk-1"'}
    first = await client.post("/v1/articles/bulk", content=body, headers=headers)
    again = await client.post("/v1/articles/bulk", content=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    other = await client.post(
        "/v1/articles/bulk", content=ndjson(article_data(slug="twice")), headers=headers
    )
    assert other.status_code == 422
    assert await session.scalar(select(func.count()).select_from(Article)) == 1
