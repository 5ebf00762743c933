"""The articles endpoints: create, read, list (filters, sorting, cursors, full text, sparse
fields), merge-patch and replace, delete, and the HTTP caching and concurrency rules."""

import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from app.articles.body import plain_text
from app.articles.models import Article, ArticleRevision
from app.changes.models import ChangeEvent
from app.claims.models import Claim
from app.sources.models import Source
from app.webhooks.models import WebhookOutbox
from tests.factories import BODY, article_data, make_article
from tests.helpers import (
    assert_problem,
    count_rows,
    create_article,
    error_locs,
    fetch_article,
    walk_pages,
)

pytestmark = pytest.mark.anyio

ARTICLE_FIELDS = {
    "id",
    "slug",
    "headline",
    "deck",
    "body",
    "body_html",
    "body_text",
    "language",
    "body_images",
    "featured_image",
    "section",
    "tags",
    "authors",
    "canonical_url",
    "status",
    "published_at",
    "first_published_at",
    "created_at",
    "updated_at",
    "version",
    "corrections",
    "retraction",
    "syndication",
    "sourcing",
    "claims",
}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [article["id"] for article in response.json()["data"]]


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def moment(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text)


# --- POST /v1/articles -------------------------------------------------------------------


async def test_create_returns_the_full_draft_with_location_and_etag(client, writer):
    response = await client.post("/v1/articles", json=article_data(), headers=writer)

    assert response.status_code == 201
    article = response.json()
    assert set(article) == ARTICLE_FIELDS
    assert response.headers["location"].endswith(f"/v1/articles/{article['id']}")
    assert response.headers["etag"].startswith('"')
    assert article["slug"] == "north-pier-to-close-for-repairs"
    assert article["headline"] == "North pier to close for repairs"
    assert article["deck"] == "The harbour authority says the pier is unsafe."
    assert article["body"] == BODY
    assert article["body_html"].startswith("<p>")
    assert article["language"] == "en"
    assert article["section"] == "local"
    assert article["tags"] == ["harbour", "transport"]
    [author] = article["authors"]
    assert set(author) == {"id", "slug", "name"}
    assert (author["slug"], author["name"]) == ("ines-calder", "Ines Calder")
    assert article["canonical_url"] is None
    assert article["status"] == "draft"
    assert article["published_at"] is None
    assert article["first_published_at"] is None
    assert article["created_at"].endswith("Z")
    assert article["updated_at"].endswith("Z")
    assert article["version"] == 1
    assert article["corrections"] == []
    assert article["retraction"] is None
    assert article["syndication"] == {"allowed": True, "usage_terms": None}
    assert article["sourcing"] == {
        "claims": 2,
        "attributed_claims": 2,
        "unattributed_claims": 0,
        "named_sources": 2,
        "anonymous_sources": 0,
    }
    statement, quote = article["claims"]
    assert statement["article_id"] == article["id"]
    assert statement["kind"] == "statement"
    assert statement["verification"] == "confirmed"
    assert statement["anchor_status"] == "anchored"
    [attribution] = statement["attributions"]
    assert attribution["role"] == "confirmed_by"
    assert attribution["cue"] == "confirmed"
    assert attribution["source"]["name"] == "Harbour Authority"
    assert attribution["source"]["kind"] == "organization"
    assert attribution["source"]["id"]
    assert quote["kind"] == "quote"
    assert quote["quote"] == "We cannot keep it open safely,"
    assert quote["verification"] == "unverified"
    assert quote["attributions"][0]["source"]["name"] == "Mara Lind"
    assert quote["attributions"][0]["source"]["description"] == (
        "Director of the harbour authority"
    )


async def test_create_etag_equals_the_etag_of_a_get(client, writer):
    response = await client.post("/v1/articles", json=article_data(), headers=writer)
    assert response.status_code == 201

    fetched = await client.get(response.headers["location"], headers=writer)

    assert fetched.status_code == 200
    assert fetched.json() == response.json()
    assert fetched.headers["etag"] == response.headers["etag"]


async def test_create_needs_the_write_scope_and_stores_nothing(client, session, reader):
    anonymous = await client.post("/v1/articles", json=article_data())
    with_reader = await client.post("/v1/articles", json=article_data(), headers=reader)

    assert_problem(anonymous, 401)
    assert_problem(with_reader, 403)
    assert await count_rows(session, Article) == 0


async def test_slug_is_derived_from_the_headline_and_made_unique(client, writer):
    first = await create_article(client, writer, headline="Storm closes the Ferry Route!")
    second = await create_article(client, writer, headline="Storm closes the ferry route")
    third = await create_article(client, writer, headline="Storm closes the ferry route")

    assert first["slug"] == "storm-closes-the-ferry-route"
    assert second["slug"] == "storm-closes-the-ferry-route-2"
    assert third["slug"] == "storm-closes-the-ferry-route-3"


async def test_a_given_slug_that_is_taken_is_409_and_nothing_is_stored(client, session, writer):
    await create_article(client, writer, slug="pier-news")

    response = await client.post(
        "/v1/articles", json=article_data(slug="pier-news", headline="Other"), headers=writer
    )

    assert "pier-news" in assert_problem(response, 409)["detail"]
    assert await count_rows(session, Article) == 1


async def test_tags_are_lower_cased_and_de_duplicated(client, writer):
    article = await create_article(
        client, writer, tags=["Harbour", "harbour", "TRANSPORT", "Harbour"]
    )

    assert article["tags"] == ["harbour", "transport"]
    assert (await fetch_article(client, article["id"], writer))["tags"] == ["harbour", "transport"]


async def test_body_html_wraps_each_anchored_claim_in_a_span(client, writer):
    article = await create_article(client, writer)
    statement, quote = article["claims"]

    html = article["body_html"]
    assert (
        f'<span class="claim" data-claim-id="{statement["id"]}" data-claim-kind="statement" '
        'data-verification="confirmed">the north pier will close for repairs</span>'
    ) in html
    assert (
        f'<span class="claim" data-claim-id="{quote["id"]}" data-claim-kind="quote" '
        'data-verification="unverified">'
    ) in html
    assert html.count('class="claim"') == 2


