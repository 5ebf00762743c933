"""Sections (resources of their own) and tags, with how many published articles carry each."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles.models import Article, ArticleStatus, ArticleTag
from app.db import AnySelect, dialect_name
from app.errors import Conflict, NotFound
from app.pagination import Keyset, fetch_page

from .models import Section
from .schemas import SectionCreate, SectionPatch, SectionRead


class SectionNotFound(NotFound):
    def __init__(self, slug: str) -> None:
        super().__init__(f"Section {slug!r} does not exist.")


class SectionExists(Conflict):
    def __init__(self, slug: str) -> None:
        super().__init__(f"The section {slug!r} already exists.")


def name_from_slug(slug: str) -> str:
    """A section's name until someone gives it one: `us-politics` is `Us Politics`."""
    return " ".join(word.capitalize() for word in slug.split("-"))


async def ensure(session: AsyncSession, slug: str | None) -> None:
    """The section `slug` exists once this returns (an article may then name it): created
    with a name derived from the slug when new. INSERT … ON CONFLICT DO NOTHING, so two
    writers naming the same new section both succeed, with one row."""
    if slug is None:
        return
    insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    now = datetime.now(UTC)
    await session.execute(
        insert(Section)
        .values(slug=slug, name=name_from_slug(slug), created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["slug"])
    )


def _published() -> ColumnElement[bool]:
    return Article.public_at(datetime.now(UTC)) & (Article.status == ArticleStatus.published)


def _with_counts(sees_drafts: bool) -> tuple[AnySelect, Any]:
    """Sections with their counts of published articles. Readers see only sections with
    one at least: a new section named by a story not yet out is as private as the story;
    writers see them all."""
    counts = (
        select(Article.section.label("slug"), func.count(Article.id).label("article_count"))
        .where(Article.section.is_not(None), _published())
        .group_by(Article.section)
        .subquery("counts")
    )
    article_count = func.coalesce(counts.c.article_count, 0)
    query = select(Section, article_count).join(
        counts, counts.c.slug == Section.slug, isouter=sees_drafts
    )
    return query, article_count


def _read(section: Section, article_count: int) -> SectionRead:
    return SectionRead(
        slug=section.slug,
        name=section.name,
        description=section.description,
        created_at=section.created_at,
        updated_at=section.updated_at,
        article_count=article_count,
    )


async def get(session: AsyncSession, slug: str, *, sees_drafts: bool) -> SectionRead:
    query, _ = _with_counts(sees_drafts)
    row = (await session.execute(query.where(Section.slug == slug))).one_or_none()
    if row is None:
        raise SectionNotFound(slug)
    return _read(*row)


async def sections(
    session: AsyncSession, *, sees_drafts: bool, limit: int, cursor: str | None
) -> tuple[list[SectionRead], str | None]:
    """Sections in slug order."""
    query, _ = _with_counts(sees_drafts)
    rows, next_cursor = await fetch_page(
        session,
        query,
        Keyset("sections", [Section.slug], [str], False),
        cursor=cursor,
        limit=limit,
        key=lambda row: [row[0].slug],
    )
    return [_read(*row) for row in rows], next_cursor


async def create(session: AsyncSession, data: SectionCreate) -> SectionRead:
    if await session.get(Section, data.slug) is not None:
        raise SectionExists(data.slug)
    section = Section(
        slug=data.slug,
        name=data.name or name_from_slug(data.slug),
        description=data.description,
    )
    try:
        async with session.begin_nested():
            session.add(section)
    except IntegrityError:
        raise SectionExists(data.slug) from None  # created meanwhile by another writer
    return _read(section, 0)


async def update(session: AsyncSession, slug: str, data: SectionPatch) -> SectionRead:
    section = await session.get(Section, slug, with_for_update=True)
    if section is None:
        raise SectionNotFound(slug)
    given = data.model_dump(exclude_unset=True, exclude={"slug"})
    if any(getattr(section, name) != value for name, value in given.items()):
        for name, value in given.items():
            setattr(section, name, value)
        section.updated_at = datetime.now(UTC)
        await session.flush()
    return await get(session, slug, sees_drafts=True)


async def tags(
    session: AsyncSession, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Tags in name order, with how many published articles carry each."""
    query = (
        select(ArticleTag.tag, func.count(Article.id))
        .join(Article, Article.id == ArticleTag.article_id)
        .where(_published())
        .group_by(ArticleTag.tag)
    )
    rows, next_cursor = await fetch_page(
        session,
        query,
        Keyset("tags", [ArticleTag.tag], [str], False),
        cursor=cursor,
        limit=limit,
        key=lambda row: [row[0]],
    )
    return [{"name": row[0], "article_count": row[1]} for row in rows], next_cursor
