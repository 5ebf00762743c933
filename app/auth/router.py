from fastapi import APIRouter, Depends, Request, Response, status

from app import errors
from app.db import Session
from app.fields import OpaqueId, parse_id
from app.http import cached_page, json_response
from app.idempotency.dependencies import HEADER
from app.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.routing import AuthFirstRoute, require_json

from . import service
from .dependencies import Admin
from .schemas import KeyCreate, KeyCreated, KeyRead

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1/keys",
    tags=["keys"],
    responses=errors.responses(errors.Unauthorized, errors.Forbidden),
)


class KeyNotReplayable(errors.AppError):
    code = "idempotency-key-not-supported"

    def __init__(self) -> None:
        super().__init__(
            "Key creation does not take an Idempotency-Key: replaying the response would mean "
            "storing the new key, which is kept only as a hash. List keys to see what exists."
        )


async def refuse_idempotency_key(request: Request) -> None:
    if HEADER in request.headers:
        raise KeyNotReplayable()


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyCreated,
    dependencies=[Depends(require_json), Depends(refuse_idempotency_key)],
    responses=errors.responses(errors.UnsupportedMediaType, errors.Invalid, KeyNotReplayable),
)
async def create_key(data: KeyCreate, session: Session, caller: Admin) -> Response:
    """Create an API key. The response is the only time the key itself is shown."""
    key, secret = await service.create(session, data.name, data.scopes, data.rate_limit)
    payload = KeyCreated(**KeyRead.model_validate(key).model_dump(), key=secret)
    return json_response(
        payload.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/v1/keys/{key.id}", "Cache-Control": "no-store"},
    )


@router.get("", response_model=Page[KeyRead])
async def list_keys(
    request: Request,
    session: Session,
    caller: Admin,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every API key, oldest first, without the keys themselves."""
    keys, next_cursor = await service.list_keys(session, limit, cursor)
    data = [KeyRead.model_validate(k).model_dump(mode="json") for k in keys]
    return cached_page(request, data, next_cursor, public=False)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors.responses(service.KeyNotFound),
)
async def revoke_key(key_id: OpaqueId, session: Session, caller: Admin) -> None:
    """Revoke a key: it stops working at once."""
    await service.revoke(session, parse_id(key_id, service.KeyNotFound))
