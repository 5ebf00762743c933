"""One article in its other formats: schema.org JSON-LD (with ClaimReviews) and IPTC ninjs 3.1,
validated against IPTC's own schema; how a format is chosen, cached and refused."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from jsonschema import Draft202012Validator

from app.articles.body import plain_text
from app.articles.cache import Rendered
from app.articles.formats import JSONLD_MEDIA_TYPE, byline, jsonld
from app.articles.schemas import ArticleRead
from app.settings import Settings
from tests.factories import BODY, article_data, make_article
from tests.helpers import assert_problem, create_article, error_locs, parse_time

pytestmark = pytest.mark.anyio

BASE = "https://api.newsdesk.test"  # public_base_url in conftest's settings
NINJS_SCHEMA_URL = "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json"
NINJS = Draft202012Validator(
    json.loads((Path(__file__).parents[1] / "fixtures" / "ninjs-schema_3.1.json").read_text()),
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
REVIEW = {
    "rating": "Mostly true",
    "rating_value": 4,
    "best_rating": 5,
    "worst_rating": 1,
    "reviewed_by": "Newsdesk Fact Check",
    "reviewed_at": "2024-05-01T12:00:00Z",
    "url": "https://factcheck.newsdesk.test/pier",
}


def ninjs_errors(document: dict[str, Any]) -> list[str]:
    return [error.message for error in NINJS.iter_errors(document)]


def claim(statement: str, source: dict[str, Any], **attribution: Any) -> dict[str, Any]:
    return {"statement": statement, "attributions": [{"source": source, **attribution}]}


def every_kind(**overrides: Any) -> dict[str, Any]:
    """An article whose claims cite a source of every kind (one of them twice), by three
    authors, with usage terms."""
    claims = [
        *article_data()["claims"],  # Harbour Authority (organization), Mara Lind (person)
        claim(
            "Repairs will take six months.",
            {"name": "Port Ministry", "kind": "government", "affiliation": "Government"},
        ),
        claim(
            "The pier was first flagged in 2023.", {"name": "Coast Times", "kind": "publication"}
        ),
        claim(
            "The survey found cracks in the pilings.",
            {"name": "Structural survey 2025", "kind": "document", "url": "https://docs.test/s"},
        ),
        claim(
            "Closure talks began in March.",
            {"name": "port officials", "kind": "anonymous", "affiliation": "Port Ministry"},
            anonymous_description="two senior port officials",
        ),
        claim(
            "The ferry timetable will change.",
            {"name": "Harbour Authority", "kind": "organization"},
        ),
    ]
    data = {
        "authors": [{"name": "Ines Calder"}, {"name": "Tom Reyes"}, {"name": "Ada Obi"}],
        "syndication": {"allowed": True, "usage_terms": "Partners may republish in full."},
        "claims": claims,
    }
    return {**data, **overrides}


async def get(
    client: httpx.AsyncClient, article: Any, headers: dict[str, str] | None = None, **params: str
) -> httpx.Response:
    return await client.get(f"/v1/articles/{article}", params=params, headers=headers)


async def ninjs_of(client: httpx.AsyncClient, article: Any, headers=None) -> dict[str, Any]:
    response = await get(client, article, headers, format="ninjs")
    assert response.status_code == 200, response.text
    document = response.json()
    assert ninjs_errors(document) == []
    return document


async def graph_of(client: httpx.AsyncClient, article: Any, headers=None) -> list[dict[str, Any]]:
    response = await get(client, article, headers, format="jsonld")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    document = response.json()
    assert document["@context"] == "https://schema.org"
    return document["@graph"]


# --- the validator -------------------------------------------------------------------------


def test_the_ninjs_validator_checks_formats():
    assert ninjs_errors({"uri": "https://api.newsdesk.test/v1/articles/1"}) == []
    assert ninjs_errors({"uri": "not a uri"})
    assert ninjs_errors({"uri": "https://a.test/1", "versionCreated": "yesterday"})
    assert ninjs_errors({"uri": "https://a.test/1", "claims": []})  # unknown properties


def test_byline_joins_names_as_written():
    assert byline([]) is None
    assert byline(["Ines Calder"]) == "Ines Calder"
    assert byline(["Ines Calder", "Tom Reyes"]) == "Ines Calder and Tom Reyes"
    assert byline(["A", "B", "C"]) == "A, B and C"


# --- ninjs ---------------------------------------------------------------------------------


async def test_ninjs_of_a_published_article(client, session):
    article = await make_article(session, **every_kind())
    json_form = (await get(client, article.id)).json()

    response = await get(client, article.slug, format="ninjs")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["link"] == (
        f'<{NINJS_SCHEMA_URL}>; rel="describedby", '
        f'<{BASE}/v1/articles/{article.id}/claims>; rel="related"'
    )
    assert response.headers["cache-control"].startswith("public")
    document = response.json()
    assert ninjs_errors(document) == []
    assert document["uri"] == f"{BASE}/v1/articles/{article.id}"
    assert document["standard"] == {
        "name": "ninjs",
        "version": "3.1",
        "schema": f"{NINJS_SCHEMA_URL}#",
    }
    assert document["type"] == "text"
    assert document["representationType"] == "full"
    assert document["version"] == str(json_form["version"])
    assert parse_time(document["firstCreated"]) == parse_time(json_form["created_at"])
    assert parse_time(document["versionCreated"]) == parse_time(json_form["updated_at"])
    assert document["firstCreated"].endswith("Z") and document["versionCreated"].endswith("Z")
    assert document["pubStatus"] == "usable"
    assert "embargoedUntil" not in document
    assert document["language"] == "en"
    assert document["slugline"] == article.slug
    assert document["usageTerms"] == "Partners may republish in full."
    assert document["headlines"] == [
        {"role": "main", "contentType": "text/plain", "value": "North pier to close for repairs"},
        {
            "role": "subhead",
            "contentType": "text/plain",
            "value": "The harbour authority says the pier is unsafe.",
        },
    ]
    html, text = document["bodies"]
    plain = plain_text(BODY)
    assert html == {
        "role": "main",
        "contentType": "text/html",
        "value": json_form["body_html"],
        "wordCount": len(plain.split()),
        "charCount": len(plain),
    }
    assert text["contentType"] == "text/plain"
    assert text["value"] == plain
    assert text["wordCount"] == len(plain.split()) == 38
    assert document["by"] == "Ines Calder, Tom Reyes and Ada Obi"
    sources = {
        source["name"]: source["id"]
        for claim_ in json_form["claims"]
        for source in (a["source"] for a in claim_["attributions"])
    }
    assert document["people"] == [
        {
            "name": author["name"],
            "rel": "author",
            "uri": f"{BASE}/v1/authors/{author['id']}",
            "literal": author["slug"],
        }
        for author in json_form["authors"]
    ] + [
        {
            "name": "Mara Lind",
            "rel": "mentions",
            "uri": f"{BASE}/v1/sources/{sources['Mara Lind']}",
        },
    ]
    assert document["organisations"] == [
        {"name": name, "rel": "mentions", "uri": f"{BASE}/v1/sources/{sources[name]}"}
        for name in ("Harbour Authority", "Port Ministry", "Coast Times")
    ]
    assert document["subjects"] == [
        {"name": "local", "rel": "about", "literal": "section:local"},
        {"name": "harbour", "rel": "about", "literal": "tag:harbour"},
        {"name": "transport", "rel": "about", "literal": "tag:transport"},
    ]
    # The unnamed source and the document are neither people nor organisations, and no
    # claim is in the document: it links to them instead.
    assert "port officials" not in response.text
    assert "Structural survey" not in response.text
    assert "claims" not in document


async def test_ninjs_of_a_draft_is_withheld(client, writer):
    draft = await create_article(client, writer)

    response = await get(client, draft["id"], writer, format="ninjs")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    document = response.json()
    assert ninjs_errors(document) == []
    assert document["pubStatus"] == "withheld"
    assert "embargoedUntil" not in document
    assert document["version"] == "1"


async def test_ninjs_of_a_scheduled_article_is_embargoed_until_it_goes_live(
    client, session, writer
):
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    article = await make_article(session, published_at=later)
    json_form = (await get(client, article.id, writer)).json()

    document = await ninjs_of(client, article.id, writer)

    assert document["pubStatus"] == "withheld"
    assert document["embargoedUntil"].endswith("Z")
    assert parse_time(document["embargoedUntil"]) == later
    assert document["embargoedUntil"] == json_form["published_at"]


async def test_ninjs_of_a_retracted_article_is_canceled_and_says_why(client, session, publisher):
    article = await make_article(session)
    for path, text in (("corrections", "It is the north pier."), ("retract", "Not closing.")):
        response = await client.post(
            f"/v1/articles/{article.id}/{path}", json={"text": text}, headers=publisher
        )
        assert response.status_code in (200, 201), response.text

    document = await ninjs_of(client, article.id)

    assert document["pubStatus"] == "canceled"
    # Where a consumer shows notices to readers, after the corrections it came after.
    assert document["descriptions"] == [
        {"role": "correction", "contentType": "text/plain", "value": "It is the north pier."},
        {"role": "retraction", "contentType": "text/plain", "value": "Not closing."},
    ]
    assert document["edNote"] == "Retracted: Not closing."


async def test_ninjs_of_a_bare_article(client, session):
    article = await make_article(
        session, deck=None, authors=[], section=None, tags=[], claims=[], body="One line."
    )

    document = await ninjs_of(client, article.id)

    assert document["headlines"] == [
        {"role": "main", "contentType": "text/plain", "value": "North pier to close for repairs"}
    ]
    assert [body["wordCount"] for body in document["bodies"]] == [2, 2]
    for absent in ("by", "people", "organisations", "subjects", "usageTerms", "descriptions"):
        assert absent not in document
    assert "edNote" not in document


async def test_ninjs_corrections_are_descriptions(client, session, publisher):
    article = await make_article(session)
    corrected = await client.post(
        f"/v1/articles/{article.id}/corrections",
        json={"text": "The pier is the north one."},
        headers=publisher,
    )
    assert corrected.status_code == 201, corrected.text

    document = await ninjs_of(client, article.id)

    assert document["descriptions"] == [
        {"role": "correction", "contentType": "text/plain", "value": "The pier is the north one."}
    ]


async def test_ninjs_uri_is_stable_across_versions(client, session, editor):
    article = await make_article(session)
    before = await ninjs_of(client, article.id)

    patched = await client.patch(
        f"/v1/articles/{article.id}",
        json={"headline": "North pier closes", "slug": "north-pier-closes"},
        headers={**editor, **MERGE_PATCH},
    )
    assert patched.status_code == 200, patched.text
    after = await ninjs_of(client, "north-pier-closes")

    assert after["uri"] == before["uri"] == f"{BASE}/v1/articles/{article.id}"
    assert after["version"] == str(patched.json()["version"])
    assert int(after["version"]) == int(before["version"]) + 1
    assert after["headlines"][0]["value"] == "North pier closes"


# --- schema.org JSON-LD --------------------------------------------------------------------


async def test_jsonld_news_article(client, session):
    article = await make_article(session, **every_kind(canonical_url="https://harbour.test/pier"))
    json_form = (await get(client, article.id)).json()

    news, *reviews = await graph_of(client, article.id)

    assert reviews == []
    assert news["@type"] == "NewsArticle"
    assert news["@id"] == f"{BASE}/v1/articles/{article.id}"
    assert news["url"] == news["mainEntityOfPage"] == "https://harbour.test/pier"
    assert news["headline"] == "North pier to close for repairs"
    assert news["alternativeHeadline"] == "The harbour authority says the pier is unsafe."
    assert news["datePublished"] == json_form["published_at"]
    assert news["dateModified"] == json_form["updated_at"]
    assert news["dateCreated"] == json_form["created_at"]
    assert news["inLanguage"] == "en"
    assert news["articleSection"] == "local"
    assert news["keywords"] == ["harbour", "transport"]
    assert news["author"] == [
        {"@type": "Person", "name": name, "url": f"{BASE}/v1/authors/{slug}"}
        for name, slug in (
            ("Ines Calder", "ines-calder"),
            ("Tom Reyes", "tom-reyes"),
            ("Ada Obi", "ada-obi"),
        )
    ]
    assert news["publisher"] == {
        "@type": "NewsMediaOrganization",
        "name": "Newsdesk",
        "url": BASE,
    }
    assert news["articleBody"] == plain_text(BODY)
    assert news["wordCount"] == 38
    assert news["version"] == json_form["version"]
    assert news["creativeWorkStatus"] == "Published"
    assert "correction" not in news


async def test_jsonld_names_each_distinct_source_by_kind(client, session):
    """Documents are `citation` (CreativeWork), everyone else `mentions`."""
    article = await make_article(session, **every_kind())

    news, *_ = await graph_of(client, article.id)

    [document] = news["citation"]
    mentions = news["mentions"]
    assert len(mentions) == len({c["@id"] for c in mentions}) == 5  # Harbour Authority once
    by_type = {c["@type"]: c for c in [*mentions, document]}
    unnamed = next(c for c in mentions if "name" not in c)
    by_type["Person"] = next(c for c in mentions if c["@type"] == "Person" and "name" in c)
    assert by_type["Organization"]["name"] == "Harbour Authority"
    assert by_type["Person"]["name"] == "Mara Lind"
    assert by_type["Person"]["description"] == "Director of the harbour authority"
    assert by_type["GovernmentOrganization"]["name"] == "Port Ministry"
    assert by_type["GovernmentOrganization"]["parentOrganization"] == {
        "@type": "Organization",
        "name": "Government",
    }
    assert by_type["NewsMediaOrganization"]["name"] == "Coast Times"
    assert by_type["CreativeWork"] == {
        "@type": "CreativeWork",
        "@id": by_type["CreativeWork"]["@id"],
        "name": "Structural survey 2025",
        "url": "https://docs.test/s",
    }
    # Described as the article describes them, never named: there is no name to give.
    assert unnamed == {
        "@type": "Person",
        "@id": unnamed["@id"],
        "description": "two senior port officials",
        "affiliation": {"@type": "Organization", "name": "Port Ministry"},
    }
    for node in [*mentions, document]:
        assert node["@id"].startswith(f"{BASE}/v1/sources/")


async def test_jsonld_has_one_claim_review_per_reviewed_claim(client, session, editor):
    article = await make_article(session, **every_kind())
    claims = (await get(client, article.id)).json()["claims"]
    confirmed, quote, *_, anonymous, _ = claims
    for reviewed, review in (
        (quote, REVIEW),
        (anonymous, {"rating": "Unproven", "reviewed_by": "Harbour Checkers"}),
    ):
        patched = await client.patch(
            f"/v1/claims/{reviewed['id']}", json={"review": review}, headers=editor
        )
        assert patched.status_code == 200, patched.text
    assert confirmed["review"] is None

    news, *reviews = await graph_of(client, article.id)

    assert [r["@type"] for r in reviews] == ["ClaimReview", "ClaimReview"]
    full, bare = reviews
    person = next(c for c in news["mentions"] if c.get("name") == "Mara Lind")
    assert full == {
        "@type": "ClaimReview",
        "@id": f"{BASE}/v1/claims/{quote['id']}#review",
        "url": "https://factcheck.newsdesk.test/pier",
        "claimReviewed": "The director says the pier cannot be kept open safely.",
        "itemReviewed": {
            "@type": "Claim",
            "@id": f"{BASE}/v1/claims/{quote['id']}",
            "text": "We cannot keep it open safely,",
            "author": [person],
            "appearance": {"@type": "NewsArticle", "@id": news["@id"], "url": news["url"]},
        },
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": 4,
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": "Mostly true",
        },
        "author": {"@type": "Organization", "name": "Newsdesk Fact Check"},
        "datePublished": "2024-05-01T12:00:00Z",
    }
    assert bare["claimReviewed"] == "Closure talks began in March."
    assert bare["url"] == news["url"]  # no fact-check page of its own: the article's
    assert bare["reviewRating"] == {"@type": "Rating", "alternateName": "Unproven"}
    assert bare["author"] == {"@type": "Organization", "name": "Harbour Checkers"}
    assert "datePublished" not in bare
    [unnamed] = bare["itemReviewed"]["author"]
    assert unnamed["@type"] == "Person" and "name" not in unnamed


async def test_jsonld_claimants_leave_out_who_disputes(client, session, writer):
    disputed = {
        "statement": "The pier is unsafe.",
        "review": {"rating": "True", "reviewed_by": "Newsdesk Fact Check"},
        "attributions": [
            {"source": {"name": "Mara Lind", "kind": "person"}, "role": "asserted_by"},
            {"source": {"name": "Pier Users Union", "kind": "organization"}, "role": "denied_by"},
        ],
    }
    article = await make_article(session, claims=[disputed])

    news, review = await graph_of(client, article.id)

    assert [a["name"] for a in review["itemReviewed"]["author"]] == ["Mara Lind"]
    assert {c["name"] for c in news["mentions"]} == {"Mara Lind", "Pier Users Union"}


# What schema.org allows as the value of each property we give a node to (its range), and
# the subtypes of those types that we write. A node under a property not in this table fails
# the test below: add the property with its range from schema.org.
SUBTYPES = {
    "Organization": {"Organization", "GovernmentOrganization", "NewsMediaOrganization"},
    "CreativeWork": {"CreativeWork", "NewsArticle", "Claim", "ClaimReview", "CorrectionComment"},
}
RANGES = {
    "author": {"Person", "Organization"},  # CreativeWork.author (Claim, ClaimReview too)
    "publisher": {"Person", "Organization"},
    "citation": {"CreativeWork"},
    "mentions": {"Thing"},
    "appearance": {"CreativeWork"},  # Claim.appearance
    "itemReviewed": {"Thing"},
    "reviewRating": {"Rating"},
    "correction": {"CorrectionComment"},
    "affiliation": {"Organization"},  # Person.affiliation
    "parentOrganization": {"Organization"},
    "sourceOrganization": {"Organization"},
}


def range_errors(node: dict[str, Any], path: str = "") -> list[str]:
    """Every node value in `node` (at any depth) whose `@type` its property's range lacks,
    and every node without an `@type`."""
    errors = []
    for name, value in node.items():
        for child in value if isinstance(value, list) else [value]:
            if not isinstance(child, dict):
                continue
            where = f"{path}.{name}"
            kind = child.get("@type")
            allowed = RANGES.get(name, set())
            if kind is None:
                errors.append(f"{where}: no @type")
            elif "Thing" not in allowed and not any(kind in SUBTYPES.get(a, {a}) for a in allowed):
                errors.append(f"{where}: {kind} is not one of {sorted(allowed)}")
            errors += range_errors(child, where)
    return errors


def test_the_range_check_flags_what_schema_org_does_not_allow():
    assert range_errors({"citation": [{"@type": "Person"}]}) == [
        ".citation: Person is not one of ['CreativeWork']"
    ]
    assert range_errors({"x": {"author": {"@type": "CreativeWork"}}}) == [
        ".x: no @type",
        ".x.author: CreativeWork is not one of ['Organization', 'Person']",
    ]
    assert range_errors({"unlisted": {"@type": "Person"}}) == [".unlisted: Person is not one of []"]
    assert range_errors({"author": {"@type": "NewsMediaOrganization"}}) == []


async def test_jsonld_puts_every_source_where_its_type_belongs(client, session):
    """Every claim reviewed, with a source of every kind as its claimant: each node is of a
    type its property's range allows, wherever it is in the graph."""
    data = every_kind()
    data["claims"] = [
        {**claim, "review": {"rating": "True", "reviewed_by": "Newsdesk Fact Check"}}
        for claim in data["claims"]
    ]
    article = await make_article(session, **data)

    graph = await graph_of(client, article.id)

    assert len(graph) == 1 + len(data["claims"])
    for node in graph:
        assert "@type" in node
        assert range_errors(node, node["@type"]) == []
    cited = [r["itemReviewed"] for r in graph[1:] if "citation" in r["itemReviewed"]]
    assert [c["citation"][0]["name"] for c in cited] == ["Structural survey 2025"]
    assert "author" not in cited[0]  # only the document: no Person or Organization