async def test_the_server_fills_in_the_anchor_selectors(client, writer):
    article = await create_article(client, writer)
    anchor = article["claims"][0]["anchor"]
    text = plain_text(BODY)

    assert anchor["exact"] == "the north pier will close for repairs"
    assert text[anchor["start"] : anchor["end"]] == anchor["exact"]
    assert text[: anchor["start"]].endswith(anchor["prefix"])
    assert anchor["prefix"].endswith("confirmed on Monday that ")
    assert text[anchor["end"] :].startswith(anchor["suffix"])
    assert anchor["suffix"].startswith(".")


async def test_a_quote_claim_without_an_anchor_is_anchored_on_its_quote(client, writer):
    article = await create_article(client, writer)
    quote = article["claims"][1]
    text = plain_text(BODY)

    assert quote["anchor_status"] == "anchored"
    assert quote["anchor"]["exact"] == "We cannot keep it open safely,"
    assert text[quote["anchor"]["start"] : quote["anchor"]["end"]] == quote["quote"]


async def test_sources_are_shared_across_articles_by_normalised_name(client, session, writer):
    first = await create_article(client, writer)
    data = article_data(headline="Second pier story")
    data["claims"][0]["attributions"][0]["source"]["name"] = "  harbour   AUTHORITY "
    response = await client.post("/v1/articles", json=data, headers=writer)
    assert response.status_code == 201
    second = response.json()

    first_source = first["claims"][0]["attributions"][0]["source"]
    second_source = second["claims"][0]["attributions"][0]["source"]
    assert second_source["id"] == first_source["id"]
    assert second_source["name"] == "Harbour Authority"
    assert await session.scalar(select(func.count()).select_from(Source)) == 2


# --- GET /v1/articles/{id_or_slug} ---------------------------------------------------------


async def test_get_by_id_and_by_slug_return_the_same_article(client, session):
    article = await make_article(session)

    by_id = await client.get(f"/v1/articles/{article.id}")
    by_slug = await client.get(f"/v1/articles/{article.slug}")

    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json() == by_slug.json()
    assert by_id.json()["id"] == str(article.id)
    assert by_id.json()["status"] == "published"
    assert by_id.json()["published_at"].endswith("Z")
    assert by_id.json()["first_published_at"] == by_id.json()["published_at"]
    assert len(by_id.json()["claims"]) == 2


@pytest.mark.parametrize("scheduled", [False, True], ids=["draft", "scheduled"])
async def test_unpublished_articles_are_404_without_write_scope(
    client, session, reader, writer, scheduled
):
    if scheduled:
        article = await make_article(session, published_at=datetime.now(UTC) + timedelta(days=1))
    else:
        article = await make_article(session, published=False)

    for reference in (str(article.id), article.slug):
        assert_problem(await client.get(f"/v1/articles/{reference}"), 404)
        assert_problem(await client.get(f"/v1/articles/{reference}", headers=reader), 404)
        seen = await fetch_article(client, reference, writer)
        assert seen["id"] == str(article.id)
        assert seen["status"] == ("published" if scheduled else "draft")


async def test_unknown_article_is_a_404_problem(client, writer):
    for reference in ("no-such-article", "8f0c3c8e-0000-4000-8000-000000000000"):
        problem = assert_problem(await client.get(f"/v1/articles/{reference}", headers=writer), 404)
        assert reference in problem["detail"]


async def test_delete_needs_the_publish_scope(client, session, writer):
    article = await make_article(session)

    assert_problem(await client.delete(f"/v1/articles/{article.id}"), 401)
    assert_problem(await client.delete(f"/v1/articles/{article.id}", headers=writer), 403)
    assert (await fetch_article(client, str(article.id)))["version"] == article.version


async def test_a_deleted_published_article_is_gone_and_keeps_its_slug(
    client, session, writer, publisher
):
    article = await make_article(session)

    response = await client.delete(f"/v1/articles/{article.id}", headers=publisher)

    assert response.status_code == 204
    assert response.content == b""
    for headers in ({}, writer):
        for reference in (str(article.id), article.slug):
            response = await client.get(f"/v1/articles/{reference}", headers=headers)
            assert_problem(response, 410)
    retry = await client.post("/v1/articles", json=article_data(slug=article.slug), headers=writer)
    assert_problem(retry, 409)
    assert await count_rows(session, Article) == 1


async def test_a_deleted_draft_stays_404_for_anonymous_callers(client, session, writer, publisher):
    article = await make_article(session, published=False)

    response = await client.delete(f"/v1/articles/{article.id}", headers=publisher)

    assert response.status_code == 204
    assert_problem(await client.get(f"/v1/articles/{article.id}"), 404)
    assert_problem(await client.get(f"/v1/articles/{article.id}", headers=writer), 410)


# --- GET /v1/articles: visibility and filters ------------------------------------------------


async def test_list_shows_only_public_articles_to_anonymous_callers(client, session, publisher):
    visible = await make_article(session, headline="Visible")
    await make_article(session, published=False, headline="Draft")
    await make_article(
        session, headline="Scheduled", published_at=datetime.now(UTC) + timedelta(hours=2)
    )
    deleted = await make_article(session, headline="Deleted")
    assert (await client.delete(f"/v1/articles/{deleted.id}", headers=publisher)).status_code == 204

    response = await client.get("/v1/articles")

    assert ids(response) == [str(visible.id)]
    page = response.json()
    assert page["next_cursor"] is None
    assert "claims" not in page["data"][0]
    assert "link" not in response.headers


