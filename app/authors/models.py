import uuid
from datetime import datetime

from sqlalchemy import String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


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

    # --- avatar --------------------------------------------------------------------------
    # Reserved for the media feature: the author's picture will be a reference to a medium
    # (`avatar`), added with the media tables, not before.