async def test_jsonld_of_a_retracted_and_corrected_article(client, session, publisher):
    article = await make_article(session)
    for path, text in (("corrections", "It is the north pier."), ("retract", "Not closing.")):
        response = await client.post(
            f"/v1/articles/{article.id}/{path}", json={"text": text}, headers=publisher
        )
        assert response.status_code in (200, 201), response.text

    news, *_ = await graph_of(client, article.id)

    assert news["creativeWorkStatus"] == "Retracted"
    assert [(c["@type"], c["name"], c["text"]) for c in news["correction"]] == [
        ("CorrectionComment", "Correction", "It is the north pier."),
        ("CorrectionComment", "Retraction", "Not closing."),
    ]
    assert all(c["datePublished"].endswith("Z") for c in news["correction"])


async def test_jsonld_of_drafts_and_scheduled_articles(client, session, writer):
    draft = await create_article(client, writer)
    scheduled = await make_article(session, published_at=datetime.now(UTC) + timedelta(days=1))

    [news] = await graph_of(client, draft["id"], writer)
    assert news["creativeWorkStatus"] == "Draft"
    assert "datePublished" not in news
    assert news["url"] == f"{BASE}/v1/articles/{draft['slug']}"
    later, *_ = await graph_of(client, scheduled.id, writer)
    assert later["creativeWorkStatus"] == "Scheduled"


