"""The media store: content-addressed files in a directory (or any obstore URL), and the
sweep that removes what no medium refers to, never what an upload still in flight wrote."""

import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app.main import create_app
from app.media import service
from app.media.models import Medium
from app.media.storage import MediaStore, original_key, rendition_key
from tests.helpers import client_of
from tests.media.pictures import photo

pytestmark = pytest.mark.anyio
LIMIT = 80_000_000


def _age(root: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


async def test_the_sweep_removes_only_settled_files_no_medium_refers_to(session, tmp_path):
    store = MediaStore((tmp_path / "media").as_uri())
    kept_file, orphan_file, young_file = photo(700, 500), photo(701, 500), photo(702, 500)
    _, kept = await service.store_upload(store, kept_file, LIMIT, 0.5, 0.5)
    await service.store_upload(store, orphan_file, LIMIT, 0.5, 0.5)
    now = datetime.now(UTC)
    medium = Medium(
        digest=sha256(kept_file).hexdigest(),
        focal_x=0.5,
        focal_y=0.5,
        renditions=kept,
        created_at=now,
        updated_at=now,
    )
    session.add(medium)
    await session.flush()
    _age(tmp_path / "media", hours=2)
    await service.store_upload(store, young_file, LIMIT, 0.5, 0.5)  # its row not yet committed
    before = set(await store.keys(""))

    swept = await service.sweep(session, store)

    after = set(await store.keys(""))
    orphan = sha256(orphan_file).hexdigest()
    young = sha256(young_file).hexdigest()
    assert swept == len(before - after) == 1 + len(kept)  # the orphan's file and renditions
    assert original_key(orphan) not in after
    assert original_key(young) in after
    assert original_key(medium.digest or "") in after
    assert {rendition_key(medium.digest or "", r["name"]) for r in kept} <= after


async def test_the_same_bytes_are_one_object(tmp_path):
    store = MediaStore((tmp_path / "media").as_uri())
    data = photo(640, 480)

    _, first = await service.store_upload(store, data, LIMIT, 0.5, 0.5)
    keys = sorted(await store.keys(""))
    _, again = await service.store_upload(store, data, LIMIT, 0.5, 0.5)

    assert again == first
    assert sorted(await store.keys("")) == keys
    assert len(keys) == 1 + len(first)


# --- object storage -----------------------------------------------------------------------------


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An S3-compatible server (moto's, in this process) with an empty bucket of its own;
    its URL as the media store, the credentials in the environment as obstore reads them."""
    bucket = f"newsdesk-media-{uuid.uuid4().hex[:12]}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "newsdesk",
        "AWS_SECRET_ACCESS_KEY": "newsdesk-secret",
        "AWS_REGION": "eu-north-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ALLOW_HTTP": "true",
    }.items():
        monkeypatch.setenv(name, value)
    boto3.client("s3", endpoint_url=endpoint).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"}
    )
    yield f"s3://{bucket}/newsroom"
    server.stop()


async def test_an_s3_bucket_holds_uploads_and_the_api_serves_them(
    s3, sessionmaker, settings, writer
):
    in_s3 = settings.model_copy(update={"media_store_url": s3})
    async with client_of(sessionmaker, in_s3) as client:
        created = await client.post(
            "/v1/media", files={"file": ("p.jpg", photo(900, 600), "image/jpeg")}, headers=writer
        )
        medium = created.json()
        listed = next(r for r in medium["renditions"] if r["name"] == "640.webp")
        served = await client.get(f"/v1/media/{medium['id']}/640.webp")

    assert created.status_code == 201, created.text
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert len(served.content) == listed["bytes"]
    bucket = boto3.client("s3")
    digest = sha256(photo(900, 600)).hexdigest()
    name = s3.removeprefix("s3://").split("/")[0]
    stored = bucket.head_object(Bucket=name, Key=f"newsroom/{rendition_key(digest, '640.webp')}")
    assert stored["ContentType"] == "image/webp"  # served right from the bucket too


async def test_with_a_public_url_renditions_are_linked_there(s3, sessionmaker, settings, writer):
    public = "https://images.newsdesk.example"
    configured = settings.model_copy(update={"media_store_url": s3, "media_public_url": public})
    async with client_of(sessionmaker, configured) as client:
        created = await client.post(
            "/v1/media", files={"file": ("p.jpg", photo(900, 600), "image/jpeg")}, headers=writer
        )
    create_app(settings)  # the links of the other tests' apps again

    digest = sha256(photo(900, 600)).hexdigest()
    urls = {r["name"]: r["url"] for r in created.json()["renditions"]}
    assert urls["640.jpg"] == f"{public}/{rendition_key(digest, '640.jpg')}"
