import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app import errors
from app.auth.dependencies import Reader
from app.db import Session, Sessionmaker
from app.http import AuthFirstRoute, cached_page
from app.pagination import DEFAULT_LIMIT, Limit

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
    next_cursor: str = Field(description="Poll again with `since` set to this, also when empty.")


@router.get("/changes", response_model=ChangePage, responses=errors.responses(errors.Invalid))
async def list_changes(
    request: Request,
    session: Session,
    sessionmaker: Sessionmaker,
    caller: Reader,
    since: Annotated[
        str | None, Query(description="`next_cursor` of the previous poll; omit to start over.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Every change to public content in commit order. Replaying it from the start and
    applying each event (published/updated/retracted: fetch the article; unpublished/deleted:
    drop it) ends with exactly the public set. Without `content:write`, articles not
    allowed for syndication are left out."""
    await service.release_due(sessionmaker)
    events, next_cursor = await service.list_changes(
        session, syndicated=not caller.sees_drafts, since=since, limit=limit
    )
    data = [ChangeRead.model_validate(e).model_dump(mode="json") for e in events]
    return cached_page(
        request, data, next_cursor, public=not caller.sees_drafts, surrogate_keys=["changes"]
    )
