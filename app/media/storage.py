"""Where media bytes live: an object store named by URL, through obstore. A local directory
by default (`file://`, so the embedded set-up needs no other service); S3 and S3-compatible
stores (`s3://bucket/prefix`), Google Cloud Storage (`gs://`) and Azure (`az://`) when
configured, with their credentials from the environment as each SDK reads them
(`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, `GOOGLE_SERVICE_ACCOUNT`, `AZURE_STORAGE_ACCOUNT_KEY`,
…); `memory://` for tests.

Keys are content-addressed: an upload is kept under the SHA-256 of its bytes and its
renditions under that digest too, so the same bytes uploaded twice are one object."""

import contextlib
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import obstore
from obstore.store import LocalStore, MemoryStore, ObjectStore, from_url

from app import defaults
from app.settings import Settings


def original_key(digest: str) -> str:
    return f"originals/{digest[:2]}/{digest}"


def rendition_key(digest: str, name: str) -> str:
    return f"renditions/{digest[:2]}/{digest}/{name}"


def digest_of(key: str) -> str:
    """The digest an original's or a rendition's key was made from."""
    return key.split("/")[2]


class MediaStore:
    def __init__(self, url: str, public_url: str | None = None) -> None:
        scheme = urlsplit(url).scheme
        self.store: ObjectStore
        self.root: Path | None = None
        if scheme == "memory":
            self.store = MemoryStore()
        elif scheme == "file":
            self.root = Path(urlsplit(url).path)
            self.root.mkdir(parents=True, exist_ok=True)
            self.store = LocalStore(self.root)
        else:
            self.store = from_url(url)
        self.public_url = public_url.rstrip("/") if public_url else None
        # A local directory takes no object attributes; the others store the media type.
        self._attributes = scheme not in ("file", "memory")

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        attributes = {"Content-Type": media_type} if self._attributes else None
        await obstore.put_async(self.store, key, data, attributes=attributes)

    async def get(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError when there is none."""
        found = await obstore.get_async(self.store, key)
        return bytes(await found.bytes_async())

    async def exists(self, key: str) -> bool:
        try:
            await obstore.head_async(self.store, key)
        except FileNotFoundError:
            return False
        return True

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self.store, key)

    async def keys(self, prefix: str) -> list[str]:
        return [key for key, _ in await self.listing(prefix)]

    async def listing(self, prefix: str) -> list[tuple[str, datetime]]:
        """Every key under `prefix`, with when its object was last written."""
        found: list[tuple[str, datetime]] = []
        async for batch in obstore.list(self.store, prefix):
            found.extend((item["path"], item["last_modified"]) for item in batch)
        return found

    def local_path(self, key: str) -> Path | None:
        """The object's file when the store is a local directory (served with sendfile)."""
        return self.root / key if self.root is not None else None

    def public_url_of(self, key: str) -> str | None:
        """Where readers fetch the object straight from the store (or the CDN before it),
        when the deployment serves it publicly."""
        return f"{self.public_url}/{key}" if self.public_url else None


def media_store(settings: Settings) -> MediaStore:
    """The store the settings name; a directory beside the database by default."""
    url = settings.media_store_url or Path(defaults.MEDIA_DIRECTORY).resolve().as_uri()
    return MediaStore(url, settings.media_public_url)
