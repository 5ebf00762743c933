"""The media library over HTTP: uploads judged by their content, renditions served as
immutable files without the metadata cameras write, external images on public hosts only,
and every refusal storing nothing."""

import io
import uuid
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import delete

from app.media.models import Medium
from tests.helpers import assert_problem, client_of, store_of
from tests.media.pictures import SVG, bomb, photo, png_with_alpha, truncated

pytestmark = pytest.mark.anyio


async def stored_keys(client: httpx.AsyncClient) -> list[str]:
    store = store_of(client)
    return await store.keys("originals/") + await store.keys("renditions/")


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    **fields: str,
) -> httpx.Response:
    return await client.post(
        "/v1/media",
        files={"file": (filename, data, content_type)},
        data=fields,
        headers=headers,
    )


def rendition(medium: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in medium["renditions"] if r["name"] == name)


def path_of(url: str) -> str:
    return httpx.URL(url).path


async def test_an_upload_is_read_from_its_content_and_described(client, writer):
    data = photo(1600, 1200, orientation=6)
    response = await upload(
        client,
        writer,
        data,
        alt="The north pier at dusk",
        caption="The pier closes on Monday.",
        credit="Photo: Ana Pell",
        copyright="© 2026 Newsdesk",
        focal_point="0.25,0.4",
    )

    assert response.status_code == 201, response.text
    medium = response.json()
    assert response.headers["location"] == f"/v1/media/{medium['id']}"
    assert response.headers["etag"].startswith('"')
    # Orientation 6: the camera's 1600 by 1200 pixels stand upright as 1200 by 1600.
    assert (medium["width"], medium["height"]) == (1200, 1600)
    assert medium["format"] == "jpeg"
    assert medium["bytes"] == len(data)
    assert medium["url"] is None
    assert medium["alt"] == "The north pier at dusk"
    assert medium["credit"] == "Photo: Ana Pell"
    assert medium["focal_point"] == {"x": 0.25, "y": 0.4}
    # Never wider than the picture: no 2048 or 1280 of a picture 1200 wide.
    assert [r["name"] for r in medium["renditions"]] == [
        "full.webp",
        "full.jpg",
        "640.webp",
        "640.jpg",
        "320.webp",
        "320.jpg",
        "16x9-x25y40.jpg",
        "4x3-x25y40.jpg",
        "1x1-x25y40.jpg",
    ]
    webp = rendition(medium, "640.webp")
    assert webp == {
        "name": "640.webp",
        "url": f"https://api.newsdesk.test/v1/media/{medium['id']}/640.webp",
        "width": 640,
        "height": 853,
        "type": "image/webp",
        "bytes": webp["bytes"],
    }
    served = await client.get(path_of(webp["url"]))
    assert len(served.content) == webp["bytes"]
    # The crops keep the focal point in frame, at the ratios search engines ask for.
    crops = {r["name"]: (r["width"], r["height"]) for r in medium["renditions"] if "x" in r["name"]}
    assert crops["16x9-x25y40.jpg"] == (1200, 675)
    assert crops["1x1-x25y40.jpg"] == (1200, 1200)


async def test_renditions_are_upright_immutable_files_without_camera_metadata(client, writer):
    medium = (await upload(client, writer, photo(1600, 1200, orientation=6))).json()

    for listed in medium["renditions"]:
        response = await client.get(path_of(listed["url"]))
        assert response.status_code == 200, listed["name"]
        assert response.headers["content-type"] == listed["type"]
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["etag"].startswith('"') and "W/" not in response.headers["etag"]
        assert "content-encoding" not in response.headers  # images are not gzipped again
        image = Image.open(io.BytesIO(response.content))
        assert image.size == (listed["width"], listed["height"])
        assert dict(image.getexif()) == {}, f"{listed['name']} keeps EXIF"
        assert "exif" not in image.info and "xmp" not in image.info


async def test_a_rendition_is_revalidated_by_its_etag_and_answers_head(client, writer):
    medium = (await upload(client, writer, photo(800, 600))).json()
    path = path_of(rendition(medium, "320.jpg")["url"])
    first = await client.get(path)

    again = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    head = await client.head(path)

    assert again.status_code == 304
    assert again.content == b""
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == first.headers["etag"]


async def test_the_same_bytes_uploaded_twice_are_stored_once(client, writer):
    data = photo(900, 600)
    first = (await upload(client, writer, data, alt="One")).json()
    keys = await stored_keys(client)
    second = (await upload(client, writer, data, alt="Two")).json()

    assert second["id"] != first["id"]
    assert await stored_keys(client) == keys
    first_etag = (await client.get(path_of(rendition(first, "640.jpg")["url"]))).headers["etag"]
    second_etag = (await client.get(path_of(rendition(second, "640.jpg")["url"]))).headers["etag"]
    assert first_etag == second_etag


