"""Bad input gets a clear error and changes nothing: every invalid write is answered with
problem+json naming the field and the rule, and leaves no article, claim or source behind."""

import copy
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.sources.models import Source
from tests.factories import article_data, make_article
from tests.helpers import assert_problem, create_article, fetch_article, row_counts

pytestmark = pytest.mark.anyio

MISSING_ID = "00000000-0000-4000-8000-000000000000"


# --- helpers -------------------------------------------------------------------------------


def assert_invalid(response: httpx.Response, loc: list[str | int]) -> dict[str, Any]:
    """A 422 whose `errors` list names `loc` (with a message saying what is wrong)."""
    body = assert_problem(response, 422)
    assert isinstance(body["errors"], list) and body["errors"], body
    for error in body["errors"]:
        assert isinstance(error["loc"], list)
        assert isinstance(error["msg"], str) and error["msg"]
    assert loc in [error["loc"] for error in body["errors"]], body["errors"]
    return body


@asynccontextmanager
async def unchanged(
    client: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str], article_id: Any
) -> AsyncIterator[dict[str, Any]]:
    """Around a rejected write: the article (as `headers` see it, yielded as it was before) and
    the row counts of every content table are the same afterwards."""
    before_article = await fetch_article(client, article_id, headers)
    before = await row_counts(session)
    yield before_article
    assert await fetch_article(client, article_id, headers) == before_article
    assert await row_counts(session) == before


async def post_article(
    client: httpx.AsyncClient, headers: dict[str, str], data: Any
) -> httpx.Response:
    return await client.post("/v1/articles", json=data, headers=headers)


