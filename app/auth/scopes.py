"""What an API key may do. Kept apart from the models so that `newsdesk keys create` can
offer the scopes without loading SQLAlchemy."""

import enum


class Scope(enum.StrEnum):
    read = "content:read"
    write = "content:write"
    publish = "content:publish"
    admin = "admin"
