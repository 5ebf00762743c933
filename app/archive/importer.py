"""`newsdesk import`: a `newsdesk-export/2` (or `/1`) file into an empty database, in the
caller's one transaction, so a refused line leaves nothing behind.

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
from app.authors import bylines
from app.authors.models import Author
from app.authors.schemas import Byline
from app.changes import service as changes
from app.claims.models import Attribution, Claim
from app.db import dialect_name, take_write_lock
from app.pagination import after
from app.sources.models import Source
from app.taxonomy import service as sections
from app.taxonomy.models import Section

from .schemas import (
    FORMAT,
    FORMAT_1,
    AnyLine,
    ArchivedArticle,
    ArchivedClaim,
    ArchivedSource,
    ArchiveLine,
    ArchiveLineV1,
    AuthorLine,
    SectionLine,
)

PAGE_SIZE = 500
BY_FIRST_PUBLICATION = (Article.first_published_at, Article.id)


class ImportRefused(Exception):
    """The file cannot be imported here; nothing was stored."""


LINES: dict[str, tuple[type[AnyLine], ...]] = {
    FORMAT: (SectionLine, AuthorLine, ArchiveLine),
    FORMAT_1: (ArchiveLineV1,),
}


def _kind(data: dict[str, Any]) -> type[AnyLine]:
    given = data["format"]
    for kind in LINES[given]:
        if kind.model_fields.keys() - {"format", "revisions"} <= data.keys():
            return kind
    return LINES[given][-1]  # an article line, whose errors then say what is missing


def parse_line(number: int, raw: bytes) -> AnyLine:
    """One line of the file, or ImportRefused naming the line and what is wrong with it."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ImportRefused(f"Line {number} is not valid JSON: {error}.") from None
    given = data.get("format") if isinstance(data, dict) else None
    if given not in LINES:
        raise ImportRefused(
            f"Line {number} is not in a format this version reads "
            f"(format {given!r}; expected {FORMAT!r} or {FORMAT_1!r})."
        )
    try:
        return _kind(data).model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ImportRefused(f"Line {number} is malformed: {problems}.") from None


async def _refuse_unless_empty(session: AsyncSession) -> None:
    if dialect_name(session) == "postgresql":
        # Writers wait until the import commits, so the database is still empty when it does.
        await session.execute(text("LOCK TABLE article IN SHARE ROW EXCLUSIVE MODE"))
    held = {
        name: await session.scalar(select(func.count()).select_from(model))
        for name, model in (
            ("articles", Article),
            ("sources", Source),
            ("authors", Author),
            ("sections", Section),
        )
    }
    if any(held.values()):
        counts = ", ".join(f"{count} {name}" for name, count in held.items())
        raise ImportRefused(
            f"The database already holds {counts}; import only into an empty database."
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


def _article(data: ArchivedArticle, authors: list[ArticleAuthor]) -> Article:
    return Article(
        **data.model_dump(exclude={"authors", "tags", "corrections", "claims"}),
        author_rows=authors,
        tag_rows=[ArticleTag(position=i, tag=tag) for i, tag in enumerate(data.tags)],
        correction_rows=[Correction(**c.model_dump()) for c in data.corrections],
        claims=[_claim(claim) for claim in data.claims],
    )


async def _byline(session: AsyncSession, line: ArchiveLine | ArchiveLineV1) -> list[ArticleAuthor]:
    """The article's author rows: by the ids a `/2` line gives (its author lines came
    before), or by the names a `/1` line gives, matched or created as a write's are; a `/1`
    line's section is created from its slug."""
    if isinstance(line, ArchiveLine):
        return [ArticleAuthor(position=i, author_id=a) for i, a in enumerate(line.article.authors)]
    await sections.ensure(session, line.article.section)
    named = [Byline(name=author.name) for author in line.article.authors]
    found = await bylines.resolve(session, named)
    return [ArticleAuthor(position=i, author=author) for i, author in enumerate(found)]


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
        if isinstance(line, SectionLine):
            session.add(Section(**line.section.model_dump()))
            await _flush(session, number)
            continue
        if isinstance(line, AuthorLine):
            session.add(Author(**line.author.model_dump()))
            await _flush(session, number)
            continue
        session.add_all(
            Source(**s.model_dump()) for s in _new_sources(number, line.article, sources)
        )
        session.add(_article(line.article, await _byline(session, line)))
        await _flush(session, number)
        # No relationship ties revisions to their article: they go in once it is stored.
        for revision in line.revisions:
            await revision_store.write(session, article_id=line.article.id, **revision.model_dump())
            await _flush(session, number)
        session.expunge_all()  # stored: keep one line in memory, not the file
        imported += 1
    await _record_changes(session)
    return imported
