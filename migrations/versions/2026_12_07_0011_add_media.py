"""add media

Images as a library of their own (uploaded, with renditions, or registered by URL), an
article's featured image, which media each article's body shows, and authors' pictures.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "medium",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("alt", sa.String(length=1000), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("credit", sa.String(length=300), nullable=True),
        sa.Column("copyright", sa.String(length=300), nullable=True),
        sa.Column("license", sa.String(length=2048), nullable=True),
        sa.Column("focal_x", sa.Float(), nullable=False),
        sa.Column("focal_y", sa.Float(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("bytes", sa.Integer(), nullable=True),
        sa.Column("renditions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medium")),
    )
    op.create_index(op.f("ix_medium_digest"), "medium", ["digest"])
    op.create_index(op.f("ix_medium_created_at"), "medium", ["created_at"])
    op.create_table(
        "article_image",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("medium_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_article_image_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["medium_id"],
            ["medium.id"],
            name=op.f("fk_article_image_medium_id_medium"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "medium_id", name=op.f("pk_article_image")),
    )
    op.create_index(op.f("ix_article_image_medium_id"), "article_image", ["medium_id"])
    _add_reference("article", "featured_image_id", "fk_article_featured_image_id_medium")
    op.add_column("article", sa.Column("featured_image_caption", sa.Text(), nullable=True))
    op.create_index(op.f("ix_article_featured_image_id"), "article", ["featured_image_id"])
    _add_reference("author", "avatar_id", "fk_author_avatar_id_medium")
    op.create_index(op.f("ix_author_avatar_id"), "author", ["avatar_id"])


def _add_reference(table: str, column: str, constraint: str) -> None:
    """A nullable column referring to a medium (SET NULL when it goes), added in place: not
    by rebuilding the table as Alembic's batch mode would on SQLite, which would drop the
    triggers that keep the search index in step. SQLite adds a column with its reference in
    place; Alembic only says so in SQL."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} CHAR(32) CONSTRAINT {constraint} "
            "REFERENCES medium (id) ON DELETE SET NULL"
        )
        return
    op.add_column(table, sa.Column(column, sa.Uuid(), nullable=True))
    op.create_foreign_key(constraint, table, "medium", [column], ["id"], ondelete="SET NULL")


def _drop_reference(table: str, column: str, constraint: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(constraint, table)
    op.drop_column(table, column)


def downgrade() -> None:
    op.drop_index(op.f("ix_author_avatar_id"), table_name="author")
    _drop_reference("author", "avatar_id", "fk_author_avatar_id_medium")
    op.drop_index(op.f("ix_article_featured_image_id"), table_name="article")
    op.drop_column("article", "featured_image_caption")
    _drop_reference("article", "featured_image_id", "fk_article_featured_image_id_medium")
    op.drop_index(op.f("ix_article_image_medium_id"), table_name="article_image")
    op.drop_table("article_image")
    op.drop_index(op.f("ix_medium_created_at"), table_name="medium")
    op.drop_index(op.f("ix_medium_digest"), table_name="medium")
    op.drop_table("medium")