async def test_list_filters_by_section(client, session):
    local = await make_article(session, headline="Local", section="local")
    await make_article(session, headline="World", section="world")

    assert ids(await client.get("/v1/articles", params={"section": "local"})) == [str(local.id)]
    assert ids(await client.get("/v1/articles", params={"section": "sport"})) == []
    # Like `tag`, regardless of case.
    assert ids(await client.get("/v1/articles", params={"section": "Local"})) == [str(local.id)]
    feed = await client.get("/v1/feeds/json", params={"section": "LOCAL"})
    assert [item["title"] for item in feed.json()["items"]] == ["Local"]


async def test_publication_filters_take_a_date_as_its_midnight_utc(client, session):
    before = await make_article(
        session, headline="Before", published_at=datetime(2025, 1, 5, 23, 59, tzinfo=UTC)
    )
    after = await make_article(
        session, headline="After", published_at=datetime(2025, 1, 6, 0, 1, tzinfo=UTC)
    )

    later = await client.get("/v1/articles", params={"published_after": "2025-01-06"})
    earlier = await client.get("/v1/articles", params={"published_before": "2025-01-06"})

    assert ids(later) == [str(after.id)]
    assert ids(earlier) == [str(before.id)]
    for naive in ("2025-01-06T10:00:00", "06/01/2025", "2025-13-01"):
        response = await client.get("/v1/articles", params={"published_after": naive})
        assert ["query", "published_after"] in error_locs(assert_problem(response, 422))


async def test_list_tag_filter_is_repeatable_and_all_must_match(client, session):
    both = await make_article(session, headline="Both", tags=["harbour", "transport"])
    harbour = await make_article(session, headline="Harbour only", tags=["harbour"])

    one_tag = await client.get("/v1/articles", params={"tag": "harbour"})
    two_tags = await client.get("/v1/articles", params=[("tag", "harbour"), ("tag", "Transport")])

    assert set(ids(one_tag)) == {str(both.id), str(harbour.id)}
    assert ids(two_tags) == [str(both.id)]


async def test_list_filters_by_author_case_insensitively(client, session):
    calder = await make_article(session, headline="A", authors=[{"name": "Ines Calder"}])
    await make_article(session, headline="B", authors=[{"name": "Tomas Berg"}])

    assert ids(await client.get("/v1/articles", params={"author": "ines CALDER"})) == [
        str(calder.id)
    ]


async def test_list_filters_by_source_id(client, session):
    cited = await make_article(session, headline="Cites the authority")
    data = article_data(headline="Cites someone else")
    data["claims"][0]["attributions"][0]["source"]["name"] = "Ferry Union"
    other = await make_article(session, headline="Cites someone else", claims=data["claims"])
    authority = (await fetch_article(client, str(cited.id)))["claims"][0]["attributions"][0][
        "source"
    ]
    lind = (await fetch_article(client, str(other.id)))["claims"][1]["attributions"][0]["source"]

    only_cited = await client.get("/v1/articles", params={"source": authority["id"]})
    both = await client.get("/v1/articles", params={"source": lind["id"]})
    bad = await client.get("/v1/articles", params={"source": "not-a-uuid"})

    assert ids(only_cited) == [str(cited.id)]
    assert set(ids(both)) == {str(cited.id), str(other.id)}
    assert ["query", "source"] in error_locs(assert_problem(bad, 422))


async def test_list_filters_by_language(client, session):
    await make_article(session, headline="English")
    french = await make_article(session, headline="Français", language="fr")

    assert ids(await client.get("/v1/articles", params={"language": "fr"})) == [str(french.id)]


async def test_list_filters_by_publication_window(client, session):
    now = datetime.now(UTC)
    old = await make_article(session, headline="Old", published_at=now - timedelta(days=10))
    mid = await make_article(session, headline="Mid", published_at=now - timedelta(days=5))
    new = await make_article(session, headline="New", published_at=now - timedelta(days=1))

    after = await client.get("/v1/articles", params={"published_after": iso(now - timedelta(6))})
    before = await client.get("/v1/articles", params={"published_before": iso(now - timedelta(6))})
    between = await client.get(
        "/v1/articles",
        params={
            "published_after": iso(now - timedelta(days=7)),
            "published_before": iso(now - timedelta(days=3)),
        },
    )

    assert ids(after) == [str(new.id), str(mid.id)]
    assert ids(before) == [str(old.id)]
    assert ids(between) == [str(mid.id)]


async def test_status_draft_lists_drafts_for_writers(client, session, writer):
    draft = await make_article(session, published=False, headline="Draft")
    published = await make_article(session, headline="Published")

    drafts = await client.get("/v1/articles", params={"status": "draft"}, headers=writer)
    everything = await client.get("/v1/articles", params={"status": "all"}, headers=writer)

    assert ids(drafts) == [str(draft.id)]
    assert drafts.json()["data"][0]["status"] == "draft"
    assert drafts.headers["cache-control"] == "private, no-store"
    assert set(ids(everything)) == {str(draft.id), str(published.id)}


async def test_status_filter_is_403_without_write_scope(client, session, reader):
    await make_article(session, published=False)

    assert_problem(await client.get("/v1/articles", params={"status": "draft"}), 403)
    response = await client.get("/v1/articles", params={"status": "draft"}, headers=reader)
    assert_problem(response, 403)


# --- sorting and keyset pagination -----------------------------------------------------------


async def five_articles(session) -> list[Article]:
    """Five published articles; the first is the oldest by publication and by update."""
    now = datetime.now(UTC)
    return [
        await make_article(
            session, headline=f"Story {i}", published_at=now - timedelta(hours=10 - i)
        )
        for i in range(5)
    ]


