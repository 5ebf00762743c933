import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.fields import text

from .scopes import Scope


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, text(100, 1)]
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=4)]
    rate_limit: (
        Annotated[int, Field(ge=1, le=1_000_000, description="Requests per minute.")] | None
    ) = None


class KeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    scopes: list[Scope]
    rate_limit: int | None
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    key: str = Field(description="The API key itself. It is shown this once and never again.")
