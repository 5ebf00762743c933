import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app import errors
from app.articles import service as articles
from app.articles.dependencies import WritableArticle
from app.articles.models import Article, is_public
from app.auth.dependencies import CurrentCaller, Reader, Writer, require_scope
from app.auth.scopes import Scope
from app.db import Session
from app.fields import OpaqueId, parse_id
from app.http import IfMatch, cached_json, cached_page, check_if_match, etag_of, json_response
from app.idempotency.dependencies import Idempotency
from app.pagination import DEFAULT_LIMIT, Count, Cursor, Limit, Page
from app.routing import (
    AuthFirstRoute,
    MergePatch,
    merge_patch_body,
    require_json,
    require_merge_patch,
)
from app.sources import service as sources

from . import service
from .models import Claim, ClaimKind, Verification
from .schemas import ClaimPatch, ClaimRead, ClaimWrite

router = APIRouter(route_class=AuthFirstRoute, tags=["claims"])
# A source's claims: listed here, where claims are, but documented (and grouped by the
# generated clients) with the sources, as they always were.
source_claims = APIRouter(route_class=AuthFirstRoute, prefix="/v1/sources", tags=["sources"])
CanWrite = Depends(require_scope(Scope.write))
WRITE_ERRORS = errors.responses(
    errors.Unauthorized, errors.Forbidden, errors.UnsupportedMediaType, errors.Invalid
)


def claim_payload(claim: Claim) -> dict[str, Any]:
    return ClaimRead.model_validate(claim).model_dump(mode="json")


async def writable_claim(
    claim_id: OpaqueId, session: Session, caller: CurrentCaller, if_match: IfMatch = None
) -> tuple[Article, Claim]:
    """The claim a write targets with its article (locked), checked against `If-Match`, and
    refused to a caller who may not change that article as it stands."""
    found = parse_id(claim_id, service.ClaimNotFound)
    article, claim = await service.claim_in_article(session, found)
    articles.check_changeable(article, may_publish=caller.may_publish)
    check_if_match(if_match, etag_of(claim_payload(claim)))
    return article, claim


WritableClaim = Annotated[tuple[Article, Claim], Depends(writable_claim)]


def page_response(
    request: Request,
    claims: list[Claim],
    next_cursor: str | None,
    total: int | None,
    *,
    public: bool,
) -> Response:
    return cached_page(
        request,
        [claim_payload(c) for c in claims],
        next_cursor,
        total=total,
        public=public,
        surrogate_keys=["claims", *(f"article-{c.article_id}" for c in claims)],
    )


@router.get(
    "/v1/articles/{article}/claims",
    response_model=Page[ClaimRead],
    responses=errors.responses(articles.ArticleNotFound, articles.ArticleGone),
)
async def list_article_claims(
    article: str,
    request: Request,
    session: Session,
    caller: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """The claims of one article, in reading order."""
    found = await articles.get(session, article, sees_drafts=caller.sees_drafts, claims_too=False)
    claims, next_cursor, _ = await service.list_claims(
        session, sees_drafts=caller.sees_drafts, article_id=found.id, limit=limit, cursor=cursor
    )
    return page_response(
        request, claims, next_cursor, None, public=is_public(found, datetime.now(UTC))
    )


@router.post(
    "/v1/articles/{article}/claims",
    status_code=status.HTTP_201_CREATED,
    response_model=ClaimRead,
    dependencies=[CanWrite, Depends(require_json)],
    responses={
        **WRITE_ERRORS,
        **errors.responses(
            articles.ArticleNotFound, articles.ArticleGone, errors.PreconditionFailed
        ),
    },
)
async def create_claim(
    idem: Idempotency,
    article: WritableArticle,
    data: ClaimWrite,
    session: Session,
    caller: Writer,
) -> Response:
    """Add a claim to an article (`If-Match` takes the article's ETag)."""
    claim = await service.add_claim(session, article, data, caller.name)
    return idem.keep(
        json_response(
            claim_payload(claim),
            status_code=status.HTTP_201_CREATED,
            headers={"Location": f"/v1/claims/{claim.id}"},
        )
    )


@router.get(
    "/v1/claims", response_model=Page[ClaimRead], responses=errors.responses(errors.Invalid)
)
async def list_claims(
    request: Request,
    session: Session,
    caller: Reader,
    article: Annotated[uuid.UUID | None, Query(description="Only this article's claims.")] = None,
    source: Annotated[uuid.UUID | None, Query(description="Only claims attributed to it.")] = None,
    verification: Annotated[
        Verification | None, Query(description="Only claims with this verification status.")
    ] = None,
    kind: Annotated[ClaimKind | None, Query(description="Only claims of this kind.")] = None,
    q: Annotated[
        str | None, Query(max_length=500, description="Words in statement or quote.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    count: Count = False,
) -> Response:
    """Claims across articles, newest first."""
    claims, next_cursor, total = await service.list_claims(
        session,
        sees_drafts=caller.sees_drafts,
        article_id=article,
        source_id=source,
        verification=verification,
        kind=kind,
        q=q,
        limit=limit,
        cursor=cursor,
        count=count,
    )
    return page_response(request, claims, next_cursor, total, public=not caller.sees_drafts)


@router.get(
    "/v1/claims/{claim_id}",
    response_model=ClaimRead,
    responses=errors.responses(service.ClaimNotFound),
)
async def get_claim(
    claim_id: OpaqueId, request: Request, session: Session, caller: Reader
) -> Response:
    """One claim with its attributions and sources."""
    found = parse_id(claim_id, service.ClaimNotFound)
    claim = await service.get(session, found, caller.sees_drafts)
    return cached_json(
        request,
        claim_payload(claim),
        public=not caller.sees_drafts,
        surrogate_keys=[f"article-{claim.article_id}"],
    )


@router.patch(
    "/v1/claims/{claim_id}",
    response_model=ClaimRead,
    dependencies=[CanWrite, Depends(require_merge_patch)],
    responses={
        **WRITE_ERRORS,
        **errors.responses(service.ClaimNotFound, errors.PreconditionFailed),
    },
    openapi_extra=merge_patch_body(),
)
async def update_claim(
    target: WritableClaim, data: MergePatch[ClaimPatch], session: Session, caller: Writer
) -> Response:
    """Change a claim (JSON Merge Patch); `attributions`, when given, replaces the list.
    `If-Match` takes the claim's ETag."""
    claim = await service.edit_claim(session, *target, data, caller.name)
    return json_response(claim_payload(claim))


@router.delete(
    "/v1/claims/{claim_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[CanWrite],
    responses=errors.responses(
        errors.Unauthorized, errors.Forbidden, service.ClaimNotFound, errors.PreconditionFailed
    ),
)
async def delete_claim(target: WritableClaim, session: Session, caller: Writer) -> None:
    """Remove a claim from its article (`If-Match` takes the claim's ETag)."""
    await service.remove_claim(session, *target, caller.name)


@source_claims.get(
    "/{source_id}/claims",
    response_model=Page[ClaimRead],
    responses=errors.responses(sources.SourceNotFound),
)
async def list_source_claims(
    source_id: OpaqueId,
    request: Request,
    session: Session,
    caller: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """The claims attributed to this source, newest first."""
    source = parse_id(source_id, sources.SourceNotFound)
    await sources.get(session, source, caller.sees_drafts)  # 404 unless visible
    found, next_cursor, _ = await service.list_claims(
        session, sees_drafts=caller.sees_drafts, source_id=source, limit=limit, cursor=cursor
    )
    return page_response(request, found, next_cursor, None, public=not caller.sees_drafts)
