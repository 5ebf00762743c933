import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.pagination import Keyset, fetch_page

from .dependencies import hash_key, prefix_of
from .models import ApiKey
from .scopes import Scope

KEY_PREFIX = "nd_"
BY_CREATION = Keyset("keys", [ApiKey.created_at, ApiKey.id], [datetime, uuid.UUID], False)


class KeyNotFound(NotFound):
    def __init__(self, key_id: uuid.UUID | str) -> None:
        super().__init__(f"API key {key_id} does not exist.")


async def create(
    session: AsyncSession, name: str, scopes: list[Scope], rate_limit: int | None = None
) -> tuple[ApiKey, str]:
    """A new key and its secret; only the secret's hash is stored."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=prefix_of(secret),
        key_hash=hash_key(secret),
        scopes=sorted({scope.value for scope in scopes}),
        rate_limit=rate_limit,
        created_at=datetime.now(UTC),
    )
    session.add(key)
    await session.flush()
    return key, secret


async def list_keys(
    session: AsyncSession, limit: int, cursor: str | None
) -> tuple[list[ApiKey], str | None]:
    return await fetch_page(
        session,
        select(ApiKey),
        BY_CREATION,
        cursor=cursor,
        limit=limit,
        scalars=True,
        key=lambda key: [key.created_at, key.id],
    )


async def revoke(session: AsyncSession, key_id: uuid.UUID) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise KeyNotFound(key_id)
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await session.flush()
    return key
