"""Migrations are code: one head, a clean round trip, and no drift from the models, on
every backend the suite runs on."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

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
    assert drift == []
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
