from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app import errors
from app.auth.dependencies import Reader
from app.db import Session
from app.fields import OpaqueId, parse_id
from app.http import cached_json, cached_page
from app.pagination import DEFAULT_LIMIT, Count, Cursor, Limit, Page
from app.routing import AuthFirstRoute

from . import service
from .models import SourceKind
from .schemas import SourceRead

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1/sources", tags=["sources"])


@router.get("", response_model=Page[SourceRead], responses=errors.responses(errors.Invalid))
async def list_sources(
    request: Request,
    session: Session,
    caller: Reader,
    q: Annotated[str | None, Query(max_length=300, description="Words in the name.")] = None,
    kind: Annotated[SourceKind | None, Query(description="Only sources of this kind.")] = None,
    sort: Annotated[
        Literal["-claim_count", "name"],
        Query(description="`-claim_count`: most cited first; `name`: alphabetical."),
    ] = "-claim_count",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    count: Count = False,
) -> Response:
    """Sources, most cited first (or by name)."""
    sources, next_cursor, total = await service.list_sources(
        session,
        sees_drafts=caller.sees_drafts,
        q=q,
        kind=kind,
        sort=sort,
        limit=limit,
        cursor=cursor,
        count=count,
    )
    return cached_page(
        request,
        [s.model_dump(mode="json") for s in sources],
        next_cursor,
        total=total,
        public=not caller.sees_drafts,
        surrogate_keys=["sources"],
    )


@router.get(
    "/{source_id}", response_model=SourceRead, responses=errors.responses(service.SourceNotFound)
)
async def get_source(
    source_id: OpaqueId, request: Request, session: Session, caller: Reader
) -> Response:
    """One source with how many claims and articles cite it."""
    found = parse_id(source_id, service.SourceNotFound)
    source = await service.get(session, found, caller.sees_drafts)
    return cached_json(
        request,
        source.model_dump(mode="json"),
        public=not caller.sees_drafts,
        surrogate_keys=[f"source-{source.id}"],
    )
