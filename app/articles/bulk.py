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
from app.errors import AppError

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
        {"loc": [part for part in e["loc"] if isinstance(part, str | int)], "msg": e["msg"]}
        for e in error.errors()
    ]


def _failed(number: int, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"line": number, "status": "error", "id": None, "slug": None, "errors": errors}


async def _upsert(session: AsyncSession, data: ArticleWrite, actor: str) -> tuple[str, Article]:
    """Replace the article with this slug (as PUT does), or create it."""
    if data.slug is not None:
        existing = await session.scalar(select(Article.id).where(Article.slug == data.slug))
        if existing is not None:
            article = await service.get(session, existing, sees_drafts=True, for_update=True)
            return "updated", await service.replace(session, article, data, actor)
    return "created", await service.create(session, data, actor)


async def upsert_lines(
    sessionmaker: async_sessionmaker[AsyncSession], body: Spooled, actor: str, max_line: int
) -> dict[str, Any]:
    """Upsert every line by slug; a bad line fails alone, reported with its number."""
    report: list[dict[str, Any]] = []
    for number, raw in body.lines():
        if not raw.strip():
            continue
        if len(raw) > max_line:
            report.append(_failed(number, [{"loc": [], "msg": f"Line over {max_line} bytes."}]))
            continue
        try:
            data = ArticleWrite.model_validate(orjson.loads(raw))
        except orjson.JSONDecodeError as error:
            report.append(_failed(number, [{"loc": [], "msg": f"Not valid JSON: {error}."}]))
            continue
        except ValidationError as error:
            report.append(_failed(number, _errors_of(error)))
            continue
        try:
            async with sessionmaker.begin() as session:
                await take_write_lock(session)
                outcome, article = await _upsert(session, data, actor)
        except AppError as error:
            found = getattr(error, "errors", None)
            errors = (
                [e.model_dump(include={"loc", "msg"}) for e in found]
                if found
                else [{"loc": [], "msg": error.detail}]
            )
            report.append(_failed(number, errors))
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
