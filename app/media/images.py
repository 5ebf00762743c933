"""What an uploaded file is, judged by its content (never its name or declared type), and
the renditions made from it: a few widths in WebP and JPEG, and crops at the ratios search
engines ask for, each with orientation applied and every byte of metadata (EXIF with its GPS
position, XMP, comments) left behind. Only the colour profile is kept.

Pure functions over bytes, CPU-bound: callers run them in a worker thread."""

import hashlib
import io
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# Formats accepted, by what Pillow reads in the file, and their media types. SVG is not
# among them: it is a document that can carry script and fetch other resources, and no
# rendition could be made of it without a renderer; it is refused, not sanitised.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
# Widths made of every image wider than them, largest first; the full width is made too.
WIDTHS = (2048, 1280, 640, 320)
# Encodings of every width: (file extension, media type).
ENCODINGS = (("webp", "image/webp"), ("jpg", "image/jpeg"))
# Crops for schema.org `image`: 16:9, 4:3 and 1:1, as Google asks of article images, at
# most this wide, and only where the crop keeps at least the pixels Google requires.
CROP_RATIOS = ((16, 9), (4, 3), (1, 1))
CROP_MAX_WIDTH = 1200
CROP_MIN_PIXELS = 50_000
JPEG_QUALITY = 82
WEBP_QUALITY = 80
ENCODER_THREADS = 2


class NotAcceptable(ValueError):
    """The file is not an image that can be published; the message says why."""


@dataclass(frozen=True)
class Inspected:
    """What an accepted file is: its format and its size once its orientation is applied."""

    format: str  # lower-case Pillow name: jpeg, png, webp, gif
    media_type: str
    width: int
    height: int
    digest: str  # SHA-256 of the file's bytes, hex: its storage key


@dataclass(frozen=True)
class Rendition:
    name: str  # "640.webp", "full.jpg", "16x9-x50y50.jpg"
    width: int
    height: int
    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class FocalPoint:
    """Where the picture's subject is, as fractions of its width and height from the top
    left: crops keep it in frame."""

    x: float = 0.5
    y: float = 0.5


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<svg", b"<?xml", b"<!doctype svg")) and b"<svg" in head


def _too_many_pixels(max_pixels: int) -> str:
    return (
        f"at most {max_pixels:,} pixels are accepted (decoding a larger image could exhaust "
        "the server's memory)"
    )


def _open(data: bytes, max_pixels: int) -> Image.Image:
    if _looks_like_svg(data):
        raise NotAcceptable("is an SVG document; SVG is not accepted (it can carry script)")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard warns, then refuses, past its default limit; ours is
            # checked below, before a single pixel is decoded.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotAcceptable(_too_many_pixels(max_pixels)) from None
    except UnidentifiedImageError:
        raise NotAcceptable("is not an image in a format accepted (JPEG, PNG, WebP, GIF)") from None
    except (OSError, SyntaxError, ValueError):
        raise NotAcceptable("is damaged: its header cannot be read") from None
    if image.format not in FORMATS:
        raise NotAcceptable(
            f"is a {image.format} image; accepted formats are JPEG, PNG, WebP and GIF"
        )
    width, height = image.size
    if width * height > max_pixels:
        raise NotAcceptable(f"is {width} by {height} pixels; " + _too_many_pixels(max_pixels))
    return image


def _decoded(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """The first frame, decoded whole and turned upright, with no metadata but its colour
    profile; and the file's format."""
    image = _open(data, max_pixels)
    file_format = image.format or ""
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError):
        raise NotAcceptable("is truncated or damaged: its pixels cannot be decoded") from None
    icc = image.info.get("icc_profile")
    if upright.mode not in ("RGB", "RGBA"):
        has_alpha = upright.mode in ("LA", "PA") or "transparency" in upright.info
        upright = upright.convert("RGBA" if has_alpha else "RGB")
    upright.info = {"icc_profile": icc} if icc else {}
    return upright, file_format


@dataclass(frozen=True)
class Planned:
    """A rendition as the API lists it, known from the original's size alone."""

    name: str
    width: int
    height: int
    media_type: str


def _scaled_height(width: int, height: int, to_width: int) -> int:
    return max(1, round(height * to_width / width))


def planned_widths(width: int, height: int) -> list[Planned]:
    """The width renditions of a `width` by `height` image, largest first, full size first."""
    sizes = [("full", width)] + [(str(w), w) for w in WIDTHS if w < width]
    return [
        Planned(f"{label}.{extension}", w, _scaled_height(width, height, w), media_type)
        for label, w in sizes
        for extension, media_type in ENCODINGS
    ]


