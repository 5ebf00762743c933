import enum
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.authors import bylines
from app.authors.models import Author
from app.authors.schemas import Byline
from app.changes import service as changes
from app.claims import rows as claim_rows
from app.claims.models import Attribution, Claim
from app.errors import Conflict, Forbidden, Gone, NotFound
from app.media import service as media
from app.media.models import ArticleImage
from app.slugs import free_slug, slugify
from app.sources.models import SourceKind
from app.taxonomy import service as sections

from . import images, revision_store
from .body import Span, plain_text, render_html
from .models import (
    Article,
    ArticleAuthor,
    ArticleStatus,
    ArticleTag,
    FormerSlug,
    is_public,
    went_live,
)
from .schemas import ArticlePatch, ArticleWrite, FeaturedImageWrite, representation

METADATA_LOAD = (
    # The author rides along with its row (a join, not one more query).
    selectinload(Article.author_rows).joinedload(ArticleAuthor.author),
    selectinload(Article.tag_rows),
    selectinload(Article.correction_rows),
    selectinload(Article.featured_medium),
)
FULL_LOAD = (
    *METADATA_LOAD,
    selectinload(Article.claims).selectinload(Claim.attributions).selectinload(Attribution.source),
    selectinload(Article.body_media),
)


class ArticleNotFound(NotFound):
    def __init__(self, reference: str) -> None:
        super().__init__(f"Article {reference!r} does not exist.")


class ArticleGone(Gone):
    def __init__(self, reference: str) -> None:
        super().__init__(f"Article {reference!r} has been deleted.")


class LiveContentNeedsPublish(Forbidden):
    def __init__(self, reference: str) -> None:
        super().__init__(
            f"Article {reference!r} is published, scheduled or retracted: changing it or its "
            "claims needs the 'content:publish' scope."
        )


def check_changeable(article: Article, *, may_publish: bool) -> None:
    """What readers see (or are scheduled to see) is changed only by those who may publish;
    `content:write` alone edits drafts."""
    if article.status is not ArticleStatus.draft and not may_publish:
        raise LiveContentNeedsPublish(article.slug)


class SlugTaken(Conflict):
    def __init__(self, slug: str) -> None:
        super().__init__(f"The slug {slug!r} is already in use.")


def by_reference(reference: str) -> ColumnElement[bool]:
    try:
        return Article.id == uuid.UUID(reference)
    except ValueError:
        return Article.slug == reference


async def get(
    session: AsyncSession,
    reference: str | uuid.UUID,
    *,
    sees_drafts: bool,
    claims_too: bool = True,
    for_update: bool = False,
) -> Article:
    """One article by id or slug, as the caller may see it: deleted ones are 410, drafts and
    scheduled ones do not exist for readers. `for_update` locks its row for a write
    (PostgreSQL; SQLite writes are serialised by BEGIN IMMEDIATE)."""
    reference = str(reference)
    query = select(Article).where(by_reference(reference))
    if for_update:
        query = query.with_for_update(of=Article)
    article = await session.scalar(query.options(*(FULL_LOAD if claims_too else METADATA_LOAD)))
    check_visible(article, reference, sees_drafts=sees_drafts)
    assert article is not None
    return article


def check_visible(article: Any, reference: str, *, sees_drafts: bool) -> None:
    """404 for what does not exist or is not the caller's to see (drafts, scheduled ones);
    410 for what was deleted after readers could see it. `article` is an `Article` or
    anything with its status and dates."""
    if article is None:
        raise ArticleNotFound(reference)
    if article.deleted_at is not None and (sees_drafts or went_live(article, article.deleted_at)):
        raise ArticleGone(reference)
    if not sees_drafts and not is_public(article, datetime.now(UTC)):
        raise ArticleNotFound(reference)


async def _free_slug(session: AsyncSession, headline: str) -> str:
    # A slug an article had before a rename still answers for it (a redirect): not free.
    return await free_slug(session, slugify(headline), [Article.slug, FormerSlug.slug])


async def _check_slug_free(
    session: AsyncSession, slug: str, article: Article | None = None
) -> None:
    """A slug is taken by the article that has it, and by one that had it before a rename
    (it redirects there), unless that is the article being renamed back to it."""
    if await session.scalar(select(Article.id).where(Article.slug == slug)) is not None:
        raise SlugTaken(slug)
    former = await session.scalar(select(FormerSlug.article_id).where(FormerSlug.slug == slug))
    if former is not None and (article is None or former != article.id):
        raise SlugTaken(slug)


