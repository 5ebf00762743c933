import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import workflow
from tests.factories import make_article
from tests.helpers import PROBLEM, walk_pages

pytestmark = pytest.mark.anyio

SOURCE_FIELDS = {
    "id",
    "name",
    "kind",
    "description",
    "url",
    "affiliation",
    "claim_count",
    "article_count",
}


def claim(statement: str, *sources: tuple[str, str]) -> dict[str, Any]:
    return {
        "statement": statement,
        "attributions": [{"source": {"name": name, "kind": kind}} for name, kind in sources],
    }


ALPHA = ("Alpha Agency", "organization")
BRAVO = ("Bravo Bureau", "government")
CHARLIE = ("Charlie Council", "government")
DELTA = ("Delta Daily", "publication")


async def seed(session: AsyncSession) -> None:
    """Alpha cited by 3 claims, Bravo, Charlie and Delta by one each, all published."""
    await make_article(
        session,
        claims=[
            claim("One.", ALPHA),
            claim("Two.", ALPHA, BRAVO),
            claim("Three.", ALPHA, CHARLIE),
            claim("Four.", DELTA),
        ],
    )


async def listed(client: httpx.AsyncClient, query: str = "", **kwargs: Any) -> list[dict]:
    response = await client.get(f"/v1/sources?{query}", **kwargs)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_counts_only_claims_of_public_articles_for_anonymous(client, session, writer):
    await make_article(
        session,
        claims=[
            claim("The pier will close.", ("Harbour Authority", "organization")),
            claim("Repairs take a year.", ("Harbour Authority", "organization")),
        ],
    )
    await make_article(session, published=False)
    await make_article(session, published_at=datetime.now(UTC) + timedelta(days=1))
    deleted = await make_article(session)
    await workflow.delete(session, deleted, "test")
    await session.commit()

    anonymous = {s["name"]: s for s in await listed(client)}
    as_writer = {s["name"]: s for s in await listed(client, headers=writer)}

    harbour = anonymous["Harbour Authority"]
    assert (harbour["claim_count"], harbour["article_count"]) == (2, 1)
    lind = anonymous.get("Mara Lind", {"claim_count": 0, "article_count": 0})
    assert (lind["claim_count"], lind["article_count"]) == (0, 0)
    # A writer also counts the draft and the scheduled article, never the deleted one.
    harbour = as_writer["Harbour Authority"]
    assert (harbour["claim_count"], harbour["article_count"]) == (4, 3)
    lind = as_writer["Mara Lind"]
    assert (lind["claim_count"], lind["article_count"]) == (2, 2)


async def test_counts_cache_headers_differ_by_audience(client, session, writer):
    await seed(session)

    anonymous = await client.get("/v1/sources")
    as_writer = await client.get("/v1/sources", headers=writer)

    assert anonymous.headers["cache-control"].startswith("public")
    assert as_writer.headers["cache-control"] == "private, no-store"
    assert anonymous.headers["etag"]
    again = await client.get("/v1/sources", headers={"If-None-Match": anonymous.headers["etag"]})
    assert again.status_code == 304


async def test_default_sort_is_most_cited_first_ties_by_id_descending(client, session):
    await seed(session)

    default = await listed(client)
    explicit = await listed(client, "sort=-claim_count")

    assert default == explicit
    assert default[0]["name"] == "Alpha Agency"
    assert [s["claim_count"] for s in default] == [3, 1, 1, 1]
    assert [s["article_count"] for s in default] == [1, 1, 1, 1]
    tied = [s["id"] for s in default[1:]]
    assert tied == sorted(tied, key=uuid.UUID, reverse=True)
    assert {s["name"] for s in default[1:]} == {"Bravo Bureau", "Charlie Council", "Delta Daily"}


async def test_sort_by_name(client, session):
    await seed(session)

    names = [s["name"] for s in await listed(client, "sort=name")]

    assert names == ["Alpha Agency", "Bravo Bureau", "Charlie Council", "Delta Daily"]


async def test_q_matches_part_of_the_name_case_insensitively(client, session):
    await seed(session)

    assert [s["name"] for s in await listed(client, "q=BUR")] == ["Bravo Bureau"]
    assert [s["name"] for s in await listed(client, "q=ha%20ag")] == ["Alpha Agency"]
    assert {s["name"] for s in await listed(client, "q=c")} == {
        "Alpha Agency",
        "Charlie Council",
    }
    assert await listed(client, "q=%25") == []
    assert await listed(client, "q=zulu") == []


async def test_kind_filter(client, session):
    await seed(session)

    governments = await listed(client, "kind=government&sort=name")

    assert [s["name"] for s in governments] == ["Bravo Bureau", "Charlie Council"]
    assert {s["kind"] for s in governments} == {"government"}
    assert await listed(client, "kind=person") == []
    bogus = await client.get("/v1/sources?kind=alien")
    assert bogus.status_code == 422
    assert bogus.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("sort", ["-claim_count", "name"])
@pytest.mark.parametrize("limit", [1, 2])
async def test_pagination_covers_every_source_once(client, session, sort, limit):
    await seed(session)
    await make_article(session)  # Harbour Authority and Mara Lind, one claim each
    everything = [s["id"] for s in await listed(client, f"sort={sort}&limit=100")]
    assert len(everything) == 6

    sources, pages = await walk_pages(client, f"/v1/sources?sort={sort}&limit={limit}")
    seen = [s["id"] for s in sources]

    assert seen == everything
    assert pages == 6 // limit


