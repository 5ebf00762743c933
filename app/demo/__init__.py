"""Demo content: a handful of short fictional stories written for Newsdesk, published with
their claims and sources, so a fresh `make run` has something to show."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import service as articles
from app.articles import workflow
from app.articles.models import Article
from app.articles.schemas import ArticleWrite

STORIES = Path(__file__).with_name("stories.json")
ACTOR = "demo"


async def load(session: AsyncSession, *, only_if_empty: bool = True) -> int:
    """Create and publish the demo stories; returns how many were loaded."""
    if only_if_empty and await session.scalar(select(func.count(Article.id))):
        return 0
    now = datetime.now(UTC)
    stories = json.loads(STORIES.read_text(encoding="utf-8"))
    for story in stories:
        hours_ago = story.pop("published_hours_ago")
        article = await articles.create(session, ArticleWrite.model_validate(story), ACTOR)
        await workflow.publish(session, article, ACTOR, now - timedelta(hours=hours_ago))
    return len(stories)
