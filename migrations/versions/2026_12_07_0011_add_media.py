"""add media

Images as a library of their own (uploaded, with renditions, or registered by URL), an
article's featured image, and which media each article's body shows.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
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
    # Added in place, not by rebuilding the table as Alembic's batch mode would on SQLite:
    # that would drop the triggers that keep the search index in step. SQLite adds a
    # column with its reference in place; Alembic only says so in SQL.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE article ADD COLUMN featured_image_id CHAR(32) "
            "CONSTRAINT fk_article_featured_image_id_medium "
            "REFERENCES medium (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("article", sa.Column("featured_image_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f("fk_article_featured_image_id_medium"),
            "article",
            "medium",
            ["featured_image_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column("article", sa.Column("featured_image_caption", sa.Text(), nullable=True))
    op.create_index(op.f("ix_article_featured_image_id"), "article", ["featured_image_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_article_featured_image_id"), table_name="article")
    op.drop_column("article", "featured_image_caption")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_article_featured_image_id_medium"), "article")
    op.drop_column("article", "featured_image_id")
    op.drop_index(op.f("ix_article_image_medium_id"), table_name="article_image")
    op.drop_table("article_image")
    op.drop_index(op.f("ix_medium_created_at"), table_name="medium")
    op.drop_index(op.f("ix_medium_digest"), table_name="medium")
    op.drop_table("medium")
