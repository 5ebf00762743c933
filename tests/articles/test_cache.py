"""Every worker keeps its own rendered articles: a read right after a write must see the
write on every read endpoint, whichever worker took the write. Two app instances (two
workers, each with its own engine and cache) share one database here; every URL is read
through the second worker before the write, so that whatever it caches is then stale."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.articles import cache
from app.articles.service import ArticleNotFound
from app.db import create_engine
from app.settings import Settings
from tests.factories import article_data
from tests.live import Live, app_on

pytestmark = pytest.mark.anyio

NEW_HEADLINE = "Lighthouse keepers vote to strike"
NEW_CLAIM = "The strike vote passed with a large majority."


@pytest.fixture
async def other_worker(database_url: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on an engine of its own, as another worker process would be."""
    engine = create_engine(database_url)
    async with app_on(engine, settings) as client:
        yield client
    await engine.dispose()


async def published(live: Live, **overrides: Any) -> dict[str, Any]:
    created = await live.client.post(
        "/v1/articles", json=article_data(**overrides), headers=live.headers
    )
    assert created.status_code == 201, created.text
    article_id = created.json()["id"]
    done = await live.client.post(f"/v1/articles/{article_id}/publish", headers=live.headers)
    assert done.status_code == 200, done.text
    return done.json()


def read_urls(article: dict[str, Any], source_id: str) -> dict[str, Callable[[str], bool]]:
    """Every read endpoint that shows the article, and how to tell it shows the write."""
    shows_headline: Callable[[str], bool] = lambda body: NEW_HEADLINE in body  # noqa: E731
    shows_claim: Callable[[str], bool] = lambda body: NEW_CLAIM in body  # noqa: E731
    by_id, by_slug = f"/v1/articles/{article['id']}", f"/v1/articles/{article['slug']}"

    def both(body: str) -> bool:
        return shows_headline(body) and shows_claim(body)

    return {
        by_id: both,
        by_slug: both,
        f"{by_slug}?format=jsonld": shows_headline,
        f"{by_slug}?format=ninjs": shows_headline,
        f"{by_id}?fields=id,headline": shows_headline,
        f"{by_id}/claims": shows_claim,
        "/v1/articles": shows_headline,
        "/v1/articles?section=local": shows_headline,
        "/v1/articles?tag=harbour": shows_headline,
        "/v1/articles?q=lighthouse": shows_headline,
        "/v1/feeds/rss": shows_headline,
        "/v1/feeds/atom": shows_headline,
        "/v1/feeds/json": shows_headline,
        "/v1/changes": lambda body: '"version":4' in body.replace(" ", ""),
        "/v1/tags": lambda body: "lighthouses" in body,
        f"/v1/claims?article={article['id']}": shows_claim,
        f"/v1/sources/{source_id}": lambda body: '"claim_count":2' in body.replace(" ", ""),
        f"/v1/sources/{source_id}/claims": shows_claim,
    }


async def test_a_write_through_one_worker_is_read_through_another(
    live: Live, other_worker: httpx.AsyncClient
) -> None:
    article = await published(live)
    source_id = article["claims"][0]["attributions"][0]["source"]["id"]
    urls = read_urls(article, source_id)
    before = {}
    for url in urls:
        for _ in range(2):  # the second read is a cache hit where there is a cache
            response = await other_worker.get(url)
            assert response.status_code == 200, (url, response.text)
        before[url] = response.headers["etag"]

    base = f"/v1/articles/{article['id']}"
    patched = await live.client.patch(
        base,
        json={"headline": NEW_HEADLINE, "tags": ["harbour", "lighthouses"]},
        headers=live.headers,
    )
    assert patched.status_code == 200, patched.text
    claim = {
        "statement": NEW_CLAIM,
        "attributions": [
            {
                "source": {"name": "Harbour Authority", "kind": "organization"},
                "role": "asserted_by",
                "cue": "said",
            }
        ],
    }
    added = await live.client.post(f"{base}/claims", json=claim, headers=live.headers)
    assert added.status_code == 201, added.text

    for url, shows_the_write in urls.items():
        stale = {"If-None-Match": before[url]}
        response = await other_worker.get(url, headers=stale)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        assert response.headers["etag"] != before[url], url
        assert shows_the_write(response.text), url


async def test_a_deletion_through_one_worker_is_gone_on_another(
    live: Live, other_worker: httpx.AsyncClient
) -> None:
    article = await published(live)
    url = f"/v1/articles/{article['slug']}"
    assert (await other_worker.get(url)).status_code == 200
    assert (await other_worker.get(url)).status_code == 200
    deleted = await live.client.delete(f"/v1/articles/{article['id']}", headers=live.headers)
    assert deleted.status_code == 204
    gone = await other_worker.get(url)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"


