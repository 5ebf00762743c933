"""Renditions as functions of the bytes: the same file always gives the same renditions
(their digests are ETags, and imports make them again), upright, without metadata, and
crops that keep the focal point in frame."""

import io

from PIL import Image

from app.media import images
from tests.media.pictures import photo

LIMIT = 80_000_000


def test_the_same_file_gives_byte_identical_renditions() -> None:
    data = photo(1400, 900)

    _, first = images.render(data, LIMIT, images.FocalPoint())
    _, again = images.render(data, LIMIT, images.FocalPoint())

    assert [(r.name, r.data) for r in first] == [(r.name, r.data) for r in again]
    planned = images.planned_widths(1400, 900) + images.planned_crops(
        1400, 900, images.FocalPoint()
    )
    assert [(r.name, r.width, r.height) for r in first] == [
        (p.name, p.width, p.height) for p in planned
    ]


def test_a_crop_keeps_the_focal_point_in_frame() -> None:
    # A picture white on its left tenth and black elsewhere, its subject on the left.
    image = Image.new("RGB", (2000, 1000), "black")
    image.paste("white", (0, 0, 200, 1000))
    out = io.BytesIO()
    image.save(out, "PNG")

    left = images.crops_of(out.getvalue(), LIMIT, images.FocalPoint(0.05, 0.5))
    centre = images.crops_of(out.getvalue(), LIMIT, images.FocalPoint(0.5, 0.5))

    square_left = Image.open(io.BytesIO(left[-1].data)).convert("L")
    square_centre = Image.open(io.BytesIO(centre[-1].data)).convert("L")
    assert left[-1].name == "1x1-x5y50.jpg"
    assert square_left.getpixel((10, 500)) > 200  # the white edge is in the crop
    assert square_centre.getpixel((10, 500)) < 50  # not in the centred one


def test_orientation_is_applied_and_metadata_dropped() -> None:
    inspected, made = images.render(photo(1200, 800, orientation=8), LIMIT, images.FocalPoint())

    full = Image.open(io.BytesIO(made[1].data))
    assert made[1].name == "full.jpg"
    assert full.size == (800, 1200)
    assert (inspected.width, inspected.height, inspected.format) == (800, 1200, "jpeg")
    assert dict(full.getexif()) == {}
