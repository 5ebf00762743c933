import hmac

import pytest
from sqlalchemy import select

from app.auth.dependencies import hash_key
from app.auth.models import ApiKey

pytestmark = pytest.mark.anyio


async def test_admin_creates_a_key_shown_once_and_stored_as_a_hash(client, admin, session):
    response = await client.post(
        "/v1/keys",
        json={"name": "partner feed", "scopes": ["content:read"], "rate_limit": 120},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["key"].startswith("nd_") and len(created["key"]) > 40
    assert created["scopes"] == ["content:read"] and created["rate_limit"] == 120
    assert response.headers["location"] == f"/v1/keys/{created['id']}"
    assert response.headers["cache-control"] == "no-store"

    stored = await session.scalar(select(ApiKey).where(ApiKey.name == "partner feed"))
    assert stored.key_hash == hash_key(created["key"])
    assert created["key"] not in (stored.key_hash, stored.prefix)

    listed = await client.get("/v1/keys", headers=admin)
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "private, no-store"
    entry = next(k for k in listed.json()["data"] if k["id"] == created["id"])
    assert "key" not in entry and entry["prefix"] == created["key"][:10]
    assert created["key"] not in listed.text


async def test_new_key_works_with_its_scopes_only(client, admin):
    created = await client.post(
        "/v1/keys", json={"name": "cms", "scopes": ["content:write"]}, headers=admin
    )
    key = {"Authorization": f"Bearer {created.json()['key']}"}
    drafts = await client.get("/v1/articles?status=draft", headers=key)
    assert drafts.status_code == 200
    keys = await client.get("/v1/keys", headers=key)
    assert keys.status_code == 403
    assert keys.headers["content-type"] == "application/problem+json"


async def test_revoked_key_is_refused_at_once(client, admin):
    created = (
        await client.post("/v1/keys", json={"name": "old", "scopes": ["admin"]}, headers=admin)
    ).json()
    key = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get("/v1/keys", headers=key)).status_code == 200

    revoked = await client.delete(f"/v1/keys/{created['id']}", headers=admin)
    assert revoked.status_code == 204
    refused = await client.get("/v1/keys", headers=key)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    listed = (await client.get("/v1/keys", headers=admin)).json()["data"]
    assert next(k for k in listed if k["id"] == created["id"])["revoked_at"] is not None


async def test_revoking_an_unknown_key_is_404(client, admin):
    response = await client.delete("/v1/keys/00000000-0000-0000-0000-000000000000", headers=admin)
    assert response.status_code == 404
    assert response.json()["status"] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["content:everything"]},
        {"name": "x", "scopes": []},
        {"name": "", "scopes": ["admin"]},
        {"name": "x", "scopes": ["admin"], "rate_limit": 0},
        {"name": "x", "scopes": ["admin"], "colour": "blue"},
    ],
)
async def test_invalid_key_requests_are_422_and_create_nothing(client, admin, session, body):
    before = len((await session.scalars(select(ApiKey))).all())
    response = await client.post("/v1/keys", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][0] == "body"
    assert len((await session.scalars(select(ApiKey))).all()) == before


async def test_only_admins_manage_keys(client, writer, publisher):
    for headers, expected in (({}, 401), (writer, 403), (publisher, 403)):
        listing = await client.get("/v1/keys", headers=headers)
        creating = await client.post(
            "/v1/keys", json={"name": "x", "scopes": ["admin"]}, headers=headers
        )
        assert listing.status_code == expected and creating.status_code == expected


async def test_keys_list_pages_with_a_cursor(client, admin):
    for n in range(3):
        await client.post(
            "/v1/keys", json={"name": f"k{n}", "scopes": ["content:read"]}, headers=admin
        )
    first = await client.get("/v1/keys?limit=2", headers=admin)
    assert len(first.json()["data"]) == 2 and 'rel="next"' in first.headers["link"]
    second = await client.get(
        f"/v1/keys?limit=2&cursor={first.json()['next_cursor']}", headers=admin
    )
    ids = [k["id"] for k in first.json()["data"] + second.json()["data"]]
    assert len(ids) == len(set(ids)) == 4  # three new keys and the admin's own


async def test_public_read_can_be_turned_off(client, settings):
    settings.public_read = False
    response = await client.get("/v1/articles")
    assert response.status_code == 401


async def test_keys_are_matched_by_hash_in_constant_time(client, admin, monkeypatch):
    """A key is looked up by its public prefix, then its hash is compared with
    `hmac.compare_digest`; a key that shares the prefix but not the rest is refused."""
    from app.auth import dependencies

    compared = []
    constant_time = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return constant_time(a, b)

    monkeypatch.setattr(dependencies.hmac, "compare_digest", spy)
    secret = admin["Authorization"].removeprefix("Bearer ")
    assert (await client.get("/v1/keys", headers=admin)).status_code == 200
    assert compared and all(len(a) == len(b) == 64 for a, b in compared)

    forged = secret[:10] + ("A" if secret[10] != "A" else "B") + secret[11:]
    refused = await client.get("/v1/keys", headers={"Authorization": f"Bearer {forged}"})
    assert refused.status_code == 401
