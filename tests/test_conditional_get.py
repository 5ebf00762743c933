"""Every GET route answers 200 with a strong ETag and honours If-None-Match with a 304 that
has no body: checked over the whole published contract, so a new route cannot forget it."""

import pytest

from app.main import create_app
from app.settings import Settings
from tests.factories import make_article
from tests.media.pictures import photo

pytestmark = pytest.mark.anyio


# Counters that change with every request, the scrape included: never the same bytes
# twice, so no validator; it is sent `no-store` instead (checked below).
LIVE = {"/metrics"}


def get_paths() -> list[str]:
    """Every documented GET but the live ones, and the two undocumented ones (the spec and
    its browser)."""
    spec = create_app(Settings(_env_file=None)).openapi()
    documented = [path for path, operations in spec["paths"].items() if "get" in operations]
    return sorted([*(set(documented) - LIVE), "/openapi.json", "/docs"])


async def test_every_get_route_has_a_strong_etag_and_answers_304(client, session, writer, admin):
    article = await make_article(session)
    claim = article.claims[0]
    webhook = await client.post(
        "/v1/webhooks", json={"url": "https://hooks.partner.example/in"}, headers=admin
    )
    medium = await client.post(
        "/v1/media", files={"file": ("pier.jpg", photo(800, 600), "image/jpeg")}, headers=writer
    )
    values = {
        "{medium_id}": medium.json()["id"],
        "{name}": "320.jpg",
        "{webhook_id}": webhook.json()["id"],
        "{article}": str(article.id),
        "{claim_id}": str(claim.id),
        "{source_id}": str(claim.attributions[0].source_id),
        "{version}": "1",
        "{author}": "ines-calder",
        "{slug}": "local",
    }
    paths = get_paths()
    assert len(paths) >= 15
    for template in paths:
        path = template
        for name, value in values.items():
            path = path.replace(name, value)
        assert "{" not in path, f"no test value for {template}"
        headers = admin if path.startswith(("/v1/keys", "/v1/webhooks")) else writer
        first = await client.get(path, headers=headers)
        assert first.status_code == 200, f"{path}: {first.status_code} {first.text[:200]}"
        etag = first.headers.get("etag", "")
        assert etag.startswith('"') and etag.endswith('"'), f"{path} has no strong ETag"
        again = await client.get(path, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["etag"] == etag


async def test_metrics_are_never_cached(client, admin):
    response = await client.get("/metrics", headers=admin)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers
