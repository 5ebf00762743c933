"""Every route against every kind of caller (issue 7). The table below names each route's
scope and how to make a valid request to it; a route the app has and the table lacks (or
the other way round) fails the suite, so no new route escapes. Keys are stored hashed and a
revoked key fails at once, also on cached reads and on another app over the same database."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import service as keys
from app.auth.scopes import Scope
from app.authors.models import Author
from app.db import get_sessionmaker
from app.main import create_app
from app.media.models import Medium
from app.ops import swagger_ui
from app.settings import Settings
from app.webhooks.models import Webhook
from tests.factories import article_data, make_article
from tests.helpers import assert_problem
from tests.ingest.scorer import GOLD
from tests.live import app_on

pytestmark = pytest.mark.anyio

PUBLIC, READ, WRITE, PUBLISH, ADMIN = "public", Scope.read, Scope.write, Scope.publish, Scope.admin
JSON = {"Content-Type": "application/json"}
STORY = (GOLD / "seed-raw.txt").read_text("utf-8")
NEW_CLAIM = {"statement": "Ferry crossings will take longer.", "kind": "report"}


class Seed:
    """Real resources for a route's path, made on demand (fresh ones for routes that
    consume them: a deleted article cannot be deleted twice)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.kept: dict[tuple[str, bool], str] = {}

    async def get(self, kind: str, published: bool, fresh: bool) -> str:
        if fresh or (kind, published) not in self.kept:
            if kind == "article":
                made = await self.article(published=published)
            else:
                made = await getattr(self, kind)()
            if fresh:
                return made
            self.kept[(kind, published)] = made
        return self.kept[(kind, published)]

    async def article(self, *, published: bool = True) -> str:
        return str((await make_article(self.session, published=published)).id)

    async def claim(self, published: bool = True) -> str:
        article = await make_article(self.session, published=published)
        await self.session.refresh(article, ["claims"])
        return str(article.claims[0].id)

    async def draft_claim(self) -> str:
        return await self.claim(published=False)

    async def source(self) -> str:
        article = await make_article(self.session)
        await self.session.refresh(article, ["claims"])
        claim = article.claims[0]
        await self.session.refresh(claim, ["attributions"])
        return str(claim.attributions[0].source_id)

    async def author(self) -> str:
        """The author of a published article (readers see only those)."""
        await make_article(self.session)
        return str(await self.session.scalar(select(Author.id).where(Author.slug == "ines-calder")))

    async def section(self) -> str:
        """A section with a published article (readers see only those)."""
        await make_article(self.session, section="local")
        return "local"

    async def webhook(self) -> str:
        now = datetime.now(UTC)
        webhook = Webhook(
            url="https://receiver.invalid/hook",
            events=["article.published"],
            view="syndicated",
            description="",
            secret="whsec_" + "A" * 32,
            enabled=True,
            consecutive_failures=0,
            created_at=now,
            updated_at=now,
        )
        self.session.add(webhook)
        await self.session.commit()
        return str(webhook.id)

    async def medium(self) -> str:
        now = datetime.now(UTC)
        medium = Medium(
            digest="d" * 64,
            alt="A pier",
            focal_x=0.5,
            focal_y=0.5,
            format="jpeg",
            width=640,
            height=480,
            bytes=1000,
            renditions=[RENDITION],
            created_at=now,
            updated_at=now,
        )
        self.session.add(medium)
        await self.session.commit()
        return str(medium.id)

    async def key(self) -> str:
        key, _ = await keys.create(self.session, "victim", [Scope.read])
        await self.session.commit()
        return str(key.id)


Request = tuple[str, dict[str, Any]]  # the path, and httpx keyword arguments


@dataclass(frozen=True)
class Route:
    scope: str
    success: int
    request: Callable[[Seed], Awaitable[Request]]


def plain(path: str, **kwargs: Any) -> Callable[[Seed], Awaitable[Request]]:
    async def make(_: Seed) -> Request:
        return path, kwargs

    return make


