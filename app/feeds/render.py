"""Feeds written from articles: RSS 2.0 and Atom 1.0 with feedgen, JSON Feed 1.1 with orjson.
Pure functions of the channel and its articles (newest first), testable without a database.
Nothing here reads the clock, so the same articles always give the same bytes (and ETag).

Headlines, decks, bylines and tags are plain text. Atom says so (its text constructs are
`type="text"` unless told otherwise) and so does JSON Feed (`title`, `summary`), so they go
in as they are. RSS has no such type, and readers render its `description` (and often its
other text) as HTML, so in RSS every plain-text field is written as HTML that shows the text:
`<` becomes `&lt;` before the XML escaping, and no markup in a headline can run."""

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from app.articles.schemas import ArticleRead
from app.authors.schemas import AuthorSummary
from app.fields import rfc3339
from app.media.schemas import RenditionRead

RSS_MEDIA_TYPE = "application/rss+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"
JSON_FEED_MEDIA_TYPE = "application/feed+json"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
PUBLISHER = "Newsdesk"
# An empty feed's `updated`: fixed, so that its ETag stays the same from one request to the next.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What XML 1.0 cannot carry (C0 controls but tab and newlines, U+FFFE/U+FFFF, lone
# surrogates); lxml refuses such text, and the JSON API accepts it in a headline.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Channel:
    """What a feed says about itself; every URL is absolute."""

    base_url: str
    feed_id: str
    self_url: str
    home_url: str
    title: str
    description: str


def article_url(channel: Channel, article: ArticleRead) -> str:
    """The item's link: the article's canonical URL, else its place in this API."""
    return article.canonical_url or f"{channel.base_url}/v1/articles/{article.slug}"


def item_id(article: ArticleRead) -> str:
    """Permanent per article, whatever happens to its slug, URL or the API's host."""
    return f"urn:uuid:{article.id}"


def claims_url(channel: Channel, article: ArticleRead) -> str:
    return f"{channel.base_url}/v1/articles/{article.id}/claims"


def item_updated(article: ArticleRead) -> datetime:
    """When the item last changed for a reader: its last edit, or the moment it went live
    when that came later (a scheduled article)."""
    published = article.published_at or article.updated_at
    return max(article.updated_at, published)


def feed_updated(articles: Sequence[ArticleRead]) -> datetime:
    return max((item_updated(a) for a in articles), default=EPOCH)


def categories(channel: Channel, article: ArticleRead) -> list[dict[str, str]]:
    """The section and the tags, each with the listing it belongs to as its scheme."""
    found = []
    if article.section:
        found.append({"term": article.section, "scheme": f"{channel.base_url}/v1/sections"})
    found.extend({"term": tag, "scheme": f"{channel.base_url}/v1/tags"} for tag in article.tags)
    return found


def _xml(value: str) -> str:
    return _NOT_XML.sub("", value)


def _rss_text(value: str) -> str:
    """Plain text as the HTML that shows it, for RSS (see the module's docstring)."""
    return html.escape(_xml(value), quote=False)


# How a feed format writes a plain-text field: `_xml` (Atom) or `_rss_text` (RSS).
TextWriter = Callable[[str], str]


def _generator(
    channel: Channel, articles: Sequence[ArticleRead], text: TextWriter
) -> FeedGenerator:
    feed = FeedGenerator()
    feed.title(text(channel.title))
    feed.id(_xml(channel.feed_id))
    # Also the RSS lastBuildDate; feedgen would otherwise stamp the current time.
    feed.updated(feed_updated(articles))
    feed.generator(PUBLISHER)
    return feed


def _common_entry(
    entry: FeedEntry, channel: Channel, article: ArticleRead, text: TextWriter
) -> None:
    entry.title(text(article.headline))
    entry.updated(item_updated(article))
    if article.published_at is not None:
        entry.published(article.published_at)
    found = categories(channel, article)
    if found:
        entry.category([{**c, "term": text(c["term"])} for c in found])


def rss(channel: Channel, articles: Sequence[ArticleRead]) -> bytes:
    """RSS 2.0: description is the deck (or the headline), `content:encoded` the full HTML,
    `dc:creator` the byline (RSS's own `author` must be an e-mail address). Plain text is
    written as HTML (`_rss_text`); `content:encoded` is the body's sanitised HTML."""
    feed = _generator(channel, articles, _rss_text)
    feed.load_extension("dc", atom=False, rss=True)
    feed.description(_rss_text(channel.description))
    # feedgen takes the channel's <link> from the last link given: self first, home last.
    feed.link(href=_xml(channel.self_url), rel="self", type=RSS_MEDIA_TYPE)
    feed.link(href=_xml(channel.home_url), rel="alternate")
    for article in articles:
        entry = feed.add_entry(order="append")
        entry.guid(item_id(article), permalink=False)
        _common_entry(entry, channel, article, _rss_text)
        entry.link(href=_xml(article_url(channel, article)))
        entry.description(_rss_text(article.deck or article.headline))
        entry.content(_xml(article.body_html))
        for author in article.authors:
            entry.dc.dc_creator(_rss_text(author.name))
        shown = _featured(article)
        if shown is not None:
            # RSS allows one enclosure an item; its length is required (0 when unknown).
            entry.enclosure(_xml(shown.url), str(shown.bytes or 0), shown.type or "image/jpeg")
    return feed.rss_str(pretty=True)


