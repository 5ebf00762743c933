from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app import errors
from app.articles.schemas import ArticleRead
from app.auth.dependencies import Reader
from app.db import Session
from app.http import cached_bytes
from app.pagination import DEFAULT_LIMIT, Limit
from app.routing import AuthFirstRoute

from . import render, service
from .schemas import JsonFeed

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1/feeds", tags=["feeds"])
Renderer = Callable[[render.Channel, Sequence[ArticleRead]], bytes]


def _described(media_type: str, description: str, schema: dict[str, Any]) -> dict[int | str, Any]:
    """The route's 200 in its own media type (no application/json), and its 422."""
    return {
        200: {"description": description, "content": {media_type: {"schema": schema}}},
        **errors.responses(errors.Invalid),
    }


@dataclass(frozen=True)
class Selection:
    """Which articles a feed holds: the query parameters every feed takes."""

    section: str | None
    tags: list[str]
    limit: int


async def selection(
    section: Annotated[str | None, Query(description="Only this section, e.g. `politics`.")] = None,
    tag: Annotated[list[str], Query(description="Repeatable; all must match.")] = [],  # noqa: B006
    limit: Limit = DEFAULT_LIMIT,
) -> Selection:
    return Selection(section, tag, limit)


FeedSelection = Annotated[Selection, Depends(selection)]


async def _feed(
    request: Request,
    session: Session,
    caller: Reader,
    chosen: Selection,
    write: Renderer,
    media_type: str,
) -> Response:
    articles = await service.latest(
        session,
        section=chosen.section,
        tags=chosen.tags,
        limit=chosen.limit,
        sees_drafts=caller.sees_drafts,
    )
    channel = service.channel(
        request.app.state.settings.public_base_url,
        request.url.path,
        request.url.query,
        section=chosen.section,
        tags=chosen.tags,
    )
    return cached_bytes(
        request,
        write(channel, articles),
        # A writer's feed also holds articles that may not be syndicated.
        public=not caller.sees_drafts,
        media_type=media_type,
        surrogate_keys=["feeds", *(f"article-{a.id}" for a in articles)],
    )


@router.get(
    "/rss",
    response_class=Response,
    responses=_described(render.RSS_MEDIA_TYPE, "An RSS 2.0 feed.", {"type": "string"}),
)
async def rss_feed(
    request: Request, session: Session, caller: Reader, chosen: FeedSelection
) -> Response:
    """The latest published articles as RSS 2.0, newest first: the deck as `description`,
    the full HTML as `content:encoded`, the byline as `dc:creator`."""
    return await _feed(request, session, caller, chosen, render.rss, render.RSS_MEDIA_TYPE)


@router.get(
    "/atom",
    response_class=Response,
    responses=_described(render.ATOM_MEDIA_TYPE, "An Atom 1.0 feed.", {"type": "string"}),
)
async def atom_feed(
    request: Request, session: Session, caller: Reader, chosen: FeedSelection
) -> Response:
    """The latest published articles as Atom 1.0 (RFC 4287), newest first: the deck as
    `summary`, the full HTML as `content`; a byline-less entry has the feed's author."""
    return await _feed(request, session, caller, chosen, render.atom, render.ATOM_MEDIA_TYPE)


@router.get(
    "/json",
    response_class=Response,
    response_model=JsonFeed,
    responses=_described(
        render.JSON_FEED_MEDIA_TYPE,
        "A JSON Feed 1.1 document.",
        {"$ref": "#/components/schemas/JsonFeed"},
    ),
)
async def json_feed(
    request: Request, session: Session, caller: Reader, chosen: FeedSelection
) -> Response:
    """The latest published articles as JSON Feed 1.1, newest first; each item's
    `_newsdesk` extension links its claims and counts how they are sourced."""
    return await _feed(
        request, session, caller, chosen, render.json_feed, render.JSON_FEED_MEDIA_TYPE
    )