async def test_count_gives_the_total(client, session):
    await seed(session)

    everything = await client.get("/v1/sources?count=true&limit=1")
    governments = await client.get("/v1/sources?count=true&kind=government&limit=1")

    assert everything.json()["total"] == 4
    assert len(everything.json()["data"]) == 1
    assert everything.json()["next_cursor"]
    assert governments.json()["total"] == 2
    assert "total" not in (await client.get("/v1/sources")).json()


async def test_bad_cursor_sort_and_limit_are_422(client, session):
    await seed(session)
    by_name = (await client.get("/v1/sources?sort=name&limit=1")).json()["next_cursor"]
    assert by_name

    for query in (
        "cursor=garbage",
        "cursor=eyJub3QiOiAiYSBjdXJzb3IifQ",
        f"sort=-claim_count&cursor={by_name}",
        "sort=bogus",
        "sort=-name",
        "limit=0",
        "limit=101",
    ):
        response = await client.get(f"/v1/sources?{query}")
        assert response.status_code == 422, query
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == 422
        assert response.json()["errors"]


async def test_get_source(client, session, writer):
    await make_article(
        session,
        claims=[
            {
                "statement": "The pier is unsafe.",
                "attributions": [
                    {
                        "source": {
                            "name": "Port Engineers",
                            "kind": "organization",
                            "description": "The harbour's engineering firm",
                            "url": "https://engineers.example/",
                        }
                    }
                ],
            }
        ],
    )
    await make_article(
        session, published=False, claims=[claim("Drafted.", ("Port Engineers", "organization"))]
    )
    [source] = await listed(client, "q=engineers")

    response = await client.get(f"/v1/sources/{source['id']}")
    as_writer = await client.get(f"/v1/sources/{source['id']}", headers=writer)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == SOURCE_FIELDS
    assert body == {
        "id": source["id"],
        "name": "Port Engineers",
        "kind": "organization",
        "description": "The harbour's engineering firm",
        "url": "https://engineers.example/",
        "affiliation": None,
        "claim_count": 1,
        "article_count": 1,
    }
    assert response.headers["etag"]
    assert as_writer.json()["claim_count"] == 2
    assert as_writer.json()["article_count"] == 2


async def test_get_unknown_or_malformed_source(client):
    unknown = await client.get(f"/v1/sources/{uuid.uuid4()}")
    malformed = await client.get("/v1/sources/not-a-uuid")

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    assert unknown.json()["status"] == 404
    assert malformed.status_code == 404  # ids are opaque: a malformed one is not there
    assert malformed.headers["content-type"] == PROBLEM


async def test_source_claims_hide_drafts_from_anonymous(client, session, writer):
    public = await make_article(session)
    draft = await make_article(session, published=False)
    [harbour] = await listed(client, "q=harbour")

    anonymous = await client.get(f"/v1/sources/{harbour['id']}/claims")
    as_writer = await client.get(f"/v1/sources/{harbour['id']}/claims", headers=writer)

    assert anonymous.status_code == 200
    [only] = anonymous.json()["data"]
    assert only["article_id"] == str(public.id)
    assert only["statement"] == "The north pier will close for repairs."
    assert only["attributions"][0]["source"]["id"] == harbour["id"]
    assert as_writer.status_code == 200
    assert {c["article_id"] for c in as_writer.json()["data"]} == {str(public.id), str(draft.id)}
    assert as_writer.headers["cache-control"] == "private, no-store"


async def test_source_claims_paginate_and_unknown_source_is_404(client, session):
    await make_article(
        session,
        claims=[claim(f"Claim {n}.", ("Harbour Authority", "organization")) for n in range(3)],
    )
    [harbour] = await listed(client, "q=harbour")
    everything = (await client.get(f"/v1/sources/{harbour['id']}/claims")).json()["data"]
    assert len(everything) == 3

    claims, pages = await walk_pages(client, f"/v1/sources/{harbour['id']}/claims?limit=2")
    seen = [c["id"] for c in claims]
    unknown = await client.get(f"/v1/sources/{uuid.uuid4()}/claims")

    assert seen == [c["id"] for c in everything]
    assert pages == 2
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM


async def test_q_matches_the_name_not_the_affiliation(client, session):
    await make_article(
        session,
        claims=[
            {
                "statement": "The talks stalled.",
                "attributions": [
                    {
                        "source": {
                            "name": "senior officials",
                            "kind": "anonymous",
                            "affiliation": "U.S. government",
                        }
                    }
                ],
            }
        ],
    )

    by_name = await listed(client, "q=SENIOR")

    assert [(s["name"], s["affiliation"]) for s in by_name] == [
        ("senior officials", "U.S. government")
    ]
    assert await listed(client, "q=government") == []
    assert await listed(client, "q=officials%20%40") == []


async def test_a_source_cited_only_in_a_draft_is_hidden_from_anonymous(client, session, writer):
    await make_article(
        session,
        published=False,
        claims=[claim("The leak is real.", ("Secret Whistleblower", "person"))],
    )
    [source] = await listed(client, "q=whistle", headers=writer)
    assert source["claim_count"] == 1

    anonymous_list = await listed(client, "q=whistle")
    anonymous_detail = await client.get(f"/v1/sources/{source['id']}")

    assert anonymous_list == []
    assert anonymous_detail.status_code == 404
    assert "Whistleblower" not in anonymous_detail.text
