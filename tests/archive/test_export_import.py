"""`newsdesk export` and `newsdesk import`: an export of a newsroom with articles in every
state restores, into an empty database on either backend, to the same bytes, the same API
answers and a changes feed that replays to the public set; a refused import stores nothing."""

import base64
import io
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.archive import export, importer
from app.articles.models import Article, ArticleRevision
from app.articles.service import FULL_LOAD
from app.auth import service as keys
from app.auth.scopes import Scope
from app.authors.models import Author
from app.changes.models import ChangeEvent, ScheduledChange
from app.claims.models import Attribution, Claim
from app.db import create_engine, get_sessionmaker
from app.main import create_app
from app.media.models import Medium
from app.media.storage import MediaStore
from app.ops.service import alembic_config
from app.settings import Settings
from app.sources.models import Source
from app.taxonomy.models import Section
from tests.databases import BACKENDS, fresh_database
from tests.factories import article_data
from tests.helpers import ROOT, count_rows, newsdesk, replay
from tests.live import Live
from tests.media.pictures import photo

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # the tests run export and import

STORED = (
    Article,
    Claim,
    Attribution,
    Source,
    ArticleRevision,
    ChangeEvent,
    ScheduledChange,
    Medium,
    Author,
    Section,
)
OFFICIALS = {"name": "Senior officials", "kind": "anonymous", "affiliation": "Port ministry"}
REVIEW = {
    "rating": "Mostly true",
    "rating_value": 4,
    "best_rating": 5,
    "worst_rating": 1,
    "reviewed_by": "Newsdesk fact check",
    "reviewed_at": "2026-11-20T08:30:00Z",
    "url": "https://factcheck.example/pier",
}
PUBLIC = ("pier-closes", "bridge-retracted", "pier-corrected", "partners-closed")


# --- databases, the media store and the command line -----------------------------------------


@pytest.fixture
def media_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """One media directory for the app and the commands it runs (they inherit the env)."""
    url = (tmp_path / "media").resolve().as_uri()
    monkeypatch.setenv("NEWSDESK_MEDIA_STORE_URL", url)
    return url


@pytest.fixture
def settings(settings: Settings, media_url: str) -> Settings:
    return settings.model_copy(update={"media_store_url": media_url})


def _migrated(backend: str, directory: Path) -> tuple[str, Callable[[], None]]:
    url, drop = fresh_database(backend, directory)
    command.upgrade(alembic_config(url), "head")
    return url, drop


@pytest.fixture
def target(backend: str, tmp_path: Path) -> Iterator[str]:
    """A second database on the test's backend, empty and migrated."""
    url, drop = _migrated(backend, tmp_path)
    yield url
    drop()


