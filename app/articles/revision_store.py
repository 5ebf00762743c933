"""How revisions are stored: each one's snapshot (the article as a GET returned it) kept in
pieces shared with the article's other revisions, so what a write adds is what it changed.

The body, the rendered HTML, every claim and every correction is a piece: its JSON,
zlib-compressed, stored once per article under the SHA-256 of that JSON. A list (claims,
corrections) is a piece naming chunks of up to `CHUNK` item digests, each chunk a piece
too, so editing one claim of 500 adds that claim, one chunk and the list: a few KB. The
revision row keeps the rest of the snapshot (headline, dates, sourcing…) as it was, with
each piece's digest in its place, so keys come back in their order.

Rows written before pieces existed hold the whole snapshot in `snapshot`; they are read as
they are. Pieces are never rewritten nor dropped, but with their article (purge).
"""

import hashlib
import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ArticleRevision, RevisionPiece

# Snapshot keys whose value is one piece, and those whose list is one piece per item.
WHOLE = frozenset({"body", "body_html"})
LISTS = frozenset({"claims", "corrections"})
# Their value is replaced by {PIECE: digest}, or by {LIST: digest} for a list.
STORED_APART = WHOLE | LISTS
PIECE = "$piece"
LIST = "$list"
CHUNK = 32
# Digests per IN (...) list: well inside every backend's bound on bound parameters.
LOOKUP_BATCH = 500


@dataclass
class _Piece:
    digest: str
    raw: bytes
    parts: list["_Piece"] = field(default_factory=list)


def _piece(value: Any, parts: Sequence[_Piece] = ()) -> _Piece:
    raw = orjson.dumps(value)
    return _Piece(hashlib.sha256(raw).hexdigest(), raw, list(parts))


def _list_piece(items: list[Any]) -> _Piece:
    leaves = [_piece(item) for item in items]
    chunks = [
        _piece([leaf.digest for leaf in leaves[i : i + CHUNK]], leaves[i : i + CHUNK])
        for i in range(0, len(leaves), CHUNK)
    ]
    return _piece([chunk.digest for chunk in chunks], chunks)


def _batches(digests: Sequence[str]) -> Iterable[Sequence[str]]:
    return (digests[i : i + LOOKUP_BATCH] for i in range(0, len(digests), LOOKUP_BATCH))


async def _stored(session: AsyncSession, article_id: uuid.UUID, digests: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for batch in _batches(digests):
        found.update(
            await session.scalars(
                select(RevisionPiece.digest).where(
                    RevisionPiece.article_id == article_id, RevisionPiece.digest.in_(batch)
                )
            )
        )
    return found


async def write(
    session: AsyncSession,
    *,
    article_id: uuid.UUID,
    version: int,
    created_at: datetime,
    actor: str,
    change: str,
    snapshot: dict[str, Any],
) -> None:
    """Add the revision, storing only the pieces of `snapshot` this article lacks."""
    skeleton: dict[str, Any] = {}
    roots: list[_Piece] = []
    for key, value in snapshot.items():
        if key in LISTS and isinstance(value, list):
            roots.append(_list_piece(value))
            skeleton[key] = {LIST: roots[-1].digest}
        elif key in WHOLE or key in LISTS:
            roots.append(_piece(value))
            skeleton[key] = {PIECE: roots[-1].digest}
        else:
            skeleton[key] = value
    # A stored piece has all its parts stored (they go in together, and none is ever
    # dropped alone), so only the parts of new pieces need looking up: one level at a time.
    level, added = roots, set[str]()
    while level:
        fresh = {p.digest: p for p in level if p.digest not in added}
        stored = await _stored(session, article_id, [*fresh])
        new = [p for digest, p in fresh.items() if digest not in stored]
        session.add_all(
            RevisionPiece(article_id=article_id, digest=p.digest, data=zlib.compress(p.raw))
            for p in new
        )
        added.update(p.digest for p in new)
        level = [part for p in new for part in p.parts]
    session.add(
        ArticleRevision(
            article_id=article_id,
            version=version,
            created_at=created_at,
            actor=actor,
            change=change,
            skeleton=skeleton,
        )
    )


class Reader:
    """Snapshots of revisions, the pieces they share fetched once per reader."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._values: dict[tuple[uuid.UUID, str], Any] = {}

    async def _load(self, wanted: Iterable[tuple[uuid.UUID, str]]) -> None:
        by_article: dict[uuid.UUID, set[str]] = defaultdict(set)
        for key in wanted:
            if key not in self._values:
                by_article[key[0]].add(key[1])
        for article_id, digests in by_article.items():
            for batch in _batches(sorted(digests)):
                rows = await self._session.execute(
                    select(RevisionPiece.digest, RevisionPiece.data).where(
                        RevisionPiece.article_id == article_id, RevisionPiece.digest.in_(batch)
                    )
                )
                for digest, data in rows:
                    self._values[article_id, digest] = orjson.loads(zlib.decompress(data))

    async def snapshots(self, revisions: Sequence[ArticleRevision]) -> list[dict[str, Any]]:
        """Each revision's snapshot, exactly as it was written."""
        stored = [(r.article_id, r.skeleton) for r in revisions if r.snapshot is None]
        refs = [
            (article_id, value)
            for article_id, skeleton in stored
            for key, value in (skeleton or {}).items()
            if key in STORED_APART
        ]
        await self._load((a, ref.get(PIECE) or ref[LIST]) for a, ref in refs)
        lists = [(a, self._values[a, ref[LIST]]) for a, ref in refs if LIST in ref]
        await self._load((a, chunk) for a, chunks in lists for chunk in chunks)
        await self._load(
            (a, item) for a, chunks in lists for chunk in chunks for item in self._values[a, chunk]
        )
        return [self._assemble(r) for r in revisions]

    def _assemble(self, revision: ArticleRevision) -> dict[str, Any]:
        if revision.snapshot is not None:
            return revision.snapshot
        assert revision.skeleton is not None
        return {
            key: self._value(revision.article_id, value) if key in STORED_APART else value
            for key, value in revision.skeleton.items()
        }

    def _value(self, article_id: uuid.UUID, ref: dict[str, str]) -> Any:
        if PIECE in ref:
            return self._values[article_id, ref[PIECE]]
        return [
            self._values[article_id, item]
            for chunk in self._values[article_id, ref[LIST]]
            for item in self._values[article_id, chunk]
        ]
