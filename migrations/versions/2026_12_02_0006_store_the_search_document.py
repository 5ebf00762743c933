"""store the search document

On PostgreSQL the weighted search document becomes a stored generated column with the GIN
index on it: matching and ranking then read the stored vector instead of running
to_tsvector over every candidate's body at query time, which also freed the planner from
costing that expression (it chose to scan the table). SQLite's FTS5 table is unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT = (
    "setweight(to_tsvector('english', headline), 'A') || "
    "setweight(to_tsvector('english', coalesce(deck, '')), 'B') || "
    "setweight(to_tsvector('english', body), 'C')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_article_search")
    op.execute(
        f"ALTER TABLE article ADD COLUMN search_document tsvector "
        f"GENERATED ALWAYS AS ({DOCUMENT}) STORED"
    )
    op.execute("CREATE INDEX ix_article_search ON article USING gin (search_document)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_article_search")
    op.execute("ALTER TABLE article DROP COLUMN search_document")
    op.execute(f"CREATE INDEX ix_article_search ON article USING gin (({DOCUMENT}))")
