"""Migrations are code: one head, a clean round trip, and no drift from the models, on
every backend the suite runs on."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
from app.articles.models import Article, ArticleAuthor, ArticleRevision
from app.articles.search import is_search_object
from app.authors.models import Author
from app.db import create_engine
from app.models import Base
from app.ops.service import alembic_config
from app.taxonomy.models import Section
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


# Columns that reference a medium, added to `article` and `author` in place: SQLite can only
# say such a reference inline (ALTER TABLE ADD COLUMN … REFERENCES), which it reflects with
# no name and no ON DELETE, so names and actions are compared on PostgreSQL alone. What the
# references do (SET NULL when the medium goes) is tested on both backends, through the API:
# tests/media/test_articles.py (a deleted article's featured image) and
# tests/authors/test_router.py (an author's picture).
ADDED_IN_PLACE = {("article", ("featured_image_id",)), ("author", ("avatar_id",))}


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


# --- 0010: authors and sections -------------------------------------------------------------

# The tables as 0009 left them: a byline was names alone.
OLD_ARTICLE_AUTHOR = sa.table(
    "article_author",
    sa.column("article_id", sa.Uuid()),
    sa.column("position", sa.Integer()),
    sa.column("name", sa.String()),
)


def test_bylines_and_sections_become_rows_and_come_back_on_downgrade(alembic: Config) -> None:
    command.upgrade(alembic, "0009")
    now = datetime.now(UTC)
    first, second = uuid.uuid4(), uuid.uuid4()
    bylines = {
        first: ["Ines Calder", "Jonas Weiß"],
        second: [
            "  ines   CALDER",
            "Ada Obi",
            "Ines-Calder",
        ],  # the same Ines; another "ines-calder"
    }
    old_revision = {"id": str(first), "authors": [{"name": "Ines Calder"}], "version": 1}

    async def write_old_form(session: AsyncSession) -> None:
        for n, (article_id, section) in enumerate(((first, "us-politics"), (second, None))):
            await session.execute(
                sa.insert(Article.__table__).values(
                    id=article_id,
                    slug=f"story-{n}",
                    headline="Story",
                    body="Text.",
                    body_html="<p>Text.</p>",
                    language="en",
                    section=section,
                    status="draft",
                    created_at=now + timedelta(seconds=n),
                    updated_at=now,
                    version=1,
                    syndication_allowed=True,
                    sourcing={},
                )
            )
            await session.execute(
                sa.insert(OLD_ARTICLE_AUTHOR),
                [
                    {"article_id": article_id, "position": i, "name": name}
                    for i, name in enumerate(bylines[article_id])
                ],
            )
        await revision_store.write(
            session,
            article_id=first,
            version=1,
            created_at=now,
            actor="t",
            change="created",
            snapshot=old_revision,
        )

    _in_session(alembic, write_old_form)
    command.upgrade(alembic, "head")

    async def read_new_form(session: AsyncSession) -> dict[str, Any]:
        authors = {a.id: a for a in await session.scalars(select(Author))}
        links = (
            await session.execute(
                select(ArticleAuthor.article_id, ArticleAuthor.position, ArticleAuthor.author_id)
            )
        ).all()
        revisions = list(await session.scalars(select(ArticleRevision)))
        return {
            "authors": sorted((a.name, a.slug, a.name_key) for a in authors.values()),
            "bylines": {
                article_id: [
                    authors[a].name for _, _, a in sorted(r for r in links if r[0] == article_id)
                ]
                for article_id in (first, second)
            },
            "sections": [(s.slug, s.name) for s in await session.scalars(select(Section))],
            "revisions": await revision_store.Reader(session).snapshots(revisions),
        }

    upgraded = _in_session(alembic, read_new_form)
    assert upgraded["authors"] == [
        ("Ada Obi", "ada-obi", "ada obi"),
        ("Ines Calder", "ines-calder", "ines calder"),  # the first spelling seen
        ("Ines-Calder", "ines-calder-2", "ines-calder"),  # another name, the same slug
        ("Jonas Weiß", "jonas-wei", "jonas weiss"),  # slugified as articles are
    ]
    assert upgraded["bylines"] == {
        first: ["Ines Calder", "Jonas Weiß"],
        second: ["Ines Calder", "Ada Obi", "Ines-Calder"],
    }
    assert upgraded["sections"] == [("us-politics", "Us Politics")]
    assert upgraded["revisions"] == [old_revision]  # kept as written

    command.downgrade(alembic, "0009")

    async def read_old_form(session: AsyncSession) -> dict[uuid.UUID, list[str]]:
        rows = await session.execute(
            sa.select(
                OLD_ARTICLE_AUTHOR.c.article_id,
                OLD_ARTICLE_AUTHOR.c.position,
                OLD_ARTICLE_AUTHOR.c.name,
            )
        )
        restored: dict[uuid.UUID, list[str]] = {}
        for article_id, _, name in sorted(rows):
            restored.setdefault(article_id, []).append(name)
        return restored

    # The names come back as the authors spell them (one spelling per author).
    assert _in_session(alembic, read_old_form) == {
        first: ["Ines Calder", "Jonas Weiß"],
        second: ["Ines Calder", "Ada Obi", "Ines-Calder"],
    }
    tables = set(_run(alembic, lambda sync: inspect(sync).get_table_names()))
    assert not tables & {"author", "section"}
    section_column = _run(
        alembic,
        lambda sync: [c for c in inspect(sync).get_columns("article") if c["name"] == "section"],
    )
    assert len(section_column) == 1
