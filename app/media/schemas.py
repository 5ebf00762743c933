import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.fields import WebUrl, text

from .images import is_crop

# The width a picture is shown at where one rendition has to be picked (an `<img>`'s `src`,
# a feed's enclosure): wide enough for an article column on a large screen.
DISPLAY_WIDTH = 1280

Alt = Annotated[str, text(1000)]
Caption = Annotated[str, text(2000)]
Credit = Annotated[str, text(300)]
Copyright = Annotated[str, text(300)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class FocalPoint(BaseModel):
    """Where the picture's subject is, as fractions of its width (`x`) and height (`y`)
    from the top left. Crops keep it in frame; the centre unless set."""

    model_config = ConfigDict(extra="forbid")

    x: Fraction = 0.5
    y: Fraction = 0.5


class MediumFields(BaseModel):
    """What a newsroom says about an image (the multipart upload's form fields, too)."""

    model_config = ConfigDict(extra="forbid")

    alt: Alt | None = Field(
        default=None,
        description="Text for readers who cannot see the image. Not needed to upload; an "
        "article showing the image cannot be published without it.",
    )
    caption: Caption | None = None
    credit: Credit | None = Field(default=None, examples=["Photo: Ana Pell / Newsdesk"])
    copyright: Copyright | None = Field(default=None, examples=["© 2026 Newsdesk"])
    license: WebUrl | None = Field(default=None, description="The licence's URL.")
    focal_point: FocalPoint = FocalPoint()


class ExternalMediumCreate(MediumFields):
    """An image that lives elsewhere (a DAM, a CDN), registered by its URL: it is linked to,
    never fetched, so its size is what you say it is."""

    url: WebUrl = Field(description="An absolute http(s) URL on a public host.")
    width: Annotated[int, Field(ge=1, le=100_000)] | None = None
    height: Annotated[int, Field(ge=1, le=100_000)] | None = None


class MediumPatch(BaseModel):
    """JSON Merge Patch: fields left out are kept, `null` clears one (the focal point goes
    back to the centre). The picture itself cannot be replaced: upload a new medium."""

    model_config = ConfigDict(extra="forbid")

    alt: Alt | None = None
    caption: Caption | None = None
    credit: Credit | None = None
    copyright: Copyright | None = None
    license: WebUrl | None = None
    focal_point: FocalPoint | None = None


class RenditionRead(BaseModel):
    name: str = Field(examples=["640.webp"])
    url: str
    width: int | None
    height: int | None
    type: str | None = Field(description="Its media type, e.g. `image/webp`.")
    bytes: int | None = Field(description="Its size; unknown for an external image.")


class MediumRead(BaseModel):
    id: uuid.UUID
    url: str | None = Field(description="Where an external image lives; null for an upload.")
    alt: str | None
    caption: str | None
    credit: str | None
    copyright: str | None
    license: str | None
    width: int | None
    height: int | None
    format: str | None = Field(description="`jpeg`, `png`, `webp` or `gif`, read from the file.")
    bytes: int | None = Field(description="The uploaded file's size.")
    focal_point: FocalPoint
    renditions: list[RenditionRead] = Field(
        description="Widths 2048, 1280, 640 and 320 (those smaller than the image) and the "
        "full size, each as WebP and JPEG; then JPEG crops at 16:9, 4:3 and 1:1 around the "
        "focal point (named for it). Upright, without metadata. An external image has one: "
        "its URL."
    )
    created_at: datetime
    updated_at: datetime

    # Which rendition each use takes, decided here for all of them.

    def widths(self) -> list[RenditionRead]:
        """The JPEG widths, largest first (every reader of HTML, feeds and mail shows JPEG);
        an external image's one rendition."""
        return [
            r for r in self.renditions if r.type in (None, "image/jpeg") and not is_crop(r.name)
        ]

    def crops(self) -> list[RenditionRead]:
        return [r for r in self.renditions if is_crop(r.name)]

    def shown(self, max_width: int = DISPLAY_WIDTH) -> RenditionRead:
        """The one to show where only one can be named: the widest JPEG up to `max_width`
        (the narrowest if all are wider)."""
        widths = self.widths()
        return next((r for r in widths if (r.width or 0) <= max_width), widths[-1])


class MediumInUse(BaseModel):
    id: uuid.UUID
    slug: str
    status: str