async def test_a_png_with_transparency_is_flattened_for_jpeg_and_kept_for_webp(client, writer):
    medium = (await upload(client, writer, png_with_alpha(), filename="a.png")).json()

    webp = await client.get(path_of(rendition(medium, "full.webp")["url"]))
    jpeg = await client.get(path_of(rendition(medium, "full.jpg")["url"]))

    assert medium["format"] == "png"
    assert Image.open(io.BytesIO(webp.content)).mode == "RGBA"
    assert Image.open(io.BytesIO(jpeg.content)).mode == "RGB"


# --- refusals: a clear problem, and nothing stored ------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "says"),
    [
        (b"%PDF-1.7 not a picture at all", "photo.jpg", "not an image"),
        (SVG, "logo.svg", "SVG"),
        (bomb(), "huge.png", "pixels"),
        (bomb(10_000, 10_000), "big.png", "pixels"),
        (truncated(), "cut.jpg", "truncated"),
        (b"", "empty.jpg", "empty"),
    ],
    ids=["not-an-image", "svg", "bomb", "over-the-pixel-limit", "truncated", "empty"],
)
async def test_what_is_not_a_publishable_image_is_refused(client, writer, data, filename, says):
    # Declared as a JPEG whatever it is: the content decides.
    response = await upload(client, writer, data, filename=filename, content_type="image/jpeg")

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "file"]
    assert says in problem["detail"]
    assert await stored_keys(client) == []
    listing = await client.get("/v1/media", headers=writer)
    assert listing.json()["data"] == []


async def test_an_upload_over_the_size_limit_is_refused(sessionmaker, settings, writer):
    small = settings.model_copy(update={"media_max_bytes": 20_000})
    async with client_of(sessionmaker, small) as limited:
        # Over the limit but within the form's allowance: refused once read.
        near = await upload(limited, writer, photo(1200, 900) + b"\0" * 30_000)
        # Far over: refused before it is read.
        far = await upload(limited, writer, b"\xff" * 200_000)
        stored = await stored_keys(limited)

    assert "20000" in assert_problem(near, 413)["detail"]
    assert_problem(far, 413)
    assert stored == []


@pytest.mark.parametrize(
    ("form", "loc"),
    [
        ({"alt": "x" * 1001}, ["body", "alt"]),
        ({"focal_point": "0.5"}, ["body", "focal_point"]),
        ({"focal_point": "1.5,0.5"}, ["body", "focal_point", "x"]),
        ({"license": "not a url"}, ["body", "license"]),
        ({"colour": "red"}, ["body", "colour"]),
    ],
)
async def test_bad_form_fields_are_named(client, writer, form, loc):
    response = await upload(client, writer, photo(400, 300), **form)

    assert assert_problem(response, 422)["errors"][0]["loc"] == loc
    assert await stored_keys(client) == []


async def test_a_form_without_the_file_and_a_body_of_another_type_are_refused(client, writer):
    no_file = await client.post("/v1/media", data={"alt": "x"}, files={}, headers=writer)
    as_text = await client.post(
        "/v1/media", content=b"hello", headers={**writer, "Content-Type": "text/plain"}
    )

    assert assert_problem(no_file, 422)["errors"][0]["loc"] == ["body", "file"]
    assert_problem(as_text, 415)


async def test_uploading_needs_content_write(client, reader):
    anonymous = await upload(client, {}, photo(400, 300))
    read_only = await upload(client, reader, photo(400, 300))

    assert_problem(anonymous, 401)
    assert_problem(read_only, 403)
    assert await stored_keys(client) == []


# --- external images -------------------------------------------------------------------------


async def test_an_external_image_is_registered_by_its_url(client, writer):
    response = await client.post(
        "/v1/media",
        json={
            "url": "https://dam.example.com/photos/pier.jpg",
            "alt": "The pier",
            "width": 3000,
            "height": 2000,
            "credit": "Harbour Authority",
        },
        headers=writer,
    )

    assert response.status_code == 201, response.text
    medium = response.json()
    assert medium["url"] == "https://dam.example.com/photos/pier.jpg"
    assert medium["renditions"] == [
        {
            "name": "external",
            "url": "https://dam.example.com/photos/pier.jpg",
            "width": 3000,
            "height": 2000,
            "type": None,
            "bytes": None,
        }
    ]
    assert await stored_keys(client) == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://dam.example.com/pier.jpg",
        "http://127.0.0.1/pier.jpg",
        "http://10.1.2.3/pier.jpg",
        "http://[::ffff:192.168.0.1]/pier.jpg",
        "http://169.254.169.254/latest/meta-data",
        "http://2130706433/pier.jpg",
        "https://user:secret@dam.example.com/pier.jpg",
        "javascript:alert(1)",
    ],
)
async def test_an_external_url_must_be_public_http(client, writer, url):
    response = await client.post("/v1/media", json={"url": url, "alt": "x"}, headers=writer)

    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "url"]
    listing = await client.get("/v1/media", headers=writer)
    assert listing.json()["data"] == []


