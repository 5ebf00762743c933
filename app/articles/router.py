import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import AwareDatetime

from app import errors
from app.auth.dependencies import Reader, require_scope
from app.auth.models import Scope
from app.db import Session
from app.errors import Invalid
from app.http import (
    AuthFirstRoute,
    cached_json,
    cached_page,
    check_if_match,
    etag_of,
    json_response,
    require_json,
)
from app.pagination import DEFAULT_LIMIT, Cursor, Limit, Page

from . import queries, service
from .models import Article
from .schemas import (
    ARTICLE_FIELDS,
    INCLUDABLE,
    ArticlePatch,
    ArticleRead,
    ArticleWrite,
    article_payload,
)

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1/articles", tags=["articles"])
JsonBody = Depends(require_json)
CanWrite = Depends(require_scope(Scope.write))
CanPublish = Depends(require_scope(Scope.publish))
NOT_FOUND = errors.responses(service.ArticleNotFound, service.ArticleGone)
WRITE_ERRORS = errors.responses(
    errors.Unauthorized, errors.Forbidden, errors.UnsupportedMediaType, errors.Invalid
)


def _names(raw: str | None, allowed: frozenset[str], parameter: str) -> frozenset[str] | None:
    if raw is None:
        return None
    names = frozenset(name.strip() for name in raw.split(",") if name.strip())
    unknown = sorted(names - allowed)
    if unknown:
        raise Invalid(
            f"Unknown {parameter}: {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}.",
            ["query", parameter],
        )
    return names


def projection(
    fields: Annotated[
        str | None, Query(description="Comma-separated fields to return, e.g. `id,slug,headline`.")
    ] = None,
    include: Annotated[
        str | None, Query(description="Comma-separated: `claims`, `sources`.")
    ] = None,
) -> tuple[frozenset[str] | None, frozenset[str]]:
    return _names(fields, ARTICLE_FIELDS, "fields"), _names(
        include, INCLUDABLE, "include"
    ) or frozenset()


Projection = Annotated[tuple[frozenset[str] | None, frozenset[str]], Depends(projection)]


def surrogate_keys(article: Article) -> list[str]:
    keys = [f"article-{article.id}"]
    if article.section:
        keys.append(f"section-{article.section}")
    keys.extend(f"tag-{tag}" for tag in article.tags)
    return keys


def representation(article: Article) -> dict[str, Any]:
    """The default JSON of one article, whose ETag `If-Match` is checked against."""
    return article_payload(article, include=frozenset({"claims"}), fields=None)


async def writable(article: str, session: Session, request: Request) -> Article:
    """The article a write targets, checked against `If-Match`. Routes using it authorise the
    caller first, in their `dependencies`."""
    found = await service.get(session, article, sees_drafts=True)
    check_if_match(request, etag_of(representation(found)))
    return found


WritableArticle = Annotated[Article, Depends(writable)]


@router.get(
    "",
    response_model=Page[ArticleRead],
    responses=errors.responses(errors.Invalid, queries.StatusFilterForbidden),
)
async def list_articles(
    request: Request,
    session: Session,
    caller: Reader,
    view: Projection,
    section: str | None = None,
    tag: Annotated[list[str], Query(description="Repeatable; all must match.")] = [],  # noqa: B006
    author: str | None = None,
    source: Annotated[
        uuid.UUID | None, Query(description="Articles with a claim attributed to this source.")
    ] = None,
    language: str | None = None,
    q: Annotated[
        str | None, Query(max_length=500, description="Full-text search over headline, deck, body.")
    ] = None,
    published_after: AwareDatetime | None = None,
    published_before: AwareDatetime | None = None,
    status_: Annotated[
        Literal["draft", "published", "retracted", "all"] | None,
        Query(alias="status", description="Other than `published` needs `content:write`."),
    ] = None,
    sort: Literal["-published_at", "published_at", "-updated_at", "updated_at"] | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    count: bool = False,
) -> Response:
    """List articles, newest first (ranked by relevance with `q`), in pages of `limit`."""
    fields, include = view
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
    articles, next_cursor, total = await queries.list_articles(
        session,
        filters,
        sees_drafts=caller.sees_drafts,
        with_claims=bool(include),
        limit=limit,
        cursor=cursor,
        count=count,
    )
    return cached_page(
        request,
        [article_payload(a, include=include, fields=fields) for a in articles],
        next_cursor,
        total=total,
        public=(status_ or "published") == "published",
        surrogate_keys=["articles", *(key for a in articles for key in surrogate_keys(a))],
    )


@router.get("/{article}", response_model=ArticleRead, responses=NOT_FOUND)
async def get_article(
    article: str,
    request: Request,
    session: Session,
    caller: Reader,
    view: Projection,
    format: Literal["json"] = "json",
) -> Response:
    """Fetch one article, by id or slug, with its claims and their sources."""
    fields, include = view
    found = await service.get(session, article, sees_drafts=caller.sees_drafts)
    payload = article_payload(found, include=include | {"claims"}, fields=fields)
    return cached_json(
        request, payload, public=service.is_public(found), surrogate_keys=surrogate_keys(found)
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ArticleRead,
    dependencies=[CanWrite, JsonBody],
    responses={**WRITE_ERRORS, **errors.responses(service.SlugTaken)},
)
async def create_article(data: ArticleWrite, session: Session) -> Response:
    """Create a draft article with its claims, attributions and sources in one request."""
    article = await service.create(session, data)
    return json_response(
        representation(article),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/v1/articles/{article.id}"},
    )


@router.put(
    "/{article}",
    response_model=ArticleRead,
    dependencies=[CanWrite, JsonBody],
    responses={
        **NOT_FOUND,
        **WRITE_ERRORS,
        **errors.responses(service.SlugTaken, errors.PreconditionFailed),
    },
)
async def replace_article(
    article: WritableArticle, data: ArticleWrite, session: Session
) -> Response:
    """Replace the article and its claims; optional fields left out go back to their defaults."""
    return json_response(representation(await service.replace(session, article, data)))


@router.patch(
    "/{article}",
    response_model=ArticleRead,
    dependencies=[CanWrite, JsonBody],
    responses={
        **NOT_FOUND,
        **WRITE_ERRORS,
        **errors.responses(service.SlugTaken, errors.PreconditionFailed),
    },
    openapi_extra={
        "requestBody": {
            "content": {
                "application/merge-patch+json": {
                    "schema": {"$ref": "#/components/schemas/ArticlePatch"}
                }
            }
        }
    },
)
async def update_article(
    article: WritableArticle, data: ArticlePatch, session: Session
) -> Response:
    """Change some fields (JSON Merge Patch); a new body re-anchors the claims."""
    return json_response(representation(await service.patch(session, article, data)))


@router.delete(
    "/{article}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[CanPublish],
    responses={
        **NOT_FOUND,
        **errors.responses(errors.Unauthorized, errors.Forbidden, errors.PreconditionFailed),
    },
)
async def delete_article(article: WritableArticle, session: Session) -> None:
    """Delete the article: from now on it answers 410 Gone, and its slug stays reserved."""
    await service.delete(session, article)
