"""The changes feed: every change to public content, in commit order, gap-free.

Writers record events at the end of their transaction while holding one lock for the
event log (an advisory transaction lock on PostgreSQL; SQLite writes are serialised
anyway), so sequence numbers commit in order and a reader polling `seq > cursor` can never
skip an event that commits later with a lower number.

Each event is worked out from what the log last said about the article: published when it
becomes visible, updated while it stays visible, retracted when it turns retracted,
unpublished or deleted when it leaves the view.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.articles.models import Article, ArticleStatus, is_public, is_scheduled
from app.db import dialect_name, take_write_lock
from app.pagination import Keyset, decode_cursor, encode_cursor
from app.webhooks.models import WebhookOutbox

from .models import ChangeEvent, ScheduledChange

EVENT_LOG_LOCK = 0x6E657773  # "news"
LEAVING = {"article.unpublished", "article.deleted"}
# Sequence numbers are 64-bit: a longer number is not one of ours.
MAX_SEQ_DIGITS = 18
BY_SEQ = Keyset("changes", [ChangeEvent.seq], [int], False)


async def _lock_log(session: AsyncSession) -> None:
    if dialect_name(session) == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(EVENT_LOG_LOCK)))


async def _was_visible(
    session: AsyncSession, article_id: uuid.UUID, view: Any
) -> tuple[bool, str | None]:
    """Whether the log last left the article in this view, and its last event there."""
    last = await session.scalar(
        select(ChangeEvent.event)
        .where(ChangeEvent.article_id == article_id, view.is_(True))
        .order_by(ChangeEvent.seq.desc())
        .limit(1)
    )
    return (last is not None and last not in LEAVING), last


def _event(before: tuple[bool, str | None], visible_now: bool, article: Article) -> str | None:
    was_visible, last = before
    if not was_visible:
        return "article.published" if visible_now else None
    if not visible_now:
        return "article.deleted" if article.deleted_at is not None else "article.unpublished"
    if article.status is ArticleStatus.retracted and last != "article.retracted":
        return "article.retracted"
    return "article.updated"


async def record(session: AsyncSession, article: Article, at: datetime | None = None) -> None:
    """Record what this change means for the public and the syndicated view, and keep the
    article's pending schedule, if any, in step. Call it last in the writing transaction."""
    now = at or datetime.now(UTC)
    public_now = is_public(article, now)
    syndicated_now = public_now and article.syndication_allowed
    public = _event(
        await _was_visible(session, article.id, ChangeEvent.in_public), public_now, article
    )
    syndicated = _event(
        await _was_visible(session, article.id, ChangeEvent.in_syndicated),
        syndicated_now,
        article,
    )
    scheduled = article.deleted_at is None and is_scheduled(article, now)
    await session.execute(delete(ScheduledChange).where(ScheduledChange.article_id == article.id))
    if scheduled:
        assert article.published_at is not None
        session.add(ScheduledChange(article_id=article.id, due_at=article.published_at))
    if public is None and syndicated is None:
        return
    await _lock_log(session)
    rows = [(public, True, public == syndicated)]
    if syndicated is not None and syndicated != public:
        rows.append((syndicated, False, True))
    recorded = [
        ChangeEvent(
            event=event,
            article_id=article.id,
            slug=article.slug,
            version=article.version,
            occurred_at=now,
            in_public=in_public,
            in_syndicated=in_syndicated,
        )
        for event, in_public, in_syndicated in rows
        if event is not None
    ]
    session.add_all(recorded)
    await session.flush()
    # The webhooks' outbox, in the same transaction: the change and its notice commit together.
    session.add_all(WebhookOutbox(change_seq=change.seq) for change in recorded)
    await session.flush()


async def next_due(sessionmaker: async_sessionmaker[AsyncSession]) -> datetime | None:
    """When the earliest scheduled article falls due (perhaps already), if any is waiting."""
    async with sessionmaker() as session:
        return await session.scalar(select(func.min(ScheduledChange.due_at)))


async def release_due(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Record scheduled articles whose time has come as published, in a write transaction
    of its own. Returns how many. The webhook dispatcher's leader calls it as each article
    falls due, and every poll of the changes feed too, so whichever comes first releases it."""
    now = datetime.now(UTC)
    earliest = await next_due(sessionmaker)
    if earliest is None or earliest > now:
        return 0
    pending = select(ScheduledChange).where(ScheduledChange.due_at <= now)
    async with sessionmaker.begin() as session:
        await take_write_lock(session)
        await _lock_log(session)  # a concurrent release then finds nothing left
        due = list(await session.scalars(pending.order_by(ScheduledChange.due_at)))
        for scheduled in due:
            article = await session.get(Article, scheduled.article_id)
            await session.delete(scheduled)
            if article is not None:
                await record(session, article, at=scheduled.due_at)
        return len(due)


def position(raw: str | None, parameter: str) -> int:
    """Where a poll resumes: after the event whose `seq` a cursor (or a plain sequence
    number, such as a webhook's `data.seq`) names; 0 from the start. A malformed value is a
    422 naming `parameter`, the query parameter it came in."""
    if raw is None:
        return 0
    if raw.isascii() and raw.isdigit() and len(raw) <= MAX_SEQ_DIGITS:
        return int(raw)
    (seq,) = decode_cursor(raw, BY_SEQ.name, BY_SEQ.types, parameter)
    return int(seq)


def cursor_at(seq: int) -> str:
    return encode_cursor(BY_SEQ.name, [seq])


async def list_changes(
    session: AsyncSession, *, syndicated: bool, after: int, limit: int
) -> tuple[list[ChangeEvent], str, bool]:
    """Events after the one numbered `after`, oldest first; the cursor to poll from next
    (also when there is nothing new); and whether more events are there already."""
    view = ChangeEvent.in_syndicated if syndicated else ChangeEvent.in_public
    events = list(
        await session.scalars(
            select(ChangeEvent)
            .where(view.is_(True), ChangeEvent.seq > after)
            .order_by(ChangeEvent.seq)
            .limit(limit + 1)
        )
    )
    more = len(events) > limit
    events = events[:limit]
    return events, cursor_at(events[-1].seq if events else after), more
