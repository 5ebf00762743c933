"""The webhooks management API (admin only): subscriptions with a secret shown once, URLs
that may not point into the private network, merge-patch updates and re-enabling, the
delivery log, and the outbox row every recorded change leaves in the change's transaction."""

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes
from app.changes.models import ChangeEvent
from app.errors import Conflict
from app.idempotency.models import IdempotencyRecord
from app.webhooks.models import (
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookOutbox,
)
from tests.factories import article_data
from tests.helpers import assert_problem, count_rows, create_article, error_locs, walk_pages

pytestmark = pytest.mark.anyio

HOOK = "https://hooks.partner.example/newsdesk"
PRIVATE_URLS = [
    "http://127.0.0.1/hook",
    "http://10.1.2.3/hook",
    "http://192.168.1.20:8080/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://[::1]/hook",
    "http://[fd00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    # Other spellings the URL standard reads as 127.0.0.1.
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://127.1/hook",
    "http://127.0.0.1./hook",
]
ROUTES = [
    ("POST", "/v1/webhooks"),
    ("GET", "/v1/webhooks"),
    ("GET", "/v1/webhooks/{id}"),
    ("PATCH", "/v1/webhooks/{id}"),
    ("DELETE", "/v1/webhooks/{id}"),
    ("GET", "/v1/webhooks/{id}/deliveries"),
    ("POST", "/v1/webhooks/{id}/test"),
]
ONE_WEBHOOK_ROUTES = [route for route in ROUTES if "{id}" in route[1]]
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def shown_later(created: dict[str, Any]) -> dict[str, Any]:
    """A create's answer less what only it shows: what GET shows of the webhook."""
    return {key: value for key, value in created.items() if key not in ("secret", "secret_note")}


