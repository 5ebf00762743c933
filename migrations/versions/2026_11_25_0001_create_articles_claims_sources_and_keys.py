"""create articles claims sources and keys

Revision ID: 0001
Revises:
Create Date: 2026-11-25 09:23:59.407459
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('rate_limit', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_key_key_hash'))
    )
    op.create_table('article',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('headline', sa.String(length=300), nullable=False),
    sa.Column('deck', sa.String(length=600), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('section', sa.String(length=64), nullable=True),
    sa.Column('canonical_url', sa.String(length=2048), nullable=True),
    sa.Column('status', sa.Enum('draft', 'published', 'retracted', name='articlestatus', native_enum=False, length=16), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('syndication_allowed', sa.Boolean(), nullable=False),
    sa.Column('syndication_usage_terms', sa.String(length=1000), nullable=True),
    sa.Column('retraction_text', sa.Text(), nullable=True),
    sa.Column('retracted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sourcing', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article')),
    sa.UniqueConstraint('slug', name=op.f('uq_article_slug'))
    )
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_section'), ['section'], unique=False)
        batch_op.create_index('ix_article_status_published_at', ['status', 'published_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_updated_at'), ['updated_at'], unique=False)

    op.create_table('source',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('person', 'organization', 'publication', 'government', 'anonymous', 'document', name='sourcekind', native_enum=False, length=16), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_key', sa.String(length=300), nullable=False),
    sa.Column('affiliation_key', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('affiliation', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source')),
    sa.UniqueConstraint('kind', 'name_key', 'affiliation_key', name=op.f('uq_source_kind_name_key_affiliation_key'))
    )
    op.create_table('article_author',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('article_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_article_author_article_id_article'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_author'))
    )
    with op.batch_alter_table('article_author', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_author_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_author_name'), ['name'], unique=False)

    op.create_table('article_tag',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('article_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_article_tag_article_id_article'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_tag'))
    )
    with op.batch_alter_table('article_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_tag_article_id'), ['article_id'], unique=False)
        batch_op.create_index('ix_article_tag_tag_article_id', ['tag', 'article_id'], unique=False)

    op.create_table('claim',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('article_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('statement', sa.String(length=1000), nullable=False),
    sa.Column('kind', sa.Enum('statement', 'quote', 'report', 'opinion', 'forecast', name='claimkind', native_enum=False, length=24), nullable=False),
    sa.Column('quote', sa.Text(), nullable=True),
    sa.Column('verification', sa.Enum('unverified', 'confirmed', 'disputed', 'refuted', 'unclear', name='verification', native_enum=False, length=24), nullable=False),
    sa.Column('review', sa.JSON(), nullable=True),
    sa.Column('anchor_exact', sa.Text(), nullable=True),
    sa.Column('anchor_prefix', sa.Text(), nullable=True),
    sa.Column('anchor_suffix', sa.Text(), nullable=True),
    sa.Column('anchor_start', sa.Integer(), nullable=True),
    sa.Column('anchor_end', sa.Integer(), nullable=True),
    sa.Column('anchor_status', sa.Enum('anchored', 'orphaned', name='anchorstatus', native_enum=False, length=24), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_claim_article_id_article'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim'))
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_article_id'), ['article_id'], unique=False)
        batch_op.create_index('ix_claim_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_verification'), ['verification'], unique=False)

    op.create_table('correction',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('article_id', sa.Uuid(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_correction_article_id_article'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction'))
    )
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_article_id'), ['article_id'], unique=False)

    op.create_table('attribution',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('claim_id', sa.Uuid(), nullable=False),
    sa.Column('source_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('asserted_by', 'confirmed_by', 'reported_by', 'first_reported_by', 'disputed_by', 'denied_by', name='attributionrole', native_enum=False, length=24), nullable=False),
    sa.Column('cue', sa.String(length=200), nullable=True),
    sa.Column('anonymous_description', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_attribution_claim_id_claim'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], name=op.f('fk_attribution_source_id_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attribution'))
    )
    with op.batch_alter_table('attribution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attribution_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attribution_source_id'), ['source_id'], unique=False)

    create_search_index()



def downgrade() -> None:
    drop_search_index()
    with op.batch_alter_table('attribution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attribution_source_id'))
        batch_op.drop_index(batch_op.f('ix_attribution_claim_id'))

    op.drop_table('attribution')
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_article_id'))

    op.drop_table('correction')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_verification'))
        batch_op.drop_index('ix_claim_created_at_id')
        batch_op.drop_index(batch_op.f('ix_claim_article_id'))

    op.drop_table('claim')
    with op.batch_alter_table('article_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_article_tag_tag_article_id')
        batch_op.drop_index(batch_op.f('ix_article_tag_article_id'))

    op.drop_table('article_tag')
    with op.batch_alter_table('article_author', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_author_name'))
        batch_op.drop_index(batch_op.f('ix_article_author_article_id'))

    op.drop_table('article_author')
    op.drop_table('source')
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_updated_at'))
        batch_op.drop_index('ix_article_status_published_at')
        batch_op.drop_index(batch_op.f('ix_article_section'))
        batch_op.drop_index(batch_op.f('ix_article_published_at'))

    op.drop_table('article')
    op.drop_table('api_key')


# Full-text search over headline, deck and body. On PostgreSQL a GIN index on the weighted
# document (app/articles/search.py queries exactly this expression); on SQLite an FTS5 table
# that triggers keep in step with the article table.
PG_DOCUMENT = (
    "setweight(to_tsvector('english', headline), 'A') || "
    "setweight(to_tsvector('english', coalesce(deck, '')), 'B') || "
    "setweight(to_tsvector('english', body), 'C')"
)
FTS_COLUMNS = "article_id, headline, deck, body"
FTS_VALUES = "new.id, new.headline, coalesce(new.deck, ''), new.body"


def create_search_index() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_article_search ON article USING gin (({PG_DOCUMENT}))")
        return
    op.execute(
        "CREATE VIRTUAL TABLE article_fts USING fts5("
        "article_id UNINDEXED, headline, deck, body, tokenize = 'porter unicode61')"
    )
    op.execute(
        "CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN "
        f"INSERT INTO article_fts ({FTS_COLUMNS}) VALUES ({FTS_VALUES}); END"
    )
    op.execute(
        "CREATE TRIGGER article_fts_update AFTER UPDATE OF headline, deck, body ON article BEGIN "
        "DELETE FROM article_fts WHERE article_id = old.id; "
        f"INSERT INTO article_fts ({FTS_COLUMNS}) VALUES ({FTS_VALUES}); END"
    )
    op.execute(
        "CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN "
        "DELETE FROM article_fts WHERE article_id = old.id; END"
    )


def drop_search_index() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_article_search")
        return
    for trigger in ("article_fts_insert", "article_fts_update", "article_fts_delete"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE article_fts")
