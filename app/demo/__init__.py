"""Demo content: a handful of short fictional stories written for Newsdesk, published with
their claims, sources and a featured illustration, so a fresh `make run` has something to
show."""

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import service as articles
from app.articles import workflow
from app.articles.models import Article
from app.articles.schemas import ArticleWrite
from app.media import service as media
from app.media.schemas import MediumFields
from app.media.storage import MediaStore

STORIES = Path(__file__).with_name("stories.json")
ACTOR = "demo"
PICTURE_SIZE = (1600, 900)


def illustration(sky: list[int], ground: list[int]) -> bytes:
    """A plain landscape: the sky shading towards the horizon, then the ground (a JPEG)."""
    width, height = PICTURE_SIZE
    horizon = height * 3 // 5
    picture = Image.new("RGB", PICTURE_SIZE)
    draw = ImageDraw.Draw(picture)
    for y in range(horizon):
        lighter = y / horizon * 0.35
        draw.line([(0, y), (width, y)], fill=tuple(round(c + (255 - c) * lighter) for c in sky))
    draw.rectangle([(0, horizon), (width, height)], fill=tuple(ground))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


async def _picture(session: AsyncSession, store: MediaStore, given: dict[str, Any]) -> str:
    limits = media.Limits(max_bytes=10 * 1024 * 1024, max_pixels=PICTURE_SIZE[0] * PICTURE_SIZE[1])
    fields = MediumFields(alt=given["alt"], caption=given["caption"], credit=given["credit"])
    data = illustration(given["sky"], given["ground"])
    medium = await media.upload(session, store, limits, data, fields)
    return str(medium.id)


async def load(session: AsyncSession, store: MediaStore, *, only_if_empty: bool = True) -> int:
    """Create and publish the demo stories; returns how many were loaded."""
    if only_if_empty and await session.scalar(select(func.count(Article.id))):
        return 0
    now = datetime.now(UTC)
    stories = json.loads(STORIES.read_text(encoding="utf-8"))
    for story in stories:
        hours_ago = story.pop("published_hours_ago")
        story["featured_image"] = {"id": await _picture(session, store, story.pop("picture"))}
        article = await articles.create(session, ArticleWrite.model_validate(story), ACTOR)
        await workflow.publish(session, article, ACTOR, now - timedelta(hours=hours_ago))
    return len(stories)
