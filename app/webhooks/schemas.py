import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.fields import WebUrl, text

from .models import DeliveryStatus, View

ArticleEvent = Literal[
    "article.published",
    "article.updated",
    "article.retracted",
    "article.unpublished",
    "article.deleted",
]
ARTICLE_EVENTS: list[ArticleEvent] = [
    "article.published",
    "article.updated",
    "article.retracted",
    "article.unpublished",
    "article.deleted",
]
TEST_EVENT = "webhook.test"

Events = Annotated[
    list[ArticleEvent],
    Field(min_length=1, description="The events to deliver; all article events if left out."),
]
Description = Annotated[str, text(500)]
# The webhook table holds URLs of up to 2000 characters; WebUrl alone would take 2048.
Url = Annotated[WebUrl, Field(max_length=2000)]


def _unique(events: list[str]) -> list[str]:
    return list(dict.fromkeys(events))


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: Events = Field(default_factory=lambda: list(ARTICLE_EVENTS))
    view: View = Field(
        View.syndicated,
        description="`syndicated` (default): changes partners may take, leaving out articles "
        "with syndication.allowed=false; `public`: every change readers can see.",
    )
    description: Description = ""

    _dedupe = field_validator("events")(_unique)


class WebhookUpdate(BaseModel):
    """A JSON Merge Patch of a webhook; `enabled: true` re-enables a disabled one."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: Events | None = None
    view: View | None = None
    description: Description | None = None
    enabled: bool | None = None

    _dedupe = field_validator("events")(lambda events: _unique(events) if events else events)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    events: list[str]
    view: View
    description: str
    enabled: bool
    disabled_reason: str | None = Field(description="Why the webhook stopped, when it did.")
    disabled_at: datetime | None
    consecutive_failures: int = Field(description="Failed attempts since the last success.")
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


SHOWN_ONCE_NOTE = (
    "The signing secret is shown only once, in the first response to this request, and is "
    "not kept for replays. If that response was lost, delete this webhook and create "
    "another (with a new Idempotency-Key)."
)


class WebhookCreated(WebhookRead):
    secret: str | None = Field(
        description="The signing secret (`whsec_…`). It is shown this once: verify each "
        "delivery's `webhook-signature` with it. Null when the response is a replay of an "
        "earlier request with the same Idempotency-Key (`Idempotent-Replayed: true`)."
    )
    secret_note: str | None = Field(
        description="Why `secret` is null, when it is: set on a replay, null otherwise."
    )


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    duration_ms: int
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered.")
    error: str | None = Field(description="What went wrong, when the attempt failed.")
    response_excerpt: str | None


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    webhook_id: uuid.UUID
    message_id: str = Field(description="The `webhook-id` header, the same on every attempt.")
    event: str
    change_seq: int | None = Field(description="The change's `seq` in GET /v1/changes.")
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="When a pending delivery goes next.")
    created_at: datetime
    completed_at: datetime | None
    payload: dict[str, Any] = Field(description="The JSON body every attempt sends.")
    attempts: list[AttemptRead]
