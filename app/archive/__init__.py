"""Logical backup: `newsdesk export` writes every section, author, medium and article as
NDJSON, `newsdesk import` loads such a file into an empty database, exactly as it was.

The format, `newsdesk-export/2`, is one JSON object a line: every section, then every
medium, then every author (whose picture is a medium), then every article:

    {"format": "newsdesk-export/2", "section": {its stored columns}}
    {"format": "newsdesk-export/2",
     "medium": {its stored columns, and `data`: its uploaded file in base64 (null for an
                external image, or with `--media keys`, when the file stays in the media
                store under the medium's digest; the renditions are made again on import,
                the same file giving the same bytes)}}
    {"format": "newsdesk-export/2", "author": {its stored columns}}
    {"format": "newsdesk-export/2",
     "article": {the article's stored columns (deleted tombstones included), its authors'
                 ids in byline order, tags and corrections, and its claims in order, each
                 with its attributions and every attributed source whole},
     "revisions": [every version, oldest first: version, created_at, actor, change, snapshot]}

Sections come in slug order, media, authors and articles in the order they were created (then by
id), keys sorted, times in RFC 3339 UTC, so the same database always gives the same bytes.
A source cited in several articles is written in each; import stores it once, by id. The
fields are the schemas in `app.archive.schemas`; a later format that changes them gets a
new version number.

`newsdesk-export/1` files (before authors and sections were resources) still import: their
article lines carry the byline as names (`"authors": [{"name": …}]`), matched to authors
as a write's bylines are (created when new), and their sections are created from the slugs.
"""
