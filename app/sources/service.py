import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import distinct, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles.models import Article
from app.claims.models import Attribution, Claim
from app.db import AnySelect
from app.errors import Invalid, NotFound
from app.pagination import Keyset, count_rows, fetch_page

from .models import Source, SourceKind, fold
from .schemas import SourceCreate, SourceRead, SourceReference, SourceSummary


class SourceNotFound(NotFound):
    def __init__(self, source_id: uuid.UUID | str) -> None:
        super().__init__(f"Source {source_id} does not exist.")


class SourceResolver:
    """Turns the sources named in one write into rows: by id, by the matching rule, or new.
    Remembers what it resolved, so a source named twice in one request is one row."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: dict[tuple[SourceKind, str, str], Source] = {}

    @staticmethod
    def _key(given: SourceCreate) -> tuple[SourceKind, str, str]:
        anonymous = given.kind is SourceKind.anonymous
        return (given.kind, fold(given.name), fold(given.affiliation or "") if anonymous else "")

    async def prefetch(self, given: Iterable[SourceReference | SourceCreate]) -> None:
        """Find in one query the existing sources that `given` describe, so that resolving
        them afterwards costs none (a story's claims name many sources), and create the
        missing ones in key order: two writes creating the same new sources in different
        orders would each wait for the other's row (a deadlock on PostgreSQL)."""
        wanted: dict[tuple[SourceKind, str, str], SourceCreate] = {}
        for source in given:
            if isinstance(source, SourceCreate):
                wanted.setdefault(self._key(source), source)
        keys = wanted.keys() - self.seen.keys()
        if not keys:
            return
        columns = tuple_(Source.kind, Source.name_key, Source.affiliation_key)
        for found in await self.session.scalars(select(Source).where(columns.in_(keys))):
            self.seen[(found.kind, found.name_key, found.affiliation_key)] = found
        for key in sorted(keys - self.seen.keys()):
            self.seen[key] = await self._create(wanted[key], key)

    async def resolve(self, given: SourceReference | SourceCreate, loc: list[str | int]) -> Source:
        if isinstance(given, SourceReference):
            source = await self.session.get(Source, given.id)
            if source is None:
                raise Invalid(f"Source {given.id} does not exist.", [*loc, "id"], "not_found")
            return source
        key = self._key(given)
        if key in self.seen:
            return self.seen[key]
        source = await self._find(key)
        if source is None:
            source = await self._create(given, key)
        self.seen[key] = source
        return source

    async def _find(self, key: tuple[SourceKind, str, str]) -> Source | None:
        kind, name_key, affiliation_key = key
        return await self.session.scalar(
            select(Source).where(
                Source.kind == kind,
                Source.name_key == name_key,
                Source.affiliation_key == affiliation_key,
            )
        )

    async def _create(self, given: SourceCreate, key: tuple[SourceKind, str, str]) -> Source:
        source = Source(name_key=key[1], affiliation_key=key[2], **given.model_dump())
        try:
            async with self.session.begin_nested():
                self.session.add(source)
        except IntegrityError:
            # Another request created the same source since we looked: use theirs.
            found = await self._find(key)
            if found is None:
                raise
            return found
        return source


def _counts(sees_drafts: bool) -> Any:
    query = (
        select(
            Attribution.source_id.label("source_id"),
            func.count(distinct(Claim.id)).label("claim_count"),
            func.count(distinct(Claim.article_id)).label("article_count"),
        )
        .join(Claim, Claim.id == Attribution.claim_id)
        .join(Article, Article.id == Claim.article_id)
        .group_by(Attribution.source_id)
    )
    if sees_drafts:
        query = query.where(Article.deleted_at.is_(None))
    else:
        query = query.where(Article.public_at(datetime.now(UTC)))
    return query.subquery("counts")


def _with_counts(sees_drafts: bool) -> tuple[AnySelect, Any, Any]:
    """Sources with their counts. Readers see only sources cited in public articles: who an
    unpublished story cites is as private as the story."""
    counts = _counts(sees_drafts)
    claim_count = func.coalesce(counts.c.claim_count, 0)
    article_count = func.coalesce(counts.c.article_count, 0)
    query = select(Source, claim_count, article_count).join(
        counts, counts.c.source_id == Source.id, isouter=sees_drafts
    )
    return query, claim_count, article_count


def _read(row: Any) -> SourceRead:
    source, claim_count, article_count = row
    summary = SourceSummary.model_validate(source)
    return SourceRead(**summary.model_dump(), claim_count=claim_count, article_count=article_count)


async def get(session: AsyncSession, source_id: uuid.UUID, sees_drafts: bool) -> SourceRead:
    query, _, _ = _with_counts(sees_drafts)
    row = (await session.execute(query.where(Source.id == source_id))).one_or_none()
    if row is None:
        raise SourceNotFound(source_id)
    return _read(row)


async def list_sources(
    session: AsyncSession,
    *,
    sees_drafts: bool,
    q: str | None,
    kind: SourceKind | None,
    sort: str,
    limit: int,
    cursor: str | None,
    count: bool,
) -> tuple[list[SourceRead], str | None, int | None]:
    query, claim_count, _ = _with_counts(sees_drafts)
    if q:
        query = query.where(Source.name_key.contains(fold(q), autoescape=True))
    if kind is not None:
        query = query.where(Source.kind == kind)
    total = await count_rows(session, query) if count else None
    if sort == "name":
        keyset = Keyset("sources:name", [Source.name, Source.id], [str, uuid.UUID], False)
    else:
        keyset = Keyset("sources:-claim_count", [claim_count, Source.id], [int, uuid.UUID], True)
    rows, next_cursor = await fetch_page(
        session,
        query,
        keyset,
        cursor=cursor,
        limit=limit,
        key=lambda row: [row[0].name if sort == "name" else row[1], row[0].id],
    )
    return [_read(row) for row in rows], next_cursor, total
