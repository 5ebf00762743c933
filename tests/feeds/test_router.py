"""The feed endpoints: RSS 2.0, Atom 1.0 and JSON Feed 1.1 over HTTP, parsed back and checked
for their required elements; what they hold (filters, visibility, syndication rights) and
how they are cached."""

from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import httpx
import orjson
import pytest
from lxml import etree

from app.articles import workflow
from tests.factories import make_article
from tests.feeds.test_render import shown
from tests.helpers import assert_problem

pytestmark = pytest.mark.anyio

BASE = "https://api.newsdesk.test"
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
FORMATS = list(MEDIA_TYPES)
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
HOSTILE = '<script>alert("x")</script> & <b>Bold</b> "quotes" caf\u00e9'


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


async def fetch(
    client: httpx.AsyncClient, fmt: str, query: str = "", headers: dict[str, str] | None = None
) -> httpx.Response:
    """GET one feed; a 200 in the format's media type."""
    response = await client.get(f"/v1/feeds/{fmt}{query}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == MEDIA_TYPES[fmt]
    return response


def item_ids(fmt: str, response: httpx.Response) -> list[str]:
    """The article ids in a feed, in order (every format uses `urn:uuid:<id>`)."""
    if fmt == "json":
        ids = [item["id"] for item in orjson.loads(response.content)["items"]]
    else:
        parsed = feedparser.parse(response.content)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        ids = [entry.id for entry in parsed.entries]
    assert all(i.startswith("urn:uuid:") for i in ids)
    return [i.removeprefix("urn:uuid:") for i in ids]


async def feed_ids(
    client: httpx.AsyncClient, fmt: str, query: str = "", headers: dict[str, str] | None = None
) -> list[str]:
    return item_ids(fmt, await fetch(client, fmt, query, headers))


# --- each format, whole ----------------------------------------------------------------------


async def test_rss_feed_parses_and_has_every_required_element(client, session):
    older = await make_article(session, headline="Older story", published_at=hours_ago(5))
    newer = await make_article(session, headline="Newer story", published_at=hours_ago(1))
    response = await fetch(client, "rss", "?limit=5")

    parsed = feedparser.parse(response.content, sanitize_html=False)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title and parsed.feed.description
    assert parsed.feed.link == f"{BASE}/v1/articles"
    assert [e.title for e in parsed.entries] == ["Newer story", "Older story"]
    for entry, article in zip(parsed.entries, [newer, older], strict=True):
        assert entry.id == f"urn:uuid:{article.id}"
        assert entry.link == f"{BASE}/v1/articles/{article.slug}"
        assert entry.published_parsed[:6] == article.published_at.utctimetuple()[:6]
        assert entry.summary == article.deck
        assert entry.content[0].value == article.body_html.strip()
        assert [t.term for t in entry.tags] == ["local", "harbour", "transport"]
        assert [a.name for a in entry.authors] == ["Ines Calder"]

    channel = etree.fromstring(response.content).find("channel")
    for name in ("title", "link", "description"):
        assert channel.findtext(name), name
    self_link = channel.find(f"{ATOM}link")
    assert (self_link.get("rel"), self_link.get("href")) == ("self", f"{BASE}/v1/feeds/rss?limit=5")
    for item in channel.findall("item"):
        assert item.findtext("title") or item.findtext("description")
        assert item.find("guid").get("isPermaLink") == "false"
        assert item.findtext("pubDate")
        assert 'class="claim"' in item.findtext(f"{CONTENT}encoded")


async def test_atom_feed_parses_and_has_every_element_rfc_4287_requires(client, session):
    with_byline = await make_article(session, headline="With byline", published_at=hours_ago(1))
    without = await make_article(
        session,
        headline="Without byline",
        authors=[],
        deck=None,
        canonical_url="https://news.example.com/2025/without-byline",
        published_at=hours_ago(2),
    )
    response = await fetch(client, "atom", "?section=local")

    parsed = feedparser.parse(response.content, sanitize_html=False)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == f"{BASE}/v1/feeds/atom?section=local"
    assert parsed.feed.title
    newest_edit = max(with_byline.updated_at, without.updated_at)
    assert parsed.feed.updated_parsed[:6] == newest_edit.utctimetuple()[:6]
    assert parsed.feed.author_detail.name == "Newsdesk"
    assert [link.href for link in parsed.feed.links if link.rel == "self"] == [
        f"{BASE}/v1/feeds/atom?section=local"
    ]
    first, second = parsed.entries
    assert first.id == f"urn:uuid:{with_byline.id}"
    assert second.id == f"urn:uuid:{without.id}"
    assert [link.href for link in first.links if link.rel == "alternate"] == [
        f"{BASE}/v1/articles/{with_byline.slug}"
    ]
    assert [link.href for link in second.links if link.rel == "alternate"] == [
        "https://news.example.com/2025/without-byline"
    ]
    for entry, article in zip(parsed.entries, [with_byline, without], strict=True):
        assert entry.title == article.headline
        assert entry.updated_parsed[:6] == article.updated_at.utctimetuple()[:6]
        assert entry.published_parsed[:6] == article.published_at.utctimetuple()[:6]
        assert entry.content[0].type == "text/html"
        assert entry.content[0].value == article.body_html.strip()
    assert first.summary == with_byline.deck
    assert first.author_detail.name == "Ines Calder"

    root = etree.fromstring(response.content)
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    assert root.find(f"{ATOM}author").findtext(f"{ATOM}name") == "Newsdesk"
    entries = root.findall(f"{ATOM}entry")
    for element, article in zip(entries, [with_byline, without], strict=True):
        for name in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{name}")) == 1, name
        (content,) = element.findall(f"{ATOM}content")
        assert content.get("type") == "html"
        assert content.text == article.body_html
        assert element.findtext(f"{ATOM}summary") == article.deck
    assert entries[1].find(f"{ATOM}summary") is None
    assert entries[1].find(f"{ATOM}author") is None  # the feed's author covers it


async def test_json_feed_has_the_required_members(client, session):
    article = await make_article(session, headline="Ferry fares rise")
    response = await fetch(client, "json", "?tag=harbour")
    document = orjson.loads(response.content)

    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"]
    assert document["home_page_url"] == f"{BASE}/v1/articles?tag=harbour"
    assert document["feed_url"] == f"{BASE}/v1/feeds/json?tag=harbour"
    (item,) = document["items"]
    assert item["id"] == f"urn:uuid:{article.id}"
    assert item["url"] == f"{BASE}/v1/articles/{article.slug}"
    assert item["title"] == "Ferry fares rise"
    assert item["content_html"] == article.body_html
    assert item["summary"] == article.deck
    published = datetime.fromisoformat(item["date_published"])
    assert published.tzinfo is not None and published == article.published_at
    assert item["date_published"].endswith("Z")
    assert datetime.fromisoformat(item["date_modified"]) == article.updated_at
    assert item["tags"] == ["local", "harbour", "transport"]
    assert item["authors"] == [{"name": "Ines Calder", "url": f"{BASE}/v1/authors/ines-calder"}]
    extension = item["_newsdesk"]
    assert extension["claims_url"] == f"{BASE}/v1/articles/{article.id}/claims"
    assert extension["sourcing"] == {
        "claims": 2,
        "attributed_claims": 2,
        "unattributed_claims": 0,
        "named_sources": 2,
        "anonymous_sources": 0,
    }
    claims = await client.get(extension["claims_url"].removeprefix(BASE))
    assert claims.status_code == 200
    assert len(claims.json()["data"]) == 2


# --- what a feed holds -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_filters_by_section_tags_and_limit_newest_first(client, session, fmt):
    local = await make_article(
        session, headline="Local pier", tags=["harbour", "pier"], published_at=hours_ago(3)
    )
    world = await make_article(
        session, headline="World news", section="world", tags=["harbour"], published_at=hours_ago(2)
    )
    latest = await make_article(
        session, headline="Local ferry", tags=["ferry"], published_at=hours_ago(1)
    )

    assert await feed_ids(client, fmt) == [str(latest.id), str(world.id), str(local.id)]
    assert await feed_ids(client, fmt, "?section=local") == [str(latest.id), str(local.id)]
    assert await feed_ids(client, fmt, "?tag=harbour") == [str(world.id), str(local.id)]
    assert await feed_ids(client, fmt, "?tag=harbour&tag=PIER") == [str(local.id)]
    assert await feed_ids(client, fmt, "?section=world&tag=pier") == []
    assert await feed_ids(client, fmt, "?limit=2") == [str(latest.id), str(world.id)]
    assert await feed_ids(client, fmt, "?section=nowhere") == []


@pytest.mark.parametrize("fmt", FORMATS)
async def test_only_published_articles_appear_even_for_writers(client, session, writer, fmt):
    """Drafts, scheduled, deleted and unpublished articles never; retracted ones leave the
    feed too (like the default article listing: the changes feed reports the retraction)."""
    public = await make_article(session, headline="Public story")
    await make_article(session, headline="Draft story", published=False)
    await make_article(
        session, headline="Scheduled story", published_at=datetime.now(UTC) + timedelta(days=1)
    )
    deleted = await make_article(session, headline="Deleted story")
    await workflow.delete(session, deleted, "test")
    withdrawn = await make_article(session, headline="Unpublished story")
    await workflow.unpublish(session, withdrawn, "test")
    retracted = await make_article(session, headline="Retracted story")
    await workflow.retract(session, retracted, "The story was wrong.", "test")
    await session.commit()

    assert await feed_ids(client, fmt) == [str(public.id)]
    assert await feed_ids(client, fmt, headers=writer) == [str(public.id)]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_unsyndicable_articles_only_for_keys_that_may_write(
    client, session, reader, writer, fmt
):
    open_ = await make_article(session, headline="Open story", published_at=hours_ago(2))
    closed = await make_article(
        session,
        headline="Closed story",
        syndication={"allowed": False, "usage_terms": "Not for partners"},
        published_at=hours_ago(1),
    )

    anonymous = await fetch(client, fmt)
    assert item_ids(fmt, anonymous) == [str(open_.id)]
    assert anonymous.headers["cache-control"].startswith("public, max-age=")
    keyed = await fetch(client, fmt, headers=reader)
    assert item_ids(fmt, keyed) == [str(open_.id)]
    assert keyed.headers["cache-control"].startswith("public")

    writers = await fetch(client, fmt, headers=writer)
    assert item_ids(fmt, writers) == [str(closed.id), str(open_.id)]
    assert writers.headers["cache-control"] == "private, no-store"
    assert "Authorization" in writers.headers["vary"]


async def test_anonymous_feeds_need_a_key_when_public_read_is_off(client, settings, reader):
    settings.public_read = False
    for fmt in FORMATS:
        assert_problem(await client.get(f"/v1/feeds/{fmt}"), 401)
        await fetch(client, fmt, headers=reader)


# --- caching ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_conditional_get_and_the_etag_follows_an_edit(client, session, editor, fmt):
    article = await make_article(session, headline="Bridge reopens")
    first = await fetch(client, fmt)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["surrogate-key"].split() == ["feeds", f"article-{article.id}"]

    again = await client.get(f"/v1/feeds/{fmt}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert (await fetch(client, fmt)).content == first.content

    edit = await client.patch(
        f"/v1/articles/{article.id}",
        content=orjson.dumps({"deck": "Traffic returns after six weeks."}),
        headers={**editor, **MERGE_PATCH},
    )
    assert edit.status_code == 200, edit.text
    stale = await client.get(f"/v1/feeds/{fmt}", headers={"If-None-Match": etag})
    assert stale.status_code == 200
    assert stale.headers["etag"] != etag
    assert b"Traffic returns after six weeks." in stale.content


@pytest.mark.parametrize("fmt", FORMATS)
async def test_an_empty_feed_is_valid_and_its_etag_is_stable(client, fmt):
    first = await fetch(client, fmt, "?section=empty")
    second = await fetch(client, fmt, "?section=empty")
    assert first.headers["etag"] == second.headers["etag"]
    assert first.headers["surrogate-key"] == "feeds"
    assert item_ids(fmt, first) == []


# --- bad input, hostile text -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("limit", ["0", "101", "-1", "many"])
async def test_a_limit_out_of_range_is_a_validation_problem(client, fmt, limit):
    problem = assert_problem(await client.get(f"/v1/feeds/{fmt}?limit={limit}"), 422)
    assert problem["errors"][0]["loc"] == ["query", "limit"]


async def test_markup_in_a_headline_is_escaped_in_every_format(client, session):
    article = await make_article(session, headline=HOSTILE, deck=HOSTILE, slug="hostile")
    for fmt in ("rss", "atom"):
        response = await fetch(client, fmt)
        assert b"<script" not in response.content
        parsed = feedparser.parse(response.content)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.entries[0].id == f"urn:uuid:{article.id}"
        # A reader shows it as written, never runs it: RSS as HTML that shows the text,
        # Atom as plain text.
        title = parsed.entries[0].title_detail
        if fmt == "rss":
            assert title.type == "text/html" and shown(title.value) == ([], HOSTILE)
        else:
            assert (title.type, title.value) == ("text/plain", HOSTILE)
    document: dict[str, Any] = orjson.loads((await fetch(client, "json")).content)
    assert document["items"][0]["title"] == HOSTILE
    assert document["items"][0]["summary"] == HOSTILE
