"""authors and sections

Authors and sections become resources of their own. Every byline name becomes an author (one
per name, matched regardless of case and spacing as writes match them; the first spelling
seen is kept, slugs made unique as the app makes them) and each `article_author` row points
at its author, in the same position. Every section slug an article holds becomes a section
row, named after its slug; `article.section` then references it.

On SQLite, `article` is not rebuilt (batch mode would drop its full-text triggers, and with
foreign keys on, the rebuild's DROP TABLE would cascade to its claims): its section column
is swapped for one with the reference, by ALTER TABLE alone. Revision snapshots keep the
byline as they stored it (`{name}`), as every revision is kept as written.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00
"""

import re
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as this migration reads and writes them, frozen here on purpose.
ARTICLE = sa.table(
    "article",
    sa.column("id", sa.Uuid()),
    sa.column("section", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
ARTICLE_AUTHOR = sa.table(
    "article_author",
    sa.column("id", sa.Integer()),
    sa.column("article_id", sa.Uuid()),
    sa.column("position", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("author_id", sa.Uuid()),
)
AUTHOR = sa.table(
    "author",
    sa.column("id", sa.Uuid()),
    sa.column("slug", sa.String()),
    sa.column("name", sa.String()),
    sa.column("name_key", sa.Text()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
SECTION = sa.table(
    "section",
    sa.column("slug", sa.String()),
    sa.column("name", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _fold(text: str) -> str:
    # app.sources.models.fold, as of this migration.
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _slugify(text: str) -> str:
    # app.slugs.slugify, as of this migration.
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > 116:
        slug = slug[:116].rsplit("-", 1)[0]
    return slug or "author"


def _free(base: str, taken: set[str]) -> str:
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _create_tables() -> None:
    op.create_table(
        "author",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author")),
        sa.UniqueConstraint("name_key", name=op.f("uq_author_name_key")),
        sa.UniqueConstraint("slug", name=op.f("uq_author_slug")),
    )
    op.create_table(
        "section",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_section")),
    )


def _bylines_to_authors(connection: sa.Connection) -> None:
    now = datetime.now(UTC)
    rows = connection.execute(
        sa.select(ARTICLE_AUTHOR.c.id, ARTICLE_AUTHOR.c.name)
        .join(ARTICLE, ARTICLE.c.id == ARTICLE_AUTHOR.c.article_id)
        .order_by(ARTICLE.c.created_at, ARTICLE.c.id, ARTICLE_AUTHOR.c.position)
    ).all()
    authors: dict[str, uuid.UUID] = {}
    taken: set[str] = set()
    for row_id, name in rows:
        key = _fold(name)
        if key not in authors:
            authors[key] = uuid.uuid4()
            connection.execute(
                AUTHOR.insert().values(
                    id=authors[key],
                    slug=_free(_slugify(name), taken),
                    name=name,
                    name_key=key,
                    created_at=now,
                    updated_at=now,
                )
            )
        connection.execute(
            ARTICLE_AUTHOR.update()
            .where(ARTICLE_AUTHOR.c.id == row_id)
            .values(author_id=authors[key])
        )


def _sections_to_rows(connection: sa.Connection) -> None:
    now = datetime.now(UTC)
    slugs = connection.scalars(
        sa.select(ARTICLE.c.section).where(ARTICLE.c.section.is_not(None)).distinct()
    ).all()
    for slug in sorted(slugs):
        name = " ".join(word.capitalize() for word in slug.split("-"))
        connection.execute(SECTION.insert().values(slug=slug, name=name, created_at=now, updated_at=now))


def _swap_sqlite_section_column(references: bool) -> None:
    """Replace `article.section` by a column of the same name with (or without) the
    reference to `section`, by ALTER TABLE alone (see the module's docstring)."""
    clause = " CONSTRAINT fk_article_section_section REFERENCES section (slug)" if references else ""
    op.execute(f"ALTER TABLE article ADD COLUMN section_swap VARCHAR(64){clause}")
    op.execute("UPDATE article SET section_swap = section")
    op.execute("DROP INDEX ix_article_section")
    op.execute("ALTER TABLE article DROP COLUMN section")
    op.execute("ALTER TABLE article RENAME COLUMN section_swap TO section")
    op.execute("CREATE INDEX ix_article_section ON article (section)")


def upgrade() -> None:
    connection = op.get_bind()
    _create_tables()
    with op.batch_alter_table("article_author") as batch:
        batch.add_column(sa.Column("author_id", sa.Uuid(), nullable=True))
    _bylines_to_authors(connection)
    _sections_to_rows(connection)
    with op.batch_alter_table("article_author") as batch:
        batch.alter_column("author_id", existing_type=sa.Uuid(), nullable=False)
        batch.drop_index("ix_article_author_name")
        batch.drop_column("name")
        batch.create_index(op.f("ix_article_author_author_id"), ["author_id"])
        batch.create_foreign_key(
            op.f("fk_article_author_author_id_author"), "author", ["author_id"], ["id"]
        )
    if connection.dialect.name == "sqlite":
        _swap_sqlite_section_column(references=True)
    else:
        op.create_foreign_key(
            op.f("fk_article_section_section"), "article", "section", ["section"], ["slug"]
        )


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        _swap_sqlite_section_column(references=False)
    else:
        op.drop_constraint(op.f("fk_article_section_section"), "article", type_="foreignkey")
    with op.batch_alter_table("article_author") as batch:
        batch.add_column(sa.Column("name", sa.String(length=200), nullable=True))
    names = sa.select(AUTHOR.c.name).where(AUTHOR.c.id == ARTICLE_AUTHOR.c.author_id)
    connection.execute(ARTICLE_AUTHOR.update().values(name=names.scalar_subquery()))
    with op.batch_alter_table("article_author") as batch:
        batch.drop_constraint(op.f("fk_article_author_author_id_author"), type_="foreignkey")
        batch.drop_index(op.f("ix_article_author_author_id"))
        batch.drop_column("author_id")
        batch.alter_column("name", existing_type=sa.String(length=200), nullable=False)
        batch.create_index(op.f("ix_article_author_name"), ["name"])
    op.drop_table("section")
    op.drop_table("author")
