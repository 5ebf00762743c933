import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.articles import queries
from app.articles import service as articles
from app.articles.models import Article, ArticleAuthor, ArticleStatus
from app.db import AnySelect
from app.errors import Conflict, NotFound
from app.media import service as media
from app.media.models import Medium
from app.pagination import Keyset, count_rows, fetch_page
from app.sources.models import fold

from .bylines import new_author
from .models import Author
from .schemas import AuthorCreate, AuthorPatch, AuthorRead, Avatar

# What an article's representations say of its authors: a change to any of these is a
# change to every article that carries the author (see `update`).
SHOWN_ON_ARTICLES = ("name", "slug", "url", "job_title")


class AuthorNotFound(NotFound):
    def __init__(self, reference: str) -> None:
        super().__init__(f"Author {reference!r} does not exist.")


class AuthorSlugTaken(Conflict):
    def __init__(self, slug: str) -> None:
        super().__init__(f"The author slug {slug!r} is already in use.")


class AuthorNameTaken(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"An author named {name!r} already exists (names are matched regardless of case "
            "and spacing, as bylines are)."
        )


def _by_reference(reference: str) -> ColumnElement[bool]:
    try:
        return Author.id == uuid.UUID(reference)
    except ValueError:
        return Author.slug == reference


def _counts() -> Any:
    """Published articles readers can see, per author."""
    return (
        select(
            ArticleAuthor.author_id.label("author_id"),
            func.count(func.distinct(Article.id)).label("article_count"),
        )
        .join(Article, Article.id == ArticleAuthor.article_id)
        .where(Article.public_at(datetime.now(UTC)), Article.status == ArticleStatus.published)
        .group_by(ArticleAuthor.author_id)
        .subquery("counts")
    )


def _with_counts(sees_drafts: bool) -> tuple[AnySelect, Any]:
    """Authors with their counts. Readers see only authors of public articles: a byline on
    a story not yet out is as private as the story; writers see every author."""
    counts = _counts()
    article_count = func.coalesce(counts.c.article_count, 0)
    query = (
        select(Author, article_count)
        .join(counts, counts.c.author_id == Author.id, isouter=sees_drafts)
        .options(selectinload(Author.avatar))
    )
    return query, article_count


def _read(author: Author, article_count: int) -> AuthorRead:
    fields = {
        name: getattr(author, name)
        for name in AuthorRead.model_fields.keys() - {"article_count", "avatar"}
    }
    avatar = media.representation(author.avatar) if author.avatar else None
    return AuthorRead(**fields, avatar=avatar, article_count=article_count)


async def _avatar(session: AsyncSession, given: Avatar | None) -> Medium | None:
    """The medium an author is given as their picture: 422 when the library has none."""
    if given is None:
        return None
    return await media.referenced(session, given.id, ["body", "avatar", "id"])


async def get(session: AsyncSession, reference: str, *, sees_drafts: bool) -> AuthorRead:
    """One author by id or slug, with their count; 404 for one the caller may not see."""
    query, _ = _with_counts(sees_drafts)
    row = (await session.execute(query.where(_by_reference(reference)))).one_or_none()
    if row is None:
        raise AuthorNotFound(reference)
    return _read(*row)


async def list_authors(
    session: AsyncSession,
    *,
    sees_drafts: bool,
    q: str | None,
    limit: int,
    cursor: str | None,
    count: bool,
) -> tuple[list[AuthorRead], str | None, int | None]:
    query, _ = _with_counts(sees_drafts)
    if q:
        query = query.where(Author.name_key.contains(fold(q), autoescape=True))
    total = await count_rows(session, query) if count else None
    rows, next_cursor = await fetch_page(
        session,
        query,
        Keyset("authors:name", [Author.name, Author.id], [str, uuid.UUID], False),
        cursor=cursor,
        limit=limit,
        key=lambda row: [row[0].name, row[0].id],
    )
    return [_read(*row) for row in rows], next_cursor, total


async def _for_write(session: AsyncSession, author_id: str) -> Author:
    try:
        found = await session.get(Author, uuid.UUID(author_id), with_for_update=True)
    except ValueError:
        found = None
    if found is None:
        raise AuthorNotFound(author_id)
    return found


async def _check_free(
    session: AsyncSession, *, slug: str | None, name: str | None, author: Author | None = None
) -> None:
    others = select(Author.id).where(Author.id != author.id) if author else select(Author.id)
    if slug is not None and await session.scalar(others.where(Author.slug == slug)):
        raise AuthorSlugTaken(slug)
    if name is not None and await session.scalar(others.where(Author.name_key == fold(name))):
        raise AuthorNameTaken(name)


async def _flush(session: AsyncSession, slug: str, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        # A concurrent writer took the slug or the name first.
        if "slug" in str(error.orig).lower():
            raise AuthorSlugTaken(slug) from None
        raise AuthorNameTaken(name) from None


async def create(session: AsyncSession, data: AuthorCreate) -> AuthorRead:
    await _check_free(session, slug=data.slug, name=data.name)
    avatar = await _avatar(session, data.avatar)
    author = await new_author(session, **data.model_dump(exclude={"avatar"}))
    author.avatar = avatar
    await _flush(session, author.slug, author.name)
    return _read(author, 0)


async def update(
    session: AsyncSession, author_id: str, data: AuthorPatch, actor: str, *, may_publish: bool
) -> AuthorRead:
    """JSON Merge Patch of the author. What the articles show of an author (name, slug, URL,
    job title) is part of each of them: every article that carries the author gets a new
    version, so its revisions, the changes feed, webhooks and cached renderings follow."""
    author = await _for_write(session, author_id)
    given = data.model_dump(exclude_unset=True, exclude={"avatar"})
    if "avatar" in data.model_fields_set:
        medium = await _avatar(session, data.avatar)
        given["avatar_id"] = medium.id if medium else None
    changed = {k: v for k, v in given.items() if getattr(author, k) != v}
    if changed:
        await _check_free(
            session, slug=changed.get("slug"), name=changed.get("name"), author=author
        )
        for field, value in changed.items():
            setattr(author, field, value)
        if "name" in changed:
            author.name_key = fold(author.name)
        author.updated_at = datetime.now(UTC)
        await _flush(session, author.slug, author.name)
        if changed.keys() & set(SHOWN_ON_ARTICLES):
            await _bump_articles(session, author, actor, may_publish=may_publish)
    return await get(session, str(author.id), sees_drafts=True)


async def _bump_articles(
    session: AsyncSession, author: Author, actor: str, *, may_publish: bool
) -> None:
    carrying = (
        select(ArticleAuthor.article_id)
        .where(ArticleAuthor.author_id == author.id)
        .distinct()
        .scalar_subquery()
    )
    ids = list(
        await session.scalars(
            select(Article.id)
            .where(Article.id.in_(carrying), Article.deleted_at.is_(None))
            .order_by(Article.id)
            .with_for_update()
        )
    )
    carrying_articles = await queries.load(session, ids, with_claims=True)
    for article in carrying_articles:
        # What readers see is changed only by those who may publish (as an edit would be).
        articles.check_changeable(article, may_publish=may_publish)
    for article in carrying_articles:
        await articles.save(session, article, actor, articles.Change.author_updated)