def mutated(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = article_data()
    change(data)
    return data


def _set(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


# --- malformed and wrongly shaped JSON -----------------------------------------------------


async def test_malformed_json_is_422_and_stores_nothing(client, session, writer):
    before = await row_counts(session)
    response = await client.post(
        "/v1/articles",
        content=b'{"headline": "North pier", "body": ',
        headers={**writer, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body"]
    assert body["errors"][0]["type"] == "json_invalid"
    # Where it broke, in words a person can act on.
    assert body["errors"][0]["msg"] == (
        "The body is not valid JSON: expecting value at line 1, column 36."
    )
    assert await row_counts(session) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00", "expecting value at line 1, column 1"),
        (b"  ", "expecting value at line 1, column 3"),
        (b'{"published_at": "2031-01-01T00:00:00Z"', "expecting ',' delimiter at line 1"),
        (b"\xff{}", "it is not UTF-8 text"),
    ],
)
async def test_a_body_that_is_not_json_changes_nothing_where_every_field_is_optional(
    client, session, editor, admin, content, message
):
    # Merge patches and publish requests have no required field: a body that is not JSON
    # must still be refused, not read as an empty patch (or as "publish now").
    article = await create_article(client, editor)
    claim_id = article["claims"][0]["id"]
    webhook = (
        await client.post(
            "/v1/webhooks",
            json={"url": "https://partner.example/hooks", "events": ["article.published"]},
            headers=admin,
        )
    ).json()
    webhook_before = (await client.get(f"/v1/webhooks/{webhook['id']}", headers=admin)).json()
    writes = [
        ("PATCH", f"/v1/articles/{article['id']}", editor),
        ("POST", f"/v1/articles/{article['id']}/publish", editor),
        ("PATCH", f"/v1/claims/{claim_id}", editor),
        ("PATCH", f"/v1/webhooks/{webhook['id']}", admin),
    ]
    async with unchanged(client, session, editor, article["id"]):
        for method, path, headers in writes:
            response = await client.request(
                method,
                path,
                content=content,
                headers={**headers, "Content-Type": "application/json"},
            )
            problem = assert_invalid(response, ["body"])
            assert problem["errors"][0]["type"] == "json_invalid"
            assert message in problem["errors"][0]["msg"], (method, path, problem)
    webhook_after = (await client.get(f"/v1/webhooks/{webhook['id']}", headers=admin)).json()
    assert webhook_after == webhook_before


async def test_a_json_patch_is_refused_naming_the_patch_types_taken(client, session, writer):
    article = (
        await client.post("/v1/articles", json={"headline": "North pier"}, headers=writer)
    ).json()
    for path in (f"/v1/articles/{article['id']}", f"/v1/articles/{article['id']}/claims"):
        if path.endswith("claims"):
            path = (
                "/v1/claims/"
                + (await client.post(path, json={"statement": "x"}, headers=writer)).json()["id"]
            )
        response = await client.patch(
            path,
            content=b'[{"op": "replace", "path": "/headline", "value": "x"}]',
            headers={**writer, "Content-Type": "application/json-patch+json"},
        )
        problem = assert_problem(response, 415)
        assert "application/merge-patch+json" in problem["detail"]
        assert response.headers["accept-patch"] == "application/merge-patch+json, application/json"
    assert (await client.get(f"/v1/articles/{article['id']}", headers=writer)).json()[
        "headline"
    ] == "North pier"


async def test_a_post_body_must_be_plain_json(client, writer):
    response = await client.post(
        "/v1/articles",
        content=b'{"headline": "x"}',
        headers={**writer, "Content-Type": "application/merge-patch+json"},
    )
    assert "application/json" in assert_problem(response, 415)["detail"]


@pytest.mark.parametrize("raw", [b'["headline"]', b'"a headline"', b"42", b"null", b""])
async def test_json_that_is_not_an_object_is_422(client, session, writer, raw):
    before = await row_counts(session)
    response = await client.post(
        "/v1/articles", content=raw, headers={**writer, "Content-Type": "application/json"}
    )
    assert_invalid(response, ["body"])
    assert await row_counts(session) == before


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (_set("headline", value=12345), ["body", "headline"]),
        (_set("tags", value="harbour"), ["body", "tags"]),
        (_set("tags", value=[1, 2]), ["body", "tags", 0]),
        (_set("authors", value=["Ines Calder"]), ["body", "authors", 0]),
        (_set("claims", value={"statement": "x"}), ["body", "claims"]),
        (
            _set("claims", 0, "attributions", value="Harbour Authority"),
            ["body", "claims", 0, "attributions"],
        ),
        (_set("syndication", value={"allowed": "perhaps"}), ["body", "syndication", "allowed"]),
    ],
    ids=[
        "headline-number",
        "tags-string",
        "tag-number",
        "author-string",
        "claims-object",
        "attributions-string",
        "syndication-allowed-string",
    ],
)
async def test_wrong_types_are_422_naming_the_field(client, session, writer, change, loc):
    before = await row_counts(session)
    assert_invalid(await post_article(client, writer, mutated(change)), loc)
    assert await row_counts(session) == before


async def test_missing_headline_is_422(client, session, writer):
    before = await row_counts(session)
    data = article_data()
    del data["headline"]
    body = assert_invalid(await post_article(client, writer, data), ["body", "headline"])
    assert any(e["type"] == "missing" for e in body["errors"])
    assert await row_counts(session) == before


@pytest.mark.parametrize("headline", ["", "   "])
async def test_empty_headline_is_422(client, session, writer, headline):
    before = await row_counts(session)
    assert_invalid(
        await post_article(client, writer, article_data(headline=headline)), ["body", "headline"]
    )
    assert await row_counts(session) == before


async def test_every_error_is_listed_at_once(client, writer):
    data = article_data(headline=7, tags="x", language="english!")
    body = assert_invalid(await post_article(client, writer, data), ["body", "headline"])
    locs = [e["loc"] for e in body["errors"]]
    assert ["body", "tags"] in locs
    assert ["body", "language"] in locs


