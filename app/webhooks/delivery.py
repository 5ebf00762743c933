"""One attempt to deliver a message, and what its outcome does to the delivery and the
webhook: success, a retry on the schedule, a final failure, or the webhook disabled."""

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from app.changes.models import ChangeEvent
from app.fields import rfc3339
from app.retry_after import retry_after_seconds
from app.settings import Settings

from . import addresses, signing
from .models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from .schemas import TEST_EVENT

USER_AGENT = "Newsdesk-Webhooks/1"
EXCERPT_BYTES = 1000
# Statuses worth trying again (besides 5xx): the receiver may accept the message later.
RETRYABLE = {408, 429}
LONGEST_WAIT = timedelta(hours=24)


@dataclass(frozen=True)
class Message:
    """What to send, and where."""

    url: str
    secret: str
    message_id: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    delivered: bool = False
    retryable: bool = False
    gone: bool = False
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    retry_after: timedelta | None = None
    attempted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_ms: int = 0


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


def change_payload(change: ChangeEvent, base_url: str) -> bytes:
    """A thin Standard Webhooks payload: what changed, and where to fetch it."""
    return orjson.dumps(
        {
            "type": change.event,
            "timestamp": rfc3339(change.occurred_at),
            "data": {
                "seq": change.seq,
                "article_id": str(change.article_id),
                "slug": change.slug,
                "version": change.version,
                "url": f"{base_url.rstrip('/')}/v1/articles/{change.article_id}",
            },
        }
    )


def test_payload(webhook: Webhook, at: datetime) -> bytes:
    return orjson.dumps(
        {"type": TEST_EVENT, "timestamp": rfc3339(at), "data": {"webhook_id": str(webhook.id)}}
    )


def _retry_after(response: httpx.Response) -> timedelta | None:
    seconds = retry_after_seconds(response.headers.get("retry-after"))
    return None if seconds is None else timedelta(seconds=seconds)


async def _excerpt(response: httpx.Response) -> str:
    taken = b""
    async for chunk in response.aiter_bytes():
        taken += chunk
        if len(taken) >= EXCERPT_BYTES:
            break
    return taken[:EXCERPT_BYTES].decode("utf-8", errors="replace")


async def send(client: httpx.AsyncClient, settings: Settings, message: Message) -> Outcome:
    """POST the message once, signed, to the address its URL resolves to; never raises for
    anything the receiver or the network does."""
    attempted_at = datetime.now(UTC)
    started = time.monotonic()
    outcome = await _post(client, settings, message)
    elapsed = round((time.monotonic() - started) * 1000)
    return replace(outcome, attempted_at=attempted_at, duration_ms=elapsed)


async def _post(client: httpx.AsyncClient, settings: Settings, message: Message) -> Outcome:
    timeout = settings.webhook_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            target = await addresses.resolve(
                message.url, allow_private=settings.webhooks_allow_private
            )
            timestamp = int(time.time())
            headers = {
                **target.headers,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **signing.headers(message.secret, message.message_id, timestamp, message.body),
            }
            async with client.stream(
                "POST",
                target.url,
                content=message.body,
                headers=headers,
                extensions=target.extensions,
                follow_redirects=False,
                timeout=timeout,
            ) as response:
                excerpt = await _excerpt(response)
    except addresses.RefusedUrl as refused:
        return Outcome(error=f"refused: the URL {refused}")
    except TimeoutError:
        return Outcome(retryable=True, error=f"no answer within {timeout:g} s")
    except (httpx.HTTPError, OSError) as error:
        return Outcome(retryable=True, error=f"{type(error).__name__}: {error}"[:500])
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(delivered=True, status_code=status, excerpt=excerpt)
    retryable = 300 <= status < 400 or status >= 500 or status in RETRYABLE
    return Outcome(
        status_code=status,
        excerpt=excerpt,
        retryable=retryable,
        gone=status == 410,
        error=f"answered {status}" + (" (redirects are not followed)" if status < 400 else ""),
        retry_after=_retry_after(response) if retryable else None,
    )


def _disable(webhook: Webhook, reason: str, at: datetime) -> None:
    webhook.enabled = False
    webhook.disabled_reason = reason
    webhook.disabled_at = at
    webhook.updated_at = at


def record(
    delivery: WebhookDelivery, webhook: Webhook, outcome: Outcome, settings: Settings
) -> WebhookAttempt:
    """Decide what follows an attempt, and return its entry for the delivery log. A test
    message gets one attempt and leaves the webhook's failure count alone."""
    attempt = WebhookAttempt(
        delivery_id=delivery.id,
        attempted_at=outcome.attempted_at,
        duration_ms=outcome.duration_ms,
        status_code=outcome.status_code,
        error=outcome.error,
        response_excerpt=outcome.excerpt,
    )
    delivery.attempt_count += 1
    if delivery.status is not DeliveryStatus.pending:
        return attempt  # another dispatcher finished it meanwhile (its lease had run out)
    now = datetime.now(UTC)
    counts = delivery.event != TEST_EVENT
    if outcome.delivered:
        _finish(delivery, DeliveryStatus.succeeded, now)
        if counts:
            webhook.consecutive_failures = 0
            webhook.failing_since = None
        return attempt
    if not counts:
        _finish(delivery, DeliveryStatus.failed, now)
        return attempt
    _count_failure(webhook, outcome, settings, now)
    schedule = settings.webhook_retry_schedule
    if outcome.retryable and delivery.attempt_count < len(schedule):
        wait = timedelta(seconds=schedule[delivery.attempt_count] * random.uniform(1, 1.1))  # noqa: S311
        if outcome.retry_after is not None:
            wait = max(wait, min(outcome.retry_after, LONGEST_WAIT))
        delivery.next_attempt_at = now + wait
    else:
        _finish(delivery, DeliveryStatus.failed, now)
    return attempt


def _finish(delivery: WebhookDelivery, status: DeliveryStatus, at: datetime) -> None:
    delivery.status = status
    delivery.next_attempt_at = None
    delivery.completed_at = at


def _count_failure(webhook: Webhook, outcome: Outcome, settings: Settings, now: datetime) -> None:
    webhook.consecutive_failures += 1
    webhook.failing_since = webhook.failing_since or outcome.attempted_at
    if not webhook.enabled:
        return
    if outcome.gone:
        _disable(webhook, "The receiver answered 410 Gone.", now)
    elif webhook.consecutive_failures >= settings.webhook_disable_after_failures and (
        now - webhook.failing_since
    ) >= timedelta(seconds=settings.webhook_disable_after_seconds):
        _disable(
            webhook,
            f"{webhook.consecutive_failures} failed attempts in a row since "
            f"{rfc3339(webhook.failing_since)}.",
            now,
        )
