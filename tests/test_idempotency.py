"""Idempotency-Key on POST: replay byte for byte, 422 on reuse with another body, one write
per key, scoped to the API key, pruned after the retention time."""

import hashlib
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.articles.models import Article, ArticleRevision
from app.auth import service as keys
from app.auth.models import ApiKey
from app.auth.scopes import Scope
from app.idempotency.models import IdempotencyRecord
from tests.factories import article_data, make_article
from tests.helpers import assert_problem, count_rows
from tests.live import app_on

pytestmark = pytest.mark.anyio


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": f'"{key}"'}


async def test_a_retry_replays_the_first_response_without_writing_again(client, session, writer):
    body = article_data(slug="replayed-story")
    first = await client.post("/v1/articles", json=body, headers=keyed(writer, "k-1"))
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers

    again = await client.post("/v1/articles", json=body, headers=keyed(writer, "k-1"))
    assert again.status_code == 201
    assert again.content == first.content
    for header in ("content-type", "location", "etag"):
        assert again.headers[header] == first.headers[header]
    assert again.headers["idempotent-replayed"] == "true"
    assert await count_rows(session, Article) == 1
    assert await count_rows(session, ArticleRevision) == 1


async def test_the_same_key_with_another_body_is_422_and_writes_nothing(client, session, writer):
    await client.post("/v1/articles", json=article_data(slug="one"), headers=keyed(writer, "k"))
    other = await client.post(
        "/v1/articles", json=article_data(slug="two"), headers=keyed(writer, "k")
    )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"].endswith("/problems/idempotency-key-reused")
    assert other.json()["errors"] == [
        {
            "loc": ["header", "Idempotency-Key"],
            "msg": other.json()["detail"],
            "type": "key_reused",
        }
    ]
    assert await count_rows(session, Article) == 1


async def test_a_bare_token_key_is_accepted_like_a_quoted_one(client, session, writer):
    body = article_data(slug="bare")
    first = await client.post(
        "/v1/articles", json=body, headers={**writer, "Idempotency-Key": "abc"}
    )
    again = await client.post("/v1/articles", json=body, headers=keyed(writer, "abc"))
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert await count_rows(session, Article) == 1


@pytest.mark.parametrize("key", ['""', "x" * 256, "tab\there"])
async def test_a_malformed_key_is_400(client, session, writer, key):
    response = await client.post(
        "/v1/articles", json=article_data(), headers={**writer, "Idempotency-Key": key}
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert await count_rows(session, Article) == 0


async def test_keys_are_scoped_to_the_api_key_that_sent_them(client, session, writer, publisher):
    await client.post("/v1/articles", json=article_data(slug="mine"), headers=keyed(writer, "k"))
    # The same key from another API key is another request altogether.
    theirs = await client.post(
        "/v1/articles", json=article_data(slug="theirs"), headers=keyed(publisher, "k")
    )
    assert theirs.status_code == 403  # a publisher key cannot create drafts
    assert "idempotent-replayed" not in theirs.headers
    second_writer = await client.post(
        "/v1/keys",
        json={"name": "w2", "scopes": ["content:write"]},
        headers=await _admin(client, session),
    )
    other = {"Authorization": f"Bearer {second_writer.json()['key']}"}
    created = await client.post(
        "/v1/articles", json=article_data(slug="theirs"), headers=keyed(other, "k")
    )
    assert created.status_code == 201
    assert "idempotent-replayed" not in created.headers
    assert await count_rows(session, Article) == 2


async def _admin(client, session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from app.auth import service as keys
    from app.auth.scopes import Scope

    _, secret = await keys.create(session, "admin", [Scope.admin])
    await session.commit()
    return {"Authorization": f"Bearer {secret}"}


async def test_a_client_error_is_replayed_as_it_was(client, session, writer):
    bad = article_data(headline="")
    first = await client.post("/v1/articles", json=bad, headers=keyed(writer, "bad"))
    assert first.status_code == 422
    again = await client.post("/v1/articles", json=bad, headers=keyed(writer, "bad"))
    assert again.status_code == 422
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


async def test_workflow_posts_are_idempotent_too(client, session, publisher):
    article = await make_article(session, published=False)
    url = f"/v1/articles/{article.id}/publish"
    first = await client.post(url, headers=keyed(publisher, "pub"))
    again = await client.post(url, headers=keyed(publisher, "pub"))
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    # Without the key, publishing twice is a conflict; with it, the retry is harmless.
    assert (await client.post(url, headers=publisher)).status_code == 409
    versions = await session.scalars(
        select(ArticleRevision.version).where(ArticleRevision.article_id == article.id)
    )
    assert list(versions) == [1, 2]


async def test_records_are_pruned_after_the_retention_time(client, session, writer, settings):
    await client.post("/v1/articles", json=article_data(slug="old"), headers=keyed(writer, "old"))
    await session.execute(
        update(IdempotencyRecord).values(
            created_at=datetime.now(UTC) - timedelta(hours=settings.idempotency_ttl_hours + 1)
        )
    )
    await session.commit()
    await client.post("/v1/articles", json=article_data(slug="new"), headers=keyed(writer, "new"))
    keys = await session.scalars(select(IdempotencyRecord.key))
    assert list(keys) == ["new"]


async def test_key_creation_refuses_an_idempotency_key(client, admin, session):
    response = await client.post(
        "/v1/keys", json={"name": "x", "scopes": ["content:read"]}, headers=keyed(admin, "k")
    )
    assert response.status_code == 400
    assert "hash" in response.json()["detail"]


@pytest.mark.postgres
async def test_a_retry_waits_a_bounded_time_for_a_first_request_still_running(engine, settings):
    """The first request holds its key in an open transaction; the retry waits for it as
    long as `idempotency_wait_seconds`, then answers 409 in-flight, writing nothing."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: the retry waits for the write lock instead")
    async with async_sessionmaker(engine).begin() as setup:
        _, secret = await keys.create(setup, "racer", [Scope.write])
    headers = keyed({"Authorization": f"Bearer {secret}"}, "slow-one")
    owner = hashlib.sha256(secret.encode()).hexdigest()
    patient = settings.model_copy(update={"idempotency_wait_seconds": 0.5})
    try:
        async with engine.connect() as first:  # the first request, mid-transaction
            await first.begin()
            await first.execute(
                insert(IdempotencyRecord).values(
                    owner=owner, key="slow-one", fingerprint="x", created_at=datetime.now(UTC)
                )
            )
            async with app_on(engine, patient) as client:
                started = time.monotonic()
                retry = await client.post("/v1/articles", json=article_data(), headers=headers)
                waited = time.monotonic() - started
            await first.rollback()
        problem = assert_problem(retry, 409)
        assert problem["type"].endswith("/problems/idempotency-key-in-flight")
        assert retry.headers["retry-after"] == "1"
        assert waited >= 0.4  # it did wait for the first one before answering
        async with engine.connect() as check:
            assert (await check.scalar(select(func.count()).select_from(Article))) == 0
    finally:
        async with engine.begin() as cleanup:
            await cleanup.execute(delete(ApiKey))