# --- length limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (_set("headline", value="h" * 301), ["body", "headline"]),
        (_set("deck", value="d" * 601), ["body", "deck"]),
        (_set("body", value="b" * 200_001), ["body", "body"]),
        (_set("claims", 0, "statement", value="s" * 1001), ["body", "claims", 0, "statement"]),
        (_set("slug", value="s" * 121), ["body", "slug"]),
    ],
    ids=["headline-301", "deck-601", "body-200001", "statement-1001", "slug-121"],
)
async def test_over_long_strings_are_422(client, session, writer, change, loc):
    before = await row_counts(session)
    body = assert_invalid(await post_article(client, writer, mutated(change)), loc)
    assert "string_too_long" in [e["type"] for e in body["errors"]]
    assert await row_counts(session) == before


async def test_strings_at_the_exact_limits_are_accepted(client, writer):
    data = article_data(headline="h" * 300, deck="d" * 600, slug="s" * 120)
    data["claims"][0]["statement"] = "s" * 1000
    response = await post_article(client, writer, data)
    assert response.status_code == 201, response.text
    article = response.json()
    assert article["headline"] == "h" * 300
    assert article["deck"] == "d" * 600
    assert article["slug"] == "s" * 120
    assert article["claims"][0]["statement"] == "s" * 1000


async def test_body_of_exactly_200000_chars_is_accepted(client, writer):
    body = ("word " * 40_000)[:-1] + "."
    assert len(body) == 200_000
    response = await post_article(client, writer, article_data(body=body, claims=[]))
    assert response.status_code == 201, response.text
    assert len(response.json()["body"]) == 200_000


# --- malformed values ----------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["Has Spaces", "UPPER", "-lead", "trail-", "a--b", "émigré"])
async def test_malformed_slug_is_422_not_rewritten(client, session, writer, slug):
    before = await row_counts(session)
    assert_invalid(await post_article(client, writer, article_data(slug=slug)), ["body", "slug"])
    assert await row_counts(session) == before


@pytest.mark.parametrize("url", ["not a url", "ftp://x", "/relative/path", "javascript:alert(1)"])
async def test_invalid_canonical_url_is_422(client, session, writer, url):
    before = await row_counts(session)
    response = await post_article(client, writer, article_data(canonical_url=url))
    assert_invalid(response, ["body", "canonical_url"])
    assert await row_counts(session) == before


async def test_invalid_language_is_422(client, session, writer):
    before = await row_counts(session)
    response = await post_article(client, writer, article_data(language="english!"))
    assert_invalid(response, ["body", "language"])
    assert await row_counts(session) == before


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (_set("claims", 0, "kind", value="rumour"), ["body", "claims", 0, "kind"]),
        (_set("claims", 0, "verification", value="true"), ["body", "claims", 0, "verification"]),
        (
            _set("claims", 0, "attributions", 0, "role", value="whispered_by"),
            ["body", "claims", 0, "attributions", 0, "role"],
        ),
        (
            _set("claims", 0, "attributions", 0, "source", "kind", value="alien"),
            ["body", "claims", 0, "attributions", 0, "source", "value", "kind"],
        ),
    ],
    ids=["claim-kind", "verification", "role", "source-kind"],
)
async def test_unknown_enum_values_are_422(client, session, writer, change, loc):
    before = await row_counts(session)
    body = assert_invalid(await post_article(client, writer, mutated(change)), loc)
    assert "enum" in [e["type"] for e in body["errors"]]
    assert await row_counts(session) == before


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (_set("byline", value="Ines Calder"), ["body", "byline"]),
        (_set("claims", 0, "confidence", value=0.9), ["body", "claims", 0, "confidence"]),
        (
            _set("claims", 0, "attributions", 0, "weight", value=1),
            ["body", "claims", 0, "attributions", 0, "weight"],
        ),
        (
            _set("claims", 0, "attributions", 0, "source", "twitter", value="@harbour"),
            ["body", "claims", 0, "attributions", 0, "source", "value", "twitter"],
        ),
        (
            _set("claims", 0, "attributions", 0, "source", value={"id": MISSING_ID, "name": "X"}),
            ["body", "claims", 0, "attributions", 0, "source", "reference", "name"],
        ),
        (_set("authors", 0, "email", value="ines@example.com"), ["body", "authors", 0, "email"]),
        (_set("claims", 0, "anchor", "offset", value=3), ["body", "claims", 0, "anchor", "offset"]),
    ],
    ids=["top-level", "claim", "attribution", "source", "source-reference", "author", "anchor"],
)
async def test_unknown_fields_are_422(client, session, writer, change, loc):
    before = await row_counts(session)
    body = assert_invalid(await post_article(client, writer, mutated(change)), loc)
    assert "extra_forbidden" in [e["type"] for e in body["errors"]]
    assert await row_counts(session) == before


