import uuid
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.articles import service as articles
from app.articles.body import plain_text
from app.articles.models import Article
from app.articles.schemas import representation
from app.articles.service import Change
from app.db import AnySelect
from app.errors import NotFound
from app.pagination import Keyset, count_rows, fetch_page
from app.sources.service import SourceResolver

from . import rows
from .models import Attribution, Claim, ClaimKind, Verification
from .schemas import ClaimPatch, ClaimWrite

CLAIM_LOAD = (selectinload(Claim.attributions).selectinload(Attribution.source),)
BY_CREATION = Keyset(
    "claims:-created_at", [Claim.created_at, Claim.id], [datetime, uuid.UUID], True
)
BY_POSITION = Keyset("claims:position", [Claim.position, Claim.id], [int, uuid.UUID], False)


class ClaimNotFound(NotFound):
    def __init__(self, claim_id: uuid.UUID | str) -> None:
        super().__init__(f"Claim {claim_id} does not exist.")


def _visible_to(query: AnySelect, sees_drafts: bool) -> AnySelect:
    query = query.join(Article, Article.id == Claim.article_id)
    if sees_drafts:
        return query.where(Article.deleted_at.is_(None))
    return query.where(Article.public_at(datetime.now(UTC)))


async def get(session: AsyncSession, claim_id: uuid.UUID, sees_drafts: bool) -> Claim:
    query = _visible_to(select(Claim), sees_drafts).where(Claim.id == claim_id)
    claim = await session.scalar(query.options(*CLAIM_LOAD))
    if claim is None:
        raise ClaimNotFound(claim_id)
    return claim


async def list_claims(
    session: AsyncSession,
    *,
    sees_drafts: bool,
    article_id: uuid.UUID | None = None,
    source_id: uuid.UUID | None = None,
    verification: Verification | None = None,
    kind: ClaimKind | None = None,
    q: str | None = None,
    limit: int,
    cursor: str | None,
    count: bool = False,
) -> tuple[list[Claim], str | None, int | None]:
    """Claims of articles the caller can see: newest first, or in reading order when listing
    one article's claims."""
    query = _visible_to(select(Claim), sees_drafts)
    if article_id is not None:
        query = query.where(Claim.article_id == article_id)
    if source_id is not None:
        query = query.where(
            Claim.id.in_(select(Attribution.claim_id).where(Attribution.source_id == source_id))
        )
    if verification is not None:
        query = query.where(Claim.verification == verification)
    if kind is not None:
        query = query.where(Claim.kind == kind)
    if q:
        query = query.where(
            or_(
                Claim.statement.icontains(q, autoescape=True),
                Claim.quote.icontains(q, autoescape=True),
            )
        )
    total = await count_rows(session, query) if count else None
    keyset = BY_POSITION if article_id is not None else BY_CREATION
    found, next_cursor = await fetch_page(
        session,
        query.options(*CLAIM_LOAD),
        keyset,
        cursor=cursor,
        limit=limit,
        scalars=True,
        key=lambda c: [c.position, c.id] if keyset is BY_POSITION else [c.created_at, c.id],
    )
    return found, next_cursor, total


# Writes to one claim of an article: each saves the article (a new version, its revision
# and its change events), so a claim edit is an article edit to readers and partners.


async def add_claim(session: AsyncSession, article: Article, data: ClaimWrite, actor: str) -> Claim:
    rows.check_room_for_one_more(article.claims)
    position = max((c.position for c in article.claims), default=-1) + 1
    claim = await rows.build(
        SourceResolver(session),
        data,
        position=position,
        text=plain_text(article.body),
        loc=["body"],
    )
    article.claims.append(claim)
    await articles.save(session, article, actor, Change.claim_added)
    return claim


async def claim_in_article(session: AsyncSession, claim_id: uuid.UUID) -> tuple[Article, Claim]:
    """A claim for editing, with its article loaded whole and locked (a writer's view)."""
    article_id = await session.scalar(
        select(Claim.article_id)
        .join(Article, Article.id == Claim.article_id)
        .where(Claim.id == claim_id, Article.deleted_at.is_(None))
    )
    if article_id is None:
        raise ClaimNotFound(claim_id)
    article = await articles.get(session, article_id, sees_drafts=True, for_update=True)
    return article, next(c for c in article.claims if c.id == claim_id)


async def edit_claim(
    session: AsyncSession, article: Article, claim: Claim, data: ClaimPatch, actor: str
) -> Claim:
    before = representation(article)
    await rows.apply_patch(session, claim, data, plain_text(article.body))
    await articles.save(session, article, actor, Change.claim_updated, unless_same_as=before)
    return claim


async def remove_claim(session: AsyncSession, article: Article, claim: Claim, actor: str) -> None:
    article.claims.remove(claim)
    await articles.save(session, article, actor, Change.claim_removed)