@pytest.fixture
def targets(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An empty, migrated database on every backend under test."""
    made = {backend: _migrated(backend, tmp_path) for backend in BACKENDS}
    yield {backend: url for backend, (url, _) in made.items()}
    for _, drop in made.values():
        drop()


def newsdesk_bytes(url: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """`tests.helpers.newsdesk`, with bytes in and out: `stdin` piped in, stdout as sent."""
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env={**os.environ, "NEWSDESK_DATABASE_URL": url},
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


async def _export(engine: AsyncEngine) -> bytes:
    """The export, made in this process (the command is tested elsewhere in this module)."""
    out = io.BytesIO()
    store = MediaStore(os.environ["NEWSDESK_MEDIA_STORE_URL"])
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        await export.export_articles(session, out, store)
    return out.getvalue()


async def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with AsyncSession(engine) as session:
            return {model.__name__: await count_rows(session, model) for model in STORED}
    finally:
        await engine.dispose()


@dataclass
class Restored:
    client: httpx.AsyncClient
    headers: dict[str, str]
    sessionmaker: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def _serving(url: str, settings: Settings) -> AsyncIterator[Restored]:
    """The app on the database at `url` (settings otherwise the same), with a key made there."""
    engine = create_engine(url)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessionmaker.begin() as session:
            _, secret = await keys.create(session, "restorer", [Scope.write, Scope.publish])
        app = create_app(settings.model_copy(update={"database_url": url}))
        app.dependency_overrides[get_sessionmaker] = lambda: sessionmaker
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            yield Restored(client, {"Authorization": f"Bearer {secret}"}, sessionmaker)
    finally:
        await engine.dispose()


# --- the newsroom --------------------------------------------------------------------------


async def _call(live: Live, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    response = await live.client.request(method, url, headers=live.headers, **kwargs)
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.content else {}


@pytest.fixture
async def newsroom(live: Live) -> dict[str, str]:
    """Articles in every state, committed, built over the API with several revisions each:
    the article ids by slug, in the order they were created."""
    ids: dict[str, str] = {}
    now = datetime.now(UTC)

    async def create(slug: str, **overrides: Any) -> str:
        created = await _call(
            live, "POST", "/v1/articles", json=article_data(slug=slug, **overrides)
        )
        ids[slug] = created["id"]
        return f"/v1/articles/{created['id']}"

    async def publish(url: str, at: datetime | None = None) -> None:
        body = {"published_at": at.isoformat()} if at else None
        await _call(live, "POST", f"{url}/publish", json=body)

    draft = await create("ferry-timetable", headline="Überfahrt: ferry timetable — changes")
    await _call(
        live,
        "PATCH",
        draft,
        json={
            "deck": "Winter hours.",
            "authors": [{"name": "Ines Calder"}, {"name": "Jonas Weiß"}],
        },
    )

    photo_of_pier = await live.client.post(
        "/v1/media",
        files={"file": ("pier.jpg", photo(800, 600), "image/jpeg")},
        data={"alt": "The north pier", "credit": "Photo: Ana Pell"},
        headers=live.headers,
    )
    assert photo_of_pier.status_code == 201, photo_of_pier.text
    await _call(live, "POST", "/v1/media", json={"url": "https://dam.example/wall.jpg"})
    ines = (await _call(live, "GET", "/v1/authors", params={"q": "ines"}))["data"][0]
    avatar = {"avatar": {"id": photo_of_pier.json()["id"]}}
    await _call(live, "PATCH", f"/v1/authors/{ines['id']}", json=avatar)
    pier = await create("pier-closes", featured_image={"id": photo_of_pier.json()["id"]})
    await publish(pier, now - timedelta(days=2))
    claim = await _call(
        live,
        "POST",
        f"{pier}/claims",
        json={
            "statement": "Repairs will take six weeks.",
            "kind": "report",
            "verification": "disputed",
            "review": REVIEW,
            "attributions": [
                {
                    "source": OFFICIALS,
                    "role": "reported_by",
                    "cue": "officials said",
                    "anonymous_description": "two officials familiar with the plan",
                }
            ],
        },
    )
    await _call(live, "PATCH", f"/v1/claims/{claim['id']}", json={"verification": "confirmed"})
    first_claim = (await _call(live, "GET", pier))["claims"][0]["id"]
    await _call(live, "DELETE", f"/v1/claims/{first_claim}")  # leaves a gap in the positions
    await _call(live, "PATCH", pier, json={"body": "The pier closes. Nobody was quoted."})

    await publish(await create("harbour-fees", section="business"), now + timedelta(days=3))

    retracted = await create("bridge-retracted", tags=["bridge"])
    await publish(retracted)
    await _call(live, "POST", f"{retracted}/retract", json={"text": "The bridge never closed."})

    corrected = await create("pier-corrected")
    await publish(corrected)
    for text in ("The director's name was misspelt.", "The pier is in the north."):
        await _call(live, "POST", f"{corrected}/corrections", json={"text": text})

    deleted = await create("old-story")
    await publish(deleted)
    await _call(live, "DELETE", deleted)

    pulled = await create("pulled")
    await publish(pulled)
    await _call(live, "POST", f"{pulled}/unpublish")

    closed = await create(
        "partners-closed",
        syndication={"allowed": False, "usage_terms": "Not for resale."},
        claims=[
            {
                "statement": "The ministry backs the repairs.",
                "attributions": [{"source": OFFICIALS, "role": "confirmed_by"}],
            }
        ],
    )
    await publish(closed)
    return ids


# --- the round trip ------------------------------------------------------------------------


async def test_export_import_export_is_byte_identical_on_every_backend(
    newsroom: dict[str, str],
    database_url: str,
    targets: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = tmp_path / "newsroom.ndjson"
    exported = newsdesk(database_url, "export", "--out", str(archive))
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr.strip() == f"Exported {len(newsroom)} articles."

    every = [orjson.loads(line) for line in archive.read_bytes().splitlines()]
    assert {line["format"] for line in every} == {"newsdesk-export/2"}
    # Sections first, then media, authors (whose pictures are media), then articles.
    order = ["section", "medium", "author", "article"]
    kinds = [next(k for k in order if k in line) for line in every]
    assert kinds == sorted(kinds, key=order.index)
    media_ids = [line["medium"]["id"] for line in every if "medium" in line]
    assert [line["section"]["slug"] for line in every if "section" in line] == [
        "business",
        "local",
    ]
    authors = {line["author"]["name"]: line["author"] for line in every if "author" in line}
    assert sorted(authors) == ["Ines Calder", "Jonas Weiß"]
    assert authors["Jonas Weiß"]["slug"] == "jonas-wei"
    assert authors["Ines Calder"]["avatar_id"] == media_ids[0]
    # The uploaded file travels with the export; the external image is its URL.
    media = [line["medium"] for line in every if "medium" in line]
    assert media[0]["data"] and media[0]["digest"]
    assert media[1]["url"] == "https://dam.example/wall.jpg"
    assert media[1]["data"] is None
    lines = [line for line in every if "article" in line]
    assert [line["article"]["slug"] for line in lines] == list(newsroom)
    by_slug_authors = {line["article"]["slug"]: line["article"]["authors"] for line in lines}
    assert by_slug_authors["ferry-timetable"] == [
        authors["Ines Calder"]["id"],
        authors["Jonas Weiß"]["id"],
    ]
    for line in lines:  # every version is there, each with its snapshot
        versions = [revision["version"] for revision in line["revisions"]]
        assert versions == list(range(1, line["article"]["version"] + 1))
    by_slug = {line["article"]["slug"]: line["article"] for line in lines}
    assert by_slug["old-story"]["deleted_at"] is not None
    assert [c["position"] for c in by_slug["pier-closes"]["claims"]] == [1, 2]
    assert by_slug["pier-closes"]["claims"][0]["anchor_status"] == "orphaned"

    for backend, url in targets.items():  # into either backend, whichever it came from
        # Into an empty media store: the file and its renditions come from the export.
        elsewhere = (tmp_path / f"media-{backend}").resolve().as_uri()
        monkeypatch.setenv("NEWSDESK_MEDIA_STORE_URL", elsewhere)
        imported = newsdesk(url, "import", str(archive))
        assert imported.returncode == 0, imported.stderr
        assert imported.stdout.strip() == f"Imported {len(newsroom)} articles."
        again = tmp_path / f"again-{backend}.ndjson"
        assert newsdesk(url, "export", "--out", str(again)).returncode == 0
        assert again.read_bytes() == archive.read_bytes(), backend


async def test_out_file_and_stdout_give_the_same_bytes(
    newsroom: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    archive = tmp_path / "out.ndjson"
    written = newsdesk_bytes(database_url, "export", "--out", str(archive))
    printed = newsdesk_bytes(database_url, "export")
    assert written.returncode == printed.returncode == 0
    assert written.stdout == b""
    assert printed.stdout == archive.read_bytes()
    articles = [line for line in printed.stdout.splitlines() if b'"article":' in line]
    assert len(articles) == len(newsroom)


async def test_imported_articles_read_back_identically(
    newsroom: dict[str, str],
    live: Live,
    engine: AsyncEngine,
    target: str,
    settings: Settings,
) -> None:
    imported = newsdesk_bytes(target, "import", "-", stdin=await _export(engine))
    assert imported.returncode == 0, imported.stderr
    statuses: dict[str, int] = {}
    async with _serving(target, settings) as restored:
        for article_id in newsroom.values():
            for path in (f"/v1/articles/{article_id}", f"/v1/articles/{article_id}/revisions"):
                before = await live.client.get(path, headers=live.headers)
                after = await restored.client.get(path, headers=restored.headers)
                assert after.status_code == before.status_code, path
                assert after.content == before.content, path
                assert after.headers.get("etag") == before.headers.get("etag"), path
                statuses[path] = after.status_code
    # Every article reads back, but the deleted one: it is gone, with its history kept.
    gone = [path for path, status in statuses.items() if status != 200]
    assert gone == [f"/v1/articles/{newsroom['old-story']}"]
    assert statuses[gone[0]] == 410


async def test_page_boundaries_change_nothing(
    newsroom: dict[str, str], engine: AsyncEngine, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = await _export(engine)
    assert len(newsroom) == 8
    monkeypatch.setattr(export, "PAGE_SIZE", 4)  # two full pages, then an empty one
    assert await _export(engine) == whole
    monkeypatch.setattr(importer, "PAGE_SIZE", 1)  # every article its own page of events
    restored = create_engine(target)
    try:
        async with async_sessionmaker(restored, expire_on_commit=False).begin() as session:
            store = MediaStore(os.environ["NEWSDESK_MEDIA_STORE_URL"])
            imported = await importer.import_articles(session, io.BytesIO(whole), store, 10**8)
            assert imported == 8
        assert await _export(restored) == whole
        async with AsyncSession(restored) as session:
            public = select(ChangeEvent.article_id).where(ChangeEvent.in_public.is_(True))
            announced = {str(i) for i in await session.scalars(public)}
            pending = [str(i) for i in await session.scalars(select(ScheduledChange.article_id))]
    finally:
        await restored.dispose()
    assert announced == {newsroom[slug] for slug in PUBLIC}
    assert pending == [newsroom["harbour-fees"]]


# --- the changes feed ----------------------------------------------------------------------


async def _feed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every event from the start, following the cursor."""
    events: list[dict[str, Any]] = []
    since = None
    while True:
        params = {"limit": 100, **({"since": since} if since else {})}
        response = await client.get("/v1/changes", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        if not page["data"]:
            return events
        events += page["data"]
        since = page["next_cursor"]


async def test_the_changes_feed_replays_to_the_public_set_after_import(
    newsroom: dict[str, str],
    live: Live,
    engine: AsyncEngine,
    target: str,
    settings: Settings,
    tmp_path: Path,
) -> None:
    archive = tmp_path / "newsroom.ndjson"
    archive.write_bytes(await _export(engine))
    assert newsdesk(target, "import", str(archive)).returncode == 0

    public = {newsroom[slug] for slug in PUBLIC}
    syndicated = public - {newsroom["partners-closed"]}
    assert replay(await _feed(live.client, live.headers)) == public  # the source agrees
    async with _serving(target, settings) as restored:
        newsroom_view = await _feed(restored.client, restored.headers)
        partner_view = await _feed(restored.client, {})
        assert replay(newsroom_view) == public
        assert replay(partner_view) == syndicated
        assert {e["event"] for e in newsroom_view} == {"article.published"}
        async with restored.sessionmaker() as session:
            visible = select(Article.id).where(Article.public_at(datetime.now(UTC)))
            assert {str(i) for i in await session.scalars(visible)} == public
            pending = (await session.scalars(select(ScheduledChange))).all()
            fees = await session.get(Article, uuid.UUID(newsroom["harbour-fees"]))
    # The scheduled article enters the feed when its time comes, as it would have.
    assert fees is not None and fees.published_at is not None
    assert [(p.article_id, p.due_at) for p in pending] == [(fees.id, fees.published_at)]
    assert fees.published_at > datetime.now(UTC)


# --- refusals ------------------------------------------------------------------------------


async def test_import_refuses_a_database_that_has_articles(
    newsroom: dict[str, str], database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    archive = tmp_path / "newsroom.ndjson"
    archive.write_bytes(await _export(engine))
    before = await _row_counts(database_url)
    result = newsdesk(database_url, "import", str(archive))
    assert result.returncode == 1
    assert f"already holds {len(newsroom)} articles" in result.stderr
    assert "empty database" in result.stderr
    assert "Traceback" not in result.stderr
    assert await _row_counts(database_url) == before


def _cut_short(line: dict[str, Any]) -> bytes:
    return orjson.dumps(line)[:-20]


def _from_the_future(line: dict[str, Any]) -> bytes:
    return orjson.dumps({**line, "format": "newsdesk-export/3"})


def _without_slug(line: dict[str, Any]) -> bytes:
    del line["article"]["slug"]
    return orjson.dumps(line)


def _sources_renamed(line: dict[str, Any]) -> bytes:
    for claim in line["article"]["claims"]:
        for attribution in claim["attributions"]:
            attribution["source"]["name"] += " (renamed)"
    return orjson.dumps(line)


@pytest.mark.parametrize(
    ("spoil", "complaint"),
    [
        (_cut_short, "is not valid JSON"),
        (_from_the_future, "format 'newsdesk-export/3'"),
        (_without_slug, "article.slug: Field required"),
        (_sources_renamed, "otherwise than line 1"),
    ],
    ids=["bad-json", "unknown-format", "missing-field", "conflicting-source"],
)
async def test_a_bad_line_is_refused_by_number_and_nothing_is_stored(
    newsroom: dict[str, str],
    engine: AsyncEngine,
    target: str,
    tmp_path: Path,
    spoil: Callable[[dict[str, Any]], bytes],
    complaint: str,
) -> None:
    lines = (await _export(engine)).splitlines(keepends=True)
    # The first article's line is good, and stored first; the second's is spoilt.
    first, second = [i for i, line in enumerate(lines) if b'"article":' in line][:2]
    lines[second] = spoil(orjson.loads(lines[second])) + b"\n"
    archive = tmp_path / "spoilt.ndjson"
    archive.write_bytes(b"".join(lines))
    result = newsdesk(target, "import", str(archive))
    assert result.returncode == 1
    assert f"Nothing imported. Line {second + 1} " in result.stderr
    assert complaint.replace("line 1", f"line {first + 1}") in result.stderr
    assert set((await _row_counts(target)).values()) == {0}


# --- media ---------------------------------------------------------------------------------


async def test_an_export_of_media_keys_imports_beside_the_same_store_only(
    newsroom: dict[str, str],
    media_url: str,
    database_url: str,
    targets: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = tmp_path / "keys.ndjson"
    assert (
        newsdesk(database_url, "export", "--media", "keys", "--out", str(archive)).returncode == 0
    )
    every = archive.read_bytes().splitlines()
    at = next(i for i, line in enumerate(every) if b'"medium":' in line)
    medium = orjson.loads(every[at])["medium"]
    assert medium["data"] is None and medium["digest"]
    url = next(iter(targets.values()))

    monkeypatch.setenv("NEWSDESK_MEDIA_STORE_URL", (tmp_path / "empty").resolve().as_uri())
    refused = newsdesk(url, "import", str(archive))
    assert refused.returncode == 1
    assert f"Nothing imported. Line {at + 1} " in refused.stderr
    assert "does not hold it" in refused.stderr
    assert set((await _row_counts(url)).values()) == {0}

    monkeypatch.setenv("NEWSDESK_MEDIA_STORE_URL", media_url)  # beside the exported-from store
    assert newsdesk(url, "import", str(archive)).returncode == 0


def _medium_tampered(line: dict[str, Any]) -> bytes:
    line["medium"]["data"] = base64.b64encode(b"not the file").decode()
    return orjson.dumps(line)


async def test_a_medium_whose_file_is_not_its_own_is_refused(
    newsroom: dict[str, str], engine: AsyncEngine, target: str, tmp_path: Path
) -> None:
    lines = (await _export(engine)).splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if b'"medium":' in line)
    lines[at] = _medium_tampered(orjson.loads(lines[at])) + b"\n"
    archive = tmp_path / "tampered.ndjson"
    archive.write_bytes(b"".join(lines))
    result = newsdesk(target, "import", str(archive))
    assert result.returncode == 1
    assert f"Line {at + 1}: medium" in result.stderr
    assert "does not match its digest" in result.stderr
    assert set((await _row_counts(target)).values()) == {0}


# --- the format before authors and sections were resources --------------------------------


def _as_format_1(line: dict[str, Any], names: dict[str, str]) -> bytes:
    """An article line as `newsdesk-export/1` wrote it: the byline as names, no images."""
    article = {
        **line["article"],
        "authors": [{"name": names[a]} for a in line["article"]["authors"]],
    }
    del article["featured_image_id"], article["featured_image_caption"]
    return orjson.dumps(
        {"format": "newsdesk-export/1", "article": article, "revisions": line["revisions"]}
    )


async def test_a_format_1_file_still_imports_with_its_authors_and_sections(
    newsroom: dict[str, str], engine: AsyncEngine, target: str, tmp_path: Path
) -> None:
    every = [orjson.loads(line) for line in (await _export(engine)).splitlines()]
    names = {line["author"]["id"]: line["author"]["name"] for line in every if "author" in line}
    old = [_as_format_1(line, names) for line in every if "article" in line]
    archive = tmp_path / "format-1.ndjson"
    archive.write_bytes(b"\n".join(old) + b"\n")

    result = newsdesk(target, "import", str(archive))

    assert result.returncode == 0, result.stderr
    restored = create_engine(target)
    try:
        async with AsyncSession(restored) as session:
            authors = {a.name: a.slug for a in await session.scalars(select(Author))}
            sections = {s.slug: s.name for s in await session.scalars(select(Section))}
            ferry = await session.scalar(
                select(Article).where(Article.slug == "ferry-timetable").options(*FULL_LOAD)
            )
            assert ferry is not None
            byline = [a.name for a in ferry.authors]
    finally:
        await restored.dispose()
    assert authors == {"Ines Calder": "ines-calder", "Jonas Weiß": "jonas-wei"}
    assert sections == {"business": "Business", "local": "Local"}
    assert byline == ["Ines Calder", "Jonas Weiß"]