# --- claims that do not fit the article ----------------------------------------------------


async def test_anchor_not_in_body_leaves_nothing_behind(client, session, writer):
    await make_article(session, headline="An older story", slug="older")
    before = await row_counts(session)
    data = article_data()
    # Claim 0's own new source is resolved before its anchor fails; it must not survive.
    data["claims"][0]["attributions"][0]["source"] = {"name": "Port Union", "kind": "organization"}
    data["claims"][0]["anchor"] = {"exact": "the south pier will stay open"}
    body = assert_invalid(
        await post_article(client, writer, data), ["body", "claims", 0, "anchor", "exact"]
    )
    assert "anchor" in body["detail"].lower()
    assert await row_counts(session) == before
    names = set(await session.scalars(select(Source.name)))
    assert names == {"Harbour Authority", "Mara Lind"}


async def test_anchor_not_in_body_after_a_valid_claim_leaves_no_source(client, session, writer):
    before = await row_counts(session)
    assert before["Source"] == 0
    data = article_data()
    # The valid claim 0 (with a new source) comes first; claim 1's anchor is wrong.
    data["claims"][1]["anchor"] = {"exact": "We will keep it open"}
    response = await post_article(client, writer, data)
    assert_invalid(response, ["body", "claims", 1, "anchor", "exact"])
    assert await row_counts(session) == before
    assert list(await session.scalars(select(Source.name))) == []
    listed = await client.get("/v1/sources", headers=writer)
    assert listed.status_code == 200
    assert listed.json()["data"] == []


async def test_anchor_positions_that_do_not_select_exact_are_422(client, session, writer):
    before = await row_counts(session)
    exact = "the north pier will close for repairs"
    data = article_data()
    data["claims"][0]["anchor"] = {"exact": exact, "start": 0, "end": len(exact)}
    assert_invalid(
        await post_article(client, writer, data), ["body", "claims", 0, "anchor", "start"]
    )
    assert await row_counts(session) == before


async def test_anchor_end_minus_start_not_the_length_of_exact_is_422(client, session, writer):
    before = await row_counts(session)
    data = article_data()
    data["claims"][0]["anchor"] = {"exact": "the north pier", "start": 4, "end": 5}
    assert_invalid(await post_article(client, writer, data), ["body", "claims", 0, "anchor"])
    assert await row_counts(session) == before


async def test_anchor_with_correct_positions_is_accepted(client, writer):
    exact = "the north pier will close for repairs"
    start = article_data()["body"].index(exact)
    data = article_data()
    data["claims"][0]["anchor"] = {"exact": exact, "start": start, "end": start + len(exact)}
    response = await post_article(client, writer, data)
    assert response.status_code == 201, response.text
    anchor = response.json()["claims"][0]["anchor"]
    assert (anchor["exact"], anchor["start"], anchor["end"]) == (exact, start, start + len(exact))


async def test_unknown_source_id_is_422_and_stores_nothing(client, session, writer):
    before = await row_counts(session)
    data = article_data()
    # The first claim (with a new source) is fine; the second points at no source.
    data["claims"][1]["attributions"][0]["source"] = {"id": MISSING_ID}
    response = await post_article(client, writer, data)
    body = assert_invalid(response, ["body", "claims", 1, "attributions", 0, "source", "id"])
    assert MISSING_ID in body["detail"]
    assert await row_counts(session) == before


