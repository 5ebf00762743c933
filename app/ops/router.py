from fastapi import APIRouter, Depends, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from pydantic import BaseModel

from app import problems
from app.auth.dependencies import require_scope
from app.auth.scopes import Scope
from app.db import Session, dialect_name
from app.errors import NotFound, problem_response, problem_type
from app.http import cached_bytes, cached_json
from app.routing import AuthFirstRoute

from . import metrics, service, swagger_ui

router = APIRouter(route_class=AuthFirstRoute, tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str


@router.get("/healthz", response_model=Health)
async def healthz(request: Request) -> Response:
    """The process is up."""
    return cached_json(request, {"status": "ok"}, public=False)


@router.get("/readyz", response_model=Readiness, responses={503: {"description": "Not ready"}})
async def readyz(request: Request, session: Session) -> Response:
    """The database answers and is migrated to the schema this code expects."""
    problem = await service.readiness_problem(session)
    if problem:
        return problem_response(503, type_=problem_type(request, "not-ready"), detail=problem)
    ready = {"status": "ready", "database": dialect_name(session), "migration": service.head()}
    return cached_json(request, ready, public=False)


@router.get(
    "/metrics",
    dependencies=[Depends(require_scope(Scope.admin))],
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {metrics.MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def metrics_exposition(session: Session) -> Response:
    """Prometheus metrics (text format; needs `admin`): requests by route and status,
    latency histograms, webhook outbox backlog and deliveries, database pool."""
    return Response(
        await metrics.exposition(session),
        media_type=metrics.MEDIA_TYPE,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> Response:
    """The OpenAPI document: the published contract."""
    return cached_json(request, request.app.openapi(), public=True)


@router.get("/docs", include_in_schema=False)
async def docs(request: Request) -> Response:
    """Interactive documentation (Swagger UI), all of it served from here: no CDN."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Newsdesk API",
        swagger_js_url=swagger_ui.url("swagger-ui-bundle.js"),
        swagger_css_url=swagger_ui.url("swagger-ui.css"),
        swagger_favicon_url=swagger_ui.url("favicon.png"),
        # Its default sends the document to validator.swagger.io for a badge.
        swagger_ui_parameters={"validatorUrl": None},
    )
    return cached_bytes(request, bytes(page.body), public=True, media_type="text/html")


@router.get("/problems", include_in_schema=False)
async def problem_types(request: Request) -> Response:
    """Every problem type, linked to its page."""
    return cached_bytes(request, problems.index(), public=True, media_type="text/html")


@router.get("/problems/{code}", include_in_schema=False)
async def problem_type_page(code: str, request: Request) -> Response:
    """What a problem `type` means and what to do about it: where its URI resolves."""
    found = problems.TYPES.get(code)
    if found is None:
        raise NotFound(f"There is no problem type {code!r}; see /problems for them all.")
    return cached_bytes(request, problems.page(found), public=True, media_type="text/html")


@router.get(swagger_ui.PATH + "/{version}/{name}", include_in_schema=False)
async def docs_asset(request: Request, version: str, name: str) -> Response:
    """Swagger UI's files. Their URL names the version, so they can be cached for good."""
    asset = swagger_ui.asset(version, name)
    if asset is None:
        raise NotFound(f"There is no Swagger UI file {name!r} of version {version!r}.")
    return cached_bytes(
        request,
        asset.body,
        public=True,
        media_type=asset.media_type,
        headers={"Cache-Control": swagger_ui.CACHE_CONTROL},
        etag=asset.etag,
    )
