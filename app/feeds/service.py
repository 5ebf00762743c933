"""What a feed holds: the latest published articles a caller may syndicate, and how the
feed names itself."""

from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import queries
from app.articles.schemas import ArticleRead

from .render import Channel


async def latest(
    session: AsyncSession, *, section: str | None, tags: list[str], limit: int, sees_drafts: bool
) -> list[ArticleRead]:
    """The `limit` newest public articles, newest first. Articles whose syndication is not
    allowed are left out unless the caller has `content:write`; drafts, scheduled and
    deleted ones never appear, whoever asks."""
    filters = queries.ArticleFilters(section=section, tags=tags, syndicable_only=not sees_drafts)
    articles = await queries.list_articles(
        session, filters, sees_drafts=sees_drafts, with_claims=False, limit=limit
    )
    return [ArticleRead.model_validate(article) for article in articles]


def _describe(section: str | None, tags: list[str]) -> str:
    words = []
    if section:
        words.append(f"in {section}")
    if tags:
        words.append("tagged " + ", ".join(tags))
    return " ".join(words)


def channel(
    base_url: str, path: str, query: str, *, section: str | None, tags: list[str]
) -> Channel:
    """The feed at `path?query` on the public base URL. Its id names the selection
    (`section`, `tag`) but not the page size, so it stays the same feed whatever `limit`."""
    base = base_url.rstrip("/")
    tags = sorted({tag.lower() for tag in tags})
    pairs = [("section", section)] if section else []
    selection = urlencode([*pairs, *(("tag", tag) for tag in tags)])
    suffix = f"?{selection}" if selection else ""
    scope = _describe(section, tags)
    return Channel(
        base_url=base,
        feed_id=f"{base}{path}{suffix}",
        self_url=f"{base}{path}?{query}" if query else f"{base}{path}",
        home_url=f"{base}/v1/articles{suffix}",
        title=f"Newsdesk: latest articles {scope}".rstrip(),
        description=f"The latest articles published by Newsdesk {scope}".rstrip() + ".",
    )