async def test_jsonld_publisher_comes_from_settings(session):
    article = await make_article(session)
    read = ArticleRead.model_validate(article)
    now = datetime.now(UTC)
    base = {"public_base_url": "https://api.harbour.test/", "_env_file": None}

    default = jsonld(read, Settings(**base), now)["@graph"][0]["publisher"]
    named = jsonld(
        read,
        Settings(**base, publisher_name="Harbour Times", publisher_url="https://harbour.test"),
        now,
    )["@graph"][0]["publisher"]

    assert default == {
        "@type": "NewsMediaOrganization",
        "name": "Newsdesk",
        "url": "https://api.harbour.test",
    }
    assert named == {
        "@type": "NewsMediaOrganization",
        "name": "Harbour Times",
        "url": "https://harbour.test",
    }


# --- choosing, caching and refusing formats ------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/ld+json", "application/ld+json"),
        ('application/ld+json; profile="https://schema.org"', "application/ld+json"),
        ("application/json;q=0.5, application/ld+json", "application/ld+json"),
        ("application/ld+json;q=0.5, application/json", "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json"),
    ],
)
async def test_accept_selects_jsonld(client, session, accept, expected):
    article = await make_article(session)

    response = await get(client, article.id, {"Accept": accept})

    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    assert ("@context" in response.json()) is (expected == "application/ld+json")
    assert "Accept" in response.headers["vary"]