def _atom_person(author: AuthorSummary) -> dict[str, str]:
    """An Atom person: the name, and the author's own page as `uri` when they have one."""
    person = {"name": _xml(author.name)}
    if author.url:
        person["uri"] = _xml(author.url)
    return person


def author_url(channel: Channel, author: AuthorSummary) -> str:
    """The author's own page, else their resource in this API."""
    return author.url or f"{channel.base_url}/v1/authors/{author.slug}"


def atom(channel: Channel, articles: Sequence[ArticleRead]) -> bytes:
    """Atom 1.0 (RFC 4287): summary is the deck, content the full HTML; the feed's author
    covers entries without a byline. Titles, summary, rights and names are text constructs
    of type text (the default, so no `type` is written); content is `type="html"`."""
    feed = _generator(channel, articles, _xml)
    feed.subtitle(_xml(channel.description))
    feed.author(name=PUBLISHER, uri=channel.base_url)
    feed.link(href=_xml(channel.self_url), rel="self", type=ATOM_MEDIA_TYPE)
    feed.link(href=_xml(channel.home_url), rel="alternate", type="application/json")
    for article in articles:
        entry = feed.add_entry(order="append")
        entry.id(item_id(article))
        _common_entry(entry, channel, article, _xml)
        if article.authors:
            entry.author([_atom_person(a) for a in article.authors])
        # The only link: feedgen 1.0 drops the attributes of entry links, and a link without
        # `rel` is an alternate, of which an entry may have one (per type).
        entry.link(href=_xml(article_url(channel, article)), rel="alternate")
        # summary() and content(), never description(): that would overwrite the content.
        if article.deck:
            entry.summary(_xml(article.deck))
        entry.content(_xml(article.body_html), type="html")
        if article.syndication.usage_terms:
            entry.rights(_xml(article.syndication.usage_terms))
        shown = _featured(article)
        if shown is not None:
            entry.register_extension("enclosure", AtomEnclosure, atom=True, rss=False)
            entry.enclosure.rendition = shown
    return feed.atom_str(pretty=True)


class AtomEnclosure(BaseEntryExtension):
    """An entry's `<link rel="enclosure">`: written here, as feedgen 1.0 drops the
    attributes of the entry links it writes itself."""

    rendition: RenditionRead | None = None

    def extend_atom(self, entry: Any) -> Any:
        if self.rendition is not None:
            attributes = {
                "href": _xml(self.rendition.url),
                "rel": "enclosure",
                "type": self.rendition.type or "image/jpeg",
                "length": str(self.rendition.bytes or 0),
            }
            etree.SubElement(entry, "link", attributes)
        return entry


def _featured(article: ArticleRead) -> RenditionRead | None:
    """The featured image as one rendition, for enclosures."""
    return article.featured_image.shown() if article.featured_image else None


def _attachment(rendition: RenditionRead) -> dict[str, Any]:
    attachment = {
        "url": rendition.url,
        "mime_type": rendition.type or "image/jpeg",
        "size_in_bytes": rendition.bytes,
    }
    return {name: value for name, value in attachment.items() if value is not None}


def _json_item(channel: Channel, article: ArticleRead) -> dict[str, Any]:
    shown = _featured(article)
    item: dict[str, Any] = {
        "id": item_id(article),
        "url": article_url(channel, article),
        "title": article.headline,
        "summary": article.deck,
        "content_html": article.body_html,
        "date_published": rfc3339(article.published_at or article.updated_at),
        "date_modified": rfc3339(item_updated(article)),
        "authors": [{"name": a.name, "url": author_url(channel, a)} for a in article.authors],
        "tags": list(dict.fromkeys(c["term"] for c in categories(channel, article))),
        "language": article.language,
        "image": shown.url if shown else None,
        "attachments": [_attachment(shown)] if shown else None,
        "_newsdesk": {
            "about": f"{channel.base_url}/openapi.json#/components/schemas/NewsdeskFeedExtension",
            "article_id": str(article.id),
            "slug": article.slug,
            "version": article.version,
            "section": article.section,
            "claims_url": claims_url(channel, article),
            "sourcing": article.sourcing.model_dump(mode="json"),
            "syndication": article.syndication.model_dump(mode="json"),
        },
    }
    # JSON Feed has no nulls: a missing deck or byline is left out (the feed's authors apply).
    return {name: value for name, value in item.items() if value not in (None, [])}


def json_feed(channel: Channel, articles: Sequence[ArticleRead]) -> bytes:
    """JSON Feed 1.1; each item carries a `_newsdesk` extension with its claims' URL and
    sourcing counts. Items without a byline fall back to the feed's author."""
    return orjson.dumps(
        {
            "version": JSON_FEED_VERSION,
            "title": channel.title,
            "home_page_url": channel.home_url,
            "feed_url": channel.self_url,
            "description": channel.description,
            "authors": [{"name": PUBLISHER, "url": channel.base_url}],
            "items": [_json_item(channel, a) for a in articles],
        }
    )
