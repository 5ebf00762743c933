"""Image files made for the tests: photographs with the metadata cameras write (GPS
position, orientation), and the hostile or broken files an upload must refuse."""

import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def photo(
    width: int = 1600, height: int = 1200, *, orientation: int = 1, gps: bool = True
) -> bytes:
    """A JPEG as a phone writes it: EXIF with the camera, where it was taken, and how to
    turn the picture (`orientation` 6: the pixels lie on their side)."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    exif = Image.Exif()
    exif[MAKE] = "Newsdesk Camera"
    exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (59.0, 54.0, 42.0), 3: "E", 4: (10.0, 45.0, 3.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png_with_alpha(width: int = 400, height: int = 300) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 30, 30, 128)).save(out, "PNG")
    return out.getvalue()


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)


def bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG a few hundred bytes long that says it is 2.5 gigapixels: decoded, it would fill
    the server's memory."""
    small = io.BytesIO()
    Image.new("L", (1, 1)).save(small, "PNG")
    data = bytearray(small.getvalue())
    # IHDR is the first chunk: length (4), type (4), then width and height.
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


def truncated() -> bytes:
    whole = photo(800, 600)
    return whole[: len(whole) // 2]