def on(
    kind: str, template: str, *, published: bool = True, fresh: bool = False, **kwargs: Any
) -> Callable[[Seed], Awaitable[Request]]:
    """A request on a seeded resource: shared, or `fresh` for a route that uses it up."""

    async def make(seed: Seed) -> Request:
        return template.format(await seed.get(kind, published, fresh)), kwargs

    return make


A = "/v1/articles/{}"
M = "/v1/media/{}"
# A rendition the seeded medium lists; asked for by its ETag, it is a 304 (its bytes are in
# no store here).
RENDITION = {
    "name": "640.jpg",
    "width": 640,
    "height": 480,
    "type": "image/jpeg",
    "bytes": 1000,
    "digest": "e" * 64,
}
TABLE: dict[tuple[str, str], Route] = {
    ("GET", "/v1/articles"): Route(READ, 200, plain("/v1/articles")),
    ("GET", "/v1/articles/{article}"): Route(READ, 200, on("article", A)),
    ("POST", "/v1/articles"): Route(WRITE, 201, plain("/v1/articles", json=article_data())),
    # Drafts: `content:write` edits them; live content needs `content:publish` too (below).
    ("PUT", "/v1/articles/{article}"): Route(
        WRITE,
        200,
        on("article", A, published=False, fresh=True, json=article_data(headline="Replaced")),
    ),
    ("PATCH", "/v1/articles/{article}"): Route(
        WRITE, 200, on("article", A, published=False, json={"deck": "New deck."})
    ),
    ("DELETE", "/v1/articles/{article}"): Route(PUBLISH, 204, on("article", A, fresh=True)),
    ("POST", "/v1/articles/bulk"): Route(
        WRITE,
        200,
        plain(
            "/v1/articles/bulk",
            content=httpx.Request("POST", "/", json=article_data()).content,
            headers={"Content-Type": "application/x-ndjson"},
        ),
    ),
    ("POST", "/v1/articles/{article}/publish"): Route(
        PUBLISH, 200, on("article", A + "/publish", published=False, fresh=True)
    ),
    ("POST", "/v1/articles/{article}/unpublish"): Route(
        PUBLISH, 200, on("article", A + "/unpublish", fresh=True)
    ),
    ("POST", "/v1/articles/{article}/retract"): Route(
        PUBLISH, 200, on("article", A + "/retract", fresh=True, json={"text": "Retracted."})
    ),
    ("POST", "/v1/articles/{article}/corrections"): Route(
        PUBLISH, 201, on("article", A + "/corrections", json={"text": "Corrected."})
    ),
    ("GET", "/v1/articles/{article}/revisions"): Route(WRITE, 200, on("article", A + "/revisions")),
    ("GET", "/v1/articles/{article}/revisions/{version}"): Route(
        WRITE, 200, on("article", A + "/revisions/1")
    ),
    ("GET", "/v1/articles/{article}/claims"): Route(READ, 200, on("article", A + "/claims")),
    ("POST", "/v1/articles/{article}/claims"): Route(
        WRITE, 201, on("article", A + "/claims", published=False, json=NEW_CLAIM)
    ),
    ("GET", "/v1/claims"): Route(READ, 200, plain("/v1/claims")),
    ("GET", "/v1/claims/{claim_id}"): Route(READ, 200, on("claim", "/v1/claims/{}")),
    ("PATCH", "/v1/claims/{claim_id}"): Route(
        WRITE, 200, on("draft_claim", "/v1/claims/{}", json={"verification": "disputed"})
    ),
    ("DELETE", "/v1/claims/{claim_id}"): Route(
        WRITE, 204, on("draft_claim", "/v1/claims/{}", fresh=True)
    ),
    ("POST", "/v1/ingest"): Route(
        WRITE,
        201,
        plain("/v1/ingest", content=STORY.encode(), headers={"Content-Type": "text/plain"}),
    ),
    ("GET", "/v1/changes"): Route(READ, 200, plain("/v1/changes")),
    ("GET", "/v1/sources"): Route(READ, 200, plain("/v1/sources")),
    ("GET", "/v1/sources/{source_id}"): Route(READ, 200, on("source", "/v1/sources/{}")),
    ("GET", "/v1/sources/{source_id}/claims"): Route(
        READ, 200, on("source", "/v1/sources/{}/claims")
    ),
    ("POST", "/v1/media"): Route(
        WRITE, 201, plain("/v1/media", json={"url": "https://images.example/pier.jpg"})
    ),
    ("GET", "/v1/media"): Route(WRITE, 200, plain("/v1/media")),
    ("GET", "/v1/media/{medium_id}"): Route(READ, 200, on("medium", M)),
    ("PATCH", "/v1/media/{medium_id}"): Route(
        WRITE, 200, on("medium", M, json={"caption": "The north pier."})
    ),
    ("DELETE", "/v1/media/{medium_id}"): Route(WRITE, 204, on("medium", M, fresh=True)),
    ("GET", "/v1/media/{medium_id}/{name}"): Route(
        READ,
        304,
        on("medium", M + "/640.jpg", headers={"If-None-Match": f'"{RENDITION["digest"]}"'}),
    ),
    ("GET", "/v1/authors"): Route(READ, 200, plain("/v1/authors")),
    ("GET", "/v1/authors/{author}"): Route(READ, 200, on("author", "/v1/authors/{}")),
    ("POST", "/v1/authors"): Route(WRITE, 201, plain("/v1/authors", json={"name": "Ada Obi"})),
    ("PATCH", "/v1/authors/{author_id}"): Route(
        WRITE, 200, on("author", "/v1/authors/{}", json={"bio": "Covers the harbour."})
    ),
    ("GET", "/v1/sections"): Route(READ, 200, plain("/v1/sections")),
    ("GET", "/v1/sections/{slug}"): Route(READ, 200, on("section", "/v1/sections/{}")),
    ("POST", "/v1/sections"): Route(
        WRITE, 201, plain("/v1/sections", json={"slug": "harbour-news", "name": "Harbour"})
    ),
    ("PATCH", "/v1/sections/{slug}"): Route(
        WRITE, 200, on("section", "/v1/sections/{}", json={"description": "Local news."})
    ),
    ("GET", "/v1/tags"): Route(READ, 200, plain("/v1/tags")),
    ("GET", "/v1/feeds/rss"): Route(READ, 200, plain("/v1/feeds/rss")),
    ("GET", "/v1/feeds/atom"): Route(READ, 200, plain("/v1/feeds/atom")),
    ("GET", "/v1/feeds/json"): Route(READ, 200, plain("/v1/feeds/json")),
    ("POST", "/v1/webhooks"): Route(
        ADMIN, 201, plain("/v1/webhooks", json={"url": "https://hooks.example.org/x"})
    ),
    ("GET", "/v1/webhooks"): Route(ADMIN, 200, plain("/v1/webhooks")),
    ("GET", "/v1/webhooks/{webhook_id}"): Route(ADMIN, 200, on("webhook", "/v1/webhooks/{}")),
    ("PATCH", "/v1/webhooks/{webhook_id}"): Route(
        ADMIN, 200, on("webhook", "/v1/webhooks/{}", json={"description": "Partner feed"})
    ),
    ("DELETE", "/v1/webhooks/{webhook_id}"): Route(
        ADMIN, 204, on("webhook", "/v1/webhooks/{}", fresh=True)
    ),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): Route(
        ADMIN, 200, on("webhook", "/v1/webhooks/{}/deliveries")
    ),
    ("POST", "/v1/webhooks/{webhook_id}/test"): Route(
        ADMIN, 200, on("webhook", "/v1/webhooks/{}/test")
    ),
    ("POST", "/v1/keys"): Route(
        ADMIN, 201, plain("/v1/keys", json={"name": "new", "scopes": ["content:read"]})
    ),
    ("GET", "/v1/keys"): Route(ADMIN, 200, plain("/v1/keys")),
    ("DELETE", "/v1/keys/{key_id}"): Route(ADMIN, 204, on("key", "/v1/keys/{}", fresh=True)),
    ("GET", "/healthz"): Route(PUBLIC, 200, plain("/healthz")),
    ("GET", "/readyz"): Route(PUBLIC, 200, plain("/readyz")),
    ("GET", "/metrics"): Route(ADMIN, 200, plain("/metrics")),
    ("GET", "/openapi.json"): Route(PUBLIC, 200, plain("/openapi.json")),
    ("GET", "/docs"): Route(PUBLIC, 200, plain("/docs")),
    ("GET", "/docs/assets/{version}/{name}"): Route(
        PUBLIC, 200, plain(swagger_ui.url("swagger-ui.css"))
    ),
    ("GET", "/problems"): Route(PUBLIC, 200, plain("/problems")),
    ("GET", "/problems/{code}"): Route(PUBLIC, 200, plain("/problems/not-found")),
}


