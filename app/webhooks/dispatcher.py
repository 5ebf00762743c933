"""The webhook dispatcher: turns the outbox into deliveries and sends what is due.

At least once, whatever dies when: a change and its outbox row commit together; the outbox
row is removed in the same transaction that queues its deliveries; a delivery is taken by
pushing its due time past the attempt's timeout (a lease), so if the dispatcher dies
mid-send the delivery simply falls due again. Receivers deduplicate on `webhook-id`.

Sends are kept in flight continuously, up to a total and a per-endpoint limit: a slot that
frees is filled at once, and deliveries are claimed round-robin across endpoints, so a slow
or hanging receiver holds only its own slots and never delays another's deliveries.

The leader also releases scheduled articles as they fall due (changes.service.release_due),
so their `article.published` goes out on time even if nobody reads the API.

Any number of dispatchers may run (in every `newsdesk serve` worker, on several hosts, as
`newsdesk worker`): one of them holds a lease as leader and does the work, and on
PostgreSQL rows are taken with `FOR UPDATE SKIP LOCKED`, so even two leaders at once (one
stalled past its lease) never take the same row.
"""

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
from sqlalchemy import Select, case, delete, exists, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.changes import service as changes
from app.changes.models import ChangeEvent
from app.db import take_write_lock
from app.settings import Settings

from . import delivery
from .models import DeliveryStatus, View, Webhook, WebhookDelivery, WebhookOutbox, WorkerLease

logger = logging.getLogger("newsdesk.webhooks")

LEADER_LEASE = "webhook-dispatcher"
OUTBOX_BATCH = 500
PRUNE_EVERY = timedelta(hours=1)
# Outcomes recorded at once: however many sends are in flight, the dispatcher holds at most
# this many database connections for them (the pool is shared with the API in `serve`).
RECORDERS = 2


def _subscribed(webhook: Webhook, change: ChangeEvent) -> bool:
    in_view = change.in_syndicated if webhook.view is View.syndicated else change.in_public
    return in_view and change.event in webhook.events


