"""What an attempt's outcome does to its delivery and webhook, decided without the network."""

import uuid
from datetime import UTC, datetime, timedelta

from app.settings import Settings
from app.webhooks.delivery import Outcome, record
from app.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery


def _pair() -> tuple[WebhookDelivery, Webhook]:
    webhook = Webhook(id=uuid.uuid4(), enabled=True, consecutive_failures=0)
    delivery = WebhookDelivery(
        id=uuid.uuid4(),
        webhook_id=webhook.id,
        event="article.published",
        status=DeliveryStatus.pending,
        attempt_count=0,
    )
    return delivery, webhook


def test_retries_wait_their_turn_plus_up_to_ten_percent_jitter():
    settings = Settings(_env_file=None, webhook_retry_schedule=[0, 100, 100])
    waits = set()
    for _ in range(30):
        delivery, webhook = _pair()
        before = datetime.now(UTC)
        record(delivery, webhook, Outcome(retryable=True, status_code=503), settings)
        assert delivery.status is DeliveryStatus.pending
        wait = delivery.next_attempt_at - before
        assert timedelta(seconds=100) <= wait <= timedelta(seconds=110.5)
        waits.add(round(wait.total_seconds(), 1))
    assert len(waits) > 5, "the waits are spread, not all the same"


def test_the_attempt_is_logged_with_what_came_back():
    delivery, webhook = _pair()
    outcome = Outcome(status_code=400, error="answered 400", excerpt="bad", duration_ms=12)
    attempt = record(delivery, webhook, outcome, Settings(_env_file=None))
    assert (attempt.delivery_id, attempt.status_code, attempt.error) == (
        delivery.id,
        400,
        "answered 400",
    )
    assert (attempt.response_excerpt, attempt.duration_ms) == ("bad", 12)
    assert delivery.status is DeliveryStatus.failed
    assert delivery.attempt_count == 1


def test_a_run_of_failures_disables_only_once_it_has_lasted():
    settings = Settings(
        _env_file=None, webhook_disable_after_failures=2, webhook_disable_after_seconds=3600
    )
    delivery, webhook = _pair()
    for _ in range(3):
        record(delivery, webhook, Outcome(retryable=True, status_code=500), settings)
    assert webhook.enabled, "three quick failures are not yet a run of a day"
    webhook.failing_since = datetime.now(UTC) - timedelta(hours=2)
    record(delivery, webhook, Outcome(retryable=True, status_code=500), settings)
    assert not webhook.enabled
    assert webhook.disabled_reason.startswith("4 failed attempts in a row since ")


def test_a_late_outcome_does_not_reopen_a_finished_delivery():
    """A dispatcher that outlived its lease reports after another one finished the job."""
    delivery, webhook = _pair()
    delivery.status = DeliveryStatus.succeeded
    record(delivery, webhook, Outcome(retryable=True, status_code=500), Settings(_env_file=None))
    assert delivery.status is DeliveryStatus.succeeded
    assert webhook.consecutive_failures == 0