def app_routes(settings: Settings) -> set[tuple[str, str]]:
    found = set()
    for context in iter_route_contexts(create_app(settings).routes):
        route = context.original_route
        assert isinstance(route, APIRoute), f"not an API route: {route!r}"
        found |= {(method, context.path) for method in context.methods}
    return found


def test_the_table_names_every_route_of_the_app_and_no_other(settings):
    routes = app_routes(settings)
    assert sorted(routes - set(TABLE)) == [], "routes missing from the table"
    assert sorted(set(TABLE) - routes) == [], "the table names routes the app lacks"


# --- callers -------------------------------------------------------------------------------

KEYED = {
    "content:read": [Scope.read],
    "content:write": [Scope.write],
    "content:publish": [Scope.publish],
    "admin": [Scope.admin],
    "all-scopes": list(Scope),
}
CALLERS = ["anonymous", "anonymous-no-public-read", "malformed", "unknown", "revoked", *KEYED]
# What each scope grants (the implied content:read included).
GRANTS = {
    Scope.read: {Scope.read},
    Scope.write: {Scope.write, Scope.read},
    Scope.publish: {Scope.publish, Scope.read},
    Scope.admin: {Scope.admin, Scope.read},
}


async def caller_headers(session: AsyncSession, caller: str) -> dict[str, str]:
    if caller.startswith("anonymous"):
        return {}
    if caller == "malformed":
        return {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}
    if caller == "unknown":
        return {"Authorization": "Bearer nd_" + "x" * 43}
    scopes = list(Scope) if caller == "revoked" else KEYED[caller]
    key, secret = await keys.create(session, caller, scopes)
    if caller == "revoked":
        await keys.revoke(session, key.id)
    await session.commit()
    return {"Authorization": f"Bearer {secret}"}


