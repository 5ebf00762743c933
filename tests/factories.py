"""Plain builders for test data: request bodies, and articles stored through the service."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import service as articles
from app.articles import workflow
from app.articles.models import Article
from app.articles.schemas import ArticleWrite

BODY = (
    "The harbour authority confirmed on Monday that the north pier will close for repairs.\n\n"
    '"We cannot keep it open safely," said Mara Lind, the authority\'s director.\n\n'
    "Ferry operators said the closure would add twenty minutes to each crossing."
)


def article_data(**overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/articles body with one attributed claim and one quote."""
    data: dict[str, Any] = {
        "headline": "North pier to close for repairs",
        "deck": "The harbour authority says the pier is unsafe.",
        "body": BODY,
        "section": "local",
        "tags": ["harbour", "transport"],
        "authors": [{"name": "Ines Calder"}],
        "claims": [
            {
                "statement": "The north pier will close for repairs.",
                "kind": "statement",
                "anchor": {"exact": "the north pier will close for repairs"},
                "verification": "confirmed",
                "attributions": [
                    {
                        "source": {"name": "Harbour Authority", "kind": "organization"},
                        "role": "confirmed_by",
                        "cue": "confirmed",
                    }
                ],
            },
            {
                "statement": "The director says the pier cannot be kept open safely.",
                "kind": "quote",
                "quote": "We cannot keep it open safely,",
                "attributions": [
                    {
                        "source": {
                            "name": "Mara Lind",
                            "kind": "person",
                            "description": "Director of the harbour authority",
                        },
                        "role": "asserted_by",
                        "cue": "said",
                    }
                ],
            },
        ],
    }
    data.update(overrides)
    return data


async def make_article(
    session: AsyncSession,
    *,
    published: bool = True,
    published_at: datetime | None = None,
    **overrides: Any,
) -> Article:
    """Store an article (published an hour ago unless told otherwise) and commit it."""
    data = ArticleWrite.model_validate(article_data(**overrides))
    article = await articles.create(session, data, "factory")
    if published or published_at is not None:
        at = published_at or datetime.now(UTC) - timedelta(hours=1)
        await workflow.publish(session, article, "factory", at)
    await session.commit()
    return article
