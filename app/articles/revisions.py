"""An article's history: every version as it stood, newest first."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.pagination import Keyset, fetch_page

from .models import Article, ArticleRevision
from .revision_store import Reader
from .service import ArticleNotFound, by_reference

NEWEST_FIRST = Keyset("revisions", [ArticleRevision.version], [int], True)


class RevisionNotFound(NotFound):
    def __init__(self, version: int) -> None:
        super().__init__(f"The article has no version {version}.")


async def article_id(session: AsyncSession, reference: str) -> uuid.UUID:
    """The article's id; deleted articles keep their history until purged."""
    found = await session.scalar(select(Article.id).where(by_reference(reference)))
    if found is None:
        raise ArticleNotFound(reference)
    return found


async def list_revisions(
    session: AsyncSession, reference: str, limit: int, cursor: str | None
) -> tuple[list[ArticleRevision], str | None]:
    query = select(ArticleRevision).where(
        ArticleRevision.article_id == await article_id(session, reference)
    )
    return await fetch_page(
        session,
        query,
        NEWEST_FIRST,
        cursor=cursor,
        limit=limit,
        scalars=True,
        key=lambda revision: [revision.version],
    )


async def get(session: AsyncSession, reference: str, version: int) -> tuple[dict[str, Any], int]:
    """One version's snapshot, and the article's latest version."""
    found_id = await article_id(session, reference)
    revision = await session.get(ArticleRevision, (found_id, version))
    if revision is None:
        raise RevisionNotFound(version)
    latest = await session.scalar(
        select(ArticleRevision.version)
        .where(ArticleRevision.article_id == found_id)
        .order_by(ArticleRevision.version.desc())
        .limit(1)
    )
    [snapshot] = await Reader(session).snapshots([revision])
    return snapshot, latest or version
