import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

if TYPE_CHECKING:
    from app.articles.models import Article
    from app.sources.models import Source


class ClaimKind(enum.StrEnum):
    statement = "statement"
    quote = "quote"
    report = "report"
    opinion = "opinion"
    forecast = "forecast"


class Verification(enum.StrEnum):
    unverified = "unverified"
    confirmed = "confirmed"
    disputed = "disputed"
    refuted = "refuted"
    unclear = "unclear"


class AnchorStatus(enum.StrEnum):
    anchored = "anchored"
    orphaned = "orphaned"


class AttributionRole(enum.StrEnum):
    asserted_by = "asserted_by"
    confirmed_by = "confirmed_by"
    reported_by = "reported_by"
    first_reported_by = "first_reported_by"
    disputed_by = "disputed_by"
    denied_by = "denied_by"


def _enum(kind: type[enum.StrEnum]) -> SAEnum:
    return SAEnum(kind, native_enum=False, length=24, validate_strings=True)


class Claim(Base):
    __tablename__ = "claim"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    statement: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[ClaimKind] = mapped_column(_enum(ClaimKind))
    quote: Mapped[str | None] = mapped_column(Text)
    verification: Mapped[Verification] = mapped_column(_enum(Verification), index=True)
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # W3C TextQuoteSelector + TextPositionSelector over the plain text of the body.
    anchor_exact: Mapped[str | None] = mapped_column(Text)
    anchor_prefix: Mapped[str | None] = mapped_column(Text)
    anchor_suffix: Mapped[str | None] = mapped_column(Text)
    anchor_start: Mapped[int | None] = mapped_column(Integer)
    anchor_end: Mapped[int | None] = mapped_column(Integer)
    anchor_status: Mapped[AnchorStatus | None] = mapped_column(_enum(AnchorStatus))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped["Article"] = relationship(back_populates="claims", lazy="raise")
    attributions: Mapped[list["Attribution"]] = relationship(
        back_populates="claim",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="Attribution.position",
    )

    __table_args__ = (Index("ix_claim_created_at_id", "created_at", "id"),)

    @property
    def anchor(self) -> dict[str, Any] | None:
        if self.anchor_exact is None:
            return None
        return {
            "exact": self.anchor_exact,
            "prefix": self.anchor_prefix,
            "suffix": self.anchor_suffix,
            "start": self.anchor_start,
            "end": self.anchor_end,
        }


class Attribution(Base):
    __tablename__ = "attribution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("claim.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("source.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[AttributionRole] = mapped_column(_enum(AttributionRole))
    cue: Mapped[str | None] = mapped_column(String(200))
    anonymous_description: Mapped[str | None] = mapped_column(String(300))

    claim: Mapped[Claim] = relationship(back_populates="attributions", lazy="raise")
    source: Mapped["Source"] = relationship(lazy="raise")