async def _rename(session: AsyncSession, article: Article, slug: str) -> None:
    """Give the article a new slug; the old one keeps answering, with a redirect."""
    if slug == article.slug:
        return
    await _check_slug_free(session, slug, article)
    await session.execute(delete(FormerSlug).where(FormerSlug.slug == slug))
    session.add(FormerSlug(slug=article.slug, article_id=article.id, renamed_at=datetime.now(UTC)))
    article.slug = slug


async def renamed_to(session: AsyncSession, former: str, *, sees_drafts: bool) -> Article | None:
    """The article that had the slug `former` before a rename, as `get` gives it to this
    caller (404/410 as for the article itself); None when no article had it."""
    article_id = await session.scalar(
        select(FormerSlug.article_id).where(FormerSlug.slug == former)
    )
    if article_id is None:
        return None
    return await get(session, article_id, sees_drafts=sees_drafts, claims_too=False)


def summarise_sourcing(article_claims: Sequence[Claim]) -> dict[str, int]:
    attributed = [c for c in article_claims if c.attributions]
    sources = {a.source.id: a.source for c in attributed for a in c.attributions}
    anonymous = sum(1 for s in sources.values() if s.kind is SourceKind.anonymous)
    return {
        "claims": len(article_claims),
        "attributed_claims": len(attributed),
        "unattributed_claims": len(article_claims) - len(attributed),
        "named_sources": len(sources) - anonymous,
        "anonymous_sources": anonymous,
    }


def refresh_derived(article: Article) -> None:
    """Re-render the body with its claim spans and recount the sourcing summary."""
    spans = [
        Span(str(c.id), c.anchor_start, c.anchor_end, str(c.kind), str(c.verification))
        for c in article.claims
        if c.anchor_start is not None and c.anchor_end is not None
    ]
    article.body_html = render_html(article.body, spans, images.pictures(article))
    article.sourcing = summarise_sourcing(article.claims)


class Change(enum.StrEnum):
    """What a revision records."""

    created = "created"
    updated = "updated"
    replaced = "replaced"
    claim_added = "claim_added"
    claim_updated = "claim_updated"
    claim_removed = "claim_removed"
    published = "published"
    unpublished = "unpublished"
    retracted = "retracted"
    corrected = "corrected"
    deleted = "deleted"
    # What the article shows of one of its authors changed (see authors.service.update).
    author_updated = "author_updated"


async def save(
    session: AsyncSession,
    article: Article,
    actor: str,
    change: Change,
    *,
    unless_same_as: dict[str, Any] | None = None,
) -> Article:
    """The end of every write: bump the version (past the first), re-render, and record the
    revision and the change event, all in the caller's transaction. An edit that leaves the
    article as it was (`unless_same_as`: its representation before) is no change at all:
    same version, no revision, no event for partners."""
    await images.attach_body_media(session, article)
    images.check_alt_text(article)
    refresh_derived(article)
    if unless_same_as is not None and _unchanged(article, unless_same_as):
        return article
    if change is not Change.created:
        article.version += 1
        article.updated_at = datetime.now(UTC)
    await _flush(session, article.slug)
    await revision_store.write(
        session,
        article_id=article.id,
        version=article.version,
        created_at=article.updated_at,
        actor=actor,
        change=change.value,
        snapshot=representation(article),
    )
    await changes.record(session, article)
    await session.flush()
    return article


def _unchanged(article: Article, before: dict[str, Any]) -> bool:
    if any(claim.article_id is None for claim in article.claims):
        return False  # a claim not yet added is a new one
    return representation(article) == before


async def _authors(session: AsyncSession, given: Sequence[Byline]) -> list[ArticleAuthor]:
    """The byline's rows: each author once, where first named."""
    found = await bylines.resolve(session, given)
    authors: dict[uuid.UUID | None, Author] = {}
    for author in found:
        authors.setdefault(author.id, author)
    return [ArticleAuthor(position=i, author=a) for i, a in enumerate(authors.values())]


def _tags(tags: Sequence[str]) -> list[ArticleTag]:
    return [ArticleTag(position=i, tag=t) for i, t in enumerate(tags)]


async def _flush(session: AsyncSession, slug: str) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        # Only the slug is unique on this table; a concurrent writer took it first.
        if "slug" in str(error.orig).lower():
            raise SlugTaken(slug) from None
        raise


async def _feature(
    session: AsyncSession, article: Article, given: FeaturedImageWrite | None
) -> None:
    if given is None:
        article.featured_medium, article.featured_image_caption = None, None
        return
    loc: list[str | int] = ["body", "featured_image", "id"]
    article.featured_medium = await media.referenced(session, given.id, loc)
    article.featured_image_caption = given.caption