async def test_unpublishing_hides_a_cached_article_from_readers(
    live: Live, other_worker: httpx.AsyncClient
) -> None:
    article = await published(live)
    url = f"/v1/articles/{article['id']}?format=ninjs"
    assert (await other_worker.get(url)).status_code == 200
    done = await live.client.post(f"/v1/articles/{article['id']}/unpublish", headers=live.headers)
    assert done.status_code == 200
    assert (await other_worker.get(url)).status_code == 404


@pytest.mark.parametrize("query", ["", "?format=ninjs", "?format=jsonld", "?fields=id,headline"])
async def test_a_cache_hit_serves_the_same_bytes_and_headers(
    live: Live, other_worker: httpx.AsyncClient, query: str
) -> None:
    article = await published(live)
    url = f"/v1/articles/{article['slug']}{query}"
    first = await other_worker.get(url)  # rendered by the route
    second = await other_worker.get(url)  # answered from the cache
    assert second.content == first.content
    for header in ("etag", "cache-control", "surrogate-key", "vary", "content-type", "link"):
        assert second.headers.get(header) == first.headers.get(header), header
    not_modified = await other_worker.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304
    assert not_modified.content == b""


async def test_a_stamp_read_outside_the_session_matches_one_read_through_it(
    live: Live, engine: AsyncEngine
) -> None:
    """On SQLite a sessionmaker's stamp is read on the loop's thread, by another driver: it
    must give exactly what the session gives, or no key would ever match."""
    article = await published(live)
    async with engine.connect() as connection:
        # Bound to a connection, a session always reads through itself.
        expected = await cache.stamp(
            AsyncSession(bind=connection), article["slug"], sees_drafts=False
        )
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    for reference in (article["slug"], article["id"]):
        assert await cache.stamp(sessionmaker, reference, sees_drafts=False) == expected
    with pytest.raises(ArticleNotFound):
        await cache.stamp(sessionmaker, "no-such-article", sees_drafts=False)


async def test_a_scheduled_article_turns_published_when_its_time_comes(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await live.client.post("/v1/articles", json=article_data(), headers=live.headers)
    article_id = created.json()["id"]
    at = datetime.now(UTC) + timedelta(hours=1)
    scheduled = await live.client.post(
        f"/v1/articles/{article_id}/publish",
        json={"published_at": at.isoformat()},
        headers=live.headers,
    )
    assert scheduled.status_code == 200, scheduled.text
    url = f"/v1/articles/{article_id}"

    async def formats() -> tuple[str, str]:
        jsonld = await live.client.get(url, params={"format": "jsonld"}, headers=live.headers)
        ninjs = await live.client.get(url, params={"format": "ninjs"}, headers=live.headers)
        return jsonld.json()["@graph"][0]["creativeWorkStatus"], ninjs.json()["pubStatus"]

    assert await formats() == ("Scheduled", "withheld")
    assert await formats() == ("Scheduled", "withheld")  # and from the cache

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + timedelta(hours=2)

    monkeypatch.setattr(cache, "datetime", Later)  # the clock of every read
    assert await formats() == ("Published", "usable")


async def test_an_option_added_to_the_rendition_is_honoured_before_and_after_routing(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A representation option added in one place (the value and its parser) is honoured
    by the route (a caller with a key) and by the middleware that answers anonymous readers
    before routing, and its renderings are cached apart from the others."""
    plain = cache.Rendition

    @dataclass(frozen=True)
    class Shouted(plain):  # type: ignore[valid-type,misc]
        shout: bool = False

        @classmethod
        def requested(cls, query: Any, accept: str | None) -> "Shouted":
            base = plain.requested(query, accept)
            return cls(base.format, base.fields, base.include, shout=query.get("shout") == "1")

        def render(self, article: Any, settings: Settings, now: datetime) -> cache.Rendered:
            made = plain.render(self, article, settings, now)
            if not self.shout:
                return made
            loud = {"headline": article.headline.upper()}
            return cache.Rendered.of(loud, made.media_type, made.headers, [])

    answered_early: list[bool] = []
    answer = cache.CachedArticleReads._answer

    async def watched(self: Any, scope: Any, reference: str) -> Any:
        response = await answer(self, scope, reference)
        answered_early.append(response is not None)
        return response

    monkeypatch.setattr(cache, "Rendition", Shouted)
    monkeypatch.setattr(cache.CachedArticleReads, "_answer", watched)
    article = await published(live, headline="Harbour opens at dawn")
    url = f"/v1/articles/{article['id']}"

    for headers in ({}, live.headers):  # anonymous (the middleware), then keyed (the route)
        answered_early.clear()
        for _ in range(2):  # rendered, then from the cache
            loud = await live.client.get(url, params={"shout": "1"}, headers=headers)
            quiet = await live.client.get(url, headers=headers)
            assert loud.json() == {"headline": "HARBOUR OPENS AT DAWN"}
            assert quiet.json()["headline"] == "Harbour opens at dawn"
        assert answered_early == [not headers] * 4  # the middleware answers no key holder
