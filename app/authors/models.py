import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

if TYPE_CHECKING:
    from app.media.models import Medium


class Author(Base):
    """Who wrote an article: one row per person, shared by every article they are on."""

    __tablename__ = "author"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Bylines given by name are matched on the folded name (case-, width- and
    # space-insensitive, as sources are): unique, so that two writers naming the same new
    # author at once end with one author, not two.
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    bio: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    job_title: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The author's picture, a medium of the library (left empty if that medium is deleted).
    avatar_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("medium.id", ondelete="SET NULL"), index=True
    )
    avatar: Mapped["Medium | None"] = relationship(lazy="raise")