def _crop_box(
    width: int, height: int, ratio: tuple[int, int], focus: FocalPoint
) -> tuple[int, int, int, int]:
    """The largest box of `ratio` inside the image, centred on the focal point as nearly as
    the edges allow."""
    across, down = ratio
    crop_width = min(width, height * across // down)
    crop_height = min(height, crop_width * down // across)
    left = round(focus.x * width - crop_width / 2)
    top = round(focus.y * height - crop_height / 2)
    left = min(max(left, 0), width - crop_width)
    top = min(max(top, 0), height - crop_height)
    return left, top, left + crop_width, top + crop_height


def crop_name(ratio: tuple[int, int], focus: FocalPoint) -> str:
    # The focal point is in the name: moving it makes new crops under new names, so what
    # caches hold for a name (immutable, for a year) is never wrong.
    return f"{ratio[0]}x{ratio[1]}-x{round(focus.x * 100)}y{round(focus.y * 100)}.jpg"


def _crops(
    width: int, height: int, focus: FocalPoint
) -> list[tuple[tuple[int, int, int, int], Planned]]:
    planned = []
    for ratio in CROP_RATIOS:
        box = left, top, right, bottom = _crop_box(width, height, ratio, focus)
        crop_width = min(right - left, CROP_MAX_WIDTH)
        crop_height = _scaled_height(right - left, bottom - top, crop_width)
        if crop_width * crop_height >= CROP_MIN_PIXELS:
            plan = Planned(crop_name(ratio, focus), crop_width, crop_height, "image/jpeg")
            planned.append((box, plan))
    return planned


def is_crop(name: str) -> bool:
    return re.match(r"\d+x\d+-", name) is not None


def planned_crops(width: int, height: int, focus: FocalPoint) -> list[Planned]:
    """The crops of a `width` by `height` image around `focus`: those big enough to be used."""
    return [plan for _, plan in _crops(width, height, focus)]


def _encode(image: Image.Image, media_type: str) -> bytes:
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    extra = {"icc_profile": icc} if icc else {}
    if media_type == "image/webp":
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=4, **extra)
    else:
        if image.mode == "RGBA":
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            flat.info = image.info
            image = flat
        image.save(out, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True, **extra)
    return out.getvalue()


def _resized(image: Image.Image, width: int, height: int) -> Image.Image:
    if image.size == (width, height):
        return image
    resized = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    resized.info = image.info
    return resized


def render(data: bytes, max_pixels: int, focus: FocalPoint) -> tuple[Inspected, list[Rendition]]:
    """What the file is, refused (NotAcceptable) unless it is an image Newsdesk publishes;
    and every rendition of it, each width in each encoding, then the crops. The file is
    decoded once for both."""
    image, file_format = _decoded(data, max_pixels)
    inspected = Inspected(
        format=file_format.lower(),
        media_type=FORMATS[file_format],
        width=image.width,
        height=image.height,
        digest=hashlib.sha256(data).hexdigest(),
    )
    jobs: list[tuple[Planned, Image.Image]] = []
    source = image
    for plan in planned_widths(image.width, image.height):
        # Each width is scaled from the one before it (largest first): much cheaper than
        # from the original every time, and as sharp with Lanczos.
        source = _resized(source, plan.width, plan.height)
        jobs.append((plan, source))
    jobs.extend(_cropped(image, focus))
    return inspected, _encoded(jobs)


def _cropped(image: Image.Image, focus: FocalPoint) -> list[tuple[Planned, Image.Image]]:
    jobs = []
    for box, plan in _crops(image.width, image.height, focus):
        cropped = image.crop(box)
        cropped.info = image.info
        jobs.append((plan, _resized(cropped, plan.width, plan.height)))
    return jobs


def _encoded(jobs: list[tuple[Planned, Image.Image]]) -> list[Rendition]:
    # Pillow's encoders let go of the GIL: a 12-megapixel image's renditions take half the
    # time on two cores (measured: 2.6 s alone, most of it the full-size WebP). Saving sets
    # state on the image itself, so each image's encodings run one after the other, in one
    # task (two threads saving one image at once mix up their settings).
    by_image: dict[int, list[Planned]] = {}
    images = {id(image): image for _, image in jobs}
    for plan, image in jobs:
        by_image.setdefault(id(image), []).append(plan)

    def encode(key: int) -> list[Rendition]:
        image = images[key]
        return [
            Rendition(
                plan.name, plan.width, plan.height, plan.media_type, _encode(image, plan.media_type)
            )
            for plan in by_image[key]
        ]

    with ThreadPoolExecutor(max_workers=ENCODER_THREADS) as pool:
        done = {key: made for key, made in zip(by_image, pool.map(encode, by_image), strict=True)}
    order = {plan.name: index for index, (plan, _) in enumerate(jobs)}
    return sorted((r for made in done.values() for r in made), key=lambda r: order[r.name])


def crops_of(data: bytes, max_pixels: int, focus: FocalPoint) -> list[Rendition]:
    """Only the crops (when the focal point moves)."""
    image, _ = _decoded(data, max_pixels)
    return _encoded(_cropped(image, focus))
