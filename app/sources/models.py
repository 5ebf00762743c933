import enum
import unicodedata
import uuid
from datetime import datetime

from sqlalchemy import Enum as SAEnum
from sqlalchemy import String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class SourceKind(enum.StrEnum):
    person = "person"
    organization = "organization"
    publication = "publication"
    government = "government"
    anonymous = "anonymous"
    document = "document"


def fold(text: str) -> str:
    """Case-, width- and space-insensitive form of a name, as sources are matched by."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class Source(Base):
    __tablename__ = "source"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[SourceKind] = mapped_column(
        SAEnum(SourceKind, native_enum=False, length=16, validate_strings=True)
    )
    name: Mapped[str] = mapped_column(String(300))
    # Matching on write: kind + folded name, and for anonymous sources the folded
    # affiliation, which is what tells one group of unnamed officials from another.
    name_key: Mapped[str] = mapped_column(String(300))
    affiliation_key: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    affiliation: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "name_key", "affiliation_key"),)
