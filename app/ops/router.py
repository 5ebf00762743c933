from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from app.db import Session
from app.errors import problem_response
from app.http import AuthFirstRoute

from . import service

router = APIRouter(route_class=AuthFirstRoute, tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"description": "Not ready"}})
async def readyz(request: Request, session: Session) -> Response | dict[str, str]:
    """The database answers and is migrated to the schema this code expects."""
    problem = await service.readiness_problem(session)
    if problem:
        return problem_response(503, detail=problem)
    return {"status": "ready", "database": session.bind.dialect.name, "migration": service.head()}