async def test_format_wins_over_accept(client, session):
    article = await make_article(session)
    accept = {"Accept": "application/ld+json"}

    as_json = await get(client, article.id, accept, format="json")
    as_ninjs = await get(client, article.id, accept, format="ninjs")

    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json()["id"] == str(article.id)
    assert as_ninjs.json()["standard"]["name"] == "ninjs"


async def test_each_format_has_its_own_etag_and_304(client, session):
    article = await make_article(session)
    formats = ("json", "jsonld", "ninjs")
    responses = {name: await get(client, article.id, format=name) for name in formats}
    etags = {name: response.headers["etag"] for name, response in responses.items()}

    assert len(set(etags.values())) == 3
    assert all(tag.startswith('"') for tag in etags.values())
    assert (await get(client, article.id, {"Accept": "application/ld+json"})).headers[
        "etag"
    ] == etags["jsonld"]
    for name in formats:
        response = await get(client, article.id, {"If-None-Match": etags[name]}, format=name)
        assert response.status_code == 304, name
        assert response.content == b""
        assert response.headers["etag"] == etags[name]
        assert "Accept" in response.headers["vary"]
        assert "surrogate-key" in response.headers
    # Another format's tag does not match this one.
    stale = await get(client, article.id, {"If-None-Match": etags["json"]}, format="ninjs")
    assert stale.status_code == 200


