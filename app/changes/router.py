import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app import errors
from app.auth.dependencies import Reader
from app.db import Session, Sessionmaker
from app.http import cached_page
from app.pagination import DEFAULT_LIMIT, Limit
from app.routing import AuthFirstRoute

from . import service

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1", tags=["syndication"])


class ChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int = Field(description="Position in commit order.")
    event: str = Field(
        description="article.published, article.updated, article.retracted, "
        "article.unpublished or article.deleted."
    )
    article_id: uuid.UUID
    slug: str
    version: int
    occurred_at: datetime


class ChangePage(BaseModel):
    data: list[ChangeRead]
    next_cursor: str = Field(
        description="Poll again with `cursor` set to this, also when the page is empty."
    )


Position = Annotated[
    str | None,
    Query(
        description="Where to resume: `next_cursor` of the previous page, or the `seq` of the "
        "last event applied (a webhook's `data.seq`); omit to start from the beginning.",
        examples=["42"],
    ),
]


@router.get("/changes", response_model=ChangePage, responses=errors.responses(errors.Invalid))
async def list_changes(
    request: Request,
    session: Session,
    sessionmaker: Sessionmaker,
    caller: Reader,
    cursor: Position = None,
    since: Annotated[
        str | None,
        Query(description="The same as `cursor` (its earlier name).", deprecated=True),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Every change to public content in commit order. Replaying it from the start and
    applying each event (published/updated/retracted: fetch the article; unpublished/deleted:
    drop it) ends with exactly the public set. Without `content:write`, articles not
    allowed for syndication are left out. `Link: rel="next"` is there while more events are
    waiting; at the end, poll again later with `next_cursor`."""
    if cursor is not None and since is not None and cursor != since:
        raise errors.Invalid(
            "Give the position once, as `cursor` (`since` is its older name).", ["query", "since"]
        )
    parameter, raw = ("cursor", cursor) if cursor is not None else ("since", since)
    after = service.position(raw, parameter)
    await service.release_due(sessionmaker)
    events, next_cursor, more = await service.list_changes(
        session, syndicated=not caller.sees_drafts, after=after, limit=limit
    )
    data = [ChangeRead.model_validate(e).model_dump(mode="json") for e in events]
    return cached_page(
        request,
        data,
        next_cursor,
        public=not caller.sees_drafts,
        surrogate_keys=["changes"],
        more=more,
        # A poller behind a cache must see a new event at once: the ETag saves the bytes.
        revalidate=True,
    )
