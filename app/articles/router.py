import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from app import errors
from app.auth.dependencies import Publisher, Reader, Writer, require_scope
from app.auth.scopes import Scope
from app.db import Session, Sessionmaker, commits_on_its_own
from app.fields import TimeOrDate
from app.http import cache_control, cached_json, cached_page, json_response
from app.idempotency import dependencies as idempotency
from app.idempotency.dependencies import Idempotency
from app.pagination import DEFAULT_LIMIT, Count, Cursor, Limit, Page
from app.routing import (
    AuthFirstRoute,
    MergePatch,
    merge_patch_body,
    require_json,
    require_merge_patch,
    require_ndjson,
)

from . import bulk, cache, formats, queries, revisions, service, workflow
from .dependencies import WritableArticle
from .models import Article, is_public
from .responses import written
from .schemas import (
    ArticlePatch,
    ArticleRead,
    ArticleRevisionRead,
    ArticleView,
    ArticleWrite,
    BulkReport,
    NoticeRequest,
    PublishRequest,
    RevisionSummary,
    projection_of,
)

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1/articles", tags=["articles"])
JsonBody = Depends(require_json)
MergePatchBody = Depends(require_merge_patch)
CanWrite = Depends(require_scope(Scope.write))
CanPublish = Depends(require_scope(Scope.publish))
NOT_FOUND = errors.responses(service.ArticleNotFound, service.ArticleGone)
MOVED: dict[int | str, dict[str, Any]] = {
    301: {
        "description": "A slug the article had before a rename: `Location` is where it is now.",
        "headers": {"Location": {"schema": {"type": "string"}}},
    }
}
AUTH_ERRORS = errors.responses(errors.Unauthorized, errors.Forbidden)
WRITE_ERRORS = errors.responses(
    errors.Unauthorized, errors.Forbidden, errors.UnsupportedMediaType, errors.Invalid
)
PRECONDITION = errors.PreconditionFailed
# Pages that embed claims or sources are kept small: each article may carry 500 claims.
MAX_EMBEDDING_PAGE = 25
CONFLICT = workflow.WorkflowConflict
# Versions are stored as 32-bit integers: a larger one is malformed, not merely unknown.
Version = Annotated[int, Path(ge=0, le=2**31 - 1, description="A version number (the first is 1).")]


Fields = Annotated[
    str | None,
    Query(
        description="Comma-separated fields to return, e.g. `id,slug,headline`; `claims` and "
        "`sources` need `include` (one article always embeds its claims)."
    ),
]
Include = Annotated[str | None, Query(description="Comma-separated: `claims`, `sources`.")]
View = tuple[frozenset[str] | None, frozenset[str]]


async def list_projection(fields: Fields = None, include: Include = None) -> View:
    return projection_of(fields, include)


async def requested_rendition(
    request: Request,
    format: Annotated[
        formats.Format | None,
        Query(
            description="`json` (the default), `jsonld` (schema.org, application/ld+json; "
            "also chosen by `Accept: application/ld+json`) or `ninjs` (IPTC ninjs 3.1). "
            "`fields` and `include` apply to `json` only."
        ),
    ] = None,
    fields: Fields = None,
    include: Include = None,
) -> cache.Rendition:
    """What a read of one article asks for, by the parser `CachedArticleReads` uses too (the
    parameters are declared here for the documentation and checked there)."""
    return cache.Rendition.requested(request.query_params, request.headers.get("accept"))


ListProjection = Annotated[View, Depends(list_projection)]
RequestedRendition = Annotated[cache.Rendition, Depends(requested_rendition)]


