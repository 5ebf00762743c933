"""Revisions: every change to an article or its claims writes exactly one revision, in the
same transaction, holding the whole article as it stood; failed writes write none. Also the
claim ids of PUT/PATCH claim lists, and which ETag each claim endpoint's If-Match takes."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.articles.models import Article, ArticleRevision
from tests.factories import article_data
from tests.helpers import (
    assert_problem,
    count_rows,
    create_article,
    error_locs,
    fetch_article,
    parse_time,
)

pytestmark = pytest.mark.anyio

SUMMARY_FIELDS = {"version", "created_at", "actor", "change"}


# --- helpers -------------------------------------------------------------------------------


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def all_revisions(client: httpx.AsyncClient, article_id: str, headers: dict) -> list[dict]:
    response = await client.get(
        f"/v1/articles/{article_id}/revisions", params={"limit": 100}, headers=headers
    )
    page = ok(response)
    assert page["next_cursor"] is None
    return page["data"]


async def revision(client: httpx.AsyncClient, article_id: str, version: int, headers: dict) -> dict:
    return ok(await client.get(f"/v1/articles/{article_id}/revisions/{version}", headers=headers))


def as_write(claim: dict, **overrides: Any) -> dict:
    """A claim as returned, turned into the body of a write that keeps its id."""
    written: dict[str, Any] = {
        "id": claim["id"],
        "statement": claim["statement"],
        "kind": claim["kind"],
        "verification": claim["verification"],
        "attributions": [
            {"source": {"id": a["source"]["id"]}, "role": a["role"], "cue": a["cue"]}
            for a in claim["attributions"]
        ],
    }
    if claim["quote"] is not None:
        written["quote"] = claim["quote"]
    if claim["anchor"] is not None and claim["kind"] != "quote":
        written["anchor"] = {"exact": claim["anchor"]["exact"]}
    written.update(overrides)
    return written


NEW_CLAIM = {
    "statement": "Ferry crossings will take twenty minutes longer.",
    "kind": "report",
    "anchor": {"exact": "the closure would add twenty minutes to each crossing"},
    "attributions": [
        {
            "source": {"name": "Ferry operators", "kind": "organization"},
            "role": "asserted_by",
            "cue": "said",
        }
    ],
}


async def full_history(client, writer, publisher) -> tuple[str, dict[int, dict], list[tuple]]:
    """Take one article through every kind of change. Returns its id, the article as each
    write left it (by version), and the (version, change, actor) each write should record."""
    states: dict[int, dict] = {}
    expected: list[tuple[int, str, str]] = []

    def record(article: dict, change: str, actor: str) -> None:
        version = article["version"]
        assert version == len(states) + 1, "versions must be gapless"
        states[version] = article
        expected.append((version, change, actor))

    article = await create_article(client, writer)
    article_id = article["id"]
    url = f"/v1/articles/{article_id}"
    record(article, "created", "writer")
    record(
        ok(await client.patch(url, json={"deck": "A new deck."}, headers=writer)),
        "updated",
        "writer",
    )
    replaced = article_data(headline="North pier closure confirmed", tags=["harbour"])
    record(ok(await client.put(url, json=replaced, headers=writer)), "replaced", "writer")
    claim = ok(await client.post(f"{url}/claims", json=NEW_CLAIM, headers=writer), 201)
    record(await fetch_article(client, article_id, writer), "claim_added", "writer")
    patched = {"verification": "disputed"}
    ok(await client.patch(f"/v1/claims/{claim['id']}", json=patched, headers=writer))
    record(await fetch_article(client, article_id, writer), "claim_updated", "writer")
    removed = await client.delete(f"/v1/claims/{claim['id']}", headers=writer)
    assert removed.status_code == 204, removed.text
    record(await fetch_article(client, article_id, writer), "claim_removed", "writer")
    record(ok(await client.post(f"{url}/publish", headers=publisher)), "published", "publisher")
    fix = {"text": "An earlier version misnamed the director."}
    record(
        ok(await client.post(f"{url}/corrections", json=fix, headers=publisher), 201),
        "corrected",
        "publisher",
    )
    record(ok(await client.post(f"{url}/unpublish", headers=publisher)), "unpublished", "publisher")
    record(ok(await client.post(f"{url}/publish", headers=publisher)), "published", "publisher")
    notice = {"text": "The pier is not closing."}
    record(
        ok(await client.post(f"{url}/retract", json=notice, headers=publisher)),
        "retracted",
        "publisher",
    )
    deleted = await client.delete(url, headers=publisher)
    assert deleted.status_code == 204, deleted.text
    expected.append((len(states) + 1, "deleted", "publisher"))
    return article_id, states, expected


# --- history ---------------------------------------------------------------------------------


async def test_every_change_writes_one_revision_with_its_name_and_actor(
    client, session, writer, publisher
):
    article_id, states, expected = await full_history(client, writer, publisher)
    assert [change for _, change, _ in expected] == [
        "created",
        "updated",
        "replaced",
        "claim_added",
        "claim_updated",
        "claim_removed",
        "published",
        "corrected",
        "unpublished",
        "published",
        "retracted",
        "deleted",
    ]
    # The history of a deleted article stays readable to writers.
    listed = await all_revisions(client, article_id, writer)
    assert [set(r) for r in listed] == [SUMMARY_FIELDS] * len(expected)
    assert [(r["version"], r["change"], r["actor"]) for r in listed] == expected[::-1]
    assert await count_rows(session, ArticleRevision) == len(expected)
    for summary in listed[1:]:
        version = summary["version"]
        assert parse_time(summary["created_at"]) == parse_time(states[version]["updated_at"])
    times = [parse_time(r["created_at"]) for r in listed]
    assert times == sorted(times, reverse=True)


async def test_each_revision_is_the_article_exactly_as_the_write_returned_it(
    client, writer, publisher
):
    article_id, states, expected = await full_history(client, writer, publisher)
    for version, state in states.items():
        snapshot = await revision(client, article_id, version, writer)
        assert snapshot == state, f"version {version}"
        assert snapshot["claims"] == state["claims"]
    last = len(expected)
    deleted = await revision(client, article_id, last, writer)
    before = states[last - 1]
    assert deleted["version"] == last
    assert {k: v for k, v in deleted.items() if k not in ("version", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("version", "updated_at")
    }


async def test_the_claim_revisions_hold_the_claims_as_they_stood(client, writer, publisher):
    article_id, states, _ = await full_history(client, writer, publisher)
    counts = {v: len((await revision(client, article_id, v, writer))["claims"]) for v in states}
    assert counts[3] == 2 and counts[4] == 3 and counts[5] == 3 and counts[6] == 2
    added = next(c for c in states[4]["claims"] if c["kind"] == "report")
    updated = next(c for c in states[5]["claims"] if c["id"] == added["id"])
    assert (added["verification"], updated["verification"]) == ("unverified", "disputed")
    fourth = await revision(client, article_id, 4, writer)
    assert next(c for c in fourth["claims"] if c["id"] == added["id"]) == added


async def test_each_write_adds_exactly_one_revision(client, session, writer, publisher):
    article = await create_article(client, writer)
    url = f"/v1/articles/{article['id']}"
    writes = [
        lambda: client.patch(url, json={"headline": "Pier closes"}, headers=writer),
        lambda: client.put(url, json=article_data(), headers=writer),
        lambda: client.post(f"{url}/claims", json=NEW_CLAIM, headers=writer),
        lambda: client.post(f"{url}/publish", headers=publisher),
        lambda: client.post(f"{url}/corrections", json={"text": "Fix."}, headers=publisher),
        lambda: client.delete(url, headers=publisher),
    ]
    for n, write in enumerate(writes, start=2):
        assert (await write()).is_success
        assert await count_rows(session, ArticleRevision) == n
        versions = list(await session.scalars(select(ArticleRevision.version)))
        assert sorted(versions) == list(range(1, n + 1))
    stored = await session.get(Article, uuid.UUID(article["id"]))
    await session.refresh(stored)
    assert stored.version == len(writes) + 1


async def test_the_latest_revision_equals_the_current_article(client, writer, publisher):
    article = await create_article(client, writer)
    url = f"/v1/articles/{article['id']}"
    ok(await client.post(f"{url}/publish", headers=publisher))
    current = await client.get(url, headers=writer)
    latest = await client.get(f"{url}/revisions/2", headers=writer)
    assert latest.json() == current.json()
    assert latest.headers["etag"] == current.headers["etag"]


async def test_revisions_can_be_addressed_by_slug(client, writer):
    article = await create_article(client, writer, slug="pier-story")
    listed = await all_revisions(client, "pier-story", writer)
    assert [r["version"] for r in listed] == [1]
    assert await revision(client, "pier-story", 1, writer) == article


# --- the list and the single revision --------------------------------------------------------


async def test_the_revision_list_paginates_newest_first_with_a_cursor(client, writer):
    article = await create_article(client, writer)
    url = f"/v1/articles/{article['id']}"
    for n in range(6):
        ok(await client.patch(url, json={"deck": f"Deck {n}"}, headers=writer))
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 3}
    pages = 0
    while True:
        response = await client.get(f"{url}/revisions", params=params, headers=writer)
        page = ok(response)
        pages += 1
        assert len(page["data"]) <= 3
        seen += [r["version"] for r in page["data"]]
        if page["next_cursor"] is None:
            assert "link" not in response.headers
            break
        assert 'rel="next"' in response.headers["link"]
        assert f"cursor={page['next_cursor']}" in response.headers["link"]
        params["cursor"] = page["next_cursor"]
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    assert pages == 3


async def test_a_malformed_revision_cursor_is_422(client, writer):
    article = await create_article(client, writer)
    response = await client.get(
        f"/v1/articles/{article['id']}/revisions", params={"cursor": "nonsense"}, headers=writer
    )
    assert ["query", "cursor"] in error_locs(assert_problem(response, 422))


async def test_a_revision_links_to_its_neighbours_and_the_latest(client, writer):
    article = await create_article(client, writer)
    url = f"/v1/articles/{article['id']}"
    for n in range(2):
        ok(await client.patch(url, json={"deck": f"Deck {n}"}, headers=writer))
    base = f"/v1/articles/{article['id']}/revisions"

    first = await client.get(f"{base}/1", headers=writer)
    assert f'<{base}/3>; rel="latest-version"' in first.headers["link"]
    assert "predecessor-version" not in first.headers["link"]
    assert f'<{base}/2>; rel="successor-version"' in first.headers["link"]

    middle = await client.get(f"{base}/2", headers=writer)
    assert f'<{base}/1>; rel="predecessor-version"' in middle.headers["link"]
    assert f'<{base}/3>; rel="latest-version"' in middle.headers["link"]

    last = await client.get(f"{base}/3", headers=writer)
    assert f'<{base}/2>; rel="predecessor-version"' in last.headers["link"]
    assert "successor-version" not in last.headers["link"]
    assert f'<{base}>; rel="version-history"' in last.headers["link"]


async def test_a_revision_is_private_and_cacheable_by_etag(client, writer):
    article = await create_article(client, writer)
    url = f"/v1/articles/{article['id']}/revisions/1"
    response = await client.get(url, headers=writer)
    assert response.headers["cache-control"] == "private, no-store"
    etag = response.headers["etag"]
    assert etag.startswith('"')
    again = await client.get(url, headers={**writer, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("version", [2, 0, 999])
async def test_an_unknown_version_is_404(client, writer, version):
    article = await create_article(client, writer)
    response = await client.get(f"/v1/articles/{article['id']}/revisions/{version}", headers=writer)
    assert str(version) in assert_problem(response, 404)["detail"]


async def test_a_non_numeric_version_is_422(client, writer):
    article = await create_article(client, writer)
    response = await client.get(f"/v1/articles/{article['id']}/revisions/latest", headers=writer)
    assert ["path", "version"] in error_locs(assert_problem(response, 422))


@pytest.mark.parametrize("version", [-1, 2**31, 2**63, 10**30])
async def test_a_version_beyond_what_is_stored_is_422_not_500(client, writer, version):
    # Found by schemathesis (tests/test_fuzz.py): a version past 64 bits overflowed SQLite's
    # driver, past 32 bits PostgreSQL's, and both answered 500.
    article = await create_article(client, writer)
    response = await client.get(f"/v1/articles/{article['id']}/revisions/{version}", headers=writer)
    assert ["path", "version"] in error_locs(assert_problem(response, 422))


async def test_revisions_of_an_unknown_article_are_404(client, writer):
    unknown = uuid.uuid4()
    assert_problem(await client.get(f"/v1/articles/{unknown}/revisions", headers=writer), 404)
    assert_problem(await client.get(f"/v1/articles/{unknown}/revisions/1", headers=writer), 404)


@pytest.mark.parametrize("path", ["/revisions", "/revisions/1"])
async def test_revisions_need_the_write_scope(client, writer, reader, path):
    article = await create_article(client, writer)
    url = f"/v1/articles/{article['id']}{path}"
    anonymous = await client.get(url)
    assert_problem(anonymous, 401)
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    problem = assert_problem(await client.get(url, headers=reader), 403)
    assert "content:write" in problem["detail"]
    assert (await client.get(url, headers=writer)).status_code == 200


async def test_the_history_of_a_published_article_is_still_private(client, writer, publisher):
    article = await create_article(client, writer)
    url = f"/v1/articles/{article['id']}"
    ok(await client.post(f"{url}/publish", headers=publisher))
    assert (await client.get(url)).status_code == 200
    assert_problem(await client.get(f"{url}/revisions"), 401)
    assert_problem(await client.get(f"{url}/revisions/1"), 401)


async def test_a_deleted_article_keeps_its_history_for_writers(client, writer, publisher):
    article = await create_article(client, writer)
    url = f"/v1/articles/{article['id']}"
    ok(await client.post(f"{url}/publish", headers=publisher))
    assert (await client.delete(url, headers=publisher)).status_code == 204
    assert_problem(await client.get(url, headers=writer), 410)
    listed = await all_revisions(client, article["id"], writer)
    assert [(r["version"], r["change"]) for r in listed] == [
        (3, "deleted"),
        (2, "published"),
        (1, "created"),
    ]
    assert await revision(client, article["id"], 1, writer) == article


# --- failed writes ---------------------------------------------------------------------------


async def test_failed_writes_write_no_revision(client, session, writer, publisher):
    article = await create_article(client, writer)
    await create_article(client, writer, slug="taken-slug")
    url = f"/v1/articles/{article['id']}"
    stale = (await client.get(url, headers=writer)).headers["etag"]
    current = ok(await client.patch(url, json={"deck": "Moved on."}, headers=writer))
    claim_id = current["claims"][0]["id"]
    revisions = await count_rows(session, ArticleRevision)
    failures = [
        (422, lambda: client.patch(url, json={"headline": "x" * 301}, headers=writer)),
        (422, lambda: client.put(url, json=article_data(headline=""), headers=writer)),
        (422, lambda: client.post(f"{url}/claims", json={"statement": ""}, headers=writer)),
        (
            412,
            lambda: client.patch(url, json={"deck": "Lost"}, headers={**writer, "If-Match": stale}),
        ),
        (412, lambda: client.put(url, json=article_data(), headers={**writer, "If-Match": stale})),
        (412, lambda: client.post(f"{url}/publish", headers={**publisher, "If-Match": stale})),
        (409, lambda: client.patch(url, json={"slug": "taken-slug"}, headers=writer)),
        (409, lambda: client.post(f"{url}/unpublish", headers=publisher)),
        (409, lambda: client.post(f"{url}/corrections", json={"text": "Fix."}, headers=publisher)),
        (403, lambda: client.post(f"{url}/publish", headers=writer)),
        (
            412,
            lambda: client.patch(
                f"/v1/claims/{claim_id}",
                json={"verification": "refuted"},
                headers={**writer, "If-Match": '"stale"'},
            ),
        ),
        (
            412,
            lambda: client.delete(f"/v1/claims/{claim_id}", headers={**writer, "If-Match": '"x"'}),
        ),
    ]
    for status, request in failures:
        response = await request()
        assert_problem(response, status)
        assert await count_rows(session, ArticleRevision) == revisions, response.text
    assert await fetch_article(client, article["id"], writer) == current
    listed = await all_revisions(client, article["id"], writer)
    assert [r["version"] for r in listed] == [2, 1]


# --- claim ids on PUT and PATCH --------------------------------------------------------------


async def test_put_keeps_the_id_of_a_claim_given_with_its_id(client, session, writer):
    article = await create_article(client, writer)
    kept, dropped = article["claims"]
    body = article_data(
        claims=[as_write(kept, statement="The north pier will close for a month."), NEW_CLAIM]
    )
    response = await client.put(f"/v1/articles/{article['id']}", json=body, headers=writer)
    replaced = ok(response)
    assert replaced["version"] == 2
    first, second = replaced["claims"]
    assert first["id"] == kept["id"]
    assert first["created_at"] == kept["created_at"]
    assert first["statement"] == "The north pier will close for a month."
    assert first["attributions"] == kept["attributions"]
    assert first["anchor"] == kept["anchor"]
    assert second["id"] not in (kept["id"], dropped["id"])
    assert second["statement"] == NEW_CLAIM["statement"]
    assert_problem(await client.get(f"/v1/claims/{dropped['id']}", headers=writer), 404)
    claim = ok(await client.get(f"/v1/claims/{kept['id']}", headers=writer))
    assert claim == first
    assert await revision(client, article["id"], 2, writer) == replaced
    assert await revision(client, article["id"], 1, writer) == article


async def test_patch_claims_with_ids_keeps_them(client, writer):
    article = await create_article(client, writer)
    first, second = article["claims"]
    patch = {"claims": [as_write(second), as_write(first, verification="disputed")]}
    patched = ok(await client.patch(f"/v1/articles/{article['id']}", json=patch, headers=writer))
    assert [c["id"] for c in patched["claims"]] == [second["id"], first["id"]]
    assert patched["claims"][1]["verification"] == "disputed"
    assert patched["claims"][1]["created_at"] == first["created_at"]


async def test_put_without_the_claims_removes_them_all(client, writer):
    article = await create_article(client, writer)
    body = article_data(claims=[])
    replaced = ok(await client.put(f"/v1/articles/{article['id']}", json=body, headers=writer))
    assert replaced["claims"] == []
    assert replaced["sourcing"]["claims"] == 0
    for claim in article["claims"]:
        assert_problem(await client.get(f"/v1/claims/{claim['id']}", headers=writer), 404)


async def claim_id_problem(client, session, writer, article: dict, claims: list) -> dict:
    revisions = await count_rows(session, ArticleRevision)
    response = await client.put(
        f"/v1/articles/{article['id']}",
        json=article_data(headline="Changed headline", claims=claims),
        headers=writer,
    )
    problem = assert_problem(response, 422)
    assert await fetch_article(client, article["id"], writer) == article
    assert await count_rows(session, ArticleRevision) == revisions
    return problem


async def test_an_unknown_claim_id_is_422_and_changes_nothing(client, session, writer):
    article = await create_article(client, writer)
    unknown = as_write(article["claims"][0], id=str(uuid.uuid4()))
    problem = await claim_id_problem(client, session, writer, article, [unknown])
    assert error_locs(problem) == [["body", "claims", 0, "id"]]


async def test_the_id_of_another_articles_claim_is_422(client, session, writer):
    article = await create_article(client, writer)
    other = await create_article(client, writer, headline="Another story")
    foreign = as_write(other["claims"][0])
    kept = as_write(article["claims"][0])
    problem = await claim_id_problem(client, session, writer, article, [kept, foreign])
    assert error_locs(problem) == [["body", "claims", 1, "id"]]
    assert (
        ok(await client.get(f"/v1/claims/{foreign['id']}", headers=writer))["article_id"]
        == (other["id"])
    )


async def test_the_same_claim_id_twice_is_422(client, session, writer):
    article = await create_article(client, writer)
    claim = article["claims"][0]
    twice = [as_write(claim), as_write(claim, statement="Another statement.")]
    problem = await claim_id_problem(client, session, writer, article, twice)
    assert error_locs(problem) == [["body", "claims", 1, "id"]]


@pytest.mark.parametrize("claim_id", ["not-a-uuid", 12])
async def test_a_malformed_claim_id_is_422(client, session, writer, claim_id):
    article = await create_article(client, writer)
    claim = as_write(article["claims"][0], id=claim_id)
    problem = await claim_id_problem(client, session, writer, article, [claim])
    assert ["body", "claims", 0, "id"] in error_locs(problem)


async def test_post_with_a_claim_id_is_422_and_stores_nothing(client, session, writer):
    data = article_data()
    data["claims"][0]["id"] = str(uuid.uuid4())
    problem = assert_problem(await client.post("/v1/articles", json=data, headers=writer), 422)
    assert error_locs(problem) == [["body", "claims", 0, "id"]]
    assert await session.scalar(select(func.count()).select_from(Article)) == 0
    assert await count_rows(session, ArticleRevision) == 0


async def test_adding_a_claim_with_an_id_is_422(client, session, writer):
    article = await create_article(client, writer)
    claim = {**NEW_CLAIM, "id": str(uuid.uuid4())}
    response = await client.post(f"/v1/articles/{article['id']}/claims", json=claim, headers=writer)
    assert ["body", "id"] in error_locs(assert_problem(response, 422))
    assert await fetch_article(client, article["id"], writer) == article
    assert await count_rows(session, ArticleRevision) == 1


# --- which ETag the claim endpoints' If-Match takes ------------------------------------------


async def test_adding_a_claim_takes_the_articles_etag(client, session, writer):
    article = await create_article(client, writer)
    url = f"/v1/articles/{article['id']}"
    article_etag = (await client.get(url, headers=writer)).headers["etag"]
    claim_etag = (
        await client.get(f"/v1/claims/{article['claims'][0]['id']}", headers=writer)
    ).headers["etag"]
    wrong = await client.post(
        f"{url}/claims", json=NEW_CLAIM, headers={**writer, "If-Match": claim_etag}
    )
    assert_problem(wrong, 412)
    assert await count_rows(session, ArticleRevision) == 1
    right = await client.post(
        f"{url}/claims", json=NEW_CLAIM, headers={**writer, "If-Match": article_etag}
    )
    added = ok(right, 201)
    assert right.headers["location"] == f"/v1/claims/{added['id']}"
    assert (await fetch_article(client, article["id"], writer))["version"] == 2


async def test_editing_a_claim_takes_the_claims_etag(client, session, writer):
    article = await create_article(client, writer)
    claim_id = article["claims"][0]["id"]
    article_etag = (await client.get(f"/v1/articles/{article['id']}", headers=writer)).headers[
        "etag"
    ]
    claim_response = await client.get(f"/v1/claims/{claim_id}", headers=writer)
    claim_etag = claim_response.headers["etag"]
    change = {"verification": "disputed"}
    wrong = await client.patch(
        f"/v1/claims/{claim_id}", json=change, headers={**writer, "If-Match": article_etag}
    )
    assert_problem(wrong, 412)
    assert await count_rows(session, ArticleRevision) == 1
    right = await client.patch(
        f"/v1/claims/{claim_id}", json=change, headers={**writer, "If-Match": claim_etag}
    )
    edited = ok(right)
    assert edited["verification"] == "disputed"
    fresh = await client.get(f"/v1/claims/{claim_id}", headers=writer)
    assert right.headers["etag"] == fresh.headers["etag"] != claim_etag
    # The old claim ETag is stale now.
    again = await client.patch(
        f"/v1/claims/{claim_id}",
        json={"verification": "refuted"},
        headers={**writer, "If-Match": claim_etag},
    )
    assert_problem(again, 412)
    assert await count_rows(session, ArticleRevision) == 2


async def test_deleting_a_claim_takes_the_claims_etag(client, session, writer):
    article = await create_article(client, writer)
    claim_id = article["claims"][0]["id"]
    url = f"/v1/claims/{claim_id}"
    claim_etag = (await client.get(url, headers=writer)).headers["etag"]
    ok(await client.patch(url, json={"verification": "unclear"}, headers=writer))
    assert_problem(await client.delete(url, headers={**writer, "If-Match": claim_etag}), 412)
    current = (await client.get(url, headers=writer)).headers["etag"]
    removed = await client.delete(url, headers={**writer, "If-Match": current})
    assert removed.status_code == 204
    assert_problem(await client.get(url, headers=writer), 404)
    changes = [r["change"] for r in await all_revisions(client, article["id"], writer)]
    assert changes == ["claim_removed", "claim_updated", "created"]