async def test_list_sort_orders(client, session, editor):
    made = [str(a.id) for a in await five_articles(session)]
    patched = await client.patch(f"/v1/articles/{made[2]}", json={"deck": "New"}, headers=editor)
    assert patched.status_code == 200

    default = await client.get("/v1/articles")
    newest = await client.get("/v1/articles", params={"sort": "-published_at"})
    oldest = await client.get("/v1/articles", params={"sort": "published_at"})
    recently_updated = await client.get("/v1/articles", params={"sort": "-updated_at"})
    least_updated = await client.get("/v1/articles", params={"sort": "updated_at"})
    unknown = await client.get("/v1/articles", params={"sort": "headline"})

    assert ids(default) == ids(newest) == made[::-1]
    assert ids(oldest) == made
    by_update = [made[0], made[1], made[3], made[4], made[2]]
    assert ids(least_updated) == by_update
    assert ids(recently_updated) == by_update[::-1]
    assert ["query", "sort"] in error_locs(assert_problem(unknown, 422))


@pytest.mark.parametrize("sort", ["-published_at", "published_at", "-updated_at", "updated_at"])
async def test_keyset_pagination_walks_every_page(client, session, sort):
    made = await five_articles(session)
    expected = ids(await client.get("/v1/articles", params={"sort": sort, "limit": 100}))
    assert sorted(expected) == sorted(str(a.id) for a in made)

    articles, pages = await walk_pages(client, f"/v1/articles?sort={sort}&limit=2")
    seen = [a["id"] for a in articles]

    assert pages == 3
    assert seen == expected


async def test_count_adds_the_total(client, session):
    await five_articles(session)
    await make_article(session, published=False)

    counted = await client.get("/v1/articles", params={"limit": 2, "count": "true"})
    uncounted = await client.get("/v1/articles", params={"limit": 2})

    assert counted.json()["total"] == 5
    assert len(counted.json()["data"]) == 2
    assert "total" not in uncounted.json()


@pytest.mark.parametrize("limit", [0, 101, -1])
async def test_limit_outside_1_to_100_is_422(client, limit):
    problem = assert_problem(await client.get("/v1/articles", params={"limit": limit}), 422)
    assert ["query", "limit"] in error_locs(problem)


async def test_limit_bounds_are_accepted(client, session):
    await make_article(session)
    assert len(ids(await client.get("/v1/articles", params={"limit": 1}))) == 1
    assert len(ids(await client.get("/v1/articles", params={"limit": 100}))) == 1


@pytest.mark.parametrize("cursor", ["garbage!", "eyJub3QiOiAiYSBjdXJzb3IifQ", "WyJ4Il0", "%%%"])
async def test_a_malformed_cursor_is_422_naming_cursor(client, session, cursor):
    await make_article(session)
    problem = assert_problem(await client.get("/v1/articles", params={"cursor": cursor}), 422)
    assert ["query", "cursor"] in error_locs(problem)


async def test_a_cursor_from_another_sort_is_422(client, session):
    await five_articles(session)
    first = await client.get("/v1/articles", params={"sort": "published_at", "limit": 2})
    cursor = first.json()["next_cursor"]
    assert cursor

    for sort in ("-published_at", "updated_at"):
        response = await client.get("/v1/articles", params={"sort": sort, "cursor": cursor})
        assert ["query", "cursor"] in error_locs(assert_problem(response, 422))
    same = await client.get("/v1/articles", params={"sort": "published_at", "cursor": cursor})
    assert len(ids(same)) == 3


# --- full text ---------------------------------------------------------------------------------


async def test_q_matches_words_in_headline_deck_and_body(client, session):
    article = await make_article(
        session,
        headline="Lighthouse keeper retires",
        deck="Forty winters on Skerry Rock.",
        body="She climbed the tower stairs each night with a brass lantern.",
        claims=[],
    )
    await make_article(session, headline="Budget approved", claims=[])

    for word in ("lighthouse", "skerry", "lantern", "LANTERN"):
        assert ids(await client.get("/v1/articles", params={"q": word})) == [str(article.id)]


async def test_q_ranks_a_headline_match_above_a_body_only_match(client, session):
    padding = "The council met on Tuesday to discuss the annual budget for the town."
    # The body-only match is a slightly shorter text, but a headline match must still win.
    in_body = await make_article(
        session,
        headline="Council meets on budget",
        deck=None,
        body=f"{padding}\n\nA glacier was mentioned.",
        claims=[],
    )
    in_headline = await make_article(
        session,
        headline="Glacier melts on budget",
        deck=None,
        body=f"{padding}\n\nA council member was mentioned there once.",
        claims=[],
    )

    response = await client.get("/v1/articles", params={"q": "glacier"})

    assert ids(response) == [str(in_headline.id), str(in_body.id)]


async def test_q_with_absent_words_returns_nothing(client, session):
    await make_article(session)

    response = await client.get("/v1/articles", params={"q": "zeppelin"})
    both_needed = await client.get("/v1/articles", params={"q": "pier zeppelin"})

    assert ids(response) == []
    assert ids(both_needed) == []
    assert response.json()["next_cursor"] is None


@pytest.mark.parametrize(
    "q",
    [
        '"north pier',
        '"north pier"',
        "-ferry",
        "pier -",
        "pier AND ferry",
        "pier OR",
        "pie*",
        "*",
        "(pier",
        "pier)",
        "NEAR(pier ferry)",
        "pier: ^ferry",
        "' OR 1=1 --",
        "!!!",
        "   ",
    ],
)
async def test_q_with_punctuation_and_operators_never_fails(client, session, q):
    await make_article(session)

    response = await client.get("/v1/articles", params={"q": q})

    assert response.status_code == 200, response.text
    assert isinstance(response.json()["data"], list)


async def test_q_phrases_and_negation(client, session):
    pier = await make_article(session, headline="North pier story")
    timetable = await make_article(
        session, headline="Ferry timetable", deck=None, body="The ferry runs hourly.", claims=[]
    )

    phrase = await client.get("/v1/articles", params={"q": '"north pier"'})
    negated = await client.get("/v1/articles", params={"q": "ferry -pier"})

    assert ids(phrase) == [str(pier.id)]
    assert ids(negated) == [str(timetable.id)]


