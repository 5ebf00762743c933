"""Imports every domain's models once, so the mapper registry and `Base.metadata` are complete."""

from app.articles.models import (
    Article,
    ArticleAuthor,
    ArticleRevision,
    ArticleTag,
    Correction,
    RevisionPiece,
)
from app.auth.models import ApiKey
from app.authors.models import Author
from app.changes.models import ChangeEvent, ScheduledChange
from app.claims.models import Attribution, Claim
from app.db import Base
from app.idempotency.models import IdempotencyRecord
from app.media.models import ArticleImage, Medium
from app.sources.models import Source
from app.taxonomy.models import Section
from app.webhooks.models import (
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookOutbox,
    WorkerLease,
)

__all__ = [
    "ApiKey",
    "Article",
    "ArticleAuthor",
    "ArticleImage",
    "ArticleRevision",
    "ArticleTag",
    "Attribution",
    "Author",
    "Base",
    "ChangeEvent",
    "Claim",
    "Correction",
    "IdempotencyRecord",
    "Medium",
    "RevisionPiece",
    "ScheduledChange",
    "Section",
    "Source",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookOutbox",
    "WorkerLease",
]
