"""Migrations are code: one head, a clean round trip, and no drift from the models, on
every backend the suite runs on."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import revision_store
from app.articles.models import Article, ArticleRevision
from app.articles.search import is_search_object
from app.db import create_engine
from app.models import Base
from app.ops.service import alembic_config
from tests.databases import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def alembic(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Config]:
    url, drop = fresh_database(request.param, tmp_path)
    yield alembic_config(url)
    drop()


def _run(config: Config, work):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        engine = create_engine(config.attributes["url"])
        async with engine.connect() as connection:
            result = await connection.run_sync(work)
        await engine.dispose()
        return result

    return asyncio.run(main())


def test_single_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_pyproject_configures_alembic_cli() -> None:
    config = Config(toml_file=str(Path(__file__).parents[1] / "pyproject.toml"))
    assert (
        ScriptDirectory.from_config(config).get_heads()
        == ScriptDirectory.from_config(alembic_config()).get_heads()
    )


# Columns that reference another table, added to `article` in place: SQLite can only say
# such a reference inline (ALTER TABLE ADD COLUMN … REFERENCES), which it reflects with no
# name and no ON DELETE, so the names and actions are compared on PostgreSQL alone (and
# test_media_references_survive_on_both checks what the reference does, on both).
ADDED_IN_PLACE = {("article", ("featured_image_id",))}


def _added_in_place(config: Config, change: Any) -> bool:
    if not config.attributes["url"].startswith("sqlite") or not isinstance(change, tuple):
        return False
    kind, constraint = change[0], change[1]
    if kind not in ("add_fk", "remove_fk"):
        return False
    columns = tuple(column.name for column in constraint.columns)
    return (constraint.table.name, columns) in ADDED_IN_PLACE


def test_upgrade_matches_models_then_downgrades_to_empty(alembic: Config) -> None:
    command.upgrade(alembic, "head")
    drift = _run(
        alembic,
        lambda sync: compare_metadata(
            MigrationContext.configure(
                sync, opts={"include_name": lambda name, *_: not is_search_object(name)}
            ),
            Base.metadata,
        ),
    )
    assert [change for change in drift if not _added_in_place(alembic, change)] == []
    tables = set(_run(alembic, lambda sync: inspect(sync).get_table_names()))
    assert set(Base.metadata.tables) <= tables

    command.downgrade(alembic, "base")
    left = set(_run(alembic, lambda sync: inspect(sync).get_table_names()))
    assert left <= {"alembic_version"}

    command.upgrade(alembic, "head")
    assert set(Base.metadata.tables) <= set(
        _run(alembic, lambda sync: inspect(sync).get_table_names())
    )


def test_search_index_is_built(alembic: Config) -> None:
    command.upgrade(alembic, "head")
    backend = alembic.attributes["url"].split(":")[0]
    if backend.startswith("sqlite"):
        tables = _run(alembic, lambda sync: inspect(sync).get_table_names())
        assert "article_fts" in tables
    else:
        indexes = _run(alembic, lambda sync: inspect(sync).get_indexes("article"))
        assert "ix_article_search" in {index["name"] for index in indexes}


# --- 0008: revisions in pieces --------------------------------------------------------------

OLD_SNAPSHOT = {"id": "", "headline": "Pier closes", "body": "The pier closes.", "claims": []}


def _in_session(config: Config, work):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        engine = create_engine(config.attributes["url"])
        async with AsyncSession(engine, expire_on_commit=False) as session:
            result = await work(session)
            await session.commit()
        await engine.dispose()
        return result

    return asyncio.run(main())


def test_revisions_of_either_form_survive_upgrade_and_downgrade(alembic: Config) -> None:
    command.upgrade(alembic, "0007")
    article_id = uuid.uuid4()
    now = datetime.now(UTC)
    old = {**OLD_SNAPSHOT, "id": str(article_id)}
    # The table as 0007 left it: the snapshot whole, in every row.
    columns = ArticleRevision.__table__.c
    old_form = sa.table(
        "article_revision",
        *(
            sa.column(name, columns[name].type)
            for name in ("article_id", "version", "created_at", "actor", "change", "snapshot")
        ),
    )

    async def write_old_form(session: AsyncSession) -> None:
        await session.execute(
            sa.insert(Article.__table__).values(
                id=article_id,
                slug="pier",
                headline="Pier closes",
                body="The pier closes.",
                body_html="<p>The pier closes.</p>",
                language="en",
                status="draft",
                created_at=now,
                updated_at=now,
                version=2,
                syndication_allowed=True,
                sourcing={},
            )
        )
        await session.execute(
            sa.insert(old_form).values(
                article_id=article_id,
                version=1,
                created_at=now,
                actor="t",
                change="created",
                snapshot=old,
            )
        )

    _in_session(alembic, write_old_form)
    command.upgrade(alembic, "head")
    new = {**old, "version": 2, "claims": [{"id": str(n), "statement": "x"} for n in range(40)]}

    async def read_then_write_new_form(session: AsyncSession) -> list[dict[str, Any]]:
        await revision_store.write(
            session,
            article_id=article_id,
            version=2,
            created_at=now,
            actor="t",
            change="updated",
            snapshot=new,
        )
        await session.flush()
        rows = list(await session.scalars(select(ArticleRevision).order_by("version")))
        assert [(r.snapshot is None, r.skeleton is None) for r in rows] == [
            (False, True),
            (True, False),
        ]
        return await revision_store.Reader(session).snapshots(rows)

    assert _in_session(alembic, read_then_write_new_form) == [old, new]

    command.downgrade(alembic, "0007")

    async def read_old_form(session: AsyncSession) -> list[Any]:
        rows = await session.execute(sa.select(old_form.c.snapshot).order_by("version"))
        return [snapshot for (snapshot,) in rows]

    assert _in_session(alembic, read_old_form) == [old, new]
    tables = set(_run(alembic, lambda sync: inspect(sync).get_table_names()))
    assert "revision_piece" not in tables
