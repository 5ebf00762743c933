import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.articles import workflow
from app.claims.models import Attribution, Claim
from app.claims.schemas import MAX_CLAIMS_PER_ARTICLE
from app.sources.models import Source
from tests.factories import BODY, make_article
from tests.helpers import (
    PROBLEM,
    assert_problem,
    count_rows,
    create_article,
    fetch_article,
    row_counts,
    walk_pages,
)

pytestmark = pytest.mark.anyio


def span(
    claim_id: Any, text: str, kind: str = "statement", verification: str = "unverified"
) -> str:
    return (
        f'<span class="claim" data-claim-id="{claim_id}" data-claim-kind="{kind}" '
        f'data-verification="{verification}">{text}</span>'
    )


async def claim_json(
    client: httpx.AsyncClient, claim_id: Any, headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.get(f"/v1/claims/{claim_id}", headers=headers)
    assert response.status_code == 200
    return response.json()


def new_claim(statement: str = "Ferry crossings will take longer.", **overrides: Any) -> dict:
    data: dict[str, Any] = {
        "statement": statement,
        "kind": "report",
        "anchor": {"exact": "add twenty minutes"},
        "attributions": [
            {
                "source": {"name": "Ferry Operators Guild", "kind": "organization"},
                "role": "reported_by",
                "cue": "said",
            }
        ],
    }
    data.update(overrides)
    return data


def source_ids(claim: dict[str, Any]) -> list[str]:
    return [a["source"]["id"] for a in claim["attributions"]]


# --- GET /v1/articles/{id}/claims -----------------------------------------------------------


async def test_article_claims_in_reading_order_with_attributions(client, session):
    article = await make_article(session)

    response = await client.get(f"/v1/articles/{article.slug}/claims")

    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public")
    assert response.headers["etag"]
    page = response.json()
    assert page["next_cursor"] is None
    first, second = page["data"]
    assert first["statement"] == "The north pier will close for repairs."
    assert first["article_id"] == str(article.id)
    assert first["verification"] == "confirmed"
    assert first["anchor_status"] == "anchored"
    start = BODY.index("the north pier will close for repairs")
    assert first["anchor"]["exact"] == "the north pier will close for repairs"
    assert (first["anchor"]["start"], first["anchor"]["end"]) == (start, start + 37)
    assert first["anchor"]["prefix"].endswith("on Monday that ")
    assert first["review"] is None
    [attribution] = first["attributions"]
    assert attribution["role"] == "confirmed_by"
    assert attribution["cue"] == "confirmed"
    assert attribution["source"]["name"] == "Harbour Authority"
    assert attribution["source"]["kind"] == "organization"
    assert uuid.UUID(attribution["source"]["id"])
    assert second["kind"] == "quote"
    assert second["quote"] == "We cannot keep it open safely,"
    assert second["anchor"]["exact"] == "We cannot keep it open safely,"
    assert second["attributions"][0]["source"]["name"] == "Mara Lind"

    by_id = await client.get(f"/v1/articles/{article.id}/claims")
    assert by_id.json()["data"] == page["data"]


async def test_article_claims_paginate_in_reading_order(client, session, editor):
    article = await make_article(session)
    for n in range(3):
        created = await client.post(
            f"/v1/articles/{article.id}/claims",
            json={"statement": f"Extra claim number {n}."},
            headers=editor,
        )
        assert created.status_code == 201
    everything = (await client.get(f"/v1/articles/{article.id}/claims?limit=100")).json()["data"]
    assert [c["statement"] for c in everything][2:] == [
        f"Extra claim number {n}." for n in range(3)
    ]

    claims, pages = await walk_pages(client, f"/v1/articles/{article.id}/claims?limit=2")
    seen = [c["id"] for c in claims]

    assert pages == 3
    assert seen == [c["id"] for c in everything]


async def test_article_claims_of_a_draft_are_404_to_anonymous_and_shown_to_writer(
    client, session, writer, reader
):
    draft = await make_article(session, published=False)

    anonymous = await client.get(f"/v1/articles/{draft.id}/claims")
    with_reader = await client.get(f"/v1/articles/{draft.slug}/claims", headers=reader)
    as_writer = await client.get(f"/v1/articles/{draft.id}/claims", headers=writer)

    assert anonymous.status_code == 404
    assert anonymous.headers["content-type"] == PROBLEM
    assert anonymous.json()["status"] == 404
    assert "claim-id" not in anonymous.text
    assert with_reader.status_code == 404
    assert as_writer.status_code == 200
    assert len(as_writer.json()["data"]) == 2
    assert as_writer.headers["cache-control"] == "private, no-store"


async def test_article_claims_of_unknown_and_deleted_articles(client, session, publisher):
    article = await make_article(session)
    await workflow.delete(session, article, "test")
    await session.commit()

    unknown = await client.get(f"/v1/articles/{uuid.uuid4()}/claims")
    deleted = await client.get(f"/v1/articles/{article.id}/claims")

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    assert deleted.status_code == 410
    assert deleted.headers["content-type"] == PROBLEM


# --- POST /v1/articles/{id}/claims ----------------------------------------------------------


async def test_post_claim_adds_it_to_the_article(client, session, editor):
    article = await make_article(session)
    before = await fetch_article(client, article.id, editor)

    response = await client.post(
        f"/v1/articles/{article.id}/claims", json=new_claim(), headers=editor
    )

    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/v1/claims/{created['id']}"
    assert response.headers["etag"]
    assert created["article_id"] == str(article.id)
    assert created["kind"] == "report"
    assert created["verification"] == "unverified"
    start = BODY.index("add twenty minutes")
    assert created["anchor"]["start"] == start
    assert created["anchor"]["end"] == start + len("add twenty minutes")
    assert created["anchor"]["prefix"].endswith("the closure would ")
    assert created["anchor_status"] == "anchored"
    assert created["attributions"][0]["source"]["name"] == "Ferry Operators Guild"

    after = await fetch_article(client, article.id, editor)
    assert after["version"] == before["version"] + 1
    assert span(created["id"], "add twenty minutes", "report") in after["body_html"]
    assert span(created["id"], "add twenty minutes", "report") not in before["body_html"]
    assert after["sourcing"] == {
        "claims": 3,
        "attributed_claims": 3,
        "unattributed_claims": 0,
        "named_sources": 3,
        "anonymous_sources": 0,
    }
    assert [c["id"] for c in after["claims"]][-1] == created["id"]
    assert await claim_json(client, created["id"], editor) == created


async def test_post_claim_past_the_per_article_cap_is_422_and_changes_nothing(
    client, session, writer
):
    full = [{"statement": f"Claim number {n}."} for n in range(MAX_CLAIMS_PER_ARTICLE)]
    article = await create_article(client, writer, claims=full)
    url = f"/v1/articles/{article['id']}"
    before = await row_counts(session)

    response = await client.post(f"{url}/claims", json=new_claim(), headers=writer)

    problem = assert_problem(response, 422)
    assert problem["errors"] == [
        {"loc": ["body"], "msg": problem["detail"], "type": "too_many_claims"}
    ]
    assert str(MAX_CLAIMS_PER_ARTICLE) in problem["detail"]
    assert await row_counts(session) == before
    after = await fetch_article(client, article["id"], writer)
    assert (after["version"], len(after["claims"])) == (1, MAX_CLAIMS_PER_ARTICLE)

    # Room made by removing one claim can be taken again, and the cap then holds as before.
    removed = await client.delete(f"/v1/claims/{after['claims'][0]['id']}", headers=writer)
    assert removed.status_code == 204, removed.text
    added = await client.post(f"{url}/claims", json=new_claim(), headers=writer)
    assert added.status_code == 201, added.text
    again = await client.post(f"{url}/claims", json=new_claim(), headers=writer)
    assert assert_problem(again, 422)["errors"][0]["type"] == "too_many_claims"


async def test_post_unattributed_anonymous_and_quote_claims_update_sourcing(
    client, session, writer
):
    article = await make_article(session, published=False)

    bare = await client.post(
        f"/v1/articles/{article.id}/claims",
        json={"statement": "The pier is old."},
        headers=writer,
    )
    anonymous = await client.post(
        f"/v1/articles/{article.id}/claims",
        json={
            "statement": "Repairs were delayed for years.",
            "attributions": [
                {
                    "source": {
                        "name": "people familiar with the matter",
                        "kind": "anonymous",
                        "affiliation": "Harbour Authority",
                    },
                    "anonymous_description": "two people familiar with the matter",
                }
            ],
        },
        headers=writer,
    )
    quote = await client.post(
        f"/v1/articles/{article.id}/claims",
        json={"statement": "Crossings get longer.", "kind": "quote", "quote": "twenty minutes"},
        headers=writer,
    )

    assert (bare.status_code, anonymous.status_code, quote.status_code) == (201, 201, 201)
    assert bare.json()["anchor"] is None
    assert bare.json()["anchor_status"] is None
    assert bare.json()["attributions"] == []
    assert anonymous.json()["attributions"][0]["role"] == "asserted_by"
    assert anonymous.json()["attributions"][0]["anonymous_description"] == (
        "two people familiar with the matter"
    )
    # A quote without an explicit anchor is anchored by its verbatim words.
    assert quote.json()["anchor"]["exact"] == "twenty minutes"
    after = await fetch_article(client, article.id, writer)
    assert after["version"] == 1 + 3
    assert after["sourcing"] == {
        "claims": 5,
        "attributed_claims": 3,
        "unattributed_claims": 2,
        "named_sources": 2,
        "anonymous_sources": 1,
    }
    assert span(quote.json()["id"], "twenty minutes", "quote") in after["body_html"]


async def test_post_claim_needs_content_write(client, session, reader):
    article = await make_article(session)
    claims_before = await count_rows(session, Claim)

    anonymous = await client.post(f"/v1/articles/{article.id}/claims", json=new_claim())
    read_only = await client.post(
        f"/v1/articles/{article.id}/claims", json=new_claim(), headers=reader
    )

    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert read_only.status_code == 403
    assert read_only.headers["content-type"] == PROBLEM
    assert await count_rows(session, Claim) == claims_before
    assert (await client.get(f"/v1/articles/{article.id}")).json()["version"] == article.version


async def test_post_claim_with_anchor_not_in_body_changes_nothing(client, session, editor):
    article = await make_article(session)
    before = await fetch_article(client, article.id, editor)
    counts = await row_counts(session)

    response = await client.post(
        f"/v1/articles/{article.id}/claims",
        json=new_claim(anchor={"exact": "the south pier reopened"}),
        headers=editor,
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert problem["errors"][0]["loc"][-2:] == ["anchor", "exact"]
    assert await row_counts(session) == counts
    after = await fetch_article(client, article.id, editor)
    assert after["version"] == before["version"]
    assert after["body_html"] == before["body_html"]
    assert after["sourcing"] == before["sourcing"]
    assert len(after["claims"]) == 2


async def test_post_claim_with_unknown_source_id_or_bad_fields_changes_nothing(
    client, session, editor
):
    article = await make_article(session)
    claims_before = await count_rows(session, Claim)
    bad_bodies = [
        new_claim(attributions=[{"source": {"id": str(uuid.uuid4())}}]),
        new_claim(kind="quote"),
        new_claim(kind="rumour"),
        new_claim(statement=""),
        new_claim(statement="x" * 1001),
        new_claim(unexpected="field"),
        new_claim(attributions=[{"source": {"name": "Someone", "kind": "alien"}}]),
    ]

    for body in bad_bodies:
        response = await client.post(f"/v1/articles/{article.id}/claims", json=body, headers=editor)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"]

    assert await count_rows(session, Claim) == claims_before
    assert (await fetch_article(client, article.id, editor))["version"] == article.version
    missing = await client.post(
        f"/v1/articles/{uuid.uuid4()}/claims", json=new_claim(), headers=editor
    )
    assert missing.status_code == 404


# --- GET /v1/claims -------------------------------------------------------------------------


async def test_list_claims_filters_by_article_source_verification_and_kind(client, session):
    first = await make_article(session)
    second = await make_article(
        session,
        claims=[
            {
                "statement": "Ferry fares will rise.",
                "kind": "forecast",
                "verification": "disputed",
                "attributions": [{"source": {"name": "Mara Lind", "kind": "person"}}],
            },
            {"statement": "The closure is a mistake.", "kind": "opinion"},
        ],
    )
    everything = (await client.get("/v1/claims")).json()["data"]
    by_statement = {c["statement"]: c for c in everything}
    assert len(everything) == 4
    lind = by_statement["Ferry fares will rise."]["attributions"][0]["source"]["id"]

    async def statements(query: str) -> set[str]:
        response = await client.get(f"/v1/claims?{query}")
        assert response.status_code == 200
        return {c["statement"] for c in response.json()["data"]}

    assert await statements(f"article={second.id}") == {
        "Ferry fares will rise.",
        "The closure is a mistake.",
    }
    assert await statements(f"article={first.id}&kind=quote") == {
        "The director says the pier cannot be kept open safely."
    }
    assert await statements(f"source={lind}") == {
        "Ferry fares will rise.",
        "The director says the pier cannot be kept open safely.",
    }
    assert await statements("verification=disputed") == {"Ferry fares will rise."}
    assert await statements("verification=confirmed") == {"The north pier will close for repairs."}
    assert await statements("kind=opinion") == {"The closure is a mistake."}
    assert await statements(f"source={uuid.uuid4()}") == set()
    assert await statements(f"article={second.id}&verification=confirmed") == set()


async def test_list_claims_rejects_invalid_filters(client):
    for query in ("verification=maybe", "kind=rumour", "article=nope", "limit=0", "limit=101"):
        response = await client.get(f"/v1/claims?{query}")
        assert response.status_code == 422, query
        assert response.headers["content-type"] == PROBLEM

    cursor = await client.get("/v1/claims?cursor=not-a-cursor")
    assert cursor.status_code == 422
    assert cursor.json()["errors"][0]["loc"] == ["query", "cursor"]


async def test_list_claims_q_matches_statement_or_quote_case_insensitively(client, session):
    await make_article(
        session,
        claims=[
            {"statement": "Fares rose 50% this year."},
            {"statement": "Fares rose 500 times over."},
            {"statement": "The variable is called snake_case here."},
            {"statement": "The variable is called snakeXcase here."},
            {"statement": "A director spoke.", "kind": "quote", "quote": "We Cannot Keep It"},
        ],
    )

    async def statements(q: str) -> set[str]:
        response = await client.get("/v1/claims", params={"q": q})
        assert response.status_code == 200
        return {c["statement"] for c in response.json()["data"]}

    assert await statements("FARES ROSE") == {
        "Fares rose 50% this year.",
        "Fares rose 500 times over.",
    }
    assert await statements("50%") == {"Fares rose 50% this year."}
    assert await statements("e_c") == {"The variable is called snake_case here."}
    assert await statements("%") == {"Fares rose 50% this year."}
    assert await statements("cannot keep it") == {"A director spoke."}
    assert await statements("nothing like this") == set()


async def test_list_claims_count_gives_total_of_all_pages(client, session):
    await make_article(session)
    await make_article(session)

    response = await client.get("/v1/claims?count=true&limit=3")
    filtered = await client.get("/v1/claims?count=true&kind=quote&limit=1")
    plain = await client.get("/v1/claims")

    assert response.status_code == 200
    assert response.json()["total"] == 4
    assert len(response.json()["data"]) == 3
    assert filtered.json()["total"] == 2
    assert len(filtered.json()["data"]) == 1
    assert "total" not in plain.json() or plain.json()["total"] is None


async def test_list_claims_hides_claims_of_drafts_scheduled_and_deleted_articles(
    client, session, writer, reader
):
    public = await make_article(session)
    draft = await make_article(session, published=False)
    await make_article(session, published_at=datetime.now(UTC) + timedelta(days=1))
    deleted = await make_article(session)
    await workflow.delete(session, deleted, "test")
    await session.commit()

    anonymous = await client.get("/v1/claims?count=true")
    with_reader = await client.get("/v1/claims?count=true", headers=reader)
    as_writer = await client.get("/v1/claims?count=true", headers=writer)
    draft_only = await client.get(f"/v1/claims?article={draft.id}")

    assert {c["article_id"] for c in anonymous.json()["data"]} == {str(public.id)}
    assert anonymous.json()["total"] == 2
    assert anonymous.headers["cache-control"].startswith("public")
    assert {c["article_id"] for c in with_reader.json()["data"]} == {str(public.id)}
    assert draft_only.json()["data"] == []
    # A writer sees drafts and scheduled articles, never deleted ones.
    assert as_writer.json()["total"] == 6
    assert str(deleted.id) not in {c["article_id"] for c in as_writer.json()["data"]}
    assert str(draft.id) in {c["article_id"] for c in as_writer.json()["data"]}
    assert as_writer.headers["cache-control"] == "private, no-store"


async def test_list_claims_newest_first(client, session, editor):
    article = await make_article(session)
    posted = []
    for n in range(3):
        response = await client.post(
            f"/v1/articles/{article.id}/claims",
            json={"statement": f"Claim posted {n}."},
            headers=editor,
        )
        posted.append(response.json()["id"])

    data = (await client.get("/v1/claims")).json()["data"]

    assert [c["id"] for c in data[:3]] == list(reversed(posted))
    keys = [(c["created_at"], c["id"]) for c in data]
    assert keys == sorted(keys, reverse=True)
    assert len(data) == 5


async def test_list_claims_pages_have_no_gaps_or_duplicates(client, session):
    await make_article(session)
    await make_article(session, claims=[{"statement": f"Claim {n}."} for n in range(5)])
    everything = (await client.get("/v1/claims?limit=100")).json()["data"]
    assert len(everything) == 7

    claims, pages = await walk_pages(client, "/v1/claims?limit=2")
    seen = [c["id"] for c in claims]

    assert pages == 4
    assert seen == [c["id"] for c in everything]
    assert len(set(seen)) == 7


# --- GET /v1/claims/{id} --------------------------------------------------------------------


async def test_get_claim(client, session):
    article = await make_article(session)
    listed = (await client.get(f"/v1/articles/{article.id}/claims")).json()["data"][0]

    response = await client.get(f"/v1/claims/{listed['id']}")

    assert response.status_code == 200
    assert response.json() == listed
    assert response.headers["etag"]
    assert response.headers["cache-control"].startswith("public")
    again = await client.get(
        f"/v1/claims/{listed['id']}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


async def test_get_claim_of_draft_unknown_or_malformed_id(client, session, writer):
    draft = await make_article(session, published=False)
    claim_id = (await client.get(f"/v1/articles/{draft.id}/claims", headers=writer)).json()["data"][
        0
    ]["id"]

    anonymous = await client.get(f"/v1/claims/{claim_id}")
    as_writer = await client.get(f"/v1/claims/{claim_id}", headers=writer)
    unknown = await client.get(f"/v1/claims/{uuid.uuid4()}")
    malformed = await client.get("/v1/claims/not-a-uuid")

    assert anonymous.status_code == 404
    assert anonymous.headers["content-type"] == PROBLEM
    assert "north pier" not in anonymous.text
    assert as_writer.status_code == 200
    assert as_writer.json()["id"] == claim_id
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    assert malformed.status_code == 404  # ids are opaque: a malformed one is not there
    assert malformed.headers["content-type"] == PROBLEM


# --- PATCH /v1/claims/{id} ------------------------------------------------------------------


async def first_claim(client: httpx.AsyncClient, article: Any, writer: dict) -> dict[str, Any]:
    response = await client.get(f"/v1/articles/{article.id}/claims", headers=writer)
    return response.json()["data"][0]


async def test_patch_claim_changes_only_the_given_fields(client, session, editor):
    article = await make_article(session)
    claim = await first_claim(client, article, editor)
    before = await fetch_article(client, article.id, editor)

    response = await client.patch(
        f"/v1/claims/{claim['id']}",
        content=b'{"verification": "disputed"}',
        headers={**editor, "Content-Type": "application/merge-patch+json"},
    )

    assert response.status_code == 200
    patched = response.json()
    assert patched["verification"] == "disputed"
    unchanged = ("statement", "kind", "quote", "anchor", "anchor_status", "review", "attributions")
    assert {k: patched[k] for k in unchanged} == {k: claim[k] for k in unchanged}
    assert await claim_json(client, claim["id"], editor) == patched
    after = await fetch_article(client, article.id, editor)
    assert after["version"] == before["version"] + 1
    # Only the span's verification changes in body_html.
    assert after["body_html"] == before["body_html"].replace(
        'data-verification="confirmed"', 'data-verification="disputed"', 1
    )

    statement = await client.patch(
        f"/v1/claims/{claim['id']}", json={"statement": "The pier shuts."}, headers=editor
    )
    assert statement.status_code == 200
    assert statement.json()["statement"] == "The pier shuts."
    assert statement.json()["verification"] == "disputed"
    assert (await fetch_article(client, article.id, editor))["version"] == before["version"] + 2


async def test_patch_claim_sets_and_clears_review(client, session, editor):
    article = await make_article(session)
    claim = await first_claim(client, article, editor)
    review = {
        "rating": "Mostly true",
        "rating_value": 4,
        "best_rating": 5,
        "worst_rating": 1,
        "reviewed_by": "Newsdesk Fact Check",
        "reviewed_at": "2024-05-01T12:00:00Z",
        "url": "https://factcheck.example/pier",
    }

    set_response = await client.patch(
        f"/v1/claims/{claim['id']}", json={"review": review}, headers=editor
    )

    assert set_response.status_code == 200
    stored = (await claim_json(client, claim["id"], editor))["review"]
    assert stored["rating"] == "Mostly true"
    assert stored["rating_value"] == 4
    assert stored["reviewed_by"] == "Newsdesk Fact Check"
    assert stored["url"] == "https://factcheck.example/pier"
    assert stored["reviewed_at"].startswith("2024-05-01T12:00:00")

    cleared = await client.patch(f"/v1/claims/{claim['id']}", json={"review": None}, headers=editor)

    assert cleared.status_code == 200
    assert cleared.json()["review"] is None
    assert (await claim_json(client, claim["id"], editor))["review"] is None
    assert (await claim_json(client, claim["id"], editor))["verification"] == "confirmed"

    out_of_scale = await client.patch(
        f"/v1/claims/{claim['id']}",
        json={"review": {**review, "rating_value": 9}},
        headers=editor,
    )
    assert out_of_scale.status_code == 422
    assert (await claim_json(client, claim["id"], editor))["review"] is None


async def test_patch_claim_replaces_attributions(client, session, editor):
    article = await make_article(session)
    claim = await first_claim(client, article, editor)
    old_source = claim["attributions"][0]["source"]["id"]

    response = await client.patch(
        f"/v1/claims/{claim['id']}",
        json={
            "attributions": [
                {
                    "source": {"name": "Port Workers Union", "kind": "organization"},
                    "role": "disputed_by",
                    "cue": "disputes",
                }
            ]
        },
        headers=editor,
    )

    assert response.status_code == 200
    [attribution] = response.json()["attributions"]
    assert attribution["source"]["name"] == "Port Workers Union"
    assert attribution["role"] == "disputed_by"
    assert attribution["source"]["id"] != old_source
    assert (await claim_json(client, claim["id"], editor))["attributions"] == [attribution]
    # The old source stays; it is simply no longer cited by this claim.
    assert await session.scalar(select(func.count()).where(Source.id == uuid.UUID(old_source)))
    old = await client.get(f"/v1/sources/{old_source}", headers=editor)
    assert old.json()["claim_count"] == 0

    emptied = await client.patch(
        f"/v1/claims/{claim['id']}", json={"attributions": []}, headers=editor
    )
    assert emptied.json()["attributions"] == []
    sourcing = (await fetch_article(client, article.id, editor))["sourcing"]
    assert sourcing["unattributed_claims"] == 1
    assert sourcing["attributed_claims"] == 1


async def test_patch_claim_kind_quote_without_quote_changes_nothing(client, session, editor):
    article = await make_article(session)
    claim = await first_claim(client, article, editor)
    version = (await fetch_article(client, article.id, editor))["version"]

    response = await client.patch(
        f"/v1/claims/{claim['id']}",
        json={"kind": "quote", "verification": "refuted"},
        headers=editor,
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert "quote" in response.json()["detail"]
    assert await claim_json(client, claim["id"], editor) == claim
    assert (await fetch_article(client, article.id, editor))["version"] == version

    with_quote = await client.patch(
        f"/v1/claims/{claim['id']}",
        json={"kind": "quote", "quote": "the north pier will close"},
        headers=editor,
    )
    assert with_quote.status_code == 200
    assert with_quote.json()["kind"] == "quote"


@pytest.mark.parametrize(
    "patch",
    [
        {"statement": None},
        {"kind": None},
        {"verification": None},
        {"statement": ""},
        {"verification": "maybe"},
        {"colour": "red"},
        {"anchor": {"exact": "the south pier will close"}},
        {"anchor": {"exact": "the north pier", "start": 0, "end": 14}},
        {"attributions": [{"source": {"id": "00000000-0000-4000-8000-000000000000"}}]},
    ],
)
async def test_patch_claim_invalid_changes_nothing(client, session, editor, patch):
    article = await make_article(session)
    claim = await first_claim(client, article, editor)
    before = await fetch_article(client, article.id, editor)
    sources = await count_rows(session, Source)

    response = await client.patch(f"/v1/claims/{claim['id']}", json=patch, headers=editor)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"]
    assert await claim_json(client, claim["id"], editor) == claim
    after = await fetch_article(client, article.id, editor)
    assert after["version"] == before["version"]
    assert after["body_html"] == before["body_html"]
    assert await count_rows(session, Source) == sources


async def test_patch_claim_anchor_moves_its_span(client, session, editor):
    article = await make_article(session)
    claim = await first_claim(client, article, editor)
    old_span = span(claim["id"], "the north pier will close for repairs", verification="confirmed")
    assert old_span in (await fetch_article(client, article.id, editor))["body_html"]

    response = await client.patch(
        f"/v1/claims/{claim['id']}", json={"anchor": {"exact": "Ferry operators"}}, headers=editor
    )

    assert response.status_code == 200
    start = BODY.index("Ferry operators")
    assert response.json()["anchor"]["start"] == start
    assert response.json()["anchor"]["end"] == start + len("Ferry operators")
    assert response.json()["anchor_status"] == "anchored"
    html = (await fetch_article(client, article.id, editor))["body_html"]
    assert span(claim["id"], "Ferry operators", verification="confirmed") in html
    assert old_span not in html
    assert "the north pier will close for repairs" in html
    assert html.count(f'data-claim-id="{claim["id"]}"') == 1

    cleared = await client.patch(f"/v1/claims/{claim['id']}", json={"anchor": None}, headers=editor)
    assert cleared.status_code == 200
    assert cleared.json()["anchor"] is None
    html = (await fetch_article(client, article.id, editor))["body_html"]
    assert f'data-claim-id="{claim["id"]}"' not in html


async def test_patch_claim_needs_content_write_and_a_known_claim(client, session, writer, reader):
    article = await make_article(session)
    claim = await first_claim(client, article, writer)

    anonymous = await client.patch(f"/v1/claims/{claim['id']}", json={"verification": "refuted"})
    read_only = await client.patch(
        f"/v1/claims/{claim['id']}", json={"verification": "refuted"}, headers=reader
    )
    unknown = await client.patch(
        f"/v1/claims/{uuid.uuid4()}", json={"verification": "refuted"}, headers=writer
    )
    wrong_type = await client.patch(
        f"/v1/claims/{claim['id']}",
        content=b'{"verification": "refuted"}',
        headers={**writer, "Content-Type": "text/plain"},
    )

    assert anonymous.status_code == 401
    assert read_only.status_code == 403
    assert unknown.status_code == 404
    assert wrong_type.status_code == 415
    for response in (anonymous, read_only, unknown, wrong_type):
        assert response.headers["content-type"] == PROBLEM
    assert (await claim_json(client, claim["id"], writer))["verification"] == "confirmed"


# --- DELETE /v1/claims/{id} -----------------------------------------------------------------


async def test_delete_claim(client, session, editor):
    article = await make_article(session)
    claim = await first_claim(client, article, editor)
    before = await fetch_article(client, article.id, editor)
    assert f'data-claim-id="{claim["id"]}"' in before["body_html"]

    response = await client.delete(f"/v1/claims/{claim['id']}", headers=editor)

    assert response.status_code == 204
    assert response.content == b""
    after = await fetch_article(client, article.id, editor)
    assert after["version"] == before["version"] + 1
    assert claim["id"] not in [c["id"] for c in after["claims"]]
    assert f'data-claim-id="{claim["id"]}"' not in after["body_html"]
    assert "the north pier will close for repairs" in after["body_html"]
    assert after["sourcing"]["claims"] == 1
    assert (await client.get(f"/v1/claims/{claim['id']}", headers=editor)).status_code == 404
    assert (
        await session.scalar(
            select(func.count()).where(Attribution.claim_id == uuid.UUID(claim["id"]))
        )
        == 0
    )
    again = await client.delete(f"/v1/claims/{claim['id']}", headers=editor)
    assert again.status_code == 404
    assert again.headers["content-type"] == PROBLEM


async def test_delete_claim_needs_content_write(client, session, writer, reader):
    article = await make_article(session)
    claim = await first_claim(client, article, writer)
    version = (await fetch_article(client, article.id, writer))["version"]

    anonymous = await client.delete(f"/v1/claims/{claim['id']}")
    read_only = await client.delete(f"/v1/claims/{claim['id']}", headers=reader)

    assert anonymous.status_code == 401
    assert read_only.status_code == 403
    assert (await client.get(f"/v1/claims/{claim['id']}")).status_code == 200
    assert (await fetch_article(client, article.id, writer))["version"] == version


# --- Source matching on write ---------------------------------------------------------------


async def post_claim(
    client: httpx.AsyncClient, article: Any, writer: dict, *attributions: dict
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/articles/{article.id}/claims",
        json={"statement": "Someone said something.", "attributions": list(attributions)},
        headers=writer,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_source_matching_ignores_case_and_spaces_within_a_kind(client, session, editor):
    article = await make_article(session)
    existing = (await first_claim(client, article, editor))["attributions"][0]["source"]
    sources = await count_rows(session, Source)

    same = await post_claim(
        client,
        article,
        editor,
        {"source": {"name": "  harbour   AUTHORITY ", "kind": "organization"}},
    )
    other_kind = await post_claim(
        client, article, editor, {"source": {"name": "Harbour Authority", "kind": "government"}}
    )

    assert source_ids(same) == [existing["id"]]
    assert same["attributions"][0]["source"]["name"] == "Harbour Authority"
    assert source_ids(other_kind) != [existing["id"]]
    assert other_kind["attributions"][0]["source"]["kind"] == "government"
    assert await count_rows(session, Source) == sources + 1


async def test_anonymous_sources_are_told_apart_by_affiliation(client, session, editor):
    article = await make_article(session)
    sources = await count_rows(session, Source)

    def officials(affiliation: str) -> dict:
        return {
            "source": {"name": "senior officials", "kind": "anonymous", "affiliation": affiliation},
            "anonymous_description": "senior officials",
        }

    federal = await post_claim(client, article, editor, officials("U.S. government"))
    city = await post_claim(client, article, editor, officials("City council"))
    federal_again = await post_claim(client, article, editor, officials("u.s.  Government"))

    assert source_ids(federal) != source_ids(city)
    assert source_ids(federal_again) == source_ids(federal)
    assert federal["attributions"][0]["source"]["affiliation"] == "U.S. government"
    assert await count_rows(session, Source) == sources + 2


async def test_attribution_by_source_id_links_the_existing_source(client, session, editor):
    article = await make_article(session)
    lind = (await client.get(f"/v1/articles/{article.id}/claims")).json()["data"][1][
        "attributions"
    ][0]["source"]
    sources = await count_rows(session, Source)

    linked = await post_claim(
        client, article, editor, {"source": {"id": lind["id"]}, "role": "denied_by"}
    )

    assert linked["attributions"][0]["source"] == lind
    assert linked["attributions"][0]["role"] == "denied_by"
    assert await count_rows(session, Source) == sources
    detail = await client.get(f"/v1/sources/{lind['id']}", headers=editor)
    assert detail.json()["claim_count"] == 2


async def test_one_new_source_named_twice_in_a_request_is_one_row(client, session, editor):
    article = await make_article(session)
    sources = await count_rows(session, Source)

    created = await post_claim(
        client,
        article,
        editor,
        {"source": {"name": "Pier Trust", "kind": "organization"}, "role": "asserted_by"},
        {"source": {"name": "pier  trust", "kind": "organization"}, "role": "confirmed_by"},
    )

    first, second = source_ids(created)
    assert first == second
    assert [a["role"] for a in created["attributions"]] == ["asserted_by", "confirmed_by"]
    assert await count_rows(session, Source) == sources + 1

    response = await client.post(
        "/v1/articles",
        json={
            "headline": "Two claims, one new source",
            "body": "Words.",
            "claims": [
                {
                    "statement": f"Claim {n}.",
                    "attributions": [{"source": {"name": "Dock Board", "kind": "government"}}],
                }
                for n in range(2)
            ],
        },
        headers=editor,
    )
    assert response.status_code == 201
    ids = {c["attributions"][0]["source"]["id"] for c in response.json()["claims"]}
    assert len(ids) == 1
    assert await count_rows(session, Source) == sources + 2
