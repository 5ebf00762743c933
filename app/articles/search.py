"""Full-text search over headline, deck and body: SQLite FTS5 or PostgreSQL `tsvector`.

The index itself is made by the migrations (an FTS5 table kept in step by triggers on
SQLite; a stored tsvector column with a GIN index on PostgreSQL); this module only queries
it. Both return a filter and a rank that sorts best first in ascending order.
"""

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    TableClause,
    Uuid,
    column,
    false,
    func,
    literal,
    literal_column,
    select,
    table,
)

from app.db import AnySelect

from .models import Article

# PostgreSQL keeps the weighted document (headline A, deck B, body C) in this stored
# generated column, indexed by `ix_article_search` (see migration 0006).
PG_DOCUMENT = "article.search_document"


def is_search_object(name: str | None, type_: str = "", parent_names: object = None) -> bool:
    """The search objects the migrations make by hand and no model describes (Alembic's
    `include_name` hook leaves them out of autogenerate with this)."""
    return bool(name) and str(name).startswith(
        ("article_fts", "ix_article_search", "search_document")
    )


_fts: TableClause = table("article_fts", column("article_id", Uuid()))
_TERM = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')


def fts5_terms(q: str) -> tuple[list[str], list[str]]:
    """A user's query as FTS5 phrases, like web search: words and "quoted phrases" must all
    match, -term must not. Every term is quoted, so FTS5 operators typed by users are words."""
    wanted: list[str] = []
    unwanted: list[str] = []
    for match in _TERM.finditer(q):
        negated = match.group(1) or match.group(3)
        term = match.group(2) if match.group(2) is not None else match.group(4)
        if re.search(r"\w", term):
            phrase = '"' + term.replace('"', '""') + '"'
            (unwanted if negated else wanted).append(phrase)
    return wanted, unwanted


def apply(query: AnySelect, dialect: str, q: str) -> tuple[AnySelect, ColumnElement[Any]]:
    """`query` (over Article) narrowed to articles matching `q`, and their relevance rank
    (lower is better)."""
    if dialect == "postgresql":
        tsquery = func.websearch_to_tsquery(literal_column("'english'"), q)
        document: ColumnElement[Any] = literal_column(PG_DOCUMENT)
        return query.where(document.op("@@")(tsquery)), -func.ts_rank_cd(document, tsquery)
    wanted, unwanted = fts5_terms(q)
    if not wanted:
        # Only exclusions ("-ferry"): every article without them, as websearch_to_tsquery does.
        if unwanted:
            excluded = select(_fts.c.article_id).where(_match(" OR ".join(unwanted)))
            query = query.where(Article.id.not_in(excluded))
        else:
            query = query.where(false())
        return query, literal(0.0)
    expression = " ".join(wanted)
    for phrase in unwanted:
        expression = f"({expression}) NOT {phrase}"
    # Column weights (article_id, headline, deck, body): a headline match counts most.
    rank = func.bm25(literal_column("article_fts"), 0.0, 10.0, 4.0, 1.0)
    hits = select(_fts.c.article_id, rank.label("rank")).where(_match(expression)).subquery()
    return query.join(hits, hits.c.article_id == Article.id), hits.c.rank


def _match(expression: str) -> ColumnElement[bool]:
    return literal_column("article_fts").op("MATCH")(expression)
