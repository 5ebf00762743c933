"""Full-text search over headline, deck and body: SQLite FTS5 or PostgreSQL `tsvector`.

The index itself is made by the migrations (an FTS5 table kept in step by triggers on
SQLite; a GIN expression index on PostgreSQL); this module only queries it. Both return a
filter and a rank that sorts best first in ascending order.
"""

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Uuid,
    column,
    false,
    func,
    literal_column,
    select,
    table,
)

from .models import Article

# Must stay the exact expression of the index `ix_article_search` (see the migration).
PG_DOCUMENT = (
    "setweight(to_tsvector('english', article.headline), 'A') || "
    "setweight(to_tsvector('english', coalesce(article.deck, '')), 'B') || "
    "setweight(to_tsvector('english', article.body), 'C')"
)


def is_search_object(name: str | None, type_: str = "", parent_names: object = None) -> bool:
    """The search objects the migrations make by hand and no model describes (Alembic's
    `include_name` hook leaves them out of autogenerate with this)."""
    return bool(name) and str(name).startswith(("article_fts", "ix_article_search"))


_fts: Table = table("article_fts", column("article_id", Uuid()))
_TERM = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')


def fts5_query(q: str) -> str | None:
    """A user's query as FTS5 syntax: words and "quoted phrases" must all match, -term must
    not. Every term is quoted, so FTS5 operators typed by users are plain words."""
    wanted, unwanted = [], []
    for match in _TERM.finditer(q):
        negated = match.group(1) or match.group(3)
        term = match.group(2) if match.group(2) is not None else match.group(4)
        if not re.search(r"\w", term):
            continue
        phrase = '"' + term.replace('"', '""') + '"'
        (unwanted if negated else wanted).append(phrase)
    if not wanted:
        return None
    query = " ".join(wanted)
    for phrase in unwanted:
        query = f"({query}) NOT {phrase}"
    return query


def apply(query: Select[Any], dialect: str, q: str) -> tuple[Select[Any], ColumnElement[Any]]:
    """`query` (over Article) narrowed to articles matching `q`, and their relevance rank
    (lower is better)."""
    if dialect == "postgresql":
        tsquery = func.websearch_to_tsquery(literal_column("'english'"), q)
        document = literal_column(PG_DOCUMENT)
        return query.where(document.op("@@")(tsquery)), -func.ts_rank_cd(document, tsquery)
    expression = fts5_query(q)
    if expression is None:
        return query.where(false()), literal_column("0")
    hits = (
        select(_fts.c.article_id, func.bm25(literal_column("article_fts")).label("rank"))
        .where(literal_column("article_fts").op("MATCH")(expression))
        .subquery("hits")
    )
    return query.join(hits, hits.c.article_id == Article.id), hits.c.rank