async def test_malformed_source_id_is_422(client, session, writer):
    before = await row_counts(session)
    data = article_data()
    data["claims"][0]["attributions"][0]["source"] = {"id": "harbour-authority"}
    response = await post_article(client, writer, data)
    assert_invalid(response, ["body", "claims", 0, "attributions", 0, "source", "reference", "id"])
    assert await row_counts(session) == before


async def test_quote_kind_without_quote_is_422(client, session, writer):
    before = await row_counts(session)
    data = article_data()
    del data["claims"][1]["quote"]
    body = assert_invalid(await post_article(client, writer, data), ["body", "claims", 1])
    assert "quote" in body["detail"]
    assert await row_counts(session) == before


async def test_quote_on_a_statement_is_422(client, session, writer):
    before = await row_counts(session)
    data = article_data()
    data["claims"][0]["quote"] = "the north pier will close for repairs"
    body = assert_invalid(await post_article(client, writer, data), ["body", "claims", 0])
    assert "quote" in body["detail"]
    assert await row_counts(session) == before


@pytest.mark.parametrize(
    "review",
    [
        {"rating": "False", "reviewed_by": "Desk", "worst_rating": 5, "best_rating": 1},
        {"rating": "False", "reviewed_by": "Desk", "worst_rating": 3, "best_rating": 3},
        {
            "rating": "False",
            "reviewed_by": "Desk",
            "worst_rating": 1,
            "best_rating": 5,
            "rating_value": 9,
        },
    ],
    ids=["worst-above-best", "worst-equals-best", "value-outside-scale"],
)
async def test_review_with_an_impossible_scale_is_422(client, session, writer, review):
    before = await row_counts(session)
    data = article_data()
    data["claims"][0]["review"] = review
    assert_invalid(await post_article(client, writer, data), ["body", "claims", 0, "review"])
    assert await row_counts(session) == before


# --- conflicts -----------------------------------------------------------------------------


async def test_duplicate_slug_is_409_and_stores_nothing(client, session, writer):
    await make_article(session, slug="north-pier")
    before = await row_counts(session)
    response = await post_article(client, writer, article_data(slug="north-pier"))
    body = assert_problem(response, 409)
    assert "north-pier" in body["detail"]
    assert await row_counts(session) == before


async def test_slug_of_a_deleted_article_stays_taken(client, session, writer, publisher):
    article = await make_article(session, slug="north-pier")
    assert (await client.delete(f"/v1/articles/{article.id}", headers=publisher)).status_code == 204
    before = await row_counts(session)
    assert_problem(await post_article(client, writer, article_data(slug="north-pier")), 409)
    assert await row_counts(session) == before


# --- edits: PUT / PATCH of an article ------------------------------------------------------


async def test_invalid_put_changes_nothing(client, session, writer):
    article = await make_article(session, published=False)
    data = article_data(headline="h" * 301, body="A different body.")
    async with unchanged(client, session, writer, article.id):
        response = await client.put(f"/v1/articles/{article.id}", json=data, headers=writer)
        assert_invalid(response, ["body", "headline"])


async def test_put_with_an_unfound_anchor_leaves_article_claims_and_sources(
    client, session, writer
):
    article = await make_article(session, published=False)
    before_article = await fetch_article(client, article.id, writer)
    before = await row_counts(session)
    data = article_data(headline="Replaced headline", body="Only this text now.")
    data["claims"][0]["attributions"][0]["source"] = {"name": "Port Union", "kind": "organization"}
    data["claims"][0]["anchor"] = {"exact": "Only this text"}
    data["claims"][1]["anchor"] = {"exact": "not in the new body"}
    response = await client.put(f"/v1/articles/{article.id}", json=data, headers=writer)
    assert_invalid(response, ["body", "claims", 1, "anchor", "exact"])
    after_article = await fetch_article(client, article.id, writer)
    assert after_article == before_article
    assert after_article["version"] == before_article["version"]
    assert await row_counts(session) == before
    assert "Port Union" not in set(await session.scalars(select(Source.name)))


