"""Defaults that `newsdesk --help` names, kept where the command can read them without
loading the settings machinery (pydantic); `app/settings.py` takes them from here."""

# Relative to the directory the command or server runs in.
DATABASE_URL = "sqlite+aiosqlite:///./var/newsdesk.db"
MEDIA_DIRECTORY = "./var/media"
