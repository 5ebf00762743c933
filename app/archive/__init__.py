"""Logical backup: `newsdesk export` writes every article as NDJSON, `newsdesk import` loads
such a file into an empty database, exactly as it was.

The format, `newsdesk-export/1`, is one article a line, each line a JSON object on its own:

    {"format": "newsdesk-export/1",
     "article": {the article's stored columns (deleted tombstones included), its authors,
                 tags and corrections, and its claims in order, each with its attributions
                 and every attributed source whole},
     "revisions": [every version, oldest first: version, created_at, actor, change, snapshot]}

Lines come in the order the articles were created (then by id), keys sorted, times in RFC
3339 UTC, so the same database always gives the same bytes. A source cited in several
articles is written in each; import stores it once, by id. The fields are the schemas in
`app.archive.schemas`; a later format that changes them gets a new version number.
"""
