"""add the changes feed

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:25:15.744453
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('change_event',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('article_id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('in_public', sa.Boolean(), nullable=False),
    sa.Column('in_syndicated', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_change_event'))
    )
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.create_index('ix_change_event_article_id_seq', ['article_id', 'seq'], unique=False)

    op.create_table('scheduled_change',
    sa.Column('article_id', sa.Uuid(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_scheduled_change'))
    )
    with op.batch_alter_table('scheduled_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_change_due_at'), ['due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scheduled_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_change_due_at'))

    op.drop_table('scheduled_change')
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.drop_index('ix_change_event_article_id_seq')

    op.drop_table('change_event')