# --- reading, listing, describing, deleting --------------------------------------------------


async def test_a_medium_is_read_by_id_with_validators(client, writer):
    medium = (await upload(client, writer, photo(400, 300), alt="A gull")).json()

    response = await client.get(f"/v1/media/{medium['id']}")
    again = await client.get(
        f"/v1/media/{medium['id']}", headers={"If-None-Match": response.headers["etag"]}
    )

    assert response.status_code == 200
    assert response.json() == medium
    assert response.headers["cache-control"].startswith("public")
    assert again.status_code == 304
    assert_problem(await client.get("/v1/media/not-an-id"), 404)
    assert_problem(await client.get(f"/v1/media/{medium['id']}/9999.jpg"), 404)


async def test_the_library_lists_newest_first_finds_words_and_needs_a_key(client, writer):
    gull = (await upload(client, writer, photo(400, 300), alt="A gull")).json()
    pier = (await upload(client, writer, photo(401, 300), caption="The pier")).json()

    listing = await client.get("/v1/media?limit=1", headers=writer)
    second = await client.get(
        f"/v1/media?limit=1&cursor={listing.json()['next_cursor']}", headers=writer
    )
    found = await client.get("/v1/media?q=GULL", headers=writer)

    assert [m["id"] for m in listing.json()["data"]] == [pier["id"]]
    assert [m["id"] for m in second.json()["data"]] == [gull["id"]]
    assert [m["id"] for m in found.json()["data"]] == [gull["id"]]
    assert listing.headers["cache-control"] == "private, no-store"
    assert_problem(await client.get("/v1/media"), 401)


async def test_describing_a_medium_merges_and_honours_if_match(client, writer):
    medium = (await upload(client, writer, photo(1600, 900), alt="A gull", credit="AP")).json()
    etag = (await client.get(f"/v1/media/{medium['id']}")).headers["etag"]

    changed = await client.patch(
        f"/v1/media/{medium['id']}",
        json={"caption": "A gull on the pier.", "credit": None},
        headers={**writer, "If-Match": etag},
    )
    stale = await client.patch(
        f"/v1/media/{medium['id']}", json={"alt": "x"}, headers={**writer, "If-Match": etag}
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["caption"] == "A gull on the pier."
    assert changed.json()["credit"] is None
    assert changed.json()["alt"] == "A gull"
    assert_problem(stale, 412)
    assert (await client.get(f"/v1/media/{medium['id']}")).json()["alt"] == "A gull"


async def test_moving_the_focal_point_makes_new_crops_under_new_names(client, writer):
    medium = (await upload(client, writer, photo(1600, 900))).json()

    moved = await client.patch(
        f"/v1/media/{medium['id']}", json={"focal_point": {"x": 0.1, "y": 0.5}}, headers=writer
    )

    names = [r["name"] for r in moved.json()["renditions"]]
    assert "1x1-x10y50.jpg" in names
    assert "1x1-x50y50.jpg" not in names
    assert "640.jpg" in names
    crop = await client.get(path_of(rendition(moved.json(), "1x1-x10y50.jpg")["url"]))
    assert Image.open(io.BytesIO(crop.content)).size == (900, 900)


async def test_a_medium_no_article_shows_is_deleted(client, writer):
    medium = (await upload(client, writer, photo(400, 300))).json()
    served = await client.get(path_of(rendition(medium, "320.jpg")["url"]))  # now in memory

    deleted = await client.delete(f"/v1/media/{medium['id']}", headers=writer)

    assert served.status_code == 200
    assert deleted.status_code == 204
    assert_problem(await client.get(f"/v1/media/{medium['id']}"), 404)
    assert_problem(await client.get(path_of(rendition(medium, "320.jpg")["url"])), 404)


async def test_an_upload_replays_for_the_same_idempotency_key(client, writer):
    headers = {**writer, "Idempotency-Key": "pier-photo-1"}
    data = photo(400, 300)

    first = await upload(client, headers, data, alt="A gull")
    again = await upload(client, headers, data, alt="A gull")

    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    listing = await client.get("/v1/media", headers=writer)
    assert len(listing.json()["data"]) == 1


async def test_a_rendition_read_twice_is_answered_from_memory(client, writer, session):
    medium = (await upload(client, writer, photo(400, 300))).json()
    path = path_of(rendition(medium, "320.webp")["url"])
    first = await client.get(path)
    # Gone from the database and the store behind the app's back: the bytes this worker
    # has read it still sends, unchanged (a rendition never changes under its name).
    await session.execute(delete(Medium).where(Medium.id == uuid.UUID(medium["id"])))
    await session.commit()
    for key in await stored_keys(client):
        await store_of(client).delete(key)

    again = await client.get(path)
    revalidated = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    keyed = await client.get(path, headers=writer)  # a key is checked: the route answers

    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert revalidated.status_code == 304
    assert_problem(keyed, 404)
