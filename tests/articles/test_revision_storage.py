"""How revisions are stored: what a write adds is what it changed (pieces shared between
versions), every version still reads back whole, and rows in the old form (the whole
snapshot in one column) read as they always did."""

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import delete, select, update

from app.articles.models import ArticleRevision, RevisionPiece
from app.claims.schemas import MAX_CLAIMS_PER_ARTICLE
from tests.helpers import count_rows, create_article

pytestmark = pytest.mark.anyio

# What editing one claim of a full article may add to the revision tables: a few KB
# (the whole article, written each time before, was about 300 KB).
ONE_CLAIM_EDIT_BUDGET = 8_000


def full_claims() -> list[dict[str, Any]]:
    return [
        {
            "statement": f"Claim {n}: the harbour authority said repairs would take weeks.",
            "kind": "report",
            "verification": "unverified",
            "attributions": [
                {
                    "source": {"name": "Harbour Authority", "kind": "organization"},
                    "role": "asserted_by",
                    "cue": "said",
                }
            ],
        }
        for n in range(MAX_CLAIMS_PER_ARTICLE)
    ]


async def stored_bytes(session) -> int:  # type: ignore[no-untyped-def]
    """The bytes the revision tables hold (their JSON as text, their pieces as stored)."""
    total = sum(len(data) for data in await session.scalars(select(RevisionPiece.data)))
    for skeleton, snapshot in await session.execute(
        select(ArticleRevision.skeleton, ArticleRevision.snapshot)
    ):
        total += len(orjson.dumps(skeleton)) + len(orjson.dumps(snapshot))
    return total


async def revision(client: httpx.AsyncClient, article_id: str, version: int, headers) -> dict:  # type: ignore[no-untyped-def]
    response = await client.get(f"/v1/articles/{article_id}/revisions/{version}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_editing_one_claim_of_a_full_article_adds_a_few_kb(client, session, writer):
    article = await create_article(client, writer, claims=full_claims())
    first = await stored_bytes(session)
    assert first < len(orjson.dumps(article))  # compressed, even the first time

    states = {1: article}
    for n, claim in enumerate(article["claims"][:5], start=2):
        before = await stored_bytes(session)
        response = await client.patch(
            f"/v1/claims/{claim['id']}", json={"verification": "confirmed"}, headers=writer
        )
        assert response.status_code == 200, response.text
        assert await stored_bytes(session) - before < ONE_CLAIM_EDIT_BUDGET
        states[n] = (await client.get(f"/v1/articles/{article['id']}", headers=writer)).json()

    for version, state in states.items():
        assert await revision(client, article["id"], version, writer) == state


async def test_a_write_that_leaves_the_body_and_claims_adds_no_piece(client, session, writer):
    article = await create_article(client, writer)
    pieces = await count_rows(session, RevisionPiece)
    assert pieces > 0
    response = await client.patch(
        f"/v1/articles/{article['id']}", json={"headline": "Pier shut"}, headers=writer
    )
    assert response.status_code == 200, response.text
    assert await count_rows(session, RevisionPiece) == pieces
    assert await revision(client, article["id"], 2, writer) == response.json()


async def test_claims_beyond_one_chunk_come_back_in_order(client, writer):
    claims = full_claims()[:70]  # three chunks of item digests
    article = await create_article(client, writer, claims=claims)
    stored = await revision(client, article["id"], 1, writer)
    assert [c["statement"] for c in stored["claims"]] == [c["statement"] for c in claims]
    assert stored == article


async def test_revisions_in_the_old_form_read_as_before(client, session, writer):
    article = await create_article(client, writer)
    response = await client.patch(
        f"/v1/articles/{article['id']}", json={"headline": "Pier shut"}, headers=writer
    )
    assert response.status_code == 200, response.text
    served = await client.get(f"/v1/articles/{article['id']}/revisions/1", headers=writer)

    # Both versions as rows written before pieces: the whole snapshot, no skeleton, and no
    # pieces at all.
    for version, snapshot in ((1, article), (2, response.json())):
        await session.execute(
            update(ArticleRevision)
            .where(ArticleRevision.version == version)
            .values(snapshot=snapshot, skeleton=None)
        )
    await session.execute(delete(RevisionPiece))
    await session.commit()

    again = await client.get(f"/v1/articles/{article['id']}/revisions/1", headers=writer)
    assert again.content == served.content
    assert again.headers["etag"] == served.headers["etag"]
    assert await revision(client, article["id"], 2, writer) == response.json()
