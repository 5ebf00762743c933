"""`newsdesk import`: a `newsdesk-export/2` (or `/1`) file into an empty database, in the
caller's one transaction, so a refused line leaves nothing behind (but files put in the media
store, which are content-addressed: an import tried again finds them, and `newsdesk purge`
removes them if nothing comes to use them).

Rows are restored as they were (ids, versions, timestamps, derived columns, revisions); no
revision is written and no version bumped. The changes feed then learns of the articles
readers can see, in first-publication order, as if each had just been published, and of
the scheduled ones' release times, so replaying it from the start gives the public set.
"""

import base64
import binascii
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import revision_store
from app.articles.body import media_ids
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
from app.media import service as media
from app.media.images import NotAcceptable
from app.media.models import ArticleImage, Medium
from app.media.storage import MediaStore, original_key
from app.pagination import after
from app.sources.models import Source

from .schemas import (
    READABLE,
    ArchivedArticle,
    ArchivedClaim,
    ArchivedMedium,
    ArchivedSource,
    ArchiveLine,
    MediumLine,
)

PAGE_SIZE = 500
BY_FIRST_PUBLICATION = (Article.first_published_at, Article.id)


class ImportRefused(Exception):
    """The file cannot be imported here; nothing was stored."""


def parse_line(number: int, raw: bytes) -> ArchiveLine | MediumLine:
    """One line of the file, or ImportRefused naming the line and what is wrong with it."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ImportRefused(f"Line {number} is not valid JSON: {error}.") from None
    given = data.get("format") if isinstance(data, dict) else None
    if given not in READABLE:
        raise ImportRefused(
            f"Line {number} is not in a format this version reads "
            f"(format {given!r}; expected one of {', '.join(READABLE)})."
        )
    try:
        if "medium" in data:
            return MediumLine.model_validate(data)
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
    media = await session.scalar(select(func.count()).select_from(Medium))
    if articles or sources or media:
        raise ImportRefused(
            f"The database already holds {articles} articles, {sources} sources and {media} "
            "media; import only into an empty database."
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


def _medium_id(number: int, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ImportRefused(
            f"Line {number}: the body shows media:{value}, not a medium id."
        ) from None


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


async def _medium(number: int, data: ArchivedMedium, store: MediaStore, max_pixels: int) -> Medium:
    """The medium as it was; its file put back in the store and its renditions made again
    (or, for a line without the file, found in the store already)."""
    columns = data.model_dump(exclude={"data"})
    if data.digest is None:
        return Medium(**columns)
    if data.data is None:
        if not await store.exists(original_key(data.digest)):
            raise ImportRefused(
                f"Line {number} leaves medium {data.id}'s file in the media store, which does "
                f"not hold it ({original_key(data.digest)})."
            )
        return Medium(**columns)
    try:
        file = base64.b64decode(data.data, validate=True)
    except binascii.Error:
        raise ImportRefused(f"Line {number}: medium {data.id}'s data is not base64.") from None
    if hashlib.sha256(file).hexdigest() != data.digest:
        raise ImportRefused(f"Line {number}: medium {data.id}'s data does not match its digest.")
    try:
        renditions = await media.store_upload(store, file, max_pixels, data.focal_x, data.focal_y)
    except NotAcceptable as refused:
        raise ImportRefused(f"Line {number}: medium {data.id}'s file {refused}.") from None
    return Medium(**{**columns, "renditions": renditions})


async def import_articles(
    session: AsyncSession, lines: Iterable[bytes], store: MediaStore, max_pixels: int
) -> int:
    """Store every line's medium, or article with its claims, sources and revisions, then
    the changes feed's events; returns how many articles. Raises ImportRefused (the caller
    rolls back) if the database is not empty or a line is not a valid one."""
    await take_write_lock(session)
    await _refuse_unless_empty(session)
    sources: dict[uuid.UUID, tuple[int, ArchivedSource]] = {}
    imported = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        line = parse_line(number, raw)
        if isinstance(line, MediumLine):
            session.add(await _medium(number, line.medium, store, max_pixels))
            await _flush(session, number)
            continue
        session.add_all(
            Source(**s.model_dump()) for s in _new_sources(number, line.article, sources)
        )
        session.add(_article(line.article))
        await _flush(session, number)
        # Which media the body shows is derived from it, as on every write.
        for medium_id in media_ids(line.article.body):
            medium = _medium_id(number, medium_id)
            session.add(ArticleImage(article_id=line.article.id, medium_id=medium))
        await _flush(session, number)
        # No relationship ties revisions to their article: they go in once it is stored.
        for revision in line.revisions:
            await revision_store.write(session, article_id=line.article.id, **revision.model_dump())
            await _flush(session, number)
        session.expunge_all()  # stored: keep one line in memory, not the file
        imported += 1
    await _record_changes(session)
    return imported
