"""Listing articles: filters, sort orders, full-text search and keyset pagination."""

import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authors.models import Author
from app.claims.models import Attribution, Claim
from app.db import AnySelect, dialect_name
from app.errors import Forbidden
from app.pagination import Keyset, count_rows, fetch_page
from app.slugs import slugify
from app.sources.models import fold

from . import search
from .models import Article, ArticleAuthor, ArticleStatus, ArticleTag
from .service import FULL_LOAD, METADATA_LOAD


class StatusFilterForbidden(Forbidden):
    def __init__(self) -> None:
        super().__init__("Listing articles other than published ones needs `content:write`.")


SORTS = {
    "-published_at": ("published_at", True),
    "published_at": ("published_at", False),
    "-updated_at": ("updated_at", True),
    "updated_at": ("updated_at", False),
}


@dataclass
class ArticleFilters:
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    author: str | None = None
    source: uuid.UUID | None = None
    language: str | None = None
    q: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    status: str | None = None
    sort: str | None = None
    # Leave out articles whose syndication is not allowed (partners' feeds without
    # `content:write`).
    syndicable_only: bool = False


def _filtered(query: AnySelect, filters: ArticleFilters, sees_drafts: bool) -> AnySelect:
    now = datetime.now(UTC)
    status = filters.status or "published"
    if status != "published" and not sees_drafts:
        raise StatusFilterForbidden()
    if status == "published":
        query = query.where(Article.public_at(now), Article.status == ArticleStatus.published)
    else:
        query = query.where(Article.deleted_at.is_(None))
        if status != "all":
            query = query.where(Article.status == ArticleStatus(status))
    if filters.syndicable_only:
        query = query.where(Article.syndication_allowed.is_(True))
    if filters.section:
        # By slug; a section's name as derived from its slug finds it too (`World` finds
        # `world`, `Us Politics` finds `us-politics`), as clients that read the sections'
        # `name` before sections had slugs of their own filter by it.
        section = filters.section
        query = query.where(Article.section == slugify(section, fallback=section.lower()))
    for tag in filters.tags:
        query = query.where(
            select(ArticleTag.id)
            .where(ArticleTag.article_id == Article.id, ArticleTag.tag == tag.lower())
            .exists()
        )
    if filters.author:
        query = query.where(
            select(ArticleAuthor.id)
            .where(
                ArticleAuthor.article_id == Article.id,
                ArticleAuthor.author_id.in_(_authors_named(filters.author)),
            )
            .exists()
        )
    if filters.source:
        query = query.where(
            select(Claim.id)
            .join(Attribution, Attribution.claim_id == Claim.id)
            .where(Claim.article_id == Article.id, Attribution.source_id == filters.source)
            .exists()
        )
    if filters.language:
        query = query.where(Article.language == filters.language)
    if filters.published_after:
        query = query.where(Article.published_at > filters.published_after)
    if filters.published_before:
        query = query.where(Article.published_at < filters.published_before)
    return query


def _authors_named(reference: str) -> AnySelect:
    """The author a filter names: by slug or id, or (as before authors had either) by name,
    in any case and spacing."""
    named = (Author.slug == reference) | (Author.name_key == fold(reference))
    with contextlib.suppress(ValueError):
        named |= Author.id == uuid.UUID(reference)
    return select(Author.id).where(named)


# What a listing's page reads before anything else: enough to tell each article's
# rendering apart (id, version, updated_at) and to make the next page's cursor.
PAGE_COLUMNS = (
    Article.id,
    Article.version,
    Article.updated_at,
    Article.published_at,
    Article.created_at,
)


async def page(
    session: AsyncSession,
    filters: ArticleFilters,
    *,
    sees_drafts: bool,
    limit: int,
    cursor: str | None,
    count: bool,
) -> tuple[list[Row[Any]], str | None, int | None]:
    """One page of the listing as rows of `PAGE_COLUMNS`, the next page's cursor, and the
    total when `count`: the articles themselves are loaded (or found rendered) after."""
    query = _filtered(select(*PAGE_COLUMNS), filters, sees_drafts)
    key: Callable[[Row[Any]], list[Any]]
    ranked: list[ColumnElement[Any]]
    if filters.q and filters.sort is None:
        query, rank = search.apply(query, dialect_name(session), filters.q)
        keyset = Keyset("articles:relevance", [rank, Article.id], [float, uuid.UUID], False)
        ranked = [rank.label("rank")]

        def key(row: Row[Any]) -> list[Any]:
            return [row.rank, row.id]

    else:
        if filters.q:
            query, _ = search.apply(query, dialect_name(session), filters.q)
        name = filters.sort or "-published_at"
        column_name, descending = SORTS[name]
        column: ColumnElement[Any] = getattr(Article, column_name)
        if column_name == "published_at" and (filters.status or "published") != "published":
            # Drafts have no publication time yet: they sort by when they were created.
            column = func.coalesce(Article.published_at, Article.created_at)
        keyset = Keyset(f"articles:{name}", [column, Article.id], [datetime, uuid.UUID], descending)
        ranked = []

        def key(row: Row[Any]) -> list[Any]:
            value = getattr(row, column_name)
            if value is None and column_name == "published_at":
                value = row.created_at
            return [value, row.id]

    total = await count_rows(session, query) if count else None
    rows, next_cursor = await fetch_page(
        session,
        query.add_columns(*ranked),
        keyset,
        cursor=cursor,
        limit=limit,
        key=key,
        columns_only=True,
    )
    return rows, next_cursor, total


async def load(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, with_claims: bool
) -> list[Article]:
    """The articles `ids`, in that order, with their authors and tags (and claims)."""
    if not ids:
        return []
    query = select(Article).where(Article.id.in_(ids))
    found = await session.scalars(query.options(*(FULL_LOAD if with_claims else METADATA_LOAD)))
    by_id = {article.id: article for article in found}
    return [by_id[article_id] for article_id in ids]


async def list_articles(
    session: AsyncSession,
    filters: ArticleFilters,
    *,
    sees_drafts: bool,
    with_claims: bool,
    limit: int,
) -> list[Article]:
    """The first `limit` articles of the listing, loaded."""
    rows, _, _ = await page(
        session, filters, sees_drafts=sees_drafts, limit=limit, cursor=None, count=False
    )
    return await load(session, [row.id for row in rows], with_claims=with_claims)
