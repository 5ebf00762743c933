"""The webhook settings as operators give them: environment variables."""

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_the_retry_schedule_is_read_from_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("NEWSDESK_WEBHOOK_RETRY_SCHEDULE", "0, 10,600")
    assert Settings(_env_file=None).webhook_retry_schedule == [0, 10, 600]


def test_the_default_schedule_is_the_standard_webhooks_one():
    schedule = Settings(_env_file=None).webhook_retry_schedule
    assert schedule == [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]


@pytest.mark.parametrize("schedule", ["", "0,-5"])
def test_a_schedule_without_attempts_or_with_negative_waits_is_refused(monkeypatch, schedule):
    monkeypatch.setenv("NEWSDESK_WEBHOOK_RETRY_SCHEDULE", schedule)
    with pytest.raises(ValidationError, match="webhook_retry_schedule"):
        Settings(_env_file=None)


@pytest.mark.parametrize("name", ["WEBHOOK_CONCURRENCY", "WEBHOOK_CONCURRENCY_PER_ENDPOINT"])
def test_concurrency_limits_must_allow_a_send(monkeypatch, name):
    monkeypatch.setenv(f"NEWSDESK_{name}", "0")
    with pytest.raises(ValidationError, match=name.lower()):
        Settings(_env_file=None)