async def create(session: AsyncSession, data: ArticleWrite, actor: str) -> Article:
    """A new draft with its claims, attributions and (matched or new) sources."""
    if data.slug is not None:
        await _check_slug_free(session, data.slug)
    slug = data.slug or await _free_slug(session, data.headline)
    fields = await _fields(session, data)
    now = datetime.now(UTC)
    article = Article(
        id=uuid.uuid4(),
        slug=slug,
        status=ArticleStatus.draft,
        version=1,
        created_at=now,
        updated_at=now,
        correction_rows=[],
        claims=[],
        body_media=[],
        **fields,
    )
    await _feature(session, article, data.featured_image)
    await claim_rows.replace_all(session, article.claims, data.claims, plain_text(data.body))
    session.add(article)
    return await save(session, article, actor, Change.created)


async def _fields(session: AsyncSession, data: ArticleWrite) -> dict[str, Any]:
    """The article's columns and rows from `data`; the authors it names exist after this,
    and so does its section."""
    await sections.ensure(session, data.section)
    return {
        "headline": data.headline,
        "deck": data.deck,
        "body": data.body,
        "language": data.language,
        "section": data.section,
        "canonical_url": data.canonical_url,
        "syndication_allowed": data.syndication.allowed,
        "syndication_usage_terms": data.syndication.usage_terms,
        "author_rows": await _authors(session, data.authors),
        "tag_rows": _tags(data.tags),
    }


async def replace(
    session: AsyncSession, article: Article, data: ArticleWrite, actor: str
) -> Article:
    """PUT: every field from `data`, defaults for what it leaves out; the slug is kept when
    not given. The claim list is replaced: claims given with their id keep it."""
    before = representation(article)
    if data.slug is not None:
        await _rename(session, article, data.slug)
    for name, value in (await _fields(session, data)).items():
        setattr(article, name, value)
    await _feature(session, article, data.featured_image)
    await claim_rows.replace_all(session, article.claims, data.claims, plain_text(data.body))
    return await save(session, article, actor, Change.replaced, unless_same_as=before)


async def patch(session: AsyncSession, article: Article, data: ArticlePatch, actor: str) -> Article:
    """JSON Merge Patch: only the fields given change; a new body re-anchors the claims."""
    given = data.model_fields_set
    if not given:
        return article
    before = representation(article)
    if "slug" in given:
        assert data.slug is not None
        await _rename(session, article, data.slug)
    if "section" in given:
        await sections.ensure(session, data.section)
    for name in ("headline", "deck", "body", "section", "canonical_url"):
        if name in given:
            setattr(article, name, getattr(data, name))
    if "language" in given:
        article.language = data.language or "en"
    if "tags" in given:
        article.tag_rows = _tags(data.tags or [])
    if "authors" in given:
        article.author_rows = await _authors(session, data.authors or [])
    if "featured_image" in given:
        await _feature(session, article, data.featured_image)
    if "syndication" in given:
        if data.syndication is None:
            article.syndication_allowed, article.syndication_usage_terms = True, None
        else:
            changes = data.syndication.model_dump(exclude_unset=True)
            if "allowed" in changes:
                article.syndication_allowed = changes["allowed"] is not False
            if "usage_terms" in changes:
                article.syndication_usage_terms = changes["usage_terms"]
    text = plain_text(article.body)
    if "claims" in given:
        await claim_rows.replace_all(session, article.claims, data.claims or [], text)
    elif "body" in given:
        claim_rows.reanchor(article.claims, text)
    return await save(session, article, actor, Change.updated, unless_same_as=before)


async def showing(session: AsyncSession, medium_id: uuid.UUID) -> list[Article]:
    """The articles, deleted ones aside, that show the medium (featured or in the body)."""
    in_body = select(ArticleImage.article_id).where(ArticleImage.medium_id == medium_id)
    found = await session.scalars(
        select(Article)
        .where(
            Article.deleted_at.is_(None),
            (Article.featured_image_id == medium_id) | Article.id.in_(in_body),
        )
        .order_by(Article.created_at, Article.id)
        .options(*FULL_LOAD)
    )
    return list(found)


async def show_changed_medium(
    session: AsyncSession, articles: Sequence[Article], actor: str, *, may_publish: bool
) -> None:
    """A medium the articles show has changed (its alt text, caption, credit…): each gets
    a new version, re-rendered, and partners an `article.updated` for those they see. What
    readers see is changed only by those who may publish."""
    for article in articles:
        check_changeable(article, may_publish=may_publish)
    for article in articles:
        await save(session, article, actor, Change.updated)
