"""Constrained field types shared by the input schemas of several domains."""

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, HttpUrl, StringConstraints


def _without_nul(value: str) -> str:
    # PostgreSQL cannot store U+0000 in text (SQLite can): refused alike on both.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


# Any string we store: whatever else it may hold, never a NUL.
NO_NUL = AfterValidator(_without_nul)


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
    NO_NUL,
]


def _rfc3339_text(value: object) -> object:
    if not isinstance(value, str | datetime):
        raise ValueError("must be an RFC 3339 date-time string, e.g. 2026-11-25T09:00:00Z")
    return value


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# An RFC 3339 time with an offset (a bare number is refused), kept in UTC.
UTCTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_to_utc)]


def _date_as_midnight(value: object) -> object:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return f"{value.strip()}T00:00:00Z"
    return value


# A filter's time: RFC 3339 with an offset, or a date alone, which means its midnight UTC.
TimeOrDate = Annotated[AwareDatetime, BeforeValidator(_date_as_midnight), AfterValidator(_to_utc)]


def rfc3339(when: datetime) -> str:
    """A time as RFC 3339 in UTC with a `Z`, as every format we serve writes it."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Text(GroupedMetadata):
    def __init__(self, max_length: int, min_length: int) -> None:
        self.max_length = max_length
        self.min_length = min_length

    def __iter__(self) -> Iterator[Any]:
        yield StringConstraints(
            strip_whitespace=True, min_length=self.min_length, max_length=self.max_length
        )
        yield NO_NUL


def text(max_length: int, min_length: int = 0) -> object:
    """A stripped string of bounded length, without NUL characters."""
    return _Text(max_length, min_length)


# An id in a path: opaque to clients, so one that is not even well formed is simply not
# there (404), like any other unknown id, rather than a validation error.
OpaqueId = Annotated[
    str,
    Path(description="The resource's id, as the API gave it.", examples=[str(uuid.UUID(int=1))]),
]


def parse_id(value: str, not_found: Callable[[str], Exception]) -> uuid.UUID:
    """The UUID an `OpaqueId` holds, or `not_found(value)` raised when it holds none."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found(value) from None