async def test_an_unknown_format_is_422(client, session):
    article = await make_article(session)

    for value in ("bogus", "", "JSONLD"):
        problem = assert_problem(await get(client, article.id, format=value), 422)
        assert ["query", "format"] in error_locs(problem)


@pytest.mark.parametrize("format_", ["jsonld", "ninjs"])
@pytest.mark.parametrize("param", [{"fields": "id,slug"}, {"include": "sources"}])
async def test_fields_and_include_are_refused_with_other_formats(client, session, format_, param):
    article = await make_article(session)
    [name] = param

    problem = assert_problem(await get(client, article.id, format=format_, **param), 422)

    assert error_locs(problem) == [["query", name]]
    assert (await get(client, article.id, format="json", **param)).status_code == 200


async def test_drafts_and_scheduled_are_404_to_readers_in_every_format(client, session, writer):
    draft = await make_article(session, published=False)
    scheduled = await make_article(
        session, slug="later", published_at=datetime.now(UTC) + timedelta(hours=1)
    )
    for article in (draft, scheduled):
        for params, headers in (
            ({}, None),
            ({"format": "json"}, None),
            ({"format": "jsonld"}, None),
            ({"format": "ninjs"}, None),
            ({}, {"Accept": "application/ld+json"}),
        ):
            assert_problem(await get(client, article.id, headers, **params), 404)
        for name in ("json", "jsonld", "ninjs"):
            assert (await get(client, article.id, writer, format=name)).status_code == 200


