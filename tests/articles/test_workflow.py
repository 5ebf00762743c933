"""The editorial workflow: publish (now or scheduled), unpublish, retract, corrections and
delete, with who may call them, what readers see afterwards in every read endpoint, If-Match,
and the purge of deleted articles (service and CLI)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.articles import workflow
from app.articles.models import Article, ArticleRevision, Correction, RevisionPiece
from app.claims.models import Attribution, Claim
from app.db import create_engine
from app.sources.models import Source
from tests.factories import article_data, make_article
from tests.helpers import (
    assert_problem,
    count_rows,
    create_article,
    fetch_article,
    newsdesk,
    parse_time,
)

pytestmark = pytest.mark.anyio


# --- helpers -------------------------------------------------------------------------------


async def step(
    client: httpx.AsyncClient,
    article_id: str,
    action: str,
    headers: dict,
    body: dict | None = None,
) -> httpx.Response:
    """POST /v1/articles/{id}/{action} (or DELETE for action "delete")."""
    if action == "delete":
        return await client.delete(f"/v1/articles/{article_id}", headers=headers)
    return await client.post(f"/v1/articles/{article_id}/{action}", json=body, headers=headers)


async def published(client: httpx.AsyncClient, writer: dict, publisher: dict, **kw: Any) -> dict:
    article = await create_article(client, writer, **kw)
    response = await step(client, article["id"], "publish", publisher)
    assert response.status_code == 200, response.text
    return response.json()


async def scheduled(client: httpx.AsyncClient, writer: dict, publisher: dict) -> dict:
    """A new article, scheduled to go live in an hour; the article as created."""
    article = await create_article(client, writer)
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = await step(client, article["id"], "publish", publisher, {"published_at": at})
    assert response.is_success, response.text
    return article


def ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["data"]}


def term_count(response: httpx.Response, name: str) -> int:
    assert response.status_code == 200, response.text
    # A section by its slug (its `name` is for display), a tag by its name.
    terms = response.json()["data"]
    return next((t["article_count"] for t in terms if t.get("slug", t["name"]) == name), 0)


async def public_view(client: httpx.AsyncClient, article: dict) -> dict[str, Any]:
    """What an anonymous reader sees of `article` (a writer's copy, with claims) in every
    read endpoint."""
    claim_ids = {c["id"] for c in article["claims"]}
    source_ids = {a["source"]["id"] for c in article["claims"] for a in c["attributions"]}
    single = await client.get(f"/v1/articles/{article['id']}")
    source_claims: set[str] = set()
    for source_id in source_ids:
        response = await client.get(f"/v1/sources/{source_id}/claims", params={"limit": 100})
        # A source cited only by hidden articles is itself hidden from readers (404).
        assert response.status_code in (200, 404), response.text
        if response.status_code == 200:
            source_claims |= ids(response) & claim_ids
    return {
        "single": single.status_code,
        "listed": article["id"] in ids(await client.get("/v1/articles", params={"limit": 100})),
        "searched": article["id"] in ids(await client.get("/v1/articles", params={"q": "pier"})),
        "section": term_count(await client.get("/v1/sections"), article["section"]),
        "tag": term_count(await client.get("/v1/tags"), article["tags"][0]),
        "claims": ids(await client.get("/v1/claims", params={"limit": 100})) & claim_ids,
        "source_claims": source_claims,
    }


def visible(article: dict) -> dict[str, Any]:
    claim_ids = {c["id"] for c in article["claims"]}
    return {
        "single": 200,
        "listed": True,
        "searched": True,
        "section": 1,
        "tag": 1,
        "claims": claim_ids,
        "source_claims": {c["id"] for c in article["claims"] if c["attributions"]},
    }


HIDDEN = {
    "single": 404,
    "listed": False,
    "searched": False,
    "section": 0,
    "tag": 0,
    "claims": set(),
    "source_claims": set(),
}


# --- scopes ----------------------------------------------------------------------------------

ACTIONS = [
    ("publish", None),
    ("unpublish", None),
    ("retract", {"text": "This story was wrong."}),
    ("corrections", {"text": "An earlier version misspelt a name."}),
    ("delete", None),
]


@pytest.mark.parametrize(("action", "body"), ACTIONS)
async def test_workflow_steps_need_the_publish_scope(client, writer, publisher, action, body):
    article = await published(client, writer, publisher)
    forbidden = await step(client, article["id"], action, writer, body)
    problem = assert_problem(forbidden, 403)
    assert "content:publish" in problem["detail"]
    anonymous = await step(client, article["id"], action, {}, body)
    assert_problem(anonymous, 401)
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    after = await fetch_article(client, article["id"], writer)
    assert after == article


# --- publish ---------------------------------------------------------------------------------


async def test_publish_now_makes_the_draft_public(client, writer, publisher):
    draft = await create_article(client, writer)
    assert (draft["status"], draft["published_at"], draft["first_published_at"]) == (
        "draft",
        None,
        None,
    )
    assert await public_view(client, draft) == HIDDEN
    before = datetime.now(UTC)
    response = await step(client, draft["id"], "publish", publisher)
    after = datetime.now(UTC)
    assert response.status_code == 200, response.text
    article = response.json()
    assert article["status"] == "published"
    assert before <= parse_time(article["published_at"]) <= after
    assert article["first_published_at"] == article["published_at"]
    assert article["version"] == draft["version"] + 1
    assert article["body"] == draft["body"] and article["claims"] == draft["claims"]
    assert await public_view(client, article) == visible(article)
    assert await fetch_article(client, draft["id"], {}) == article


async def test_publish_with_a_time_in_the_past_is_public_at_once(client, writer, publisher):
    draft = await create_article(client, writer)
    at = datetime.now(UTC) - timedelta(seconds=1)
    response = await step(
        client, draft["id"], "publish", publisher, {"published_at": at.isoformat()}
    )
    assert response.status_code == 200, response.text
    article = response.json()
    assert parse_time(article["published_at"]) == at
    assert parse_time(article["first_published_at"]) == at
    assert await public_view(client, article) == visible(article)


async def test_publish_with_a_future_time_schedules_the_article(client, writer, publisher):
    draft = await create_article(client, writer)
    at = datetime.now(UTC) + timedelta(minutes=1)
    response = await step(
        client, draft["id"], "publish", publisher, {"published_at": at.isoformat()}
    )
    assert response.status_code == 200, response.text
    article = response.json()
    assert article["status"] == "published"
    assert parse_time(article["published_at"]) == at
    # Hidden from readers everywhere until the time comes...
    assert await public_view(client, article) == HIDDEN
    # ...but writers see it, scheduled, in the single GET and the status=all list.
    assert await fetch_article(client, draft["id"], writer) == article
    listed = await client.get("/v1/articles", params={"status": "all"}, headers=writer)
    assert article["id"] in ids(listed)


async def test_published_at_is_returned_in_utc(client, editor, publisher):
    draft = await create_article(client, editor)
    response = await step(
        client, draft["id"], "publish", publisher, {"published_at": "2020-03-01T12:00:00+02:00"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["published_at"] == "2020-03-01T10:00:00Z"
    assert response.json()["first_published_at"] == "2020-03-01T10:00:00Z"
    again = await client.get(f"/v1/articles/{draft['id']}", headers=editor)
    assert again.json()["published_at"] == "2020-03-01T10:00:00Z"
    assert again.json() == response.json()
    assert again.headers["etag"] == response.headers["etag"]
    history = await client.get(f"/v1/articles/{draft['id']}/revisions/2", headers=editor)
    assert history.json() == again.json()
    # The ETag the write returned is good for the next write.
    follow_up = await client.patch(
        f"/v1/articles/{draft['id']}",
        json={"deck": "Next edit."},
        headers={**editor, "If-Match": response.headers["etag"]},
    )
    assert follow_up.status_code == 200, follow_up.text


@pytest.mark.parametrize(
    "published_at", ["2030-01-01T10:00:00", "tomorrow", "2030-13-01T00:00:00Z"]
)
async def test_publish_with_an_invalid_time_is_422_and_changes_nothing(
    client, writer, publisher, published_at
):
    draft = await create_article(client, writer)
    response = await step(client, draft["id"], "publish", publisher, {"published_at": published_at})
    problem = assert_problem(response, 422)
    assert ["body", "published_at"] in [e["loc"] for e in problem["errors"]]
    assert await fetch_article(client, draft["id"], writer) == draft


async def test_schedule_boundary_just_before_and_just_after_published_at(client, session, writer):
    stored = await make_article(
        session, published_at=datetime.now(UTC) + timedelta(hours=1), section="boundary"
    )
    article = await fetch_article(client, str(stored.id), writer)
    assert await public_view(client, article) == HIDDEN

    stored.published_at = datetime.now(UTC) + timedelta(seconds=2)
    await session.commit()
    assert await public_view(client, article) == HIDDEN

    stored.published_at = datetime.now(UTC) - timedelta(milliseconds=1)
    await session.commit()
    assert await public_view(client, article) == visible(article)


async def test_an_article_becomes_visible_once_published_at_is_reached(client, session):
    stored = await make_article(session, published_at=datetime.now(UTC) - timedelta(hours=1))
    reference = str(stored.id)
    stored.published_at = datetime.now(UTC) + timedelta(seconds=1)
    await session.commit()
    assert (await client.get(f"/v1/articles/{reference}")).status_code == 404
    stored.published_at = datetime.now(UTC)
    await session.commit()
    assert (await client.get(f"/v1/articles/{reference}")).status_code == 200


async def test_republishing_without_a_time_is_409_and_changes_nothing(client, writer, publisher):
    article = await published(client, writer, publisher)
    for body in (None, {}):
        response = await step(client, article["id"], "publish", publisher, body)
        problem = assert_problem(response, 409)
        assert "published_at" in problem["detail"]
    assert await fetch_article(client, article["id"], writer) == article


async def test_republishing_with_a_new_time_moves_published_at_only(client, writer, publisher):
    article = await published(client, writer, publisher)
    later = datetime.now(UTC) - timedelta(seconds=5)
    moved = await step(
        client, article["id"], "publish", publisher, {"published_at": later.isoformat()}
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert parse_time(body["published_at"]) == later
    assert body["first_published_at"] == article["first_published_at"]
    assert body["version"] == article["version"] + 1
    assert body["status"] == "published"


async def test_publish_an_unknown_article_is_404(client, publisher):
    response = await step(client, str(uuid.uuid4()), "publish", publisher)
    assert_problem(response, 404)


async def test_first_published_at_is_not_a_scheduled_time_that_never_came(
    client, writer, publisher
):
    draft = await scheduled(client, writer, publisher)
    # The schedule is brought forward: the story goes live now.
    now = datetime.now(UTC) - timedelta(seconds=1)
    moved = await step(client, draft["id"], "publish", publisher, {"published_at": now.isoformat()})
    assert moved.status_code == 200, moved.text
    article = moved.json()
    assert (await client.get(f"/v1/articles/{draft['id']}")).status_code == 200
    assert parse_time(article["first_published_at"]) <= datetime.now(UTC)
    assert article["first_published_at"] == article["published_at"]


async def test_first_published_at_after_an_unpublished_schedule_is_the_real_first_time(
    client, writer, publisher
):
    draft = await scheduled(client, writer, publisher)
    assert (await step(client, draft["id"], "unpublish", publisher)).is_success
    response = await step(client, draft["id"], "publish", publisher)
    assert response.status_code == 200, response.text
    article = response.json()
    assert parse_time(article["first_published_at"]) <= parse_time(article["published_at"])


async def test_the_workflow_state_is_not_writable_by_patch_or_put(client, editor, publisher):
    article = await published(client, editor, publisher)
    url = f"/v1/articles/{article['id']}"
    for field, value in (
        ("status", "draft"),
        ("published_at", "2020-01-01T00:00:00Z"),
        ("first_published_at", "2020-01-01T00:00:00Z"),
        ("version", 99),
        ("retraction", {"text": "No."}),
    ):
        patch = await client.patch(url, json={field: value}, headers=editor)
        assert ["body", field] in [e["loc"] for e in assert_problem(patch, 422)["errors"]]
    assert await fetch_article(client, article["id"], editor) == article
    replaced = await client.put(url, json=article_data(headline="Replaced"), headers=editor)
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["status"] == "published"
    assert body["published_at"] == article["published_at"]
    assert body["first_published_at"] == article["first_published_at"]
    assert (await client.get(url)).status_code == 200


# --- unpublish -------------------------------------------------------------------------------


async def test_unpublish_takes_the_article_back_to_draft_and_out_of_sight(
    client, writer, publisher
):
    article = await published(client, writer, publisher)
    assert await public_view(client, article) == visible(article)
    response = await step(client, article["id"], "unpublish", publisher)
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["status"] == "draft"
    assert draft["published_at"] == article["published_at"]
    assert draft["first_published_at"] == article["first_published_at"]
    assert draft["version"] == article["version"] + 1
    assert await public_view(client, draft) == HIDDEN
    assert await fetch_article(client, article["id"], writer) == draft
    drafts = await client.get("/v1/articles", params={"status": "draft"}, headers=writer)
    assert article["id"] in ids(drafts)


async def test_publishing_again_after_unpublish_keeps_first_published_at(client, writer, publisher):
    article = await published(client, writer, publisher)
    assert (await step(client, article["id"], "unpublish", publisher)).status_code == 200
    again = await step(client, article["id"], "publish", publisher)
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["status"] == "published"
    assert body["first_published_at"] == article["first_published_at"]
    assert parse_time(body["published_at"]) > parse_time(article["published_at"])
    assert await public_view(client, body) == visible(body)


async def test_unpublishing_a_draft_is_409_and_changes_nothing(client, writer, publisher):
    draft = await create_article(client, writer)
    problem = assert_problem(await step(client, draft["id"], "unpublish", publisher), 409)
    assert "draft" in problem["detail"]
    assert await fetch_article(client, draft["id"], writer) == draft


async def test_unpublishing_a_retracted_article_is_409(client, writer, publisher):
    article = await published(client, writer, publisher)
    retracted = await step(client, article["id"], "retract", publisher, {"text": "Wrong."})
    assert retracted.status_code == 200
    assert_problem(await step(client, article["id"], "unpublish", publisher), 409)
    assert await fetch_article(client, article["id"], writer) == retracted.json()


# --- retract ---------------------------------------------------------------------------------


async def test_retract_keeps_the_story_readable_under_the_notice(client, writer, publisher):
    article = await published(client, writer, publisher)
    before = datetime.now(UTC)
    response = await step(
        client, article["id"], "retract", publisher, {"text": "The pier is not closing."}
    )
    assert response.status_code == 200, response.text
    retracted = response.json()
    assert retracted["status"] == "retracted"
    assert retracted["retraction"]["text"] == "The pier is not closing."
    assert set(retracted["retraction"]) == {"text", "created_at"}
    assert before <= parse_time(retracted["retraction"]["created_at"]) <= datetime.now(UTC)
    assert retracted["body"] == article["body"]
    assert retracted["claims"] == article["claims"]
    assert retracted["published_at"] == article["published_at"]
    assert retracted["version"] == article["version"] + 1
    public = await client.get(f"/v1/articles/{article['id']}")
    assert public.status_code == 200
    assert public.json() == retracted
    assert public.headers["cache-control"].startswith("public")
    listed = await client.get("/v1/articles", params={"status": "retracted"}, headers=writer)
    assert ids(listed) == {article["id"]}


async def test_retracting_a_draft_is_409_and_changes_nothing(client, writer, publisher):
    draft = await create_article(client, writer)
    assert_problem(await step(client, draft["id"], "retract", publisher, {"text": "No."}), 409)
    assert await fetch_article(client, draft["id"], writer) == draft


async def test_retracting_a_scheduled_article_is_409_and_changes_nothing(client, writer, publisher):
    draft = await create_article(client, writer)
    at = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    scheduled = await step(client, draft["id"], "publish", publisher, {"published_at": at})
    assert scheduled.status_code == 200
    assert_problem(await step(client, draft["id"], "retract", publisher, {"text": "No."}), 409)
    assert await fetch_article(client, draft["id"], writer) == scheduled.json()


async def test_retracting_twice_is_409(client, writer, publisher):
    article = await published(client, writer, publisher)
    first = await step(client, article["id"], "retract", publisher, {"text": "First notice."})
    assert first.status_code == 200
    assert_problem(await step(client, article["id"], "retract", publisher, {"text": "2nd"}), 409)
    assert (await fetch_article(client, article["id"], writer))["retraction"][
        "text"
    ] == "First notice."


async def test_publishing_a_retracted_article_is_409(client, writer, publisher):
    article = await published(client, writer, publisher)
    retracted = await step(client, article["id"], "retract", publisher, {"text": "Wrong."})
    assert retracted.status_code == 200
    for body in (None, {"published_at": datetime.now(UTC).isoformat()}):
        assert_problem(await step(client, article["id"], "publish", publisher, body), 409)
    assert await fetch_article(client, article["id"], writer) == retracted.json()


@pytest.mark.parametrize("action", ["retract", "corrections"])
@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"text": ""}, ["body", "text"]),
        ({"text": "   "}, ["body", "text"]),
        ({}, ["body", "text"]),
        ({"text": "ok", "extra": 1}, ["body", "extra"]),
        ({"text": "x" * 2001}, ["body", "text"]),
    ],
)
async def test_notices_need_a_text_and_a_bad_one_changes_nothing(
    client, writer, publisher, action, body, loc
):
    article = await published(client, writer, publisher)
    problem = assert_problem(await step(client, article["id"], action, publisher, body), 422)
    assert loc in [e["loc"] for e in problem["errors"]]
    assert await fetch_article(client, article["id"], writer) == article


# --- corrections -----------------------------------------------------------------------------


async def test_corrections_append_public_notes_oldest_first(client, writer, publisher):
    article = await published(client, writer, publisher)
    assert article["corrections"] == []
    first = await step(client, article["id"], "corrections", publisher, {"text": "First fix."})
    assert first.status_code == 201, first.text
    assert first.json()["version"] == article["version"] + 1
    second = await step(client, article["id"], "corrections", publisher, {"text": "Second fix."})
    assert second.status_code == 201, second.text
    body = second.json()
    assert body["version"] == article["version"] + 2
    assert [c["text"] for c in body["corrections"]] == ["First fix.", "Second fix."]
    for correction in body["corrections"]:
        assert set(correction) == {"id", "text", "created_at"}
        uuid.UUID(correction["id"])
    assert body["corrections"][0] == first.json()["corrections"][0]
    times = [parse_time(c["created_at"]) for c in body["corrections"]]
    assert times[0] <= times[1]
    assert body["status"] == "published" and body["body"] == article["body"]
    public = await fetch_article(client, article["id"], {})
    assert public["corrections"] == body["corrections"]


async def test_a_correction_on_a_never_published_draft_is_409(client, session, writer, publisher):
    draft = await create_article(client, writer)
    response = await step(client, draft["id"], "corrections", publisher, {"text": "Fix."})
    assert_problem(response, 409)
    assert await fetch_article(client, draft["id"], writer) == draft
    assert await count_rows(session, Correction) == 0


async def test_a_retracted_article_can_still_be_corrected(client, writer, publisher):
    article = await published(client, writer, publisher)
    assert (await step(client, article["id"], "retract", publisher, {"text": "No."})).is_success
    response = await step(client, article["id"], "corrections", publisher, {"text": "Fix."})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "retracted"
    assert [c["text"] for c in response.json()["corrections"]] == ["Fix."]


# --- delete ----------------------------------------------------------------------------------


async def test_delete_makes_the_article_gone_in_every_read_endpoint(client, writer, publisher):
    article = await published(client, writer, publisher)
    other = await published(client, writer, publisher, headline="Ferry timetable changes")
    authority = next(
        a["source"]["id"]
        for c in article["claims"]
        for a in c["attributions"]
        if a["source"]["name"] == "Harbour Authority"
    )
    source = await client.get(f"/v1/sources/{authority}")
    assert (source.json()["claim_count"], source.json()["article_count"]) == (2, 2)
    assert term_count(await client.get("/v1/sections"), "local") == 2

    response = await client.delete(f"/v1/articles/{article['id']}", headers=publisher)
    assert response.status_code == 204
    assert response.content == b""

    for headers in ({}, writer):
        for reference in (article["id"], article["slug"]):
            problem = assert_problem(
                await client.get(f"/v1/articles/{reference}", headers=headers), 410
            )
            assert "deleted" in problem["detail"]
        assert_problem(
            await client.get(f"/v1/articles/{article['id']}/claims", headers=headers), 410
        )
        listed = await client.get("/v1/articles", params={"limit": 100}, headers=headers)
        assert ids(listed) == {other["id"]}
        claims = await client.get("/v1/claims", params={"limit": 100}, headers=headers)
        assert ids(claims) == {c["id"] for c in other["claims"]}
        for claim in article["claims"]:
            assert_problem(await client.get(f"/v1/claims/{claim['id']}", headers=headers), 404)
        source = await client.get(f"/v1/sources/{authority}", headers=headers)
        assert (source.json()["claim_count"], source.json()["article_count"]) == (1, 1)
        source_claims = await client.get(f"/v1/sources/{authority}/claims", headers=headers)
        assert ids(source_claims) <= {c["id"] for c in other["claims"]}
        assert len(ids(source_claims)) == 1
    everything = await client.get("/v1/articles", params={"status": "all"}, headers=writer)
    assert ids(everything) == {other["id"]}
    searched = await client.get("/v1/articles", params={"q": "pier"})
    assert ids(searched) == {other["id"]}
    assert term_count(await client.get("/v1/sections"), "local") == 1
    assert term_count(await client.get("/v1/tags"), "harbour") == 1


async def test_a_second_delete_is_410(client, writer, publisher):
    article = await published(client, writer, publisher)
    assert (
        await client.delete(f"/v1/articles/{article['id']}", headers=publisher)
    ).status_code == 204
    assert_problem(await client.delete(f"/v1/articles/{article['id']}", headers=publisher), 410)


@pytest.mark.parametrize(("action", "body"), ACTIONS[:4])
async def test_workflow_steps_on_a_deleted_article_are_410(
    client, session, writer, publisher, action, body
):
    article = await published(client, writer, publisher)
    assert (
        await client.delete(f"/v1/articles/{article['id']}", headers=publisher)
    ).status_code == 204
    revisions = await count_rows(session, ArticleRevision)
    assert_problem(await step(client, article["id"], action, publisher, body), 410)
    assert await count_rows(session, ArticleRevision) == revisions


async def test_edits_of_a_deleted_article_are_410(client, session, writer, publisher):
    article = await published(client, writer, publisher)
    assert (
        await client.delete(f"/v1/articles/{article['id']}", headers=publisher)
    ).status_code == 204
    url = f"/v1/articles/{article['id']}"
    assert_problem(await client.patch(url, json={"headline": "Back"}, headers=writer), 410)
    assert_problem(await client.put(url, json=article_data(), headers=writer), 410)
    claim = {"statement": "A new claim.", "kind": "statement"}
    assert_problem(await client.post(f"{url}/claims", json=claim, headers=writer), 410)
    stored = await session.get(Article, uuid.UUID(article["id"]))
    assert stored is not None and stored.deleted_at is not None
    assert stored.headline == article["headline"]


async def test_the_slug_of_a_deleted_article_stays_reserved(client, session, writer, publisher):
    article = await published(client, writer, publisher, slug="north-pier")
    assert (
        await client.delete(f"/v1/articles/{article['id']}", headers=publisher)
    ).status_code == 204
    taken = await client.post("/v1/articles", json=article_data(slug="north-pier"), headers=writer)
    assert_problem(taken, 409)
    assert await count_rows(session, Article) == 1


async def test_a_deleted_scheduled_article_that_never_went_live_stays_404_for_readers(
    client, writer, publisher
):
    article = await scheduled(client, writer, publisher)
    assert_problem(await client.get(f"/v1/articles/{article['id']}"), 404)
    assert (
        await client.delete(f"/v1/articles/{article['id']}", headers=publisher)
    ).status_code == 204
    # Readers never could see it, so they must not learn it existed; writers learn it is gone.
    assert_problem(await client.get(f"/v1/articles/{article['id']}"), 404)
    assert_problem(await client.get(f"/v1/articles/{article['slug']}"), 404)
    assert_problem(await client.get(f"/v1/articles/{article['id']}", headers=writer), 410)


async def test_delete_an_unknown_article_is_404(client, publisher):
    assert_problem(await client.delete(f"/v1/articles/{uuid.uuid4()}", headers=publisher), 404)


# --- If-Match --------------------------------------------------------------------------------

IF_MATCH_CASES = [
    ("publish", "draft", None, 200),
    ("publish", "published", {"published_at": "2021-06-01T08:00:00Z"}, 200),
    ("unpublish", "published", None, 200),
    ("retract", "published", {"text": "Withdrawn."}, 200),
    ("corrections", "published", {"text": "A fix."}, 201),
    ("delete", "published", None, 204),
]


async def subject(client, writer, publisher, state: str) -> dict:
    if state == "draft":
        return await create_article(client, writer)
    return await published(client, writer, publisher)


@pytest.mark.parametrize(("action", "state", "body", "status"), IF_MATCH_CASES)
async def test_a_stale_if_match_is_412_and_changes_nothing(
    client, session, writer, editor, publisher, action, state, body, status
):
    article = await subject(client, writer, publisher, state)
    url = f"/v1/articles/{article['id']}"
    stale = (await client.get(url, headers=writer)).headers["etag"]
    edited = await client.patch(url, json={"deck": "A newer deck."}, headers=editor)
    assert edited.status_code == 200
    revisions = await count_rows(session, ArticleRevision)
    response = await step(client, article["id"], action, {**publisher, "If-Match": stale}, body)
    problem = assert_problem(response, 412)
    assert "If-Match" in problem["detail"]
    assert await fetch_article(client, article["id"], writer) == edited.json()
    assert await count_rows(session, ArticleRevision) == revisions


@pytest.mark.parametrize(("action", "state", "body", "status"), IF_MATCH_CASES)
async def test_a_current_if_match_lets_the_step_through(
    client, writer, publisher, action, state, body, status
):
    article = await subject(client, writer, publisher, state)
    url = f"/v1/articles/{article['id']}"
    current = (await client.get(url, headers=writer)).headers["etag"]
    response = await step(client, article["id"], action, {**publisher, "If-Match": current}, body)
    assert response.status_code == status, response.text
    if action == "delete":
        assert_problem(await client.get(url, headers=writer), 410)
        return
    assert response.json()["version"] == article["version"] + 1
    fresh = await client.get(url, headers=writer)
    assert fresh.json() == response.json()
    assert response.headers["etag"] == fresh.headers["etag"]
    assert response.headers["etag"] != current


@pytest.mark.parametrize(("action", "state", "body", "status"), IF_MATCH_CASES)
async def test_if_match_star_and_a_list_containing_the_current_etag_match(
    client, writer, publisher, action, state, body, status
):
    article = await subject(client, writer, publisher, state)
    current = (await client.get(f"/v1/articles/{article['id']}", headers=writer)).headers["etag"]
    header = f'"nope", {current}' if action in ("publish", "corrections") else "*"
    response = await step(client, article["id"], action, {**publisher, "If-Match": header}, body)
    assert response.status_code == status, response.text


# --- purge -----------------------------------------------------------------------------------


async def _delete_days_ago(session, article: Article, days: float) -> None:
    """Delete the article as if it had happened `days` ago (after it went live)."""
    await workflow.delete(session, article, "test")
    article.deleted_at = datetime.now(UTC) - timedelta(days=days)
    if article.first_published_at is not None:
        article.first_published_at = article.deleted_at - timedelta(hours=1)
    await session.commit()


async def test_purge_removes_only_articles_deleted_long_enough_ago(session):
    old = await make_article(session, headline="Old deleted story")
    recent = await make_article(session, headline="Recently deleted story")
    kept = await make_article(session, headline="Live story")
    await workflow.correct(session, old, "A note.", "test")
    await session.commit()
    await _delete_days_ago(session, old, 31)
    await _delete_days_ago(session, recent, 29)
    claims_before = await count_rows(session, Claim)
    sources_before = await count_rows(session, Source)

    assert await workflow.purge(session, timedelta(days=30)) == 1
    await session.commit()

    remaining = set(await session.scalars(select(Article.id)))
    assert remaining == {recent.id, kept.id}
    for model in (Claim, ArticleRevision, RevisionPiece, Correction):
        column = model.article_id
        assert await session.scalar(select(func.count()).where(column == old.id)) == 0
    assert await count_rows(session, Claim) == claims_before - 2
    orphans = (
        select(func.count())
        .select_from(Attribution)
        .where(Attribution.claim_id.not_in(select(Claim.id)))
    )
    assert await session.scalar(orphans) == 0
    assert await count_rows(session, Attribution) == 4
    recent_history = select(func.count()).where(ArticleRevision.article_id == recent.id)
    assert await session.scalar(recent_history) == 3  # created, published, deleted
    # Sources are shared, so they stay.
    assert await count_rows(session, Source) == sources_before

    assert await workflow.purge(session, timedelta(days=30)) == 0
    assert await workflow.purge(session, timedelta(days=0)) == 1
    await session.commit()
    assert set(await session.scalars(select(Article.id))) == {kept.id}


async def test_a_purged_article_is_404_afterwards(client, session):
    article = await make_article(session)
    await _delete_days_ago(session, article, 10)
    assert_problem(await client.get(f"/v1/articles/{article.id}"), 410)
    assert await workflow.purge(session, timedelta(days=1)) == 1
    await session.commit()
    assert_problem(await client.get(f"/v1/articles/{article.id}"), 404)


@pytest.mark.slow
async def test_the_purge_command_removes_old_deleted_articles(tmp_path, monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path / 'purge.db'}"
    monkeypatch.setenv("NEWSDESK_MEDIA_STORE_URL", (tmp_path / "media").as_uri())
    migrated = newsdesk(url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    engine = create_engine(url)
    maker = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with maker() as session:
            for days in (40, 35, 5):
                article = await make_article(session, headline=f"Deleted {days} days ago")
                await _delete_days_ago(session, article, days)
            await make_article(session, headline="Still live")

        result = newsdesk(url, "purge", "--older-than", "30")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "Purged 2 deleted articles and 0 unused media files."

        async with maker() as session:
            headlines = set(await session.scalars(select(Article.headline)))
            assert headlines == {"Deleted 5 days ago", "Still live"}
            assert await count_rows(session, Claim) == 4
            assert await count_rows(session, ArticleRevision) == 3 + 2

        again = newsdesk(url, "purge", "--older-than", "30")
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == "Purged 0 deleted articles and 0 unused media files."
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_the_purge_command_needs_a_non_negative_age(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'purge.db'}"
    assert newsdesk(url, "migrate").returncode == 0
    missing = newsdesk(url, "purge")
    assert missing.returncode != 0 and "--older-than" in missing.stderr
    negative = newsdesk(url, "purge", "--older-than", "-1")
    assert negative.returncode != 0 and "--older-than" in negative.stderr