async def test_q_combines_with_filters(client, session):
    local = await make_article(session, headline="Pier closes", section="local")
    await make_article(session, headline="Pier closes abroad", section="world")
    await make_article(session, headline="Nothing", deck=None, body="Unrelated.", claims=[])

    response = await client.get("/v1/articles", params={"q": "pier", "section": "local"})

    assert ids(response) == [str(local.id)]


# --- sparse fields and embedding -------------------------------------------------------------


async def test_fields_limits_the_keys_of_list_items(client, session):
    article = await make_article(session)

    response = await client.get("/v1/articles", params={"fields": "id,slug,headline"})

    assert response.json()["data"] == [
        {"id": str(article.id), "slug": article.slug, "headline": article.headline}
    ]


async def test_fields_limits_the_keys_of_a_single_article(client, session):
    article = await make_article(session)

    response = await client.get(f"/v1/articles/{article.id}", params={"fields": "id,headline"})

    assert response.status_code == 200
    assert response.json() == {"id": str(article.id), "headline": article.headline}


async def test_an_unknown_field_is_422(client, session):
    article = await make_article(session)

    listed = await client.get("/v1/articles", params={"fields": "id,password"})
    single = await client.get(f"/v1/articles/{article.id}", params={"fields": "id,nope"})

    assert "password" in assert_problem(listed, 422)["detail"]
    assert ["query", "fields"] in error_locs(assert_problem(single, 422))


async def test_fields_naming_nothing_is_422(client, session):
    # Found by schemathesis: `fields=` answered 200 with empty objects.
    article = await make_article(session)

    for fields in ("", " , "):
        listed = await client.get("/v1/articles", params={"fields": fields})
        single = await client.get(f"/v1/articles/{article.id}", params={"fields": fields})

        assert ["query", "fields"] in error_locs(assert_problem(listed, 422))
        assert ["query", "fields"] in error_locs(assert_problem(single, 422))


async def test_fields_naming_what_only_include_embeds_is_422_saying_so(client, session):
    article = await make_article(session)

    listed = await client.get("/v1/articles", params={"fields": "id,claims"})
    single_sources = await client.get(f"/v1/articles/{article.id}", params={"fields": "id,sources"})

    assert "include=claims" in assert_problem(listed, 422)["detail"]
    assert "include=sources" in assert_problem(single_sources, 422)["detail"]
    # With include, or where an article embeds its claims anyway, it is what it asks for.
    embedded = await client.get("/v1/articles", params={"fields": "id,claims", "include": "claims"})
    assert set(embedded.json()["data"][0]) == {"id", "claims"}
    single = await client.get(f"/v1/articles/{article.id}", params={"fields": "id,claims"})
    assert set(single.json()) == {"id", "claims"}
    assert len(single.json()["claims"]) == 2


async def test_include_claims_embeds_claims_in_lists(client, session):
    article = await make_article(session)

    plain = await client.get("/v1/articles")
    included = await client.get("/v1/articles", params={"include": "claims"})

    assert "claims" not in plain.json()["data"][0]
    claims = included.json()["data"][0]["claims"]
    assert [c["statement"] for c in claims] == [
        "The north pier will close for repairs.",
        "The director says the pier cannot be kept open safely.",
    ]
    assert all(c["article_id"] == str(article.id) for c in claims)
    assert claims[0]["attributions"][0]["source"]["name"] == "Harbour Authority"


async def test_include_sources_adds_the_distinct_sources(client, session):
    data = article_data()
    extra = {
        "statement": "Repairs will take a month.",
        "kind": "forecast",
        "attributions": [{"source": {"name": "harbour authority", "kind": "organization"}}],
    }
    article = await make_article(session, claims=[*data["claims"], extra])

    listed = await client.get("/v1/articles", params={"include": "sources"})
    single = await client.get(f"/v1/articles/{article.id}", params={"include": "sources"})

    item = listed.json()["data"][0]
    assert "claims" not in item
    names = sorted(s["name"] for s in item["sources"])
    assert names == ["Harbour Authority", "Mara Lind"]
    assert len({s["id"] for s in item["sources"]}) == 2
    assert sorted(s["name"] for s in single.json()["sources"]) == names
    assert len(single.json()["claims"]) == 3
    assert "sources" not in (await fetch_article(client, str(article.id)))


async def test_an_unknown_include_is_422(client, session):
    article = await make_article(session)

    listed = await client.get("/v1/articles", params={"include": "claims,authors"})
    single = await client.get(f"/v1/articles/{article.id}", params={"include": "comments"})

    assert ["query", "include"] in error_locs(assert_problem(listed, 422))
    assert ["query", "include"] in error_locs(assert_problem(single, 422))


async def test_pages_that_embed_are_capped_at_25_articles(client, session):
    await make_article(session)

    for include in ("claims", "sources"):
        capped = await client.get("/v1/articles", params={"include": include, "limit": 26})
        problem = assert_problem(capped, 422)
        assert ["query", "limit"] in error_locs(problem) and "at most 25" in problem["detail"]
        allowed = await client.get("/v1/articles", params={"include": include, "limit": 25})
        assert allowed.status_code == 200 and len(allowed.json()["data"]) == 1
    plain = await client.get("/v1/articles", params={"limit": 100})
    assert plain.status_code == 200


# --- PATCH ----------------------------------------------------------------------------------------


