"""index api keys by prefix

A key is now found by its first characters and then matched on its hash in constant time,
so the prefix needs an index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_api_key_prefix", "api_key", ["prefix"])


def downgrade() -> None:
    op.drop_index("ix_api_key_prefix", table_name="api_key")
