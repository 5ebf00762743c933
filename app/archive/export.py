"""`newsdesk export`: every section, author, medium and article, a page at a time, as
`newsdesk-export/2` lines."""

import base64
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import IO, Any

import orjson
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.articles import revision_store
from app.articles.models import Article, ArticleRevision
from app.articles.service import FULL_LOAD
from app.authors.models import Author
from app.db import dialect_name
from app.media.models import Medium
from app.media.storage import MediaStore, original_key
from app.pagination import after
from app.taxonomy.models import Section

from .schemas import (
    FORMAT,
    ArchivedArticle,
    ArchivedAuthor,
    ArchivedMedium,
    ArchivedRevision,
    ArchivedSection,
    ArchiveLine,
    AuthorLine,
    MediumLine,
    SectionLine,
)

PAGE_SIZE = 100
BY_CREATION = (Article.created_at, Article.id)


def archive_line(
    article: Article, revisions: Sequence[ArticleRevision], snapshots: Sequence[dict[str, Any]]
) -> bytes:
    """One article (loaded with FULL_LOAD) and its revisions (with their snapshots) as an
    NDJSON line."""
    line = ArchiveLine(
        format=FORMAT,
        article=ArchivedArticle.model_validate(article),
        revisions=[
            ArchivedRevision(
                version=revision.version,
                created_at=revision.created_at,
                actor=revision.actor,
                change=revision.change,
                snapshot=snapshot,
            )
            for revision, snapshot in zip(revisions, snapshots, strict=True)
        ],
    )
    return orjson.dumps(line.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS) + b"\n"


async def _revisions(
    session: AsyncSession, article_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ArticleRevision]]:
    """The revisions of a page of articles, oldest first, in one query."""
    found: dict[uuid.UUID, list[ArticleRevision]] = defaultdict(list)
    for revision in await session.scalars(
        select(ArticleRevision)
        .where(ArticleRevision.article_id.in_(article_ids))
        .order_by(ArticleRevision.article_id, ArticleRevision.version)
    ):
        found[revision.article_id].append(revision)
    return found


def _line(line: SectionLine | AuthorLine | MediumLine) -> bytes:
    return orjson.dumps(line.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS) + b"\n"


async def _pages(
    session: AsyncSession, query: Select[Any], order: Sequence[InstrumentedAttribute[Any]]
) -> AsyncIterator[list[Any]]:
    """The rows of `query` in `order` (ascending, unique), a page at a time. Each page is let
    go of when the next is asked for: the export holds one page in memory, not the archive."""
    last: list[Any] | None = None
    while True:
        paged = query.order_by(*order).limit(PAGE_SIZE)
        if last is not None:
            paged = paged.where(after(order, last, descending=False))
        page = list(await session.scalars(paged))
        if page:
            yield page
        if len(page) < PAGE_SIZE:
            return
        last = [getattr(page[-1], column.key) for column in order]
        session.expunge_all()


async def medium_line(medium: Medium, store: MediaStore, *, with_bytes: bool) -> bytes:
    """One medium as an NDJSON line: its row, and its uploaded file unless `with_bytes` is
    off (the file then stays in the store, under the digest the line gives)."""
    data = None
    if with_bytes and medium.digest is not None:
        data = base64.b64encode(await store.get(original_key(medium.digest))).decode("ascii")
    columns = {
        name: getattr(medium, name) for name in ArchivedMedium.model_fields if name != "data"
    }
    return _line(MediumLine(format=FORMAT, medium=ArchivedMedium(**columns, data=data)))


async def export_articles(
    session: AsyncSession, out: IO[bytes], store: MediaStore, *, media_bytes: bool = True
) -> int:
    """Write every section (by slug), every medium (its file too, unless `media_bytes` is
    off; before the authors, whose pictures they are), every author, then every article,
    oldest first (sections, media and authors whether or not an article uses them),
    to `out`; returns how many articles. Reads one snapshot of the database (a single
    transaction; REPEATABLE READ on PostgreSQL), so what changes meanwhile is written as it
    was when the export began."""
    if dialect_name(session) == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    async for sections in _pages(session, select(Section), [Section.slug]):
        for section in sections:
            archived = ArchivedSection.model_validate(section)
            out.write(_line(SectionLine(format=FORMAT, section=archived)))
    async for media in _pages(session, select(Medium), [Medium.created_at, Medium.id]):
        for medium in media:
            out.write(await medium_line(medium, store, with_bytes=media_bytes))
    async for authors in _pages(session, select(Author), [Author.created_at, Author.id]):
        for author in authors:
            out.write(
                _line(AuthorLine(format=FORMAT, author=ArchivedAuthor.model_validate(author)))
            )
    exported = 0
    articles = select(Article).options(*FULL_LOAD)
    async for page in _pages(session, articles, BY_CREATION):
        revisions = await _revisions(session, [article.id for article in page])
        reader = revision_store.Reader(session)
        await reader.snapshots([r for found in revisions.values() for r in found])
        for article in page:
            history = revisions[article.id]
            out.write(archive_line(article, history, await reader.snapshots(history)))
        exported += len(page)
    return exported