async def test_a_write_that_changes_nothing_keeps_the_version_and_tells_no_one(
    client, session, editor
):
    article = await create_article(client, editor)
    url = f"/v1/articles/{article['id']}"
    published = await client.post(f"{url}/publish", headers=editor)
    assert published.status_code == 200
    current = await client.get(url, headers=editor)
    events = await count_rows(session, ChangeEvent)
    revisions = await count_rows(session, ArticleRevision)
    outbox = await count_rows(session, WebhookOutbox)
    same_claims = [
        {
            k: v
            for k, v in claim.items()
            if k in ("id", "statement", "kind", "quote", "verification")
        }
        | {
            "anchor": {"exact": claim["anchor"]["exact"]} if claim["anchor"] else None,
            "attributions": [
                {
                    "source": {"id": a["source"]["id"]},
                    "role": a["role"],
                    "cue": a["cue"],
                    "anonymous_description": a["anonymous_description"],
                }
                for a in claim["attributions"]
            ],
        }
        for claim in current.json()["claims"]
    ]
    claim_url = f"/v1/claims/{current.json()['claims'][0]['id']}"

    for method, target, body in [
        ("PATCH", url, {"deck": article["deck"], "tags": ["Harbour", "transport"]}),
        ("PATCH", url, {"claims": same_claims}),
        ("PUT", url, {**article_data(slug=article["slug"]), "claims": same_claims}),
        ("PATCH", claim_url, {"verification": "confirmed"}),
    ]:
        response = await client.request(method, target, json=body, headers=editor)
        assert response.status_code == 200, (method, target, response.text)
        again = await client.get(url, headers=editor)
        assert again.json() == current.json(), (method, target)
        assert again.headers["etag"] == current.headers["etag"]
    assert await count_rows(session, ChangeEvent) == events
    assert await count_rows(session, ArticleRevision) == revisions
    assert await count_rows(session, WebhookOutbox) == outbox

    changed = await client.patch(url, json={"deck": "A new deck."}, headers=editor)
    assert changed.json()["version"] == current.json()["version"] + 1
    assert await count_rows(session, ChangeEvent) == events + 1


