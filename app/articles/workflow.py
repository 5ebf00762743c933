"""The editorial workflow: publish (now or scheduled), unpublish, retract, correct, delete,
and the purge that finally removes deleted articles."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete as sql_delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict

from .models import Article, ArticleStatus, Correction, is_live, went_live
from .service import Change, save


class WorkflowConflict(Conflict):
    """The article is not in a state that allows this step."""


async def publish(
    session: AsyncSession, article: Article, actor: str, at: datetime | None = None
) -> Article:
    """Make the article public at `at`: now by default; a future time schedules it, and it
    becomes visible at that moment with nothing having to run."""
    if article.status is ArticleStatus.retracted:
        raise WorkflowConflict("A retracted article cannot be published again.")
    if article.status is ArticleStatus.published and at is None:
        raise WorkflowConflict(
            "The article is already published; give published_at to move its publication time."
        )
    now = datetime.now(UTC)
    at = at or now
    article.status = ArticleStatus.published
    article.published_at = at
    if not went_live(article, now):
        # Until it has really gone live, the first publication is the one now planned.
        article.first_published_at = at
    return await save(session, article, actor, Change.published)


async def unpublish(session: AsyncSession, article: Article, actor: str) -> Article:
    """Back to draft: invisible to readers again. `published_at` stays as it was."""
    if article.status is not ArticleStatus.published:
        raise WorkflowConflict(
            f"Only published articles can be unpublished; this one is {article.status.value}."
        )
    article.status = ArticleStatus.draft
    if not went_live(article, datetime.now(UTC)):
        article.first_published_at = None  # a schedule called off: it never went live
    return await save(session, article, actor, Change.unpublished)


async def retract(session: AsyncSession, article: Article, text: str, actor: str) -> Article:
    """Withdraw a published story: it stays readable, with its body, under the notice."""
    now = datetime.now(UTC)
    if not is_live(article, now):
        raise WorkflowConflict(
            "Only an article that readers can see can be retracted; "
            "unpublish a draft or scheduled one instead."
        )
    article.status = ArticleStatus.retracted
    article.retraction_text = text
    article.retracted_at = now
    return await save(session, article, actor, Change.retracted)


async def correct(session: AsyncSession, article: Article, text: str, actor: str) -> Article:
    """Append a public correction note."""
    if not went_live(article, datetime.now(UTC)):
        raise WorkflowConflict(
            "Corrections are public notes on articles readers have seen; edit this one instead."
        )
    article.correction_rows.append(Correction(text=text, created_at=datetime.now(UTC)))
    return await save(session, article, actor, Change.corrected)


async def delete(session: AsyncSession, article: Article, actor: str) -> None:
    """A tombstone: the article answers 410 from now on and its slug stays taken. Nothing is
    removed until `purge`."""
    article.deleted_at = datetime.now(UTC)
    await save(session, article, actor, Change.deleted)


async def purge(session: AsyncSession, older_than: timedelta) -> int:
    """Physically remove articles deleted more than `older_than` ago, with their claims and
    history. Returns how many went."""
    cutoff = datetime.now(UTC) - older_than
    result = await session.execute(
        sql_delete(Article).where(Article.deleted_at.is_not(None), Article.deleted_at < cutoff)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
