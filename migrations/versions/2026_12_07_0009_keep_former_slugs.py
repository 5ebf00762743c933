"""keep former slugs

A renamed article keeps answering at its old slug, with a permanent redirect to the new one:
links in feeds, partners' pages and search engines go on working.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "former_slug",
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("renamed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_former_slug_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_former_slug")),
    )
    op.create_index(op.f("ix_former_slug_article_id"), "former_slug", ["article_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_former_slug_article_id"), table_name="former_slug")
    op.drop_table("former_slug")
