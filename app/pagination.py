"""Keyset pagination: opaque cursors, the list envelope and the `Link: rel="next"` header."""

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, SQLColumnExpression, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import AnySelect, read_rows
from app.errors import Invalid

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page.")
    total: int | None = Field(default=None, description="Only with `count=true`.")


def _convert(value: Any, kind: type) -> Any:
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if kind is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError("wrong type")
    return value


def encode_cursor(kind: str, values: Sequence[Any]) -> str:
    plain = [
        v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v
        for v in values
    ]
    raw = orjson.dumps([kind, *plain])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str, kind: str, types: Sequence[type], parameter: str = "cursor"
) -> list[Any]:
    """The values a cursor carries, typed, or a 422 naming the query `parameter` it came in
    when it is not one of ours for this listing and order."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(decoded, list) or len(decoded) != len(types) + 1 or decoded[0] != kind:
            raise ValueError("not a cursor of this listing")
        return [_convert(value, t) for value, t in zip(decoded[1:], types, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        raise Invalid(
            "The cursor is malformed or belongs to another listing or sort order.",
            ["query", parameter],
        ) from None


def after(
    columns: Sequence[SQLColumnExpression[Any]], values: Sequence[Any], descending: bool
) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order `columns` (all ascending or all descending),
    as a row-value comparison that an index on those columns can serve."""
    clauses = []
    for i, column in enumerate(columns):
        equal = [columns[j] == values[j] for j in range(i)]
        beyond = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


@dataclass(frozen=True)
class Keyset:
    """One way of ordering a listing: the columns, their direction, and the cursor's name."""

    name: str
    columns: Sequence[SQLColumnExpression[Any]]
    types: Sequence[type]
    descending: bool


async def fetch_page(
    session: AsyncSession,
    query: AnySelect,
    keyset: Keyset,
    *,
    cursor: str | None,
    limit: int,
    key: Callable[[Any], Sequence[Any]],
    scalars: bool = False,
    columns_only: bool = False,
) -> tuple[list[Any], str | None]:
    """One page of `query` in `keyset` order after `cursor`, and the cursor of the next page.
    `key` gives a row's values for the keyset columns. A query of plain columns
    (`columns_only`) may be read outside the session's transaction (see `db.read_rows`)."""
    if cursor is not None:
        values = decode_cursor(cursor, keyset.name, keyset.types)
        query = query.where(after(keyset.columns, values, keyset.descending))
    direction = [c.desc() if keyset.descending else c.asc() for c in keyset.columns]
    query = query.order_by(*direction).limit(limit + 1)
    if columns_only:
        rows = list(await read_rows(session, query))
    else:
        result = await session.execute(query)
        rows = list(result.scalars().all() if scalars else result.all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(keyset.name, key(rows[-1]))


async def count_rows(session: AsyncSession, query: AnySelect) -> int:
    return (
        await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1 to 100.")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]
Count = Annotated[
    bool, Query(description="Also give `total`, how many items match (one more query).")
]