async def test_put_with_an_unknown_field_is_422(client, session, writer):
    article = await make_article(session, published=False)
    before_article = await fetch_article(client, article.id, writer)
    data = article_data(status="published")
    response = await client.put(f"/v1/articles/{article.id}", json=data, headers=writer)
    assert_invalid(response, ["body", "status"])
    assert await fetch_article(client, article.id, writer) == before_article


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"headline": None}, ["body", "headline"]),
        ({"headline": "h" * 301}, ["body", "headline"]),
        ({"deck": "d" * 601}, ["body", "deck"]),
        ({"body": "b" * 200_001}, ["body", "body"]),
        ({"slug": "Has Spaces"}, ["body", "slug"]),
        ({"slug": None}, ["body", "slug"]),
        ({"tags": "harbour"}, ["body", "tags"]),
        ({"language": "english!"}, ["body", "language"]),
        ({"canonical_url": "ftp://x"}, ["body", "canonical_url"]),
        ({"version": 7}, ["body", "version"]),
        ({"syndication": {"allowed": False, "licence": "cc"}}, ["body", "syndication", "licence"]),
    ],
    ids=[
        "headline-null",
        "headline-301",
        "deck-601",
        "body-200001",
        "slug-malformed",
        "slug-null",
        "tags-string",
        "language",
        "canonical-url",
        "read-only-field",
        "syndication-extra",
    ],
)
async def test_invalid_patch_changes_nothing(client, session, writer, patch, loc):
    article = await make_article(session, published=False)
    before_article = await fetch_article(client, article.id, writer)
    response = await client.patch(
        f"/v1/articles/{article.id}",
        json=patch,
        headers={**writer, "Content-Type": "application/merge-patch+json"},
    )
    assert_invalid(response, loc)
    assert await fetch_article(client, article.id, writer) == before_article


async def test_patch_to_a_taken_slug_is_409_and_changes_nothing(client, session, writer):
    await make_article(session, headline="First", slug="first")
    article = await make_article(session, headline="Second", slug="second", published=False)
    before_article = await fetch_article(client, article.id, writer)
    response = await client.patch(
        f"/v1/articles/{article.id}", json={"slug": "first"}, headers=writer
    )
    body = assert_problem(response, 409)
    assert "first" in body["detail"]
    assert await fetch_article(client, article.id, writer) == before_article


async def test_put_to_a_taken_slug_is_409_and_changes_nothing(client, session, writer):
    await make_article(session, headline="First", slug="first")
    article = await make_article(session, headline="Second", slug="second", published=False)
    data = article_data(slug="first", headline="Renamed")
    data["claims"][0]["attributions"][0]["source"] = {"name": "Port Union", "kind": "organization"}
    async with unchanged(client, session, writer, article.id):
        response = await client.put(f"/v1/articles/{article.id}", json=data, headers=writer)
        assert_problem(response, 409)


# --- edits: claims -------------------------------------------------------------------------

NEW_CLAIM = {
    "statement": "Ferry crossings will take longer.",
    "kind": "report",
    "anchor": {"exact": "add twenty minutes to each crossing"},
    "attributions": [
        {"source": {"name": "Ferry Operators", "kind": "organization"}, "role": "reported_by"}
    ],
}


def new_claim(**changes: Any) -> dict[str, Any]:
    claim = copy.deepcopy(NEW_CLAIM)
    claim.update(changes)
    return claim


@pytest.mark.parametrize(
    ("claim", "loc"),
    [
        (new_claim(anchor={"exact": "add an hour to each crossing"}), ["body", "anchor", "exact"]),
        (
            new_claim(attributions=[{"source": {"id": MISSING_ID}}]),
            ["body", "attributions", 0, "source", "id"],
        ),
        (new_claim(statement="s" * 1001), ["body", "statement"]),
        (new_claim(kind="rumour"), ["body", "kind"]),
        (new_claim(kind="quote"), ["body"]),
        (new_claim(mood="grim"), ["body", "mood"]),
        ({"kind": "report"}, ["body", "statement"]),
    ],
    ids=[
        "anchor-not-in-body",
        "unknown-source-id",
        "statement-1001",
        "kind",
        "quote-missing",
        "unknown-field",
        "statement-missing",
    ],
)
async def test_invalid_new_claim_changes_nothing(client, session, writer, claim, loc):
    article = await make_article(session, published=False)
    async with unchanged(client, session, writer, article.id):
        url = f"/v1/articles/{article.id}/claims"
        assert_invalid(await client.post(url, json=claim, headers=writer), loc)
    assert "Ferry Operators" not in set(await session.scalars(select(Source.name)))


