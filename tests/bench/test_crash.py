"""The crash test (bench/crash.py): its checker finds lost and half-written writes in a
damaged database, and a short real run (serve SIGKILLed mid-load and restarted) loses
nothing on each backend."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.articles.models import Article, ArticleRevision
from app.auth import service as keys
from app.auth.scopes import Scope
from app.claims.models import Attribution
from app.db import create_engine
from app.ops.service import alembic_config
from app.settings import Settings
from bench import crash
from tests.databases import BACKENDS, fresh_database
from tests.live import app_on


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    url, drop = fresh_database(request.param, tmp_path)
    yield request.param, url
    drop()


async def _load_in_process(url: str, acks: int) -> crash.Ledger:
    """The crash test's writers against the app in this process, until `acks` writes are
    acknowledged: a ledger and the database it describes."""
    engine = create_engine(url)
    async with async_sessionmaker(engine).begin() as session:
        _, secret = await keys.create(session, "crash", [Scope.write, Scope.publish])
    settings = Settings(
        database_url=url, rate_limit_anonymous=0, rate_limit_per_key=0, _env_file=None
    )
    ledger = crash.Ledger()
    async with app_on(engine, settings) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        load = crash.Load(client, ledger, asyncio.Event(), seed=3)
        writers = [asyncio.create_task(load.writer(n)) for n in range(3)]
        while len(ledger.acks) < acks:  # noqa: ASYNC110  (polls the ledger)
            await asyncio.sleep(0.05)
        load.stopping.set()
        await asyncio.gather(*writers)
    await engine.dispose()
    return ledger


async def _damage(url: str, statement: object) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(statement)  # type: ignore[arg-type]
    await engine.dispose()


def test_the_checker_finds_lost_and_half_written_writes(
    empty_database: tuple[str, str],
) -> None:
    _, url = empty_database
    command.upgrade(alembic_config(url), "head")
    ledger = asyncio.run(_load_in_process(url, acks=40))
    assert asyncio.run(crash.check(url, ledger)) == []
    tables = asyncio.run(crash.read_tables(url))

    # Three acknowledged articles with claims, each at version 2 or later, to damage.
    edited = sorted(
        {ack.article_id for ack in ledger.acks if ack.version and ack.version >= 2},
        key=lambda article_id: tables.articles[article_id]["slug"],
    )
    with_claims = [
        a for a in edited if any(str(c["article_id"]) == a for c in tables.claims.values())
    ]
    assert len(with_claims) >= 3, "the load edited too few articles"
    unattributed, gapped, dropped = (tables.articles[a] for a in with_claims[:3])
    claim_id = next(
        c["id"] for c in tables.claims.values() if c["article_id"] == unattributed["id"]
    )

    asyncio.run(_damage(url, delete(Attribution).where(Attribution.claim_id == claim_id)))
    asyncio.run(
        _damage(
            url,
            delete(ArticleRevision).where(
                ArticleRevision.article_id == gapped["id"], ArticleRevision.version == 1
            ),
        )
    )
    asyncio.run(_damage(url, delete(Article).where(Article.id == dropped["id"])))
    problems = asyncio.run(crash.check(url, ledger))

    def found(kind: str, *words: str) -> bool:
        return any(p.kind == kind and all(w in p.detail for w in words) for p in problems)

    assert found("half-written", unattributed["slug"], "rows differ from revision"), problems
    assert found("half-written", gapped["slug"], "has no revision [1]"), problems
    assert found("lost", gapped["slug"], "revision 1 is missing"), problems
    assert found("lost", dropped["slug"], "is gone"), problems
    assert {p.kind for p in problems} == {"lost", "half-written"}


def test_the_checker_finds_unexplained_and_rolled_back_versions(
    empty_database: tuple[str, str],
) -> None:
    _, url = empty_database
    command.upgrade(alembic_config(url), "head")
    ledger = asyncio.run(_load_in_process(url, acks=30))
    edited = next(ack for ack in ledger.acks if (ack.version or 0) >= 2)
    rolled_back = next(
        ack
        for ack in ledger.acks
        if (ack.version or 0) >= 2 and ack.article_id != edited.article_id
    )

    # The ledger forgets every write to `edited` but the first: its later versions are
    # writes that nobody acknowledged nor left in doubt.
    first = next(ack for ack in ledger.acks if ack.article_id == edited.article_id)
    ledger.acks = [a for a in ledger.acks if a.article_id != edited.article_id or a is first]
    ledger.doubts.clear()
    asyncio.run(
        _damage(
            url,
            update(Article)
            .where(Article.id == uuid.UUID(rolled_back.article_id))
            .values(version=1),
        )
    )
    problems = asyncio.run(crash.check(url, ledger))
    assert any(
        p.kind == "half-written" and p.detail.startswith(f"article {edited.slug} is at version")
        for p in problems
    ), problems
    assert any(
        p.kind == "lost" and rolled_back.slug in p.detail and "back at version 1" in p.detail
        for p in problems
    ), problems


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.slow
def test_serve_killed_mid_load_loses_no_acknowledged_write(backend: str, tmp_path: Path) -> None:
    url, drop = fresh_database(backend, tmp_path)
    try:
        result = crash.crash_run(
            backend, url, kills=1, duration=4, writers=4, directory=tmp_path / "serve"
        )
    finally:
        drop()
    assert result.kills == result.restarts == 1
    assert result.in_flight_at_kills[0] > 0, "killed while idle"
    assert result.acknowledged > 10
    assert result.problems == []
    assert (result.lost, result.half_written) == (0, 0)
