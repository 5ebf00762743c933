"""Who may see an article is one rule (app/articles/models.py) with a Python and a SQL form:
they must agree on every state an article can be in."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.articles.models import Article, ArticleStatus, is_due, is_live, is_public, is_scheduled

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PUBLISHED_AT = {"never": None, "past": NOW - timedelta(days=1), "future": NOW + timedelta(hours=1)}
DELETED_AT = {"kept": None, "deleted": NOW - timedelta(minutes=5)}


def states() -> list[tuple[ArticleStatus, str, str]]:
    return list(itertools.product(ArticleStatus, PUBLISHED_AT, DELETED_AT))


async def test_the_sql_and_python_forms_of_public_agree_on_every_state(session) -> None:
    made: dict[tuple[ArticleStatus, str, str], Article] = {}
    for number, (status, published, deleted) in enumerate(states()):
        article = Article(
            slug=f"state-{number}",
            headline="A state",
            body="Text.",
            body_html="<p>Text.</p>",
            language="en",
            status=status,
            published_at=PUBLISHED_AT[published],
            deleted_at=DELETED_AT[deleted],
            sourcing={},
        )
        session.add(article)
        made[(status, published, deleted)] = article
    await session.flush()

    in_sql = set((await session.scalars(select(Article.id).where(Article.public_at(NOW)))).all())
    in_python = {article.id for article in made.values() if article.public_at(NOW)}
    assert in_sql == in_python
    # And it is the rule readers expect: published or retracted, due, not deleted.
    assert {key for key, article in made.items() if article.id in in_sql} == {
        (ArticleStatus.published, "past", "kept"),
        (ArticleStatus.retracted, "past", "kept"),
    }


def test_due_live_and_scheduled_name_the_publication_states() -> None:
    def article(status: ArticleStatus, published: str) -> Article:
        return Article(status=status, published_at=PUBLISHED_AT[published], deleted_at=None)

    published, retracted = ArticleStatus.published, ArticleStatus.retracted
    assert is_due(article(ArticleStatus.draft, "past"), NOW)  # its time has come, whatever
    assert not is_due(article(published, "never"), NOW)
    assert is_live(article(published, "past"), NOW)
    assert not is_live(article(retracted, "past"), NOW)  # readable, but no longer live
    assert is_scheduled(article(published, "future"), NOW)
    assert not is_scheduled(article(published, "never"), NOW)
    assert not is_scheduled(article(ArticleStatus.draft, "future"), NOW)
    assert is_public(article(retracted, "past"), NOW)
    assert not is_public(article(published, "future"), NOW)