@router.get(
    "",
    response_model=Page[ArticleView],
    responses=errors.responses(errors.Invalid, queries.StatusFilterForbidden),
)
async def list_articles(
    request: Request,
    session: Session,
    caller: Reader,
    view: ListProjection,
    section: Annotated[
        str | None,
        Query(description="Only this section, by its slug, e.g. `politics` (any case)."),
    ] = None,
    tag: Annotated[list[str], Query(description="Repeatable; all must match.")] = [],  # noqa: B006
    author: Annotated[
        str | None,
        Query(
            description="Only articles by this author: their slug or id (or, as before "
            "authors had either, their name, in any case and spacing)."
        ),
    ] = None,
    source: Annotated[
        uuid.UUID | None, Query(description="Articles with a claim attributed to this source.")
    ] = None,
    language: Annotated[str | None, Query(description="A language code, e.g. `en`.")] = None,
    q: Annotated[
        str | None, Query(max_length=500, description="Full-text search over headline, deck, body.")
    ] = None,
    published_after: Annotated[
        TimeOrDate | None,
        Query(description="Published after this time (RFC 3339, or a date: its midnight UTC)."),
    ] = None,
    published_before: Annotated[
        TimeOrDate | None,
        Query(description="Published before this time (RFC 3339, or a date: its midnight UTC)."),
    ] = None,
    status_: Annotated[
        Literal["draft", "published", "retracted", "all"] | None,
        Query(alias="status", description="Other than `published` needs `content:write`."),
    ] = None,
    sort: Annotated[
        Literal["-published_at", "published_at", "-updated_at", "updated_at"] | None,
        Query(description="Order by a time, `-` for newest first (default: `-published_at`)."),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    count: Count = False,
) -> Response:
    """List articles, newest first (ranked by relevance with `q`), in pages of `limit`.
    With `include`, a page holds at most 25 articles (each may embed up to 500 claims)."""
    fields, include = view
    if include and limit > MAX_EMBEDDING_PAGE:
        raise errors.Invalid(
            f"With include={','.join(sorted(include))} a page holds at most "
            f"{MAX_EMBEDDING_PAGE} articles; ask for limit={MAX_EMBEDDING_PAGE} or fewer.",
            ["query", "limit"],
        )
    q = q.strip() if q else None
    filters = queries.ArticleFilters(
        section=section,
        tags=tag,
        author=author,
        source=source,
        language=language,
        q=q,
        published_after=published_after,
        published_before=published_before,
        status=status_,
        sort=sort,
    )
    rows, next_cursor, total = await queries.page(
        session, filters, sees_drafts=caller.sees_drafts, limit=limit, cursor=cursor, count=count
    )
    items = await cache.list_items(
        session, rows, request.app.state.rendered_articles, fields=fields, include=include
    )
    return cached_page(
        request,
        [item.body for item in items],
        next_cursor,
        total=total,
        public=(status_ or "published") == "published",
        surrogate_keys=["articles", *(key for item in items for key in item.surrogate_keys)],
        etag=cache.page_etag(items, next_cursor, total),
    )


@router.get(
    "/{article}",
    response_model=formats.ArticleDocument,
    responses={**NOT_FOUND, **MOVED, **errors.responses(errors.Invalid), **formats.RESPONSES},
)
async def get_article(
    article: str,
    request: Request,
    session: Session,
    caller: Reader,
    rendition: RequestedRendition,
) -> Response:
    """Fetch one article, by id or slug, with its claims and their sources; or the same
    article as schema.org JSON-LD (with a ClaimReview per reviewed claim) or IPTC ninjs 3.1."""
    try:
        rendered, public = await cache.read(
            session,
            article,
            rendition,
            sees_drafts=caller.sees_drafts,
            rendered=request.app.state.rendered_articles,
            settings=request.app.state.settings,
        )
    except service.ArticleNotFound:
        renamed = await service.renamed_to(session, article, sees_drafts=caller.sees_drafts)
        if renamed is None:
            raise
        return moved_permanently(request, renamed, public=is_public(renamed, datetime.now(UTC)))
    return rendered.response(request, public=public)


def moved_permanently(request: Request, article: Article, *, public: bool) -> Response:
    """A slug the article had before a rename: 301 to where it is now, query and all."""
    location = f"/v1/articles/{article.slug}"
    if request.url.query:
        location += f"?{request.url.query}"
    return Response(
        status_code=status.HTTP_301_MOVED_PERMANENTLY,
        headers={"Location": location, "Cache-Control": cache_control(request, public)},
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ArticleRead,
    dependencies=[CanWrite, JsonBody],
    responses={**WRITE_ERRORS, **errors.responses(service.SlugTaken)},
)
async def create_article(
    idem: Idempotency, data: ArticleWrite, session: Session, caller: Writer
) -> Response:
    """Create a draft article with its claims, attributions and sources in one request."""
    article = await service.create(session, data, caller.name)
    return idem.keep(written(article, status.HTTP_201_CREATED))


@router.put(
    "/{article}",
    response_model=ArticleRead,
    dependencies=[CanWrite, JsonBody],
    responses={**NOT_FOUND, **WRITE_ERRORS, **errors.responses(service.SlugTaken, PRECONDITION)},
)
async def replace_article(
    article: WritableArticle, data: ArticleWrite, session: Session, caller: Writer
) -> Response:
    """Replace the article and its claim list; optional fields left out go back to their
    defaults. Claims given with their `id` keep it; the others are new."""
    return written(await service.replace(session, article, data, caller.name))


@router.patch(
    "/{article}",
    response_model=ArticleRead,
    dependencies=[CanWrite, MergePatchBody],
    responses={**NOT_FOUND, **WRITE_ERRORS, **errors.responses(service.SlugTaken, PRECONDITION)},
    openapi_extra=merge_patch_body(),
)
async def update_article(
    article: WritableArticle, data: MergePatch[ArticlePatch], session: Session, caller: Writer
) -> Response:
    """Change some fields (JSON Merge Patch); a new body re-anchors the claims."""
    return written(await service.patch(session, article, data, caller.name))


@router.delete(
    "/{article}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[CanPublish],
    responses={**NOT_FOUND, **AUTH_ERRORS, **errors.responses(PRECONDITION)},
)
async def delete_article(article: WritableArticle, session: Session, caller: Publisher) -> None:
    """Delete the article: from now on it answers 410 Gone, and its slug stays reserved."""
    await workflow.delete(session, article, caller.name)


@router.post(
    "/bulk",
    response_model=BulkReport,
    dependencies=[CanWrite, Depends(require_ndjson), idempotency.TakesKey],
    responses={**WRITE_ERRORS, **errors.responses(errors.Conflict)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "One ArticleWrite per line."}
                }
            },
        }
    },
)
@commits_on_its_own
async def bulk_upsert(request: Request, sessionmaker: Sessionmaker, caller: Writer) -> Response:
    """Create or replace many articles: NDJSON, one article (with its claims) a line,
    upserted by slug. Each line is written in its own transaction and fails alone; the
    report gives every line's outcome with its number."""
    body = await bulk.Spooled().fill(request.stream())
    try:
        async with sessionmaker.begin() as session:
            await idempotency.begin(request, session, sessionmaker, body.digest.hexdigest())
        max_line = request.app.state.settings.max_body_bytes
        report = await bulk.upsert_lines(
            sessionmaker, body, caller.name, max_line, may_publish=caller.may_publish
        )
    finally:
        body.close()
    return json_response(report)


