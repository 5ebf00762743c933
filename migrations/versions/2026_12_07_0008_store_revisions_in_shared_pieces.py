"""store revisions in shared pieces

A revision kept the whole article (≈300 KB at 500 claims) on every write. Now its body,
rendered HTML, claims and corrections are pieces stored once per article under their
SHA-256 (`revision_piece`), and the revision row keeps the rest (`skeleton`) with the
pieces' digests in their place: see app/articles/revision_store.py. Rows written before
keep their whole `snapshot` and are read as they are. Downgrading writes each new row's
snapshot back whole before the pieces go.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 09:00:00
"""

import zlib
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revision_piece",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_revision_piece_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "digest", name=op.f("pk_revision_piece")),
    )
    with op.batch_alter_table("article_revision") as batch:
        batch.add_column(sa.Column("skeleton", sa.JSON(), nullable=True))
        batch.alter_column("snapshot", existing_type=sa.JSON(), nullable=True)


# The downgrade reads pieces as this migration's code wrote them, frozen here on purpose.
REVISIONS = sa.table(
    "article_revision",
    sa.column("article_id", sa.Uuid()),
    sa.column("version", sa.Integer()),
    sa.column("skeleton", sa.JSON()),
    sa.column("snapshot", sa.JSON()),
)
PIECES = sa.table(
    "revision_piece",
    sa.column("article_id", sa.Uuid()),
    sa.column("digest", sa.String()),
    sa.column("data", sa.LargeBinary()),
)


def _whole_snapshot(connection: sa.Connection, article_id: Any, skeleton: dict) -> dict:
    def piece(digest: str) -> Any:
        data = connection.scalar(
            sa.select(PIECES.c.data).where(
                PIECES.c.article_id == article_id, PIECES.c.digest == digest
            )
        )
        return orjson.loads(zlib.decompress(data))

    def value(ref: dict[str, str]) -> Any:
        if "$piece" in ref:
            return piece(ref["$piece"])
        return [piece(item) for chunk in piece(ref["$list"]) for item in piece(chunk)]

    stored_apart = {"body", "body_html", "claims", "corrections"}
    return {k: value(v) if k in stored_apart else v for k, v in skeleton.items()}


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(REVISIONS.c.article_id, REVISIONS.c.version, REVISIONS.c.skeleton).where(
            REVISIONS.c.snapshot.is_(None)
        )
    ).all()
    for article_id, version, skeleton in rows:
        connection.execute(
            REVISIONS.update()
            .where(REVISIONS.c.article_id == article_id, REVISIONS.c.version == version)
            .values(snapshot=_whole_snapshot(connection, article_id, skeleton))
        )
    with op.batch_alter_table("article_revision") as batch:
        batch.alter_column("snapshot", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("skeleton")
    op.drop_table("revision_piece")