async def test_patch_changes_only_the_given_fields(client, writer):
    before = await create_article(client, writer)

    response = await client.patch(
        f"/v1/articles/{before['id']}", json={"headline": "Pier closure delayed"}, headers=writer
    )

    assert response.status_code == 200
    after = response.json()
    assert after["headline"] == "Pier closure delayed"
    assert after["version"] == 2
    assert moment(after["updated_at"]) > moment(before["updated_at"])
    assert after["created_at"] == before["created_at"]
    unchanged = ARTICLE_FIELDS - {"headline", "version", "updated_at"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert await fetch_article(client, before["id"], writer) == after


async def test_patch_accepts_merge_patch_json(client, writer):
    article = await create_article(client, writer)

    response = await client.patch(
        f"/v1/articles/{article['id']}",
        content=json.dumps({"deck": "Now with a new deck."}),
        headers={**writer, **MERGE_PATCH},
    )

    assert response.status_code == 200, response.text
    assert response.json()["deck"] == "Now with a new deck."
    assert response.json()["version"] == 2


async def test_patch_with_a_non_json_media_type_is_415(client, writer):
    article = await create_article(client, writer)

    response = await client.patch(
        f"/v1/articles/{article['id']}",
        content=json.dumps({"deck": "x"}),
        headers={**writer, "Content-Type": "text/plain"},
    )

    assert_problem(response, 415)
    assert (await fetch_article(client, article["id"], writer))["version"] == 1


async def test_patch_null_clears_deck_and_section(client, writer):
    article = await create_article(client, writer)

    response = await client.patch(
        f"/v1/articles/{article['id']}", json={"deck": None, "section": None}, headers=writer
    )

    assert response.status_code == 200
    assert response.json()["deck"] is None
    assert response.json()["section"] is None
    assert response.json()["headline"] == article["headline"]


async def test_patch_headline_null_is_422_and_changes_nothing(client, writer):
    article = await create_article(client, writer)

    response = await client.patch(
        f"/v1/articles/{article['id']}", json={"headline": None, "deck": "x"}, headers=writer
    )

    assert ["body", "headline"] in error_locs(assert_problem(response, 422))
    assert await fetch_article(client, article["id"], writer) == article


async def test_patch_replaces_the_tags(client, writer):
    article = await create_article(client, writer)

    response = await client.patch(
        f"/v1/articles/{article['id']}",
        json={"tags": ["Weather", "weather", "Storms"]},
        headers=writer,
    )

    assert response.json()["tags"] == ["weather", "storms"]


async def test_patch_merges_syndication_partially(client, writer):
    article = await create_article(
        client, writer, syndication={"allowed": True, "usage_terms": "Credit"}
    )

    response = await client.patch(
        f"/v1/articles/{article['id']}", json={"syndication": {"allowed": False}}, headers=writer
    )

    assert response.status_code == 200
    assert response.json()["syndication"] == {"allowed": False, "usage_terms": "Credit"}


async def test_patch_body_reanchors_claims_that_are_still_there(client, writer):
    article = await create_article(client, writer)
    old_anchor = article["claims"][0]["anchor"]
    body = "Update: the ferry timetable changes next week.\n\n" + BODY

    response = await client.patch(
        f"/v1/articles/{article['id']}", json={"body": body}, headers=writer
    )

    assert response.status_code == 200
    patched = response.json()
    text = plain_text(body)
    statement, quote = patched["claims"]
    shift = len("Update: the ferry timetable changes next week.\n\n")
    assert statement["anchor"]["start"] == old_anchor["start"] + shift
    assert text[statement["anchor"]["start"] : statement["anchor"]["end"]] == old_anchor["exact"]
    assert statement["anchor_status"] == quote["anchor_status"] == "anchored"
    assert text[quote["anchor"]["start"] : quote["anchor"]["end"]] == quote["quote"]
    assert f'data-claim-id="{statement["id"]}"' in patched["body_html"]


async def test_patch_body_orphans_a_claim_whose_text_is_gone(client, writer):
    article = await create_article(client, writer)
    body = BODY.split("\n\n")
    new_body = f"{body[0]}\n\n{body[2]}"

    response = await client.patch(
        f"/v1/articles/{article['id']}", json={"body": new_body}, headers=writer
    )

    assert response.status_code == 200
    patched = response.json()
    assert [c["id"] for c in patched["claims"]] == [c["id"] for c in article["claims"]]
    statement, quote = patched["claims"]
    assert statement["anchor_status"] == "anchored"
    assert quote["anchor_status"] == "orphaned"
    assert quote["anchor"]["exact"] == "We cannot keep it open safely,"
    assert quote["anchor"]["start"] is None
    assert quote["anchor"]["end"] is None
    assert f'data-claim-id="{quote["id"]}"' not in patched["body_html"]
    assert patched["sourcing"]["claims"] == 2
    assert (await fetch_article(client, article["id"], writer))["claims"][1][
        "anchor_status"
    ] == "orphaned"


async def test_patch_claims_replaces_the_claims(client, session, writer):
    article = await create_article(client, writer)
    new_claims = [{"statement": "Ferries run late.", "kind": "report", "attributions": []}]

    response = await client.patch(
        f"/v1/articles/{article['id']}", json={"claims": new_claims}, headers=writer
    )

    assert response.status_code == 200
    [claim] = response.json()["claims"]
    assert claim["statement"] == "Ferries run late."
    assert claim["anchor"] is None
    assert claim["id"] not in {c["id"] for c in article["claims"]}
    assert response.json()["sourcing"]["unattributed_claims"] == 1
    assert response.json()["version"] == 2
    assert await session.scalar(select(func.count()).select_from(Claim)) == 1


async def test_patch_to_a_taken_slug_is_409_and_changes_nothing(client, writer):
    await create_article(client, writer, slug="taken")
    article = await create_article(client, writer, slug="mine")

    response = await client.patch(
        f"/v1/articles/{article['id']}", json={"slug": "taken", "deck": "x"}, headers=writer
    )

    assert_problem(response, 409)
    assert await fetch_article(client, article["id"], writer) == article
    assert_problem(await client.get("/v1/articles/mine-2", headers=writer), 404)


async def test_patch_an_unknown_article_is_404(client, writer):
    response = await client.patch("/v1/articles/nothing-here", json={"deck": "x"}, headers=writer)
    assert_problem(response, 404)


# --- PUT ------------------------------------------------------------------------------------------


async def test_put_replaces_the_article_and_resets_omitted_fields(client, writer):
    article = await create_article(client, writer, language="fr", canonical_url="https://x.test/a")
    replacement = {
        "headline": "Pier reopens",
        "body": "The pier reopened on Friday.",
        "claims": [
            {"statement": "The pier reopened.", "anchor": {"exact": "The pier reopened"}},
        ],
    }

    response = await client.put(f"/v1/articles/{article['id']}", json=replacement, headers=writer)

    assert response.status_code == 200, response.text
    replaced = response.json()
    assert replaced["id"] == article["id"]
    assert replaced["slug"] == article["slug"]
    assert replaced["headline"] == "Pier reopens"
    assert replaced["deck"] is None
    assert replaced["tags"] == []
    assert replaced["section"] is None
    assert replaced["language"] == "en"
    assert replaced["authors"] == []
    assert replaced["canonical_url"] is None
    assert replaced["syndication"] == {"allowed": True, "usage_terms": None}
    assert replaced["version"] == 2
    [claim] = replaced["claims"]
    assert claim["statement"] == "The pier reopened."
    assert claim["anchor"]["start"] == 0
    assert claim["anchor"]["end"] == len("The pier reopened")
    assert await fetch_article(client, article["id"], writer) == replaced


async def test_put_with_an_invalid_body_is_422_and_changes_nothing(client, writer):
    article = await create_article(client, writer)

    response = await client.put(
        f"/v1/articles/{article['id']}", json={"body": "No headline here."}, headers=writer
    )

    assert ["body", "headline"] in error_locs(assert_problem(response, 422))
    assert await fetch_article(client, article["id"], writer) == article


# --- caching and optimistic concurrency ------------------------------------------------------


async def test_published_article_is_publicly_cacheable_with_a_strong_etag(client, session):
    article = await make_article(session)

    response = await client.get(f"/v1/articles/{article.id}")

    assert re.fullmatch(r'"[^"]+"', response.headers["etag"])
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert "stale-while-revalidate=" in response.headers["cache-control"]
    listed = await client.get("/v1/articles")
    assert listed.headers["cache-control"].startswith("public, max-age=")
    assert re.fullmatch(r'"[^"]+"', listed.headers["etag"])


async def test_draft_is_private_no_store(client, writer):
    article = await create_article(client, writer)

    response = await client.get(f"/v1/articles/{article['id']}", headers=writer)

    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["etag"]


async def test_if_none_match_gives_304_without_a_body(client, session):
    article = await make_article(session)
    first = await client.get(f"/v1/articles/{article.id}")

    again = await client.get(
        f"/v1/articles/{article.id}", headers={"If-None-Match": first.headers["etag"]}
    )
    stale = await client.get(f"/v1/articles/{article.id}", headers={"If-None-Match": '"other"'})

    assert again.status_code == 304
    assert again.content == b""
    assert stale.status_code == 200
    assert stale.json() == first.json()


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
async def test_a_304_carries_the_etag_the_200_would_have(client, session, encoding):
    article = await make_article(session)
    headers = {"Accept-Encoding": encoding}
    first = await client.get(f"/v1/articles/{article.id}", headers=headers)

    again = await client.get(
        f"/v1/articles/{article.id}", headers={**headers, "If-None-Match": first.headers["etag"]}
    )

    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]


async def test_the_etag_changes_after_a_patch(client, session, editor):
    article = await make_article(session)
    before = await client.get(f"/v1/articles/{article.id}")

    patched = await client.patch(f"/v1/articles/{article.id}", json={"deck": "x"}, headers=editor)
    after = await client.get(
        f"/v1/articles/{article.id}", headers={"If-None-Match": before.headers["etag"]}
    )

    assert patched.status_code == 200
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["deck"] == "x"


