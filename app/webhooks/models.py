import enum
import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class View(enum.StrEnum):
    """Which changes a webhook hears of: those of the syndicated view (what partners may
    take: public articles that allow syndication) or of the whole public view."""

    syndicated = "syndicated"
    public = "public"


class Webhook(Base):
    __tablename__ = "webhook"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    view: Mapped[View] = mapped_column(Enum(View, native_enum=False, length=16))
    description: Mapped[str] = mapped_column(String(500), default="")
    # Kept as given (whsec_…): signing needs the key itself, unlike API keys.
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    disabled_at: Mapped[datetime | None]
    # Failed attempts since the last success, and when that run of failures began.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookOutbox(Base):
    """A change not yet handed to the webhooks: written in the same transaction as the change
    itself, and removed once the dispatcher has queued a delivery for every subscriber."""

    __tablename__ = "webhook_outbox"

    change_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("change_event.seq"),
        primary_key=True,
        autoincrement=False,
    )


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class WebhookDelivery(Base):
    """One message to one webhook, sent until it succeeds or its retries run out. The body
    is stored so every attempt sends the same bytes under the same `webhook-id`."""

    __tablename__ = "webhook_delivery"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    webhook_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("webhook.id", ondelete="CASCADE")
    )
    message_id: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(32))
    change_seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=16)
    )
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    # When the next attempt is due; a dispatcher that takes the delivery pushes it past the
    # attempt's timeout, so a dispatcher that dies mid-send leaves it due again.
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    attempts: Mapped[list["WebhookAttempt"]] = relationship(
        order_by="WebhookAttempt.attempted_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def payload(self) -> Any:
        return orjson.loads(self.body)

    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_webhook_id_created_at", "webhook_id", "created_at"),
    )


class WebhookAttempt(Base):
    """The delivery log: what each attempt got back."""

    __tablename__ = "webhook_attempt"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime]
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    # The start of the receiver's answer, for whoever debugs a failing endpoint.
    response_excerpt: Mapped[str | None] = mapped_column(String(1000))


class WorkerLease(Base):
    """A named lease that one process holds at a time (the webhook dispatcher's leader). It
    lapses unless renewed, so a leader that dies is replaced."""

    __tablename__ = "worker_lease"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
