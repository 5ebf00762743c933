"""The feed writers: pure functions of a channel and its articles, tested without a database.
Each format is parsed back (feedparser for RSS and Atom, lxml for what feedparser smooths
over, orjson for JSON Feed) and checked against its specification's required elements."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import lxml.html
import orjson
from lxml import etree

from app.articles.schemas import ArticleRead
from app.feeds import render, service

BASE = "https://api.newsdesk.test"
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & <b>Bold</b> "quotes" \u2014 caf\u00e9'


def article(**overrides: Any) -> ArticleRead:
    data: dict[str, Any] = {
        "id": uuid.uuid4(),
        "slug": "north-pier-to-close",
        "headline": "North pier to close",
        "deck": "The harbour authority says the pier is unsafe.",
        "body": "Body.",
        "body_text": "Body.",
        "body_html": '<p>The <span class="claim" data-claim-id="c1">pier</span> closes.</p>\n',
        "language": "en",
        "section": "local",
        "tags": ["harbour", "transport"],
        "authors": [{"name": "Ines Calder"}, {"name": "Ola Berg", "url": "https://berg.example/"}],
        "canonical_url": None,
        "status": "published",
        "published_at": T0,
        "first_published_at": T0,
        "created_at": T0 - timedelta(days=1),
        "updated_at": T0 + timedelta(hours=1),
        "version": 3,
        "corrections": [],
        "retraction": None,
        "syndication": {"allowed": True, "usage_terms": None},
        "featured_image": None,
        "sourcing": {
            "claims": 2,
            "attributed_claims": 2,
            "unattributed_claims": 0,
            "named_sources": 2,
            "anonymous_sources": 0,
        },
    }
    data.update(overrides)
    # Authors as articles embed them: with an id and a slug.
    data["authors"] = [
        {"id": uuid.uuid4(), "slug": "-".join(a["name"].lower().split()), **a}
        for a in data["authors"]
    ]
    return ArticleRead.model_validate(data)


def parse(raw: bytes) -> feedparser.FeedParserDict:
    """feedparser as a reader runs it, minus its HTML sanitiser (which drops the claim spans'
    data attributes), so that content can be compared with the article's body_html."""
    return feedparser.parse(raw, sanitize_html=False)


def channel(path: str = "/v1/feeds/rss", query: str = "", **filters: Any) -> render.Channel:
    return service.channel(
        BASE, path, query, section=filters.get("section"), tags=filters.get("tags", [])
    )


def two_articles() -> list[ArticleRead]:
    return [
        article(),
        article(
            slug="ferry-fares-rise",
            headline="Ferry fares rise",
            deck=None,
            authors=[],
            section=None,
            tags=[],
            canonical_url="https://news.example.com/2025/ferry-fares",
            published_at=T0 - timedelta(days=1),
            updated_at=T0 - timedelta(hours=20),
        ),
    ]


# --- the channel -----------------------------------------------------------------------------


def test_channel_links_are_absolute_and_its_id_ignores_the_page_size() -> None:
    one = channel(
        "/v1/feeds/atom", "tag=Harbour&limit=5&section=local", section="local", tags=["Harbour"]
    )
    assert one.self_url == f"{BASE}/v1/feeds/atom?tag=Harbour&limit=5&section=local"
    assert one.feed_id == f"{BASE}/v1/feeds/atom?section=local&tag=harbour"
    assert one.home_url == f"{BASE}/v1/articles?section=local&tag=harbour"
    other = channel(
        "/v1/feeds/atom", "section=local&tag=harbour", section="local", tags=["harbour"]
    )
    assert other.feed_id == one.feed_id
    plain = service.channel(BASE + "/", "/v1/feeds/json", "", section=None, tags=[])
    assert plain.self_url == f"{BASE}/v1/feeds/json"
    assert plain.feed_id == plain.self_url
    assert plain.home_url == f"{BASE}/v1/articles"
    assert plain.title == "Newsdesk: latest articles"