async def fan_out(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Queue a delivery of each outbox change for every enabled webhook subscribed to it,
    and empty those outbox rows, in one transaction. Returns how many changes it took."""
    async with sessionmaker() as session:
        if not await session.scalar(select(exists().select_from(WebhookOutbox))):
            return 0
    async with sessionmaker.begin() as session:
        await take_write_lock(session)
        taken = list(
            await session.scalars(
                select(WebhookOutbox.change_seq)
                .order_by(WebhookOutbox.change_seq)
                .limit(OUTBOX_BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        if not taken:
            return 0
        changes = await session.scalars(
            select(ChangeEvent).where(ChangeEvent.seq.in_(taken)).order_by(ChangeEvent.seq)
        )
        webhooks = list(await session.scalars(select(Webhook).where(Webhook.enabled.is_(True))))
        first_attempt = datetime.now(UTC) + timedelta(seconds=settings.webhook_retry_schedule[0])
        for change in changes:
            body = delivery.change_payload(change, settings.public_base_url).decode()
            session.add_all(
                WebhookDelivery(
                    webhook_id=webhook.id,
                    message_id=delivery.new_message_id(),
                    event=change.event,
                    change_seq=change.seq,
                    body=body,
                    status=DeliveryStatus.pending,
                    next_attempt_at=first_attempt,
                    created_at=datetime.now(UTC),
                )
                for webhook in webhooks
                if _subscribed(webhook, change)
            )
        await session.execute(delete(WebhookOutbox).where(WebhookOutbox.change_seq.in_(taken)))
        return len(taken)


@dataclass(frozen=True)
class Job:
    delivery_id: uuid.UUID
    webhook_id: uuid.UUID
    message: delivery.Message


def _due(now: datetime) -> Select[WebhookDelivery, Webhook]:
    return (
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.pending,
            WebhookDelivery.next_attempt_at <= now,
            Webhook.enabled.is_(True),
        )
    )


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    limit: int,
    sending: Mapping[uuid.UUID, int] | None = None,
) -> list[Job]:
    """Take up to `limit` due deliveries, each leased until its attempt must be over.

    Fairly: every endpoint's earliest due delivery comes before any endpoint's second, and
    no endpoint gets more than its room (webhook_concurrency_per_endpoint, less the sends
    to it already in flight, `sending`), so one endpoint's backlog cannot crowd out another."""
    sending = sending or {}
    per_endpoint = settings.webhook_concurrency_per_endpoint
    full = [webhook_id for webhook_id, count in sending.items() if count >= per_endpoint]
    now = datetime.now(UTC)
    due = _due(now)
    if full:
        due = due.where(WebhookDelivery.webhook_id.not_in(full))
    async with sessionmaker() as session:
        if not await session.scalar(select(due.exists())):
            return []
    lease = timedelta(seconds=settings.webhook_timeout_seconds + 5)
    async with sessionmaker.begin() as session:
        await take_write_lock(session)
        # Candidates first (PostgreSQL allows no FOR UPDATE beside a window function), then
        # each is locked, skipping any another dispatcher holds, and checked still due.
        ranked = due.with_only_columns(
            WebhookDelivery.id,
            WebhookDelivery.webhook_id,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.change_seq,
            func.row_number()
            .over(
                partition_by=WebhookDelivery.webhook_id,
                order_by=(WebhookDelivery.next_attempt_at, WebhookDelivery.change_seq),
            )
            .label("turn"),
        ).subquery()
        room = {webhook_id: per_endpoint - count for webhook_id, count in sending.items()}
        turns = (
            ranked.c.turn <= case(room, value=ranked.c.webhook_id, else_=per_endpoint)
            if room
            else ranked.c.turn <= per_endpoint
        )
        candidates = list(
            await session.scalars(
                select(ranked.c.id)
                .where(turns)
                .order_by(ranked.c.turn, ranked.c.next_attempt_at, ranked.c.change_seq)
                .limit(limit)
            )
        )
        if not candidates:
            return []
        rows = await session.execute(
            _due(now)
            .where(WebhookDelivery.id.in_(candidates))
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
        jobs = []
        for queued, webhook in rows:
            queued.next_attempt_at = now + lease
            message = delivery.Message(
                webhook.url, webhook.secret, queued.message_id, queued.body.encode()
            )
            jobs.append(Job(queued.id, webhook.id, message))
        return jobs


async def settle(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    job: Job,
    outcome: delivery.Outcome,
) -> None:
    """Record an attempt's outcome in a transaction of its own."""
    async with sessionmaker.begin() as session:
        await take_write_lock(session)
        queued = await session.get(WebhookDelivery, job.delivery_id, with_for_update=True)
        webhook = await session.get(Webhook, job.webhook_id, with_for_update=True)
        if queued is None or webhook is None:
            return  # the webhook was deleted while the message was in flight
        session.add(delivery.record(queued, webhook, outcome, settings))


async def prune(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Drop finished deliveries older than the delivery log keeps."""
    cutoff = datetime.now(UTC) - timedelta(days=settings.webhook_log_days)
    async with sessionmaker.begin() as session:
        await take_write_lock(session)
        await session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.status != DeliveryStatus.pending,
                WebhookDelivery.completed_at < cutoff,
            )
        )


async def hold_lease(
    sessionmaker: async_sessionmaker[AsyncSession], name: str, holder: str, seconds: float
) -> bool:
    """Take or renew the named lease for `holder`; False while someone else holds it."""
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        current = await session.get(WorkerLease, name)
        if current and current.holder != holder and current.expires_at > now:
            return False
    try:
        async with sessionmaker.begin() as session:
            await take_write_lock(session)
            lease = await session.get(WorkerLease, name, with_for_update=True)
            if lease is None:
                lease = WorkerLease(name=name, holder=holder, expires_at=now)
                session.add(lease)
            elif lease.holder != holder and lease.expires_at > now:
                return False
            lease.holder = holder
            lease.expires_at = now + timedelta(seconds=seconds)
    except IntegrityError:
        return False  # another process created the lease at the same moment
    return True


async def release_lease(
    sessionmaker: async_sessionmaker[AsyncSession], name: str, holder: str
) -> None:
    async with sessionmaker.begin() as session:
        await take_write_lock(session)
        lease = await session.get(WorkerLease, name, with_for_update=True)
        if lease is not None and lease.holder == holder:
            await session.delete(lease)


class Dispatcher:
    """Runs until stopped: while it leads, it releases scheduled articles as they fall due,
    fans out the outbox and keeps due sends in flight; otherwise it stands by, ready to take
    over when the leader's lease lapses."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stopping = asyncio.Event()
        # Set when there may be something to do at once: a send finished, or stop().
        self._wake = asyncio.Event()
        self._leading_until = datetime.min.replace(tzinfo=UTC)
        self._pruned_at = datetime.min.replace(tzinfo=UTC)
        self._release_check_at = datetime.min.replace(tzinfo=UTC)
        self._sends: set[asyncio.Task[None]] = set()
        self._sending: Counter[uuid.UUID] = Counter()  # sends in flight, per webhook
        self._recording = asyncio.Semaphore(RECORDERS)

    def stop(self) -> None:
        """Finish the sends in flight, then return from `run`."""
        self._stopping.set()
        self._wake.set()

    async def lead(self) -> bool:
        """Whether this dispatcher leads, renewing its lease once a third of it has run."""
        seconds = self.settings.webhook_leader_lease_seconds
        now = datetime.now(UTC)
        if self._leading_until - now > timedelta(seconds=seconds * 2 / 3):
            return True
        if await hold_lease(self.sessionmaker, LEADER_LEASE, self.holder, seconds):
            self._leading_until = now + timedelta(seconds=seconds)
            return True
        return False

    async def step(self, client: httpx.AsyncClient) -> bool:
        """Start what there is room for, without waiting for sends to finish; True if it
        found work (so the next step should follow at once)."""
        released = await self._release_scheduled()
        fanned = await fan_out(self.sessionmaker, self.settings)
        room = self.settings.webhook_concurrency - len(self._sends)
        jobs = await claim(self.sessionmaker, self.settings, room, self._sending) if room else []
        for job in jobs:
            self._start(client, job)
        now = datetime.now(UTC)
        if now - self._pruned_at > PRUNE_EVERY:
            await prune(self.sessionmaker, self.settings)
            self._pruned_at = now
        return bool(released or fanned or jobs)

    async def run_once(self, client: httpx.AsyncClient) -> bool:
        """One step, then wait for its sends (`run` instead keeps sends in flight across
        steps); True if there was work."""
        busy = await self.step(client)
        await self.finish_sends()
        return busy

    async def finish_sends(self) -> None:
        """Wait until no send is in flight."""
        while self._sends:
            await asyncio.wait(set(self._sends))

    async def _release_scheduled(self) -> int:
        """Release scheduled articles that have fallen due: look at most once per poll
        interval, and at the moment the next one falls due when that is sooner."""
        now = datetime.now(UTC)
        if now < self._release_check_at:
            return 0
        poll = timedelta(seconds=self.settings.webhook_poll_seconds)
        self._release_check_at = now + poll  # also if the database fails us now
        released = 0
        upcoming = await changes.next_due(self.sessionmaker)
        if upcoming is not None and upcoming <= now:
            released = await changes.release_due(self.sessionmaker)
            upcoming = await changes.next_due(self.sessionmaker)
        if upcoming is not None:
            self._release_check_at = min(self._release_check_at, upcoming)
        return released

    def _start(self, client: httpx.AsyncClient, job: Job) -> None:
        self._sending[job.webhook_id] += 1
        task = asyncio.create_task(self._attempt(client, job))
        self._sends.add(task)
        task.add_done_callback(partial(self._finished, job))

    def _finished(self, job: Job, task: asyncio.Task[None]) -> None:
        self._sends.discard(task)
        self._sending[job.webhook_id] -= 1
        if not self._sending[job.webhook_id]:
            del self._sending[job.webhook_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("send of %s failed", job, exc_info=task.exception())
        self._wake.set()

    async def _attempt(self, client: httpx.AsyncClient, job: Job) -> None:
        outcome = await delivery.send(client, self.settings, job.message)
        try:
            async with self._recording:
                await settle(self.sessionmaker, self.settings, job, outcome)
        except (SQLAlchemyError, OSError):
            # Unrecorded, the delivery falls due again when its lease runs out.
            logger.exception("could not record delivery %s; it will be resent", job)

    async def _pause(self) -> None:
        """Wait for a free slot, a stop, the next scheduled release or the poll interval."""
        seconds = self.settings.webhook_poll_seconds
        now = datetime.now(UTC)
        if now < self._release_check_at:
            seconds = min(seconds, (self._release_check_at - now).total_seconds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def run(self) -> None:
        async with http_client() as client:
            try:
                while not self._stopping.is_set():
                    self._wake.clear()
                    try:
                        busy = await self.lead() and await self.step(client)
                    except (SQLAlchemyError, OSError):
                        # The database is away: keep the process up and try again shortly.
                        logger.exception("webhook dispatch failed; retrying")
                        busy = False
                    if not busy:
                        await self._pause()
                # Finish the sends in flight, renewing the lead meanwhile.
                while self._sends:
                    await asyncio.wait(set(self._sends), timeout=self.settings.webhook_poll_seconds)
                    with contextlib.suppress(SQLAlchemyError, OSError):
                        await self.lead()
            finally:
                for task in self._sends:
                    task.cancel()  # only when `run` itself was cancelled
        try:
            await release_lease(self.sessionmaker, LEADER_LEASE, self.holder)
        except (SQLAlchemyError, OSError):
            logger.exception("could not release the dispatcher lease; it will lapse")


def http_client() -> httpx.AsyncClient:
    # Proxies from the environment are ignored: requests go to the address that was checked.
    return httpx.AsyncClient(trust_env=False, follow_redirects=False)
