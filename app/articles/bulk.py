"""Bulk upsert: NDJSON, one article a line, each line in its own transaction.

The body is spooled to a temporary file as it arrives (at most 1 MiB of it in memory) while
its digest is taken for Idempotency-Key; the lines are then read back one at a time.
"""

import hashlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import IO, Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import take_write_lock
from app.errors import AppError, field_message

from . import service
from .models import Article
from .schemas import ArticleWrite

SPOOL_IN_MEMORY = 1024 * 1024


class Spooled:
    """A request body on disk (or in memory while small) and its SHA-256."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        self.digest = hashlib.sha256()

    async def fill(self, chunks: AsyncIterator[bytes]) -> "Spooled":
        async for chunk in chunks:
            self.file.write(chunk)
            self.digest.update(chunk)
        self.file.seek(0)
        return self

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Numbered lines, read one at a time."""
        return enumerate(self.file, start=1)

    def close(self) -> None:
        self.file.close()


def _errors_of(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [part for part in e["loc"] if isinstance(part, str | int)], "msg": field_message(e)}
        for e in error.errors()
    ]


def _slug_of(line: Any) -> str | None:
    """The slug a line names, when it can be read, so a report says which story failed."""
    slug = line.get("slug") if isinstance(line, dict) else None
    return slug if isinstance(slug, str) else None


def _failed(number: int, errors: list[dict[str, Any]], slug: str | None = None) -> dict[str, Any]:
    return {"line": number, "status": "error", "id": None, "slug": slug, "errors": errors}


async def _upsert(
    session: AsyncSession, data: ArticleWrite, actor: str, may_publish: bool
) -> tuple[str, Article]:
    """Replace the article with this slug (as PUT does), or create it."""
    if data.slug is not None:
        existing = await session.scalar(select(Article.id).where(Article.slug == data.slug))
        if existing is not None:
            article = await service.get(session, existing, sees_drafts=True, for_update=True)
            service.check_changeable(article, may_publish=may_publish)
            return "updated", await service.replace(session, article, data, actor)
    return "created", await service.create(session, data, actor)


async def upsert_lines(
    sessionmaker: async_sessionmaker[AsyncSession],
    body: Spooled,
    actor: str,
    max_line: int,
    *,
    may_publish: bool,
) -> dict[str, Any]:
    """Upsert every line by slug; a bad line fails alone, reported with its number (and its
    slug, when it could be read). Replacing a published article needs `may_publish`."""
    report: list[dict[str, Any]] = []
    for number, raw in body.lines():
        if not raw.strip():
            continue
        if len(raw) > max_line:
            report.append(_failed(number, [{"loc": [], "msg": f"Line over {max_line} bytes."}]))
            continue
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            report.append(_failed(number, [{"loc": [], "msg": f"Not valid JSON: {error}."}]))
            continue
        try:
            data = ArticleWrite.model_validate(line)
        except ValidationError as error:
            report.append(_failed(number, _errors_of(error), _slug_of(line)))
            continue
        try:
            async with sessionmaker.begin() as session:
                await take_write_lock(session)
                outcome, article = await _upsert(session, data, actor, may_publish)
        except AppError as error:
            found = getattr(error, "errors", None)
            errors = (
                [e.model_dump(include={"loc", "msg"}) for e in found]
                if found
                else [{"loc": [], "msg": error.detail}]
            )
            report.append(_failed(number, errors, data.slug))
            continue
        report.append(
            {
                "line": number,
                "status": outcome,
                "id": str(article.id),
                "slug": article.slug,
                "errors": [],
            }
        )
    counts = {
        status: sum(1 for r in report if r["status"] == status)
        for status in ("created", "updated", "error")
    }
    return {**counts, "lines": report}