def contract_validator(path: str) -> Draft202012Validator:
    """The published contract's schema of a 200 application/json answer to GET `path`."""
    spec = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
    schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    return Draft202012Validator({**schema["schema"], "components": spec["components"]})


@pytest.mark.parametrize("query", ["", "?fields=id,headline", "?format=ninjs", "?include=sources"])
async def test_every_json_answer_for_an_article_matches_the_contract(client, session, query):
    # Found by schemathesis: with `fields=` (and with format=ninjs) the answer broke the
    # contract, which described only the whole article.
    article = await make_article(session)

    single = await client.get(f"/v1/articles/{article.id}{query}")
    listed = await client.get(f"/v1/articles{query}")

    assert single.status_code == 200
    contract_validator("/v1/articles/{article}").validate(single.json())
    if "ninjs" not in query:  # lists have no other formats
        assert listed.status_code == 200
        contract_validator("/v1/articles").validate(listed.json())


async def test_jsonld_cannot_close_the_script_element_it_is_pasted_into(client, session):
    headline = "Harbour row </script><script>alert(1)</SCRIPT> ends"
    article = await make_article(session, headline=headline)

    response = await client.get(f"/v1/articles/{article.id}", params={"format": "jsonld"})

    assert response.status_code == 200
    assert b"</" not in response.content
    assert response.json()["@graph"][0]["headline"] == headline


