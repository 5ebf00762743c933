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
from app.authors import bylines
from app.authors.models import Author
from app.authors.schemas import Byline
from app.changes import service as changes
from app.claims.models import Attribution, Claim
from app.db import dialect_name, take_write_lock
from app.media import service as media
from app.media.images import NotAcceptable
from app.media.models import ArticleImage, Medium
from app.media.storage import MediaStore, original_key
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
    ArchivedMedium,
    ArchivedSource,
    ArchiveLine,
    ArchiveLineV1,
    AuthorLine,
    MediumLine,
    SectionLine,
)

PAGE_SIZE = 500
BY_FIRST_PUBLICATION = (Article.first_published_at, Article.id)


class ImportRefused(Exception):
    """The file cannot be imported here; nothing was stored."""


LINES: dict[str, tuple[type[AnyLine], ...]] = {
    FORMAT: (SectionLine, AuthorLine, MediumLine, ArchiveLine),
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
            ("media", Medium),
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
        _, renditions = await media.store_upload(
            store, file, max_pixels, data.focal_x, data.focal_y
        )
    except NotAcceptable as refused:
        raise ImportRefused(f"Line {number}: medium {data.id}'s file {refused}.") from None
    return Medium(**{**columns, "renditions": renditions})


def _body_images(number: int, article: ArchivedArticle) -> list[ArticleImage]:
    """Which media the body shows, derived from it as on every write."""
    shown = []
    for medium_id in media_ids(article.body):
        try:
            shown.append(ArticleImage(article_id=article.id, medium_id=uuid.UUID(medium_id)))
        except ValueError:
            message = f"Line {number}: the body shows media:{medium_id}, not a medium id."
            raise ImportRefused(message) from None
    return shown


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


async def import_articles(
    session: AsyncSession, lines: Iterable[bytes], store: MediaStore, max_pixels: int
) -> int:
    """Store every line's section, author, medium (its file in `store`), or article with its
    claims, sources and revisions, then the changes feed's events; returns how many
    articles. Raises ImportRefused (the caller rolls back) if the database is not empty or
    a line is not a valid one."""
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
        if isinstance(line, MediumLine):
            session.add(await _medium(number, line.medium, store, max_pixels))
            await _flush(session, number)
            continue
        session.add_all(
            Source(**s.model_dump()) for s in _new_sources(number, line.article, sources)
        )
        session.add(_article(line.article, await _byline(session, line)))
        await _flush(session, number)
        session.add_all(_body_images(number, line.article))
        await _flush(session, number)
        # No relationship ties revisions to their article: they go in once it is stored.
        for revision in line.revisions:
            await revision_store.write(session, article_id=line.article.id, **revision.model_dump())
            await _flush(session, number)
        session.expunge_all()  # stored: keep one line in memory, not the file
        imported += 1
    await _record_changes(session)
    return imported