async def test_the_list_etag_changes_after_an_edit_of_a_listed_article(client, session, editor):
    article = await make_article(session)
    before = await client.get("/v1/articles")

    patched = await client.patch(f"/v1/articles/{article.id}", json={"deck": "y"}, headers=editor)
    after = await client.get("/v1/articles", headers={"If-None-Match": before.headers["etag"]})

    assert patched.status_code == 200
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    unchanged = await client.get("/v1/articles", headers={"If-None-Match": after.headers["etag"]})
    assert unchanged.status_code == 304


async def test_surrogate_keys_name_the_article_section_and_tags(client, session):
    article = await make_article(session, section="world", tags=["Elections", "europe"])

    single = await client.get(f"/v1/articles/{article.id}")
    listed = await client.get("/v1/articles")

    for response in (single, listed):
        keys = response.headers["surrogate-key"].split()
        assert f"article-{article.id}" in keys
        assert "section-world" in keys
        assert "tag-elections" in keys
        assert "tag-europe" in keys


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
async def test_a_stale_if_match_is_412_and_changes_nothing(
    client, session, editor, publisher, method
):
    article = await make_article(session)
    stale = (await client.get(f"/v1/articles/{article.id}", headers=editor)).headers["etag"]
    edit = await client.patch(f"/v1/articles/{article.id}", json={"deck": "v2"}, headers=editor)
    assert edit.status_code == 200
    current = await fetch_article(client, str(article.id), editor)

    headers = {**(publisher if method == "DELETE" else editor), "If-Match": stale}
    body = None if method == "DELETE" else article_data(deck="changed")
    if method == "PATCH":
        body = {"deck": "changed"}
    response = await client.request(
        method, f"/v1/articles/{article.id}", json=body, headers=headers
    )

    assert_problem(response, 412)
    assert await fetch_article(client, str(article.id), editor) == current
    assert await fetch_article(client, str(article.id)) == current


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_a_current_if_match_succeeds_and_returns_the_new_etag(
    client, session, editor, method
):
    article = await make_article(session)
    etag = (await client.get(f"/v1/articles/{article.id}", headers=editor)).headers["etag"]
    body = {"deck": "changed"} if method == "PATCH" else article_data(deck="changed")

    response = await client.request(
        method, f"/v1/articles/{article.id}", json=body, headers={**editor, "If-Match": etag}
    )

    assert response.status_code == 200, response.text
    assert response.json()["deck"] == "changed"
    assert response.json()["version"] == article.version + 1
    fresh = await client.get(f"/v1/articles/{article.id}", headers=editor)
    assert response.headers["etag"] == fresh.headers["etag"]
    assert response.headers["etag"] != etag


async def test_a_current_if_match_lets_a_delete_through(client, session, publisher):
    article = await make_article(session)
    etag = (await client.get(f"/v1/articles/{article.id}")).headers["etag"]

    response = await client.delete(
        f"/v1/articles/{article.id}", headers={**publisher, "If-Match": etag}
    )

    assert response.status_code == 204
    assert_problem(await client.get(f"/v1/articles/{article.id}"), 410)


# --- renamed slugs -------------------------------------------------------------------------------


async def test_a_renamed_article_answers_at_its_old_slug_with_a_permanent_redirect(
    client, session, editor
):
    article = await make_article(session, slug="north-pier")
    renamed = await client.patch(
        f"/v1/articles/{article.id}", json={"slug": "north-pier-closes"}, headers=editor
    )
    assert renamed.status_code == 200, renamed.text

    for method in ("GET", "HEAD"):
        moved = await client.request(method, "/v1/articles/north-pier?format=jsonld")
        assert moved.status_code == 301
        assert moved.headers["location"] == "/v1/articles/north-pier-closes?format=jsonld"
        assert moved.headers["cache-control"].startswith("public")
    followed = await client.get("/v1/articles/north-pier", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.json()["slug"] == "north-pier-closes"

    # Renamed again: the first slug points at where it is now, in one step.
    await client.patch(f"/v1/articles/{article.id}", json={"slug": "pier-shut"}, headers=editor)
    assert (await client.get("/v1/articles/north-pier")).headers["location"] == (
        "/v1/articles/pier-shut"
    )


async def test_an_old_slug_stays_its_articles_until_it_is_taken_back(client, session, editor):
    article = await make_article(session, slug="north-pier")
    await client.patch(f"/v1/articles/{article.id}", json={"slug": "pier"}, headers=editor)

    taken = await client.post("/v1/articles", json=article_data(slug="north-pier"), headers=editor)
    assert_problem(taken, 409)
    derived = await client.post(
        "/v1/articles", json=article_data(headline="North pier"), headers=editor
    )
    assert derived.json()["slug"] == "north-pier-2"

    back = await client.patch(
        f"/v1/articles/{article.id}", json={"slug": "north-pier"}, headers=editor
    )
    assert back.status_code == 200, back.text
    assert (await client.get("/v1/articles/north-pier")).status_code == 200
    assert (await client.get("/v1/articles/pier")).headers["location"] == "/v1/articles/north-pier"


async def test_an_old_slug_reveals_nothing_the_caller_may_not_see(client, session, editor):
    draft = await make_article(session, slug="secret-plan", published=False)
    await client.patch(f"/v1/articles/{draft.id}", json={"slug": "plan"}, headers=editor)
    assert_problem(await client.get("/v1/articles/secret-plan"), 404)
    assert (await client.get("/v1/articles/secret-plan", headers=editor)).status_code == 301

    public = await make_article(session, slug="old-story")
    await client.patch(f"/v1/articles/{public.id}", json={"slug": "story"}, headers=editor)
    await client.delete(f"/v1/articles/{public.id}", headers=editor)
    assert_problem(await client.get("/v1/articles/old-story"), 410)
