"""`newsdesk import`: a `newsdesk-export/1` file into an empty database, in the caller's one
transaction, so a refused line leaves nothing behind.

Rows are restored as they were (ids, versions, timestamps, derived columns, revisions); no
revision is written and no version bumped. The changes feed then learns of the articles
readers can see, in first-publication order, as if each had just been published, and of
the scheduled ones' release times, so replaying it from the start gives the public set.
"""

import uuid
from collections.abc import Iterable
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import revision_store
from app.articles.models import (
    PUBLIC_STATUSES,
    Article,
    ArticleAuthor,
    ArticleTag,
    Correction,
)
from app.changes import service as changes
from app.claims.models import Attribution, Claim
from app.db import dialect_name, take_write_lock
from app.pagination import after
from app.sources.models import Source

from .schemas import FORMAT, ArchivedArticle, ArchivedClaim, ArchivedSource, ArchiveLine

PAGE_SIZE = 500
BY_FIRST_PUBLICATION = (Article.first_published_at, Article.id)


class ImportRefused(Exception):
    """The file cannot be imported here; nothing was stored."""


def parse_line(number: int, raw: bytes) -> ArchiveLine:
    """One line of the file, or ImportRefused naming the line and what is wrong with it."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ImportRefused(f"Line {number} is not valid JSON: {error}.") from None
    given = data.get("format") if isinstance(data, dict) else None
    if given != FORMAT:
        raise ImportRefused(
            f"Line {number} is not in a format this version reads "
            f"(format {given!r}; expected {FORMAT!r})."
        )
    try:
        return ArchiveLine.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ImportRefused(f"Line {number} is malformed: {problems}.") from None


async def _refuse_unless_empty(session: AsyncSession) -> None:
    if dialect_name(session) == "postgresql":
        # Writers wait until the import commits, so the database is still empty when it does.
        await session.execute(text("LOCK TABLE article IN SHARE ROW EXCLUSIVE MODE"))
    articles = await session.scalar(select(func.count()).select_from(Article))
    sources = await session.scalar(select(func.count()).select_from(Source))
    if articles or sources:
        raise ImportRefused(
            f"The database already holds {articles} articles and {sources} sources; "
            "import only into an empty database."
        )


def _new_sources(
    number: int, article: ArchivedArticle, seen: dict[uuid.UUID, tuple[int, ArchivedSource]]
) -> list[ArchivedSource]:
    """The sources this line cites for the first time. One cited again must be the same
    source as before: an id means one source, whichever article cites it."""
    new = []
    for claim in article.claims:
        for attribution in claim.attributions:
            source = attribution.source
            if source.id not in seen:
                seen[source.id] = (number, source)
                new.append(source)
            elif seen[source.id][1] != source:
                raise ImportRefused(
                    f"Line {number} gives source {source.id} otherwise than line "
                    f"{seen[source.id][0]} did."
                )
    return new


def _claim(data: ArchivedClaim) -> Claim:
    return Claim(
        **data.model_dump(exclude={"attributions"}),
        attributions=[
            Attribution(
                position=i,
                source_id=attribution.source.id,
                **attribution.model_dump(exclude={"source"}),
            )
            for i, attribution in enumerate(data.attributions)
        ],
    )


def _article(data: ArchivedArticle) -> Article:
    return Article(
        **data.model_dump(exclude={"authors", "tags", "corrections", "claims"}),
        author_rows=[ArticleAuthor(position=i, name=a.name) for i, a in enumerate(data.authors)],
        tag_rows=[ArticleTag(position=i, tag=tag) for i, tag in enumerate(data.tags)],
        correction_rows=[Correction(**c.model_dump()) for c in data.corrections],
        claims=[_claim(claim) for claim in data.claims],
    )


async def _flush(session: AsyncSession, number: int) -> None:
    try:
        await session.flush()
    except (IntegrityError, DataError) as error:
        raise ImportRefused(
            f"Line {number} does not fit the rows before it or the schema: {error.orig}"
        ) from None


async def _record_changes(session: AsyncSession) -> None:
    """Each article readers can see goes into the changes feed as published; each scheduled
    one gets its pending release. Drafts and deleted articles are not public content."""
    query = (
        select(Article)
        .where(
            Article.deleted_at.is_(None),
            Article.status.in_(PUBLIC_STATUSES),
            Article.first_published_at.is_not(None),
        )
        .order_by(*BY_FIRST_PUBLICATION)
        .limit(PAGE_SIZE)
    )
    last: list[Any] | None = None
    while True:
        page = list(
            await session.scalars(
                query if last is None else query.where(after(BY_FIRST_PUBLICATION, last, False))
            )
        )
        for article in page:
            await changes.record(session, article)
        if len(page) < PAGE_SIZE:
            return
        last = [page[-1].first_published_at, page[-1].id]
        await session.flush()  # a pending ScheduledChange would go with the page otherwise
        session.expunge_all()


async def import_articles(session: AsyncSession, lines: Iterable[bytes]) -> int:
    """Store every line's article, claims, sources and revisions, then the changes feed's
    events; returns how many articles. Raises ImportRefused (the caller rolls back) if the
    database is not empty or a line is not a valid one."""
    await take_write_lock(session)
    await _refuse_unless_empty(session)
    sources: dict[uuid.UUID, tuple[int, ArchivedSource]] = {}
    imported = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        line = parse_line(number, raw)
        session.add_all(
            Source(**s.model_dump()) for s in _new_sources(number, line.article, sources)
        )
        session.add(_article(line.article))
        await _flush(session, number)
        # No relationship ties revisions to their article: they go in once it is stored.
        for revision in line.revisions:
            await revision_store.write(session, article_id=line.article.id, **revision.model_dump())
            await _flush(session, number)
        session.expunge_all()  # stored: keep one line in memory, not the file
        imported += 1
    await _record_changes(session)
    return imported
