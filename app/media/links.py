"""Where readers fetch a rendition: from the object store's public URL (or the CDN in front
of it) when the deployment has one, else from the API. Every representation that shows an
image (JSON, body HTML, feeds, ninjs, JSON-LD) asks here, so all of them agree.

Configured once per process by `create_app` (and by CLI commands that render articles);
until then, from the environment."""

import uuid
from dataclasses import dataclass

from app.settings import Settings, get_settings

from .storage import rendition_key


@dataclass(frozen=True)
class Links:
    api_base: str
    public_base: str | None

    def rendition(self, medium_id: uuid.UUID, digest: str, name: str) -> str:
        if self.public_base:
            return f"{self.public_base}/{rendition_key(digest, name)}"
        return f"{self.api_base}/v1/media/{medium_id}/{name}"

    def medium(self, medium_id: uuid.UUID) -> str:
        return f"{self.api_base}/v1/media/{medium_id}"


_configured: Links | None = None


def configure(settings: Settings) -> None:
    global _configured
    public = settings.media_public_url.rstrip("/") if settings.media_public_url else None
    _configured = Links(settings.public_base_url.rstrip("/"), public)


def links() -> Links:
    if _configured is None:
        configure(get_settings())
    assert _configured is not None
    return _configured
