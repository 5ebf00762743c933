import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.fields import WebUrl, text

from .models import SourceKind


class SourceCreate(BaseModel):
    """A source given by value on write: matched to an existing one by kind and name (and,
    for anonymous sources, affiliation), otherwise created."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, text(300, 1)]
    kind: SourceKind
    description: Annotated[str, text(1000)] | None = None
    url: WebUrl | None = None
    affiliation: Annotated[str, text(300)] | None = None


class SourceReference(BaseModel):
    """An existing source given by id."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID


class SourceSummary(BaseModel):
    """A source as embedded in an attribution."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: SourceKind
    description: str | None
    url: str | None
    affiliation: str | None


class SourceRead(SourceSummary):
    claim_count: int = Field(description="Claims attributed to this source that you can see.")
    article_count: int = Field(description="Articles with such claims.")