async def subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    """POST /v1/webhooks to HOOK unless `fields` say otherwise; the 201 body."""
    response = await client.post("/v1/webhooks", json={"url": HOOK, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def fetch(
    client: httpx.AsyncClient, headers: dict[str, str], webhook: dict[str, Any]
) -> dict[str, Any]:
    response = await client.get(f"/v1/webhooks/{webhook['id']}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def add_delivery(
    session: AsyncSession,
    webhook: dict[str, Any],
    created_at: datetime,
    status: DeliveryStatus = DeliveryStatus.pending,
    answers: tuple[int, ...] = (),
) -> WebhookDelivery:
    """A delivery stored as the dispatcher would, with one attempt per status in `answers`."""
    sent = WebhookDelivery(
        webhook_id=uuid.UUID(webhook["id"]),
        message_id=f"msg_{uuid.uuid4().hex}",
        event="article.published",
        change_seq=None,
        body=orjson.dumps(
            {"type": "article.published", "data": {"at": created_at.isoformat()}}
        ).decode(),
        status=status,
        attempt_count=len(answers),
        next_attempt_at=created_at if status is DeliveryStatus.pending else None,
        created_at=created_at,
        completed_at=None if status is DeliveryStatus.pending else created_at,
    )
    session.add(sent)
    await session.flush()
    for n, status_code in enumerate(answers):
        session.add(
            WebhookAttempt(
                delivery_id=sent.id,
                attempted_at=created_at + timedelta(seconds=n),
                duration_ms=40 + n,
                status_code=status_code,
                error=None if status_code < 400 else f"The receiver answered {status_code}.",
                response_excerpt="ok" if status_code < 400 else "busy",
            )
        )
    await session.commit()
    return sent


async def outbox_seqs(session: AsyncSession) -> list[int]:
    return sorted(await session.scalars(select(WebhookOutbox.change_seq)))


async def change_seqs(session: AsyncSession) -> list[int]:
    return sorted(await session.scalars(select(ChangeEvent.seq)))


# --- creating ------------------------------------------------------------------------------


async def test_create_answers_201_with_the_defaults(client, admin):
    response = await client.post("/v1/webhooks", json={"url": HOOK}, headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["url"] == HOOK
    assert created["events"] == [
        "article.published",
        "article.updated",
        "article.retracted",
        "article.unpublished",
        "article.deleted",
    ]
    assert created["view"] == "syndicated"
    assert created["description"] == ""
    assert created["enabled"] is True
    assert created["consecutive_failures"] == 0
    assert created["disabled_reason"] is None
    assert created["disabled_at"] is None
    assert created["failing_since"] is None
    uuid.UUID(created["id"])
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    assert response.headers["cache-control"] == "no-store"


async def test_create_keeps_the_fields_given(client, admin):
    created = await subscribe(
        client,
        admin,
        events=["article.retracted", "article.deleted"],
        view="public",
        description="Partner CMS",
    )
    assert created["events"] == ["article.retracted", "article.deleted"]
    assert created["view"] == "public"
    assert created["description"] == "Partner CMS"
    assert await fetch(client, admin, created) == shown_later(created)


async def test_the_secret_is_whsec_and_32_random_bytes(client, admin):
    secret = (await subscribe(client, admin))["secret"]
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    assert len(key) == 32


async def test_each_webhook_gets_its_own_secret(client, admin):
    first = await subscribe(client, admin)
    second = await subscribe(client, admin)
    assert first["id"] != second["id"]
    assert first["secret"] != second["secret"]


async def test_the_secret_is_stored_for_signing(client, admin, session):
    created = await subscribe(client, admin)
    stored = await session.get(Webhook, uuid.UUID(created["id"]))
    assert stored.secret == created["secret"]


async def test_the_secret_is_never_shown_again(client, admin):
    created = await subscribe(client, admin)
    url = f"/v1/webhooks/{created['id']}"
    shown = [
        await client.get(url, headers=admin),
        await client.get("/v1/webhooks", headers=admin),
        await client.patch(url, json={"description": "renamed"}, headers=admin),
        await client.get(f"{url}/deliveries", headers=admin),
    ]
    for response in shown:
        assert response.status_code == 200, response.text
        assert created["secret"] not in response.text
        assert "secret" not in response.text
    assert shown[1].json()["data"][0]["id"] == created["id"]


async def test_repeated_events_are_kept_once(client, admin):
    created = await subscribe(
        client,
        admin,
        events=["article.updated", "article.published", "article.updated", "article.published"],
    )
    assert created["events"] == ["article.updated", "article.published"]


@pytest.mark.parametrize(
    "url",
    [
        HOOK,
        "http://hooks.partner.example:8080/in?source=newsdesk",
        "https://93.184.216.34/hook",
        "https://[2606:4700:4700::1111]/hook",
    ],
)
async def test_public_receivers_are_accepted(client, admin, session, url):
    created = await subscribe(client, admin, url=url)
    assert created["url"] == url
    assert await count_rows(session, Webhook) == 1


# --- refused creates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"url": "ftp://hooks.partner.example/x"}, ["body", "url"]),
        ({"url": "javascript:alert(1)"}, ["body", "url"]),
        ({"url": "/v1/hooks"}, ["body", "url"]),
        ({"url": "hooks.partner.example/x"}, ["body", "url"]),
        ({"url": "https://user:pass@hooks.partner.example/x"}, ["body", "url"]),
        ({"url": "https://token@hooks.partner.example/x"}, ["body", "url"]),
        ({"url": "https://hooks.partner.example/" + "x" * 2048}, ["body", "url"]),
        ({"events": ["article.published"]}, ["body", "url"]),
        ({"url": HOOK, "events": ["article.created"]}, ["body", "events", 0]),
        ({"url": HOOK, "events": []}, ["body", "events"]),
        ({"url": HOOK, "events": "article.published"}, ["body", "events"]),
        ({"url": HOOK, "view": "everything"}, ["body", "view"]),
        ({"url": HOOK, "description": "x" * 501}, ["body", "description"]),
        ({"url": HOOK, "secret": "whsec_mine"}, ["body", "secret"]),
        ({"url": HOOK, "colour": "blue"}, ["body", "colour"]),
    ],
)
async def test_an_invalid_create_is_422_naming_the_field(client, admin, session, body, loc):
    response = await client.post("/v1/webhooks", json=body, headers=admin)
    problem = assert_problem(response, 422)
    assert loc in error_locs(problem)
    assert await count_rows(session, Webhook) == 0


async def test_a_url_too_long_to_store_is_422_not_an_error(client, admin, session):
    # Under the 2048 characters of URLs elsewhere, over the 2000 the webhook table holds.
    url = "https://hooks.partner.example/" + "x" * (2040 - len("https://hooks.partner.example/"))
    response = await client.post("/v1/webhooks", json={"url": url}, headers=admin)
    problem = assert_problem(response, 422)
    assert error_locs(problem) == [["body", "url"]]
    assert await count_rows(session, Webhook) == 0


async def test_a_url_of_2000_characters_is_accepted(client, admin):
    url = "https://hooks.partner.example/" + "x" * (2000 - len("https://hooks.partner.example/"))
    assert (await subscribe(client, admin, url=url))["url"] == url


@pytest.mark.parametrize("url", PRIVATE_URLS)
async def test_a_private_address_is_refused(client, admin, session, url):
    response = await client.post("/v1/webhooks", json={"url": url}, headers=admin)
    problem = assert_problem(response, 422)
    assert error_locs(problem) == [["body", "url"]]
    assert "NEWSDESK_WEBHOOKS_ALLOW_PRIVATE" in problem["detail"]
    assert await count_rows(session, Webhook) == 0


@pytest.mark.parametrize("url", PRIVATE_URLS)
async def test_a_private_address_is_accepted_when_allowed(client, admin, session, settings, url):
    settings.webhooks_allow_private = True
    created = await subscribe(client, admin, url=url)
    assert created["url"] == url
    assert await count_rows(session, Webhook) == 1


async def test_credentials_are_refused_even_when_private_addresses_are_allowed(
    client, admin, session, settings
):
    settings.webhooks_allow_private = True
    response = await client.post(
        "/v1/webhooks", json={"url": "http://user:pass@127.0.0.1/hook"}, headers=admin
    )
    assert error_locs(assert_problem(response, 422)) == [["body", "url"]]
    assert await count_rows(session, Webhook) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_json_is_415(client, admin, session, content_type):
    headers = {**admin, "Content-Type": content_type} if content_type else admin
    response = await client.post(
        "/v1/webhooks", content=orjson.dumps({"url": HOOK}), headers=headers
    )
    assert_problem(response, 415)
    assert await count_rows(session, Webhook) == 0


async def test_malformed_json_is_422(client, admin, session):
    response = await client.post(
        "/v1/webhooks",
        content=b'{"url": "https://hooks.partner.example/x",',
        headers={**admin, "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["type"] == "json_invalid"
    assert await count_rows(session, Webhook) == 0


async def test_a_retried_create_replays_the_webhook_without_its_secret(client, admin, session):
    """The secret is shown once: the replay record never holds a second copy of it."""
    headers = {**admin, "Idempotency-Key": '"create-hook-1"'}
    body = {"url": HOOK, "description": "Partner CMS"}
    first = await client.post("/v1/webhooks", json=body, headers=headers)
    again = await client.post("/v1/webhooks", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    secret = first.json()["secret"]
    assert secret.startswith("whsec_")
    record = await session.scalar(select(IdempotencyRecord))
    assert record.completed_at is not None
    assert secret.encode() not in record.body
    assert b"whsec_" not in record.body
    assert all(secret not in value for _, value in record.headers)
    assert first.json()["secret_note"] is None
    assert "idempotent-replayed" not in first.headers

    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["secret"] is None
    assert again.json()["secret_note"].startswith("The signing secret is shown only once")
    assert secret not in again.text
    assert shown_later(again.json()) == shown_later(first.json())
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["cache-control"] == "no-store"
    assert await count_rows(session, Webhook) == 1
    stored = await session.get(Webhook, uuid.UUID(first.json()["id"]))
    assert stored.secret == secret, "deliveries are still signed with the secret shown"


async def test_a_create_with_a_key_that_fails_validation_replays_its_problem(
    client, admin, session
):
    headers = {**admin, "Idempotency-Key": '"create-hook-2"'}
    body = {"url": "http://127.0.0.1/hook"}
    first = await client.post("/v1/webhooks", json=body, headers=headers)
    again = await client.post("/v1/webhooks", json=body, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.content == first.content
    assert await count_rows(session, Webhook) == 0


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_anonymous_callers_are_401(client, session, method, path):
    response = await client.request(method, path.format(id=uuid.uuid4()), json={"url": HOOK})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await count_rows(session, Webhook) == 0


@pytest.mark.parametrize("caller", ["writer", "publisher", "reader"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_keys_without_admin_are_403(
    client, session, writer, publisher, reader, caller, method, path
):
    headers = {"writer": writer, "publisher": publisher, "reader": reader}[caller]
    response = await client.request(
        method, path.format(id=uuid.uuid4()), json={"url": HOOK}, headers=headers
    )
    assert_problem(response, 403)
    assert await count_rows(session, Webhook) == 0


async def test_a_writer_cannot_change_or_remove_a_webhook(client, admin, writer):
    created = await subscribe(client, admin, description="Partner CMS")
    url = f"/v1/webhooks/{created['id']}"
    patched = await client.patch(url, json={"url": "https://evil.example/x"}, headers=writer)
    deleted = await client.delete(url, headers=writer)
    assert_problem(patched, 403)
    assert_problem(deleted, 403)
    unchanged = await fetch(client, admin, created)
    assert unchanged["url"] == HOOK
    assert unchanged["updated_at"] == created["updated_at"]


@pytest.mark.parametrize(("method", "path"), ONE_WEBHOOK_ROUTES)
async def test_an_unknown_webhook_is_404(client, admin, method, path):
    missing = uuid.uuid4()
    response = await client.request(
        method, path.format(id=missing), json={"description": "x"}, headers=admin
    )
    problem = assert_problem(response, 404)
    assert str(missing) in problem["detail"]


@pytest.mark.parametrize(("method", "path"), ONE_WEBHOOK_ROUTES)
async def test_a_malformed_id_is_not_found(client, admin, method, path):
    response = await client.request(
        method, path.format(id="not-a-uuid"), json={"description": "x"}, headers=admin
    )
    assert "not-a-uuid" in assert_problem(response, 404)["detail"]  # ids are opaque


# --- listing ------------------------------------------------------------------------------


async def test_the_list_is_private_with_an_etag(client, admin):
    await subscribe(client, admin)
    response = await client.get("/v1/webhooks", headers=admin)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    etag = response.headers["etag"]
    assert etag

    unchanged = await client.get("/v1/webhooks", headers={**admin, "If-None-Match": etag})
    assert unchanged.status_code == 304
    await subscribe(client, admin, description="another")
    changed = await client.get("/v1/webhooks", headers={**admin, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_one_webhook_is_private_with_an_etag(client, admin):
    created = await subscribe(client, admin)
    response = await client.get(f"/v1/webhooks/{created['id']}", headers=admin)
    assert response.headers["cache-control"] == "private, no-store"
    again = await client.get(
        f"/v1/webhooks/{created['id']}",
        headers={**admin, "If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304


async def test_the_list_pages_through_every_webhook_oldest_first(client, admin):
    created = [await subscribe(client, admin, description=f"hook {n}") for n in range(5)]
    seen, pages = await walk_pages(client, "/v1/webhooks?limit=2", admin)
    assert [w["id"] for w in seen] == [w["id"] for w in created]
    assert pages == 3


async def test_the_list_is_empty_without_webhooks(client, admin):
    response = await client.get("/v1/webhooks", headers=admin)
    assert response.json() == {"data": [], "next_cursor": None}


# --- changing -----------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_given(client, admin):
    created = await subscribe(client, admin, description="Partner CMS", view="public")
    response = await client.patch(
        f"/v1/webhooks/{created['id']}",
        json={
            "url": "https://hooks.other.example/in",
            "events": ["article.deleted", "article.deleted", "article.retracted"],
        },
        headers=admin,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["url"] == "https://hooks.other.example/in"
    assert changed["events"] == ["article.deleted", "article.retracted"]
    assert changed["description"] == "Partner CMS"
    assert changed["view"] == "public"
    assert changed["enabled"] is True
    assert changed["created_at"] == created["created_at"]
    assert changed["updated_at"] > created["updated_at"]
    assert await fetch(client, admin, created) == changed


async def test_patch_changes_the_description_and_view(client, admin):
    created = await subscribe(client, admin, description="Partner CMS")
    response = await client.patch(
        f"/v1/webhooks/{created['id']}",
        json={"description": "Partner CMS (staging)", "view": "public"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    stored = await fetch(client, admin, created)
    assert stored["description"] == "Partner CMS (staging)"
    assert stored["view"] == "public"
    assert stored["url"] == HOOK


async def test_a_null_description_becomes_empty(client, admin):
    created = await subscribe(client, admin, description="Partner CMS")
    response = await client.patch(
        f"/v1/webhooks/{created['id']}", json={"description": None}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["description"] == ""
    assert (await fetch(client, admin, created))["description"] == ""


@pytest.mark.parametrize("field", ["url", "events", "view", "enabled"])
async def test_null_cannot_remove_a_required_field(client, admin, field):
    created = await subscribe(client, admin)
    response = await client.patch(
        f"/v1/webhooks/{created['id']}", json={field: None}, headers=admin
    )
    assert error_locs(assert_problem(response, 422)) == [["body", field]]
    assert await fetch(client, admin, created) == shown_later(created)


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"url": "ftp://hooks.partner.example/x"}, ["body", "url"]),
        ({"url": "https://user:pass@hooks.partner.example/x"}, ["body", "url"]),
        ({"url": "http://169.254.169.254/latest/meta-data"}, ["body", "url"]),
        ({"url": "http://[::1]:8080/hook"}, ["body", "url"]),
        ({"url": "http://2130706433/hook"}, ["body", "url"]),
        ({"events": []}, ["body", "events"]),
        ({"events": ["article.created"]}, ["body", "events", 0]),
        ({"enabled": "yes please"}, ["body", "enabled"]),
        ({"secret": "whsec_mine"}, ["body", "secret"]),
    ],
)
async def test_an_invalid_patch_is_422_and_changes_nothing(client, admin, patch, loc):
    created = await subscribe(client, admin)
    response = await client.patch(f"/v1/webhooks/{created['id']}", json=patch, headers=admin)
    assert loc in error_locs(assert_problem(response, 422))
    assert await fetch(client, admin, created) == shown_later(created)


async def test_a_private_address_is_accepted_in_a_patch_when_allowed(client, admin, settings):
    created = await subscribe(client, admin)
    settings.webhooks_allow_private = True
    response = await client.patch(
        f"/v1/webhooks/{created['id']}", json={"url": "http://10.1.2.3/hook"}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["url"] == "http://10.1.2.3/hook"


async def test_a_merge_patch_content_type_is_accepted(client, admin):
    created = await subscribe(client, admin)
    response = await client.patch(
        f"/v1/webhooks/{created['id']}",
        content=orjson.dumps({"description": "via merge patch"}),
        headers={**admin, "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "via merge patch"


async def test_a_patch_that_is_not_json_is_415(client, admin):
    created = await subscribe(client, admin, description="Partner CMS")
    response = await client.patch(
        f"/v1/webhooks/{created['id']}",
        content=b"description=changed",
        headers={**admin, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415)
    assert (await fetch(client, admin, created))["description"] == "Partner CMS"


async def test_disabling_on_request_and_enabling_again(client, admin):
    created = await subscribe(client, admin)
    url = f"/v1/webhooks/{created['id']}"

    disabled = (await client.patch(url, json={"enabled": False}, headers=admin)).json()
    assert disabled["enabled"] is False
    assert disabled["disabled_reason"] == "Disabled on request."
    assert disabled["disabled_at"] is not None
    assert await fetch(client, admin, created) == disabled

    enabled = (await client.patch(url, json={"enabled": True}, headers=admin)).json()
    assert enabled["enabled"] is True
    assert enabled["disabled_reason"] is None
    assert enabled["disabled_at"] is None
    assert enabled["consecutive_failures"] == 0
    assert enabled["failing_since"] is None
    assert await fetch(client, admin, created) == enabled


async def test_enabling_clears_an_automatic_disable(client, admin, session):
    created = await subscribe(client, admin)
    stored = await session.get(Webhook, uuid.UUID(created["id"]))
    stored.enabled = False
    stored.disabled_reason = "Failed 10 times in a row since 2026-11-20T09:00:00Z."
    stored.disabled_at = T0 + timedelta(days=1)
    stored.consecutive_failures = 10
    stored.failing_since = T0
    await session.commit()
    assert (await fetch(client, admin, created))["consecutive_failures"] == 10

    response = await client.patch(
        f"/v1/webhooks/{created['id']}", json={"enabled": True}, headers=admin
    )
    assert response.status_code == 200, response.text
    enabled = response.json()
    assert enabled["enabled"] is True
    assert enabled["disabled_reason"] is None
    assert enabled["disabled_at"] is None
    assert enabled["consecutive_failures"] == 0
    assert enabled["failing_since"] is None

    await session.refresh(stored)
    assert stored.enabled is True
    assert stored.consecutive_failures == 0
    assert stored.disabled_reason is stored.disabled_at is stored.failing_since is None


async def test_editing_a_disabled_webhook_leaves_it_disabled(client, admin, session):
    created = await subscribe(client, admin)
    stored = await session.get(Webhook, uuid.UUID(created["id"]))
    stored.enabled = False
    stored.disabled_reason = "The receiver answered 410 Gone."
    stored.disabled_at = T0
    stored.consecutive_failures = 3
    stored.failing_since = T0
    await session.commit()

    response = await client.patch(
        f"/v1/webhooks/{created['id']}", json={"description": "moved"}, headers=admin
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["description"] == "moved"
    assert edited["enabled"] is False
    assert edited["disabled_reason"] == "The receiver answered 410 Gone."
    assert edited["consecutive_failures"] == 3


# --- removing ------------------------------------------------------------------------------


async def test_delete_is_204_and_then_the_webhook_is_gone(client, admin, session):
    created = await subscribe(client, admin)
    url = f"/v1/webhooks/{created['id']}"
    response = await client.delete(url, headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(url, headers=admin), 404)
    assert_problem(await client.get(f"{url}/deliveries", headers=admin), 404)
    assert_problem(await client.delete(url, headers=admin), 404)
    assert (await client.get("/v1/webhooks", headers=admin)).json()["data"] == []
    assert await count_rows(session, Webhook) == 0


async def test_delete_removes_the_webhooks_deliveries_and_attempts_only(client, admin, session):
    kept = await subscribe(client, admin, description="kept")
    removed = await subscribe(client, admin, description="removed")
    await add_delivery(session, kept, T0, DeliveryStatus.succeeded, answers=(200,))
    await add_delivery(session, removed, T0, DeliveryStatus.failed, answers=(503, 503))
    assert await count_rows(session, WebhookDelivery) == 2
    assert await count_rows(session, WebhookAttempt) == 3

    response = await client.delete(f"/v1/webhooks/{removed['id']}", headers=admin)
    assert response.status_code == 204
    assert await count_rows(session, WebhookDelivery) == 1
    assert await count_rows(session, WebhookAttempt) == 1
    left = await session.scalar(select(WebhookDelivery.webhook_id))
    assert str(left) == kept["id"]


# --- the delivery log ----------------------------------------------------------------------


async def test_deliveries_are_listed_newest_first_with_payload_and_attempts(client, admin, session):
    created = await subscribe(client, admin)
    old = await add_delivery(session, created, T0, DeliveryStatus.succeeded, answers=(503, 200))
    new = await add_delivery(session, created, T0 + timedelta(minutes=5))

    response = await client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    page = response.json()
    assert page["next_cursor"] is None
    assert [d["id"] for d in page["data"]] == [str(new.id), str(old.id)]

    latest, first = page["data"]
    assert latest["status"] == "pending"
    assert latest["attempts"] == []
    assert latest["payload"] == orjson.loads(new.body)
    assert first["webhook_id"] == created["id"]
    assert first["message_id"] == old.message_id
    assert first["status"] == "succeeded"
    assert first["attempt_count"] == 2
    assert first["payload"] == {
        "type": "article.published",
        "data": {"at": T0.isoformat()},
    }
    assert "body" not in first
    assert [a["status_code"] for a in first["attempts"]] == [503, 200]
    assert first["attempts"][0] == {
        "attempted_at": "2026-11-20T09:00:00Z",
        "duration_ms": 40,
        "status_code": 503,
        "error": "The receiver answered 503.",
        "response_excerpt": "busy",
    }


async def test_a_new_webhook_has_no_deliveries(client, admin):
    created = await subscribe(client, admin)
    response = await client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=admin)
    assert response.json() == {"data": [], "next_cursor": None}


async def test_deliveries_of_other_webhooks_are_not_listed(client, admin, session):
    mine = await subscribe(client, admin)
    theirs = await subscribe(client, admin)
    await add_delivery(session, theirs, T0)
    own = await add_delivery(session, mine, T0 + timedelta(seconds=1))
    response = await client.get(f"/v1/webhooks/{mine['id']}/deliveries", headers=admin)
    assert [d["id"] for d in response.json()["data"]] == [str(own.id)]


@pytest.mark.parametrize("status", list(DeliveryStatus))
async def test_deliveries_filter_by_status(client, admin, session, status):
    created = await subscribe(client, admin)
    ids = {}
    for n, each in enumerate(DeliveryStatus):
        ids[each] = (await add_delivery(session, created, T0 + timedelta(minutes=n), each)).id
    response = await client.get(
        f"/v1/webhooks/{created['id']}/deliveries", params={"status": status}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert [(d["id"], d["status"]) for d in response.json()["data"]] == [
        (str(ids[status]), status.value)
    ]


async def test_an_unknown_delivery_status_is_422(client, admin):
    created = await subscribe(client, admin)
    response = await client.get(
        f"/v1/webhooks/{created['id']}/deliveries", params={"status": "lost"}, headers=admin
    )
    assert error_locs(assert_problem(response, 422)) == [["query", "status"]]


async def test_deliveries_page_newest_first(client, admin, session):
    created = await subscribe(client, admin)
    stored = [await add_delivery(session, created, T0 + timedelta(minutes=n)) for n in range(5)]
    seen, pages = await walk_pages(
        client, f"/v1/webhooks/{created['id']}/deliveries?limit=2", admin
    )
    assert [d["id"] for d in seen] == [str(d.id) for d in reversed(stored)]
    assert pages == 3


async def test_filtered_deliveries_page_within_the_filter(client, admin, session):
    created = await subscribe(client, admin)
    failed = []
    for n in range(6):
        status = DeliveryStatus.failed if n % 2 else DeliveryStatus.succeeded
        sent = await add_delivery(session, created, T0 + timedelta(minutes=n), status)
        if status is DeliveryStatus.failed:
            failed.append(sent)
    seen, pages = await walk_pages(
        client, f"/v1/webhooks/{created['id']}/deliveries?status=failed&limit=2", admin
    )
    assert [d["id"] for d in seen] == [str(d.id) for d in reversed(failed)]
    assert pages == 2


# --- the outbox ----------------------------------------------------------------------------


async def test_a_draft_leaves_nothing_in_the_outbox(client, writer, session):
    await create_article(client, writer, slug="draft-only")
    assert await change_seqs(session) == []
    assert await outbox_seqs(session) == []


async def test_publishing_leaves_one_outbox_row_per_change(client, writer, publisher, session):
    article = await create_article(client, writer, slug="harbour")
    response = await client.post(f"/v1/articles/{article['id']}/publish", headers=publisher)
    assert response.status_code == 200, response.text
    seqs = await change_seqs(session)
    assert len(seqs) == 1
    assert await outbox_seqs(session) == seqs


async def test_a_change_seen_differently_by_the_two_views_leaves_a_row_for_each(
    client, editor, publisher, session
):
    article = await create_article(client, editor, slug="closing")
    url = f"/v1/articles/{article['id']}"
    assert (await client.post(f"{url}/publish", headers=publisher)).status_code == 200
    # Public: updated; syndicated: unpublished. Two change events, so two outbox rows.
    closed = await client.patch(url, json={"syndication": {"allowed": False}}, headers=editor)
    assert closed.status_code == 200, closed.text
    seqs = await change_seqs(session)
    assert len(seqs) == 3
    assert await outbox_seqs(session) == seqs


async def test_a_rejected_write_leaves_no_change_and_no_outbox_row(
    client, writer, publisher, session
):
    article = await create_article(client, writer, slug="taken")
    url = f"/v1/articles/{article['id']}/publish"
    assert (await client.post(url, headers=publisher)).status_code == 200
    before = (await change_seqs(session), await outbox_seqs(session))

    again = await client.post(url, headers=publisher)  # already published
    assert_problem(again, 409)
    taken = await client.post("/v1/articles", json=article_data(slug="taken"), headers=writer)
    assert_problem(taken, 409)
    assert (await change_seqs(session), await outbox_seqs(session)) == before


async def test_a_write_that_fails_after_its_change_leaves_no_outbox_row(
    client, writer, publisher, session, monkeypatch
):
    """The outbox row is written in the change's transaction, so it goes when that does."""
    article = await create_article(client, writer, slug="rolled-back")
    record = changes.record
    flushed = []

    async def record_then_fail(change_session: AsyncSession, *args: Any, **kwargs: Any) -> None:
        await record(change_session, *args, **kwargs)
        flushed.append(await count_rows(change_session, WebhookOutbox))
        raise Conflict("Something later in the write failed.")

    monkeypatch.setattr(changes, "record", record_then_fail)
    response = await client.post(f"/v1/articles/{article['id']}/publish", headers=publisher)
    assert_problem(response, 409)
    assert flushed == [1]  # the row was written, then rolled back with the change
    assert await change_seqs(session) == []
    assert await outbox_seqs(session) == []
