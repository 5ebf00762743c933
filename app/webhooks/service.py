"""Webhook subscriptions, their delivery log, and test messages."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from app.db import take_write_lock
from app.errors import Invalid, NotFound
from app.pagination import Keyset, fetch_page
from app.settings import Settings

from . import addresses, delivery, signing
from .dispatcher import http_client
from .models import DeliveryStatus, Webhook, WebhookDelivery
from .schemas import TEST_EVENT, WebhookCreate, WebhookUpdate

BY_CREATION = Keyset("webhooks", [Webhook.created_at, Webhook.id], [datetime, uuid.UUID], False)
NEWEST_DELIVERIES = Keyset(
    "deliveries",
    [WebhookDelivery.created_at, WebhookDelivery.id],
    [datetime, uuid.UUID],
    True,
)
NOT_NULL = ("url", "events", "view", "enabled")


class WebhookNotFound(NotFound):
    def __init__(self, webhook_id: uuid.UUID | str) -> None:
        super().__init__(f"Webhook {webhook_id} does not exist.")


def _check_url(url: str, settings: Settings) -> None:
    try:
        addresses.check_url(url, allow_private=settings.webhooks_allow_private)
    except addresses.RefusedUrl as refused:
        detail = f"The URL {refused}."
        if "private" in str(refused):
            detail += " (NEWSDESK_WEBHOOKS_ALLOW_PRIVATE=true allows such receivers.)"
        raise Invalid(detail, ["body", "url"], "url_refused") from None


async def create(session: AsyncSession, data: WebhookCreate, settings: Settings) -> Webhook:
    """A new subscription with its own signing secret (returned once, by the router)."""
    _check_url(data.url, settings)
    now = datetime.now(UTC)
    webhook = Webhook(
        url=data.url,
        events=data.events,
        view=data.view,
        description=data.description,
        secret=signing.new_secret(),
        enabled=True,
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    session.add(webhook)
    await session.flush()
    return webhook


async def get(session: AsyncSession, webhook_id: uuid.UUID, *, lock: bool = False) -> Webhook:
    webhook = await session.get(Webhook, webhook_id, with_for_update=lock)
    if webhook is None:
        raise WebhookNotFound(webhook_id)
    return webhook


async def list_webhooks(
    session: AsyncSession, limit: int, cursor: str | None
) -> tuple[list[Webhook], str | None]:
    return await fetch_page(
        session,
        select(Webhook),
        BY_CREATION,
        cursor=cursor,
        limit=limit,
        scalars=True,
        key=lambda webhook: [webhook.created_at, webhook.id],
    )


async def update(
    session: AsyncSession, webhook_id: uuid.UUID, data: WebhookUpdate, settings: Settings
) -> Webhook:
    """Apply a merge patch. Re-enabling clears the failure run, so deliveries that were
    waiting go out again at their due time."""
    changes = data.model_dump(exclude_unset=True)
    for name in NOT_NULL:
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be removed (null).", ["body", name], "not_null")
    webhook = await get(session, webhook_id, lock=True)
    if "url" in changes:
        _check_url(changes["url"], settings)
    now = datetime.now(UTC)
    enabled = changes.pop("enabled", webhook.enabled)
    if "description" in changes:
        changes["description"] = changes["description"] or ""
    for name, value in changes.items():
        setattr(webhook, name, value)
    if enabled and not webhook.enabled:
        webhook.enabled = True
        webhook.disabled_reason = webhook.disabled_at = webhook.failing_since = None
        webhook.consecutive_failures = 0
    elif not enabled and webhook.enabled:
        webhook.enabled = False
        webhook.disabled_reason = "Disabled on request."
        webhook.disabled_at = now
    webhook.updated_at = now
    await session.flush()
    return webhook


async def delete(session: AsyncSession, webhook_id: uuid.UUID) -> None:
    """Remove the subscription with its queue and delivery log."""
    await session.delete(await get(session, webhook_id))
    await session.flush()


async def list_deliveries(
    session: AsyncSession,
    webhook_id: uuid.UUID,
    status: DeliveryStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[WebhookDelivery], str | None]:
    """The delivery log, newest first, each delivery with its attempts."""
    await get(session, webhook_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .options(selectinload(WebhookDelivery.attempts))
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return await fetch_page(
        session,
        query,
        NEWEST_DELIVERIES,
        cursor=cursor,
        limit=limit,
        scalars=True,
        key=lambda sent: [sent.created_at, sent.id],
    )


async def send_test(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, webhook_id: uuid.UUID
) -> WebhookDelivery:
    """Send a `webhook.test` message now, once, and log it. It goes to disabled webhooks
    too (to check a receiver before re-enabling it) and counts toward nothing. No
    transaction is open while the receiver answers."""
    async with sessionmaker() as session:
        webhook = await get(session, webhook_id)
    now = datetime.now(UTC)
    test = WebhookDelivery(
        id=uuid.uuid4(),
        webhook_id=webhook.id,
        message_id=delivery.new_message_id(),
        event=TEST_EVENT,
        body=delivery.test_payload(webhook, now).decode(),
        status=DeliveryStatus.pending,
        attempt_count=0,
        created_at=now,
    )
    message = delivery.Message(webhook.url, webhook.secret, test.message_id, test.body.encode())
    async with http_client() as client:
        outcome = await delivery.send(client, settings, message)
    async with sessionmaker.begin() as session:
        await take_write_lock(session)
        webhook = await get(session, webhook_id)  # still there?
        session.add(test)
        await session.flush()
        session.add(delivery.record(test, webhook, outcome, settings))
    async with sessionmaker() as session:
        return await _with_attempts(session, test.id)


async def _with_attempts(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery:
    sent = await session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .options(selectinload(WebhookDelivery.attempts))
    )
    assert sent is not None
    return sent
