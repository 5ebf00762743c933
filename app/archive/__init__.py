"""Logical backup: `newsdesk export` writes every medium and article as NDJSON, `newsdesk
import` loads such a file into an empty database, exactly as it was.

The format, `newsdesk-export/2`, is one medium or article a line, each line a JSON object
on its own. Media come first (so that articles find the images they show), oldest first:

    {"format": "newsdesk-export/2",
     "medium": {the medium's stored columns, and `data`: its uploaded file in base64 (null
                for an external image, or with `--media keys`, when the file stays in the
                media store under the medium's digest)}}

then the articles:

    {"format": "newsdesk-export/2",
     "article": {the article's stored columns (deleted tombstones included), its authors,
                 tags and corrections, and its claims in order, each with its attributions
                 and every attributed source whole},
     "revisions": [every version, oldest first: version, created_at, actor, change, snapshot]}

Lines come in the order the articles were created (then by id), keys sorted, times in RFC
3339 UTC, so the same database always gives the same bytes. A source cited in several
articles is written in each; import stores it once, by id. The fields are the schemas in
`app.archive.schemas`; a later format that changes them gets a new version number.
`newsdesk-export/1` (no media, no featured image) still imports. The renditions of an
imported file are made again (the same file gives the same bytes), into the configured store.
"""