WORKFLOW_ERRORS = {**NOT_FOUND, **WRITE_ERRORS, **errors.responses(PRECONDITION, CONFLICT)}


@router.post(
    "/{article}/publish",
    response_model=ArticleRead,
    dependencies=[CanPublish],
    responses=WORKFLOW_ERRORS,
)
async def publish_article(
    idem: Idempotency,
    article: WritableArticle,
    session: Session,
    caller: Publisher,
    data: PublishRequest | None = None,
) -> Response:
    """Publish now, or at `published_at` (a future time schedules it: the article becomes
    visible at that moment). On a published article, `published_at` moves its time."""
    at = data.published_at if data else None
    return idem.keep(written(await workflow.publish(session, article, caller.name, at)))


@router.post(
    "/{article}/unpublish",
    response_model=ArticleRead,
    dependencies=[CanPublish],
    responses=WORKFLOW_ERRORS,
)
async def unpublish_article(
    idem: Idempotency, article: WritableArticle, session: Session, caller: Publisher
) -> Response:
    """Take the article back to draft: readers no longer see it."""
    return idem.keep(written(await workflow.unpublish(session, article, caller.name)))


@router.post(
    "/{article}/retract",
    response_model=ArticleRead,
    dependencies=[CanPublish, JsonBody],
    responses=WORKFLOW_ERRORS,
)
async def retract_article(
    idem: Idempotency,
    article: WritableArticle,
    data: NoticeRequest,
    session: Session,
    caller: Publisher,
) -> Response:
    """Retract the article: it stays readable, with its body, under the retraction notice."""
    return idem.keep(written(await workflow.retract(session, article, data.text, caller.name)))


@router.post(
    "/{article}/corrections",
    status_code=status.HTTP_201_CREATED,
    response_model=ArticleRead,
    dependencies=[CanPublish, JsonBody],
    responses=WORKFLOW_ERRORS,
)
async def correct_article(
    idem: Idempotency,
    article: WritableArticle,
    data: NoticeRequest,
    session: Session,
    caller: Publisher,
) -> Response:
    """Append a public correction to a published article."""
    corrected = await workflow.correct(session, article, data.text, caller.name)
    return idem.keep(written(corrected, status.HTTP_201_CREATED))


@router.get(
    "/{article}/revisions",
    response_model=Page[RevisionSummary],
    dependencies=[CanWrite],
    responses={**AUTH_ERRORS, **errors.responses(service.ArticleNotFound)},
)
async def list_revisions(
    article: str,
    request: Request,
    session: Session,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every version of the article, newest first, with who made which change."""
    found, next_cursor = await revisions.list_revisions(session, article, limit, cursor)
    data = [RevisionSummary.model_validate(r).model_dump(mode="json") for r in found]
    return cached_page(request, data, next_cursor, public=False)


@router.get(
    "/{article}/revisions/{version}",
    response_model=ArticleRevisionRead,
    dependencies=[CanWrite],
    responses={
        **AUTH_ERRORS,
        **errors.responses(service.ArticleNotFound, revisions.RevisionNotFound),
    },
)
async def get_revision(
    article: str, version: Version, request: Request, session: Session
) -> Response:
    """The article with its claims exactly as it stood at `version`."""
    snapshot, latest = await revisions.get(session, article, version)
    base = f"/v1/articles/{snapshot['id']}"
    links = [
        f'<{base}/revisions>; rel="version-history"',
        f'<{base}/revisions/{latest}>; rel="latest-version"',
    ]
    if version > 1:
        links.append(f'<{base}/revisions/{version - 1}>; rel="predecessor-version"')
    if version < latest:
        links.append(f'<{base}/revisions/{version + 1}>; rel="successor-version"')
    return cached_json(request, snapshot, public=False, headers={"Link": ", ".join(links)})