def expected_status(route: Route, caller: str) -> int:
    if route.scope == PUBLIC:
        return route.success
    if caller == "anonymous":
        return route.success if route.scope == READ else 401
    if caller in ("anonymous-no-public-read", "malformed", "unknown", "revoked"):
        return 401
    granted = set().union(*(GRANTS[scope] for scope in KEYED[caller]))
    return route.success if route.scope in granted else 403


@pytest.fixture
async def matrix_client(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings):
    """Like `client`, with public read turned off when the test's caller asks for it."""

    async def make(public_read: bool) -> httpx.AsyncClient:
        app = create_app(settings.model_copy(update={"public_read": public_read}))
        app.dependency_overrides[get_sessionmaker] = lambda: sessionmaker
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    clients: list[httpx.AsyncClient] = []

    async def opened(public_read: bool) -> httpx.AsyncClient:
        clients.append(await make(public_read))
        return clients[-1]

    yield opened
    for client in clients:
        await client.aclose()


def assert_refusal(response: httpx.Response, status: int) -> None:
    assert_problem(response, status)
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("caller", CALLERS)
async def test_every_route_answers_every_caller_as_its_scope_says(matrix_client, session, caller):
    client = await matrix_client(public_read=caller != "anonymous-no-public-read")
    headers = await caller_headers(session, caller)
    seed = Seed(session)
    wrong = []
    for (method, template), route in sorted(TABLE.items()):
        path, kwargs = await route.request(seed)
        kwargs = dict(kwargs)
        kwargs["headers"] = {**kwargs.get("headers", {}), **headers}
        response = await client.request(method, path, **kwargs)
        want = expected_status(route, caller)
        if response.status_code != want:
            wrong.append(
                f"{method} {template}: {response.status_code}, not {want}: {response.text[:200]}"
            )
        elif want in (401, 403):
            assert_refusal(response, want)
    assert wrong == [], "\n".join(wrong)