async def test_new_claim_on_an_unknown_article_is_404(client, session, writer):
    before = await row_counts(session)
    response = await client.post(
        f"/v1/articles/{uuid.uuid4()}/claims", json=NEW_CLAIM, headers=writer
    )
    assert_problem(response, 404)
    assert await row_counts(session) == before


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"kind": "quote"}, ["body", "quote"]),
        ({"quote": "the north pier will close"}, ["body", "quote"]),
        ({"verification": "maybe"}, ["body", "verification"]),
        ({"statement": None}, ["body", "statement"]),
        ({"statement": "s" * 1001}, ["body", "statement"]),
        ({"anchor": {"exact": "the south pier"}}, ["body", "anchor", "exact"]),
        ({"article_id": MISSING_ID}, ["body", "article_id"]),
        (
            {"attributions": [{"source": {"id": MISSING_ID}}]},
            ["body", "attributions", 0, "source", "id"],
        ),
        (
            {
                "attributions": [{"source": {"name": "Port Union", "kind": "organization"}}],
                "anchor": {"exact": "nowhere in the body"},
            },
            ["body", "anchor", "exact"],
        ),
    ],
    ids=[
        "quote-kind-without-quote",
        "quote-on-statement",
        "verification",
        "statement-null",
        "statement-1001",
        "anchor-not-in-body",
        "unknown-field",
        "unknown-source-id",
        "new-source-then-bad-anchor",
    ],
)
async def test_invalid_claim_patch_changes_nothing(client, session, writer, patch, loc):
    article = await make_article(session, published=False)
    async with unchanged(client, session, writer, article.id) as before_article:
        claim_id = before_article["claims"][0]["id"]
        assert before_article["claims"][0]["kind"] == "statement"
        response = await client.patch(
            f"/v1/claims/{claim_id}",
            json=patch,
            headers={**writer, "Content-Type": "application/merge-patch+json"},
        )
        assert_invalid(response, loc)
    assert "Port Union" not in set(await session.scalars(select(Source.name)))


# --- HTML and script in text fields --------------------------------------------------------

XSS = "<script>alert(1)</script>"
HOSTILE_BODY = (
    "<script>alert(1)</script> and <img src=x onerror=alert(1)> and [x](javascript:alert(1))"
    '\n\n<a href="javascript:alert(2)">click</a> ![pic](javascript:alert(3)) '
    "<javascript:alert(4)> <iframe src=//evil.test></iframe>"
    '\n\n<svg onload=alert(5)><div style="x" onmouseover="alert(6)">hover</div>'
)


class LiveMarkup(HTMLParser):
    """Collects what a browser would act on: elements, event-handler attributes, URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)

    handle_startendtag = handle_starttag


def assert_inert(body_html: str) -> None:
    parsed = LiveMarkup()
    parsed.feed(body_html)
    parsed.close()
    assert "<script" not in body_html.lower()
    assert not {"script", "iframe", "svg", "object", "embed", "style"} & set(parsed.tags)
    for name, value in parsed.attributes:
        assert not name.lower().startswith("on"), (name, value)
        assert name.lower() != "style", (name, value)
        assert "javascript:" not in value.lower().replace(" ", ""), (name, value)


def hostile_article() -> dict[str, Any]:
    return {
        "headline": f"{XSS} headline",
        "deck": '<img src=x onerror="alert(1)"> deck',
        "body": HOSTILE_BODY,
        "tags": [XSS, "<b>bold</b>"],
        "authors": [{"name": '<a href="javascript:alert(1)">Ines</a>'}],
        "claims": [
            {
                "statement": f"{XSS} statement",
                "kind": "quote",
                "quote": "<img src=x onerror=alert(1)>",
                "anchor": {"exact": "<img src=x onerror=alert(1)>"},
                "attributions": [
                    {
                        "source": {
                            "name": f"{XSS} Source",
                            "kind": "person",
                            "description": "<iframe src=//evil.test></iframe> description",
                            "affiliation": "<b>affiliation</b>",
                        },
                        "role": "asserted_by",
                        "cue": "<em onclick=alert(1)>said</em>",
                        "anonymous_description": "<u>officials</u>",
                    }
                ],
            }
        ],
    }


def assert_stored_as_given(article: dict[str, Any], given: dict[str, Any]) -> None:
    for field in ("headline", "deck", "body", "tags"):
        assert article[field] == given[field], field
    assert [a["name"] for a in article["authors"]] == [a["name"] for a in given["authors"]]
    claim, wanted = article["claims"][0], given["claims"][0]
    for field in ("statement", "kind", "quote"):
        assert claim[field] == wanted[field], field
    attribution, wanted_attribution = claim["attributions"][0], wanted["attributions"][0]
    for field in ("cue", "anonymous_description", "role"):
        assert attribution[field] == wanted_attribution[field], field
    for field in ("name", "description", "affiliation", "kind"):
        assert attribution["source"][field] == wanted_attribution["source"][field], field


async def test_html_in_text_fields_is_stored_as_given_and_rendered_inert(client, writer):
    given = hostile_article()
    response = await post_article(client, writer, given)
    assert response.status_code == 201, response.text
    created = response.json()
    assert_stored_as_given(created, given)
    assert_inert(created["body_html"])
    # The raw markup is shown as text, escaped, not dropped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in created["body_html"]

    fetched = await fetch_article(client, created["id"], writer)
    assert_stored_as_given(fetched, given)
    assert fetched["body_html"] == created["body_html"]
    # The claim anchored on the hostile text is wrapped in its span, still escaped inside.
    claim_id = fetched["claims"][0]["id"]
    assert fetched["claims"][0]["anchor"]["exact"] == "<img src=x onerror=alert(1)>"
    assert f'data-claim-id="{claim_id}"' in fetched["body_html"]

    source_id = fetched["claims"][0]["attributions"][0]["source"]["id"]
    source = await client.get(f"/v1/sources/{source_id}", headers=writer)
    assert source.status_code == 200
    assert source.json()["name"] == f"{XSS} Source"
    assert source.json()["description"] == "<iframe src=//evil.test></iframe> description"


async def test_html_in_an_edited_body_is_rendered_inert(client, session, writer):
    article = await make_article(session, published=False)
    response = await client.patch(
        f"/v1/articles/{article.id}", json={"body": HOSTILE_BODY}, headers=writer
    )
    assert response.status_code == 200, response.text
    assert response.json()["body"] == HOSTILE_BODY
    assert_inert(response.json()["body_html"])


async def test_html_in_a_published_article_is_inert_in_lists(client, session):
    await make_article(session, body=HOSTILE_BODY, claims=[], headline=f"{XSS} listed")
    response = await client.get("/v1/articles")
    assert response.status_code == 200
    [listed] = response.json()["data"]
    assert listed["headline"] == f"{XSS} listed"
    assert listed["body"] == HOSTILE_BODY
    assert_inert(listed["body_html"])


async def test_safe_markdown_still_renders(client, writer):
    body = "Some *emphasis* and a [link](https://example.org/x).\n\nSecond paragraph."
    response = await post_article(client, writer, article_data(body=body, claims=[]))
    assert response.status_code == 201, response.text
    body_html = response.json()["body_html"]
    assert "<em>emphasis</em>" in body_html
    assert 'href="https://example.org/x"' in body_html
    assert body_html.count("<p>") == 2
