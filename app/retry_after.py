"""A server's `Retry-After`, read by the clients in this project (webhook deliveries and
`newsdesk post`); the standard library only, so that `newsdesk post` starts quickly."""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` value (seconds, or an HTTP date) as seconds from now; None if absent
    or unreadable."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