# --- drafts and scheduled articles are 404 without content:write ---------------------------

SEES_DRAFTS = {"content:write", "content:publish", "all-scopes"}


@pytest.mark.parametrize("caller", ["anonymous", *KEYED])
async def test_drafts_and_scheduled_articles_are_404_to_callers_who_cannot_see_them(
    matrix_client, session, caller
):
    client = await matrix_client(public_read=True)
    headers = await caller_headers(session, caller)
    draft = await make_article(session, published=False, slug="a-draft")
    scheduled = await make_article(
        session, slug="scheduled", published_at=datetime.now(UTC) + timedelta(days=1)
    )
    for article in (draft, scheduled):
        await session.refresh(article, ["claims"])
        for path in (
            f"/v1/articles/{article.id}",
            f"/v1/articles/{article.slug}",
            f"/v1/articles/{article.id}/claims",
            f"/v1/claims/{article.claims[0].id}",
        ):
            response = await client.get(path, headers=headers)
            if caller in SEES_DRAFTS:
                assert response.status_code == 200, (path, response.text)
            else:
                assert_problem(response, 404)


# --- live content is changed only with content:publish --------------------------------------


def changes_to(article: Any, claim_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every way of changing an article or its claims, as (method, path, httpx kwargs)."""
    bulk_line = httpx.Request(
        "POST", "/", json=article_data(slug=article.slug, headline="Rewritten")
    ).content
    return [
        ("PATCH", f"/v1/articles/{article.id}", {"json": {"headline": "Rewritten"}}),
        ("PUT", f"/v1/articles/{article.id}", {"json": article_data(headline="Rewritten")}),
        ("POST", f"/v1/articles/{article.id}/claims", {"json": NEW_CLAIM}),
        ("PATCH", f"/v1/claims/{claim_id}", {"json": {"statement": "Rewritten."}}),
        ("DELETE", f"/v1/claims/{claim_id}", {}),
        (
            "POST",
            "/v1/articles/bulk",
            {"content": bulk_line, "headers": {"Content-Type": "application/x-ndjson"}},
        ),
    ]


@pytest.mark.parametrize("state", ["published", "scheduled", "retracted"])
async def test_a_writer_without_publish_cannot_change_what_readers_see(client, session, state):
    writer = await caller_headers(session, "content:write")
    both = {"Authorization": (await caller_headers(session, "all-scopes"))["Authorization"]}
    at = datetime.now(UTC) + (timedelta(days=1) if state == "scheduled" else -timedelta(hours=1))
    article = await make_article(session, slug=f"live-{state}", published_at=at)
    if state == "retracted":
        retract = f"/v1/articles/{article.id}/retract"
        assert (await client.post(retract, json={"text": "No."}, headers=both)).status_code == 200
    await session.refresh(article, ["claims"])
    claim_id = str(article.claims[0].id)
    before = (await client.get(f"/v1/articles/{article.id}", headers=both)).json()

    for method, path, kwargs in changes_to(article, claim_id):
        headers = {**kwargs.pop("headers", {}), **writer}
        response = await client.request(method, path, headers=headers, **kwargs)
        if path.endswith("/bulk"):
            [line] = response.json()["lines"]
            assert line["status"] == "error", line
            assert "content:publish" in line["errors"][0]["msg"]
        else:
            assert "content:publish" in assert_problem(response, 403)["detail"], path

    assert (await client.get(f"/v1/articles/{article.id}", headers=both)).json() == before
    # With content:publish as well, the same change goes through.
    response = await client.patch(
        f"/v1/articles/{article.id}", json={"deck": "Changed."}, headers=both
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Bearer  \t",
        "bearer",
        "Token nd_x",
        "nd_abc",
        "Bearer nd_a nd_b",
        "Bearer \u00e9",
    ],
)
async def test_malformed_authorization_headers_are_401(client, authorization):
    response = await client.get(
        "/v1/articles", headers={"Authorization": authorization.encode("utf-8")}
    )
    assert_refusal(response, 401)


# --- keys are stored hashed ----------------------------------------------------------------


async def stored_text(session: AsyncSession, table: str) -> str:
    rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608
    return "\n".join(repr(tuple(row)) for row in rows)


async def test_keys_are_stored_only_as_hashes(client, session, admin):
    response = await client.post(
        "/v1/keys", json={"name": "over http", "scopes": ["content:write"]}, headers=admin
    )
    assert response.status_code == 201, response.text
    over_http = response.json()["key"]
    _, from_service = await keys.create(session, "from the cli", [Scope.admin])
    await session.commit()
    refused = await client.post(
        "/v1/keys",
        json={"name": "replayable", "scopes": ["content:read"]},
        headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert_problem(refused, 400)
    table = await stored_text(session, "api_key")
    records = await stored_text(session, "idempotency_record")
    for secret in (over_http, from_service):
        random_part = secret.removeprefix(keys.KEY_PREFIX)
        assert secret not in table and random_part not in table
        assert random_part[-20:] not in table
        assert random_part[-20:] not in records
    assert "replayable" not in table
    # Each still works: what is stored is enough to recognise it.
    for secret in (over_http, from_service):
        response = await client.get("/v1/articles", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200


# --- revoked keys fail at once -------------------------------------------------------------


async def test_a_revoked_key_fails_on_the_very_next_request_even_a_cached_read(
    client, session, admin
):
    article = await make_article(session)
    created = (
        await client.post(
            "/v1/keys", json={"name": "soon revoked", "scopes": ["content:write"]}, headers=admin
        )
    ).json()
    key = {"Authorization": f"Bearer {created['key']}"}
    path = f"/v1/articles/{article.id}"
    # Warm the anonymous cache of rendered articles, and use the key on the same read.
    for _ in range(2):
        assert (await client.get(path)).status_code == 200
        assert (await client.get(path, headers=key)).status_code == 200
    assert (await client.delete(f"/v1/keys/{created['id']}", headers=admin)).status_code == 204
    for target in (path, f"/v1/articles/{article.slug}", "/v1/articles", "/v1/feeds/rss"):
        assert_refusal(await client.get(target, headers=key), 401)
        refused = await client.get(target, headers={**key, "If-None-Match": "*"})
        assert_refusal(refused, 401)
    assert (await client.get(path)).status_code == 200


async def test_a_key_revoked_through_one_app_fails_at_once_on_another(live, engine, settings):
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker() as session:
        _, admin_secret = await keys.create(session, "ops", [Scope.admin])
        key, secret = await keys.create(session, "partner", [Scope.read, Scope.write])
        await session.commit()
    admin = {"Authorization": f"Bearer {admin_secret}"}
    partner = {"Authorization": f"Bearer {secret}"}
    created = await live.client.post("/v1/articles", json=article_data(), headers=live.headers)
    assert created.status_code == 201
    path = f"/v1/articles/{created.json()['id']}"
    async with app_on(engine, settings) as other:
        assert (await other.get(path, headers=partner)).status_code == 200
        assert (await live.client.get(path, headers=partner)).status_code == 200
        revoked = await live.client.delete(f"/v1/keys/{key.id}", headers=admin)
        assert revoked.status_code == 204
        assert_refusal(await other.get(path, headers=partner), 401)
        assert_refusal(await other.get("/v1/articles", headers=partner), 401)
        assert_refusal(await live.client.get(path, headers=partner), 401)