async def test_jsonld_holds_no_markup_an_html_parser_would_act_on(client, session):
    """`<!--` in a script element makes a later `</script>` stop ending it (the "double
    escaped" state), and `</` ends it: JSON-LD writes `<`, `>` and `&` as `\\u` escapes."""
    headline = "Pier <!-- <script> row </script> & <b>more</b> -->"
    deck = "<!--<script>alert(1)//--> a > b && c"
    article = await make_article(
        session, headline=headline, deck=deck, authors=[{"name": "<!-- A & B -->"}]
    )

    response = await client.get(f"/v1/articles/{article.id}", params={"format": "jsonld"})

    assert response.status_code == 200
    for needle in (b"<", b">", b"&", b"<!--", b"</", b"<script"):
        assert needle not in response.content.lower()
    assert b"\\u003c!--" in response.content
    news = response.json()["@graph"][0]
    assert news["headline"] == headline
    assert news["description"] == news["alternativeHeadline"] == deck
    assert news["author"] == [
        {"@type": "Person", "name": "<!-- A & B -->", "url": f"{BASE}/v1/authors/a-b"}
    ]


def test_jsonld_escapes_are_the_same_json():
    payload = {
        "@graph": [{"headline": "a <!-- b --> </script> <SCRIPT> & \u2028 caf\u00e9 \U0001f389"}],
        "n": [1, 2.5, None, True],
        "<key>": "&amp;",
    }
    rendered = Rendered.of(payload, JSONLD_MEDIA_TYPE, {}, [])
    assert orjson.loads(rendered.body) == payload
    assert not set(b"<>&") & set(rendered.body)
    # Only JSON-LD, which pages paste into a script element; plain JSON is left as it is.
    assert b"<!--" in Rendered.of(payload, "application/json", {}, []).body
