"""Sections and tags with how many published articles carry each."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles.models import Article, ArticleStatus, ArticleTag
from app.pagination import Keyset, fetch_page


async def _count_by(
    session: AsyncSession, name_column: Any, query: Any, name: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    query = query.where(
        Article.public_at(datetime.now(UTC)), Article.status == ArticleStatus.published
    ).group_by(name_column)
    rows, next_cursor = await fetch_page(
        session,
        query,
        Keyset(name, [name_column], [str], False),
        cursor=cursor,
        limit=limit,
        key=lambda row: [row[0]],
    )
    return [{"name": row[0], "article_count": row[1]} for row in rows], next_cursor


async def sections(
    session: AsyncSession, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    query = select(Article.section, func.count(Article.id)).where(Article.section.is_not(None))
    return await _count_by(session, Article.section, query, "sections", limit, cursor)


async def tags(
    session: AsyncSession, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    query = select(ArticleTag.tag, func.count(Article.id)).join(
        Article, Article.id == ArticleTag.article_id
    )
    return await _count_by(session, ArticleTag.tag, query, "tags", limit, cursor)
