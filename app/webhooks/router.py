import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app import errors
from app.auth.dependencies import Admin
from app.db import Session, Sessionmaker, commits_on_its_own
from app.fields import OpaqueId, parse_id
from app.http import cached_json, cached_page, json_response
from app.idempotency import dependencies as idempotency
from app.idempotency.dependencies import Idempotency
from app.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.routing import (
    AuthFirstRoute,
    MergePatch,
    merge_patch_body,
    require_json,
    require_merge_patch,
)

from . import service
from .models import DeliveryStatus, Webhook, WebhookDelivery
from .schemas import (
    SHOWN_ONCE_NOTE,
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1/webhooks",
    tags=["webhooks"],
    responses=errors.responses(errors.Unauthorized, errors.Forbidden),
)
NOT_FOUND = errors.responses(service.WebhookNotFound)
JsonBody = Depends(require_json)


def _read(webhook: Webhook) -> dict[str, object]:
    return WebhookRead.model_validate(webhook).model_dump(mode="json")


def _delivery(sent: WebhookDelivery) -> dict[str, object]:
    return DeliveryRead.model_validate(sent).model_dump(mode="json")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    dependencies=[JsonBody],
    responses=errors.responses(errors.UnsupportedMediaType, errors.Invalid),
)
async def create_webhook(
    request: Request, idem: Idempotency, data: WebhookCreate, session: Session, caller: Admin
) -> Response:
    """Subscribe a URL to change events. The response is the only time the signing secret
    is shown: a retry with the same Idempotency-Key replays it with `secret` null. Deliveries
    are signed per Standard Webhooks and sent at least once."""
    webhook = await service.create(session, data, request.app.state.settings)
    headers = {"Location": f"/v1/webhooks/{webhook.id}", "Cache-Control": "no-store"}

    def created(secret: str | None, note: str | None) -> Response:
        payload = {**_read(webhook), "secret": secret, "secret_note": note}
        return json_response(payload, status_code=status.HTTP_201_CREATED, headers=headers)

    return idem.keep(created(webhook.secret, None), replay=created(None, SHOWN_ONCE_NOTE))


@router.get("", response_model=Page[WebhookRead])
async def list_webhooks(
    request: Request,
    session: Session,
    caller: Admin,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every webhook, oldest first, without secrets."""
    webhooks, next_cursor = await service.list_webhooks(session, limit, cursor)
    return cached_page(request, [_read(w) for w in webhooks], next_cursor, public=False)


@router.get("/{webhook_id}", response_model=WebhookRead, responses=NOT_FOUND)
async def get_webhook(
    request: Request, webhook_id: OpaqueId, session: Session, caller: Admin
) -> Response:
    """One webhook, with whether it is enabled and its current run of failures."""
    found = await service.get(session, parse_id(webhook_id, service.WebhookNotFound))
    return cached_json(request, _read(found), public=False)


@router.patch(
    "/{webhook_id}",
    response_model=WebhookRead,
    dependencies=[Depends(require_merge_patch)],
    responses={
        **NOT_FOUND,
        **errors.responses(errors.UnsupportedMediaType, errors.Invalid),
    },
    openapi_extra=merge_patch_body(),
)
async def update_webhook(
    request: Request,
    webhook_id: OpaqueId,
    data: MergePatch[WebhookUpdate],
    session: Session,
    caller: Admin,
) -> Response:
    """Change a webhook (JSON Merge Patch). `{"enabled": true}` re-enables one that was
    disabled; `{"enabled": false}` pauses it."""
    found = parse_id(webhook_id, service.WebhookNotFound)
    webhook = await service.update(session, found, data, request.app.state.settings)
    return json_response(_read(webhook))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_webhook(webhook_id: OpaqueId, session: Session, caller: Admin) -> None:
    """Unsubscribe: the webhook, its queue and its delivery log are removed."""
    await service.delete(session, parse_id(webhook_id, service.WebhookNotFound))


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryRead],
    responses={**NOT_FOUND, **errors.responses(errors.Invalid)},
)
async def list_deliveries(
    request: Request,
    webhook_id: OpaqueId,
    session: Session,
    caller: Admin,
    delivery_status: Annotated[
        DeliveryStatus | None, Query(alias="status", description="Only deliveries in this state.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """The delivery log, newest first: each message with its payload, state, next attempt
    and every attempt's answer."""
    found = parse_id(webhook_id, service.WebhookNotFound)
    sent, next_cursor = await service.list_deliveries(
        session, found, delivery_status, limit, cursor
    )
    return cached_page(request, [_delivery(d) for d in sent], next_cursor, public=False)


@router.post(
    "/{webhook_id}/test",
    response_model=DeliveryRead,
    dependencies=[idempotency.TakesKey],
    responses=NOT_FOUND,
)
@commits_on_its_own
async def test_webhook(
    request: Request,
    webhook_id: OpaqueId,
    sessionmaker: Sessionmaker,
    caller: Admin,
) -> Response:
    """Send a signed `webhook.test` message now and answer with how it went (the receiver's
    status, or the error). One attempt, no retries; it does not count toward disabling."""
    async with sessionmaker.begin() as session:
        await idempotency.begin(request, session, sessionmaker, hashlib.sha256(b"").hexdigest())
    found = parse_id(webhook_id, service.WebhookNotFound)
    settings = request.app.state.settings
    return json_response(_delivery(await service.send_test(sessionmaker, settings, found)))
