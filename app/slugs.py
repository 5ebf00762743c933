"""Slugs derived from a name or headline, made free with a numeric suffix: one rule for
every resource that has a slug (articles, authors)."""

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db import dialect_name

SLUG_MAX = 120


def slugify(text: str, fallback: str = "article") -> str:
    """`text` as `[a-z0-9-]`, short enough to take a `-NNN` suffix (`fallback` when nothing
    of it is left, e.g. a headline in a script without an ASCII form)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > SLUG_MAX - 4:
        slug = slug[: SLUG_MAX - 4].rsplit("-", 1)[0]
    return slug or fallback


async def free_slug(
    session: AsyncSession, base: str, taken_in: Sequence[InstrumentedAttribute[Any]]
) -> str:
    """`base`, or `base-2`, `base-3`… : the first that none of the `taken_in` columns holds."""
    if dialect_name(session) == "postgresql":
        # Writers deriving a slug from the same text take turns until commit, so two of
        # them never pick the same free one (SQLite writers are serialised anyway).
        table = taken_in[0].class_.__tablename__
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"{table}:{base}"))))
    taken: set[str] = set()
    for column in taken_in:
        taken.update(
            await session.scalars(
                select(column).where(
                    (column == base) | column.startswith(base + "-", autoescape=True)
                )
            )
        )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