def test_links_ids_and_dates_of_an_item() -> None:
    first, second = two_articles()
    feed = channel()
    assert render.article_url(feed, first) == f"{BASE}/v1/articles/north-pier-to-close"
    assert render.article_url(feed, second) == "https://news.example.com/2025/ferry-fares"
    assert render.item_id(first) == f"urn:uuid:{first.id}"
    assert render.claims_url(feed, first) == f"{BASE}/v1/articles/{first.id}/claims"
    assert render.item_updated(first) == first.updated_at
    scheduled = article(published_at=T0 + timedelta(days=2))
    assert render.item_updated(scheduled) == T0 + timedelta(days=2)
    assert render.feed_updated([second, first]) == first.updated_at
    assert render.feed_updated([]) == render.EPOCH


# --- RSS 2.0 ---------------------------------------------------------------------------------


def test_rss_has_every_required_element() -> None:
    articles = two_articles()
    feed = channel(query="limit=2")
    raw = render.rss(feed, articles)

    parsed = parse(raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == feed.title
    assert parsed.feed.link == feed.home_url
    assert parsed.feed.description == feed.description
    assert len(parsed.entries) == 2
    for entry, item in zip(parsed.entries, articles, strict=True):
        assert entry.title == item.headline
        assert entry.link == render.article_url(feed, item)
        assert entry.id == f"urn:uuid:{item.id}"
        assert entry.guidislink is False
        assert entry.published_parsed[:6] == item.published_at.utctimetuple()[:6]
        assert entry.summary == (item.deck or item.headline)
        assert entry.content[0].value == item.body_html.strip()
    assert [t.term for t in parsed.entries[0].tags] == ["local", "harbour", "transport"]
    assert [a.name for a in parsed.entries[0].authors] == ["Ines Calder", "Ola Berg"]

    root = etree.fromstring(raw)
    assert root.tag == "rss" and root.get("version") == "2.0"
    chan = root.find("channel")
    assert chan.findtext("title") == feed.title
    assert chan.findtext("link") == feed.home_url
    assert chan.findtext("description") == feed.description
    self_link = chan.find(f"{ATOM}link")
    assert self_link.get("rel") == "self"
    assert self_link.get("href") == f"{BASE}/v1/feeds/rss?limit=2"
    assert self_link.get("type") == "application/rss+xml"
    assert chan.findtext("lastBuildDate") == "Sat, 01 Mar 2025 09:00:00 +0000"
    items = chan.findall("item")
    assert [i.findtext("title") for i in items] == [a.headline for a in articles]
    for element, item in zip(items, articles, strict=True):
        guid = element.find("guid")
        assert guid.text == f"urn:uuid:{item.id}"
        assert guid.get("isPermaLink") == "false"
        assert element.findtext("description") == (item.deck or item.headline)
        assert element.findtext(f"{CONTENT}encoded") == item.body_html
        assert element.findtext("pubDate") == item.published_at.strftime(
            "%a, %d %b %Y %H:%M:%S +0000"
        )
        assert element.find("author") is None  # RSS wants an e-mail there: dc:creator instead
        assert [c.text for c in element.findall(f"{DC}creator")] == [a.name for a in item.authors]
    categories = items[0].findall("category")
    assert [(c.text, c.get("domain")) for c in categories] == [
        ("local", f"{BASE}/v1/sections"),
        ("harbour", f"{BASE}/v1/tags"),
        ("transport", f"{BASE}/v1/tags"),
    ]


def test_an_empty_rss_feed_is_still_valid_and_stable() -> None:
    raw = render.rss(channel(), [])
    assert feedparser.parse(raw).bozo == 0
    chan = etree.fromstring(raw).find("channel")
    assert chan.findtext("lastBuildDate") == "Thu, 01 Jan 1970 00:00:00 +0000"
    assert chan.findall("item") == []
    assert render.rss(channel(), []) == raw


# --- Atom 1.0 --------------------------------------------------------------------------------


def test_atom_has_every_element_rfc_4287_requires() -> None:
    articles = two_articles()
    feed = channel("/v1/feeds/atom", "section=local", section="local")
    raw = render.atom(feed, articles)

    parsed = parse(raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == feed.feed_id
    assert parsed.feed.title == feed.title
    assert parsed.feed.updated_parsed[:6] == (2025, 3, 1, 9, 0, 0)
    assert parsed.feed.author_detail.name == "Newsdesk"
    self_links = [link for link in parsed.feed.links if link.rel == "self"]
    assert [link.href for link in self_links] == [f"{BASE}/v1/feeds/atom?section=local"]
    for entry, item in zip(parsed.entries, articles, strict=True):
        assert entry.id == f"urn:uuid:{item.id}"
        assert entry.title == item.headline
        assert entry.updated_parsed[:6] == item.updated_at.utctimetuple()[:6]
        assert entry.published_parsed[:6] == item.published_at.utctimetuple()[:6]
        alternates = [link.href for link in entry.links if link.rel == "alternate"]
        assert alternates == [render.article_url(feed, item)]
        assert len(entry.content) == 1
        assert entry.content[0].type == "text/html"
        assert entry.content[0].value == item.body_html.strip()
    assert parsed.entries[0].summary == articles[0].deck
    assert [a.name for a in parsed.entries[0].authors] == ["Ines Calder", "Ola Berg"]
    # An author's own page is their Atom `uri`; one without has none.
    assert [a.get("href") for a in parsed.entries[0].authors] == [None, "https://berg.example/"]

    root = etree.fromstring(raw)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    assert root.findtext(f"{ATOM}updated") == "2025-03-01T09:00:00+00:00"
    assert root.find(f"{ATOM}author").findtext(f"{ATOM}name") == "Newsdesk"
    feed_links = {link.get("rel"): link for link in root.findall(f"{ATOM}link")}
    assert feed_links["self"].get("type") == "application/atom+xml"
    assert feed_links["alternate"].get("href") == feed.home_url
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for element, item in zip(entries, articles, strict=True):
        for name in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{name}")) == 1, name
        contents = element.findall(f"{ATOM}content")
        assert len(contents) == 1
        assert contents[0].get("type") == "html"
        assert contents[0].text == item.body_html
        assert contents[0].get("src") is None
        links = element.findall(f"{ATOM}link")
        assert len(links) == 1
        assert links[0].get("rel") in (None, "alternate")  # no rel means alternate
        assert links[0].get("href") == render.article_url(feed, item)
        assert element.findtext(f"{ATOM}summary") == item.deck
    # The entry without a byline is covered by the feed's author; the other has its own.
    assert [a.findtext(f"{ATOM}name") for a in entries[0].findall(f"{ATOM}author")] == [
        "Ines Calder",
        "Ola Berg",
    ]
    assert entries[1].findall(f"{ATOM}author") == []
    assert [c.get("term") for c in entries[0].findall(f"{ATOM}category")] == [
        "local",
        "harbour",
        "transport",
    ]


def test_atom_content_is_the_body_even_with_a_deck_and_usage_terms() -> None:
    item = article(syndication={"allowed": True, "usage_terms": "Credit Newsdesk"})
    entry = etree.fromstring(render.atom(channel(), [item])).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}content") == item.body_html
    assert entry.findtext(f"{ATOM}summary") == item.deck
    assert entry.findtext(f"{ATOM}rights") == "Credit Newsdesk"


def test_an_empty_atom_feed_has_a_fixed_updated() -> None:
    raw = render.atom(channel(), [])
    assert feedparser.parse(raw).bozo == 0
    root = etree.fromstring(raw)
    assert root.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00+00:00"
    assert render.atom(channel(), []) == raw


# --- JSON Feed 1.1 ---------------------------------------------------------------------------


def test_json_feed_has_the_required_members_and_the_extension() -> None:
    articles = two_articles()
    feed = channel("/v1/feeds/json", "tag=harbour", tags=["harbour"])
    document = orjson.loads(render.json_feed(feed, articles))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == feed.title
    assert document["home_page_url"] == feed.home_url
    assert document["feed_url"] == f"{BASE}/v1/feeds/json?tag=harbour"
    assert document["authors"] == [{"name": "Newsdesk", "url": BASE}]
    first, second = document["items"]
    for item, source in zip(document["items"], articles, strict=True):
        assert isinstance(item["id"], str) and item["id"] == f"urn:uuid:{source.id}"
        assert item["content_html"] == source.body_html
        assert item["title"] == source.headline
        assert item["url"] == render.article_url(feed, source)
        assert datetime.fromisoformat(item["date_published"]) == source.published_at
        assert item["date_published"].endswith("Z")
        assert item["_newsdesk"]["claims_url"] == f"{BASE}/v1/articles/{source.id}/claims"
        assert item["_newsdesk"]["sourcing"] == source.sourcing.model_dump()
        assert all("." not in key for key in item["_newsdesk"])
        assert None not in item.values()
    assert first["date_published"] == "2025-03-01T08:00:00Z"
    assert first["date_modified"] == "2025-03-01T09:00:00Z"
    assert first["summary"] == articles[0].deck
    assert first["authors"] == [
        {"name": "Ines Calder", "url": f"{BASE}/v1/authors/ines-calder"},
        {"name": "Ola Berg", "url": "https://berg.example/"},
    ]
    assert first["tags"] == ["local", "harbour", "transport"]
    assert first["language"] == "en"
    assert first["_newsdesk"]["article_id"] == str(articles[0].id)
    # No deck, byline or tags: left out rather than null (the feed's authors apply).
    assert "summary" not in second and "authors" not in second and "tags" not in second


def test_json_feed_may_be_empty() -> None:
    document = orjson.loads(render.json_feed(channel("/v1/feeds/json"), []))
    assert document["items"] == []


# --- hostile text ----------------------------------------------------------------------------


def shown(html: str) -> tuple[list[str], str]:
    """`html` as a browser shows it: the elements it makes, and its text."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return [element.tag for element in root.iterdescendants()], root.text_content()


def test_markup_in_plain_text_is_text_in_every_format() -> None:
    """RSS readers render its text as HTML, so RSS carries plain text as HTML that shows it;
    Atom's text constructs and JSON Feed's title and summary are plain text by their specs."""
    item = article(
        headline=HOSTILE,
        deck=HOSTILE,
        authors=[{"name": HOSTILE}],
        tags=[HOSTILE.lower()],
        syndication={"allowed": True, "usage_terms": HOSTILE},
    )
    feed = channel()
    rss_raw, atom_raw = render.rss(feed, [item]), render.atom(feed, [item])
    for raw in (rss_raw, atom_raw):
        assert b"<script" not in raw and b"<b>" not in raw
        assert feedparser.parse(raw).bozo == 0

    element = etree.fromstring(rss_raw).find("channel/item")
    for name in ("title", "description", f"{DC}creator"):
        assert shown(element.findtext(name)) == ([], HOSTILE), name
    assert shown(element.findall("category")[1].text) == ([], HOSTILE.lower())
    entry = parse(rss_raw).entries[0]
    for detail in (entry.title_detail, entry.summary_detail):
        assert detail.type == "text/html"
        assert shown(detail.value) == ([], HOSTILE)
    assert shown(entry.author) == ([], HOSTILE)

    element = etree.fromstring(atom_raw).find(f"{ATOM}entry")
    for name in ("title", "summary", "rights"):
        assert element.find(f"{ATOM}{name}").get("type") in (None, "text"), name
        assert element.findtext(f"{ATOM}{name}") == HOSTILE, name
    assert element.findtext(f"{ATOM}author/{ATOM}name") == HOSTILE
    entry = parse(atom_raw).entries[0]
    for detail in (entry.title_detail, entry.summary_detail):
        assert (detail.type, detail.value) == ("text/plain", HOSTILE)

    document = orjson.loads(render.json_feed(feed, [item]))
    assert document["items"][0]["title"] == document["items"][0]["summary"] == HOSTILE


def test_plain_text_without_markup_reads_the_same_in_rss() -> None:
    item = article(headline="Ferry fares rise — again", authors=[{"name": "Ola Berg"}])
    entry = parse(render.rss(channel(), [item])).entries[0]
    assert entry.title == "Ferry fares rise — again"
    assert entry.author == "Ola Berg"


def test_characters_xml_cannot_carry_are_dropped_not_fatal() -> None:
    item = article(headline="Bell\x07 rings\x0b again", deck="Tab\tstays")
    for raw in (render.rss(channel(), [item]), render.atom(channel(), [item])):
        parsed = parse(raw)
        assert parsed.bozo == 0
        assert parsed.entries[0].title == "Bell rings again"
    assert orjson.loads(render.json_feed(channel(), [item]))["items"][0]["title"] == item.headline
