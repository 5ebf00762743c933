"""Constrained field types shared by the input schemas of several domains."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, HttpUrl, StringConstraints

Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=1, max_length=120)
]


def _absolute_http_url(value: str) -> str:
    HttpUrl(value)  # raises a ValueError naming what is wrong
    return value


# Validated as an absolute http(s) URL but stored exactly as given.
WebUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2048),
    AfterValidator(_absolute_http_url),
]


def _rfc3339_text(value: object) -> object:
    if not isinstance(value, str | datetime):
        raise ValueError("must be an RFC 3339 date-time string, e.g. 2026-11-25T09:00:00Z")
    return value


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# An RFC 3339 time with an offset (a bare number is refused), kept in UTC.
UTCTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_to_utc)]


def rfc3339(when: datetime) -> str:
    """A time as RFC 3339 in UTC with a `Z`, as every format we serve writes it."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def text(max_length: int, min_length: int = 0) -> object:
    """A stripped string of bounded length."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)
