"""The answer to a write of an article, the same from every route that writes one (the
article routes and ingest)."""

from fastapi import Response, status

from app.http import json_response

from .models import Article
from .schemas import representation


def written(article: Article, status_code: int = status.HTTP_200_OK) -> Response:
    """A write's answer: the article as it now stands, with its ETag (and Location if new)."""
    headers = {"Location": f"/v1/articles/{article.id}"} if status_code == 201 else None
    return json_response(representation(article), status_code=status_code, headers=headers)
