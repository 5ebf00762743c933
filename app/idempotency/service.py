"""Idempotency-Key (IETF httpapi draft): the first request with a key runs; a retry with the
same key and body gets the first response again; another body under the same key is 422.

A write claims its key in its own transaction and stores its response there too, so the
write and its replay commit together or not at all. A concurrent retry waits for that
transaction (SQLite serialises writers; PostgreSQL blocks on the key's primary key) and is
then answered from the record. Work that commits in steps (bulk) claims its key in a
transaction of its own first; a retry meanwhile gets 409, and a claim left behind by a
request that died is taken over after a while.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import dialect_name, take_write_lock
from app.errors import AppError, Conflict, FieldError

from .models import IdempotencyRecord


class KeyReused(AppError):
    status_code = 422
    code = "idempotency-key-reused"

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body. "
            "Use a new key for a new request."
        )
        # A 422 like any other: `errors` names the input at fault.
        self.errors = [
            FieldError(loc=["header", "Idempotency-Key"], msg=self.detail, type="key_reused")
        ]


class KeyInFlight(Conflict):
    code = "idempotency-key-in-flight"
    headers = {"Retry-After": "1"}

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry shortly "
            "to get its response."
        )


@dataclass(frozen=True)
class Claim:
    owner: str
    key: str


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    headers: list[list[str]]
    body: bytes


# PostgreSQL's code for a lock not granted within lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


async def claim(
    session: AsyncSession,
    claim_: Claim,
    fingerprint: str,
    *,
    ttl: timedelta,
    lock: timedelta,
    wait: timedelta = timedelta(seconds=10),
) -> StoredResponse | None:
    """Claim the key in `session`'s transaction: None when this request should run, the
    stored response when it already ran. A first request still in its transaction is
    waited for, `wait` at most on PostgreSQL (SQLite: as long as a write waits for the
    write lock). Raises KeyReused or KeyInFlight."""
    now = datetime.now(UTC)
    await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - ttl))
    record = IdempotencyRecord(
        owner=claim_.owner, key=claim_.key, fingerprint=fingerprint, created_at=now
    )
    postgres = dialect_name(session) == "postgresql"
    try:
        async with session.begin_nested():
            if postgres:
                # Set inside the savepoint: it lapses with it whatever happens, so only
                # this insert waits no longer than `wait` for the request holding the key.
                milliseconds = max(1, round(wait.total_seconds() * 1000))
                await session.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
            session.add(record)
            await session.flush()
            if postgres:
                await session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
        return None
    except IntegrityError:
        pass  # the key is taken: by a finished request, or one still running
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise KeyInFlight() from None
        raise
    held = await session.get(IdempotencyRecord, (claim_.owner, claim_.key), populate_existing=True)
    if held is None:  # it went away again (its request failed): run
        return await claim(session, claim_, fingerprint, ttl=ttl, lock=lock, wait=wait)
    if held.fingerprint != fingerprint:
        raise KeyReused()
    if held.completed_at is not None:
        return StoredResponse(held.status_code or 0, held.headers or [], held.body or b"")
    if held.created_at > now - lock:
        raise KeyInFlight()
    # Its request died long ago, and nothing it did committed: this one takes over.
    held.created_at = now
    await session.flush()
    return None


async def complete(session: AsyncSession, claim_: Claim, response: StoredResponse) -> None:
    """Store the response to replay, in `session`'s transaction."""
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.owner == claim_.owner, IdempotencyRecord.key == claim_.key)
        .values(
            completed_at=datetime.now(UTC),
            status_code=response.status_code,
            headers=response.headers,
            body=response.body,
        )
    )


async def settle(
    sessionmaker: async_sessionmaker[AsyncSession],
    claim_: Claim,
    fingerprint: str,
    response: StoredResponse | None,
) -> None:
    """After a request that did not store its response with a write: keep a client error to
    replay, or (`response` None: a server error) release the key so that a retry runs."""
    async with sessionmaker.begin() as session:
        # It reads, then writes: on SQLite a plain BEGIN would fail at once ("database is
        # locked") rather than wait when another writer commits in between.
        await take_write_lock(session)
        record = await session.get(IdempotencyRecord, (claim_.owner, claim_.key))
        if response is None:
            if record is not None and record.completed_at is None:
                await session.delete(record)
            return
        if record is None:
            record = IdempotencyRecord(
                owner=claim_.owner,
                key=claim_.key,
                fingerprint=fingerprint,
                created_at=datetime.now(UTC),
            )
            session.add(record)
        if record.completed_at is None:
            record.completed_at = datetime.now(UTC)
            record.status_code = response.status_code
            record.headers = response.headers
            record.body = response.body
