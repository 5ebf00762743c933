"""Every problem type the API answers with, and the page each `type` URI resolves to.

A problem's `type` is `{public base URL}/problems/{code}`; `errors.problem_type` refuses a
code that is not listed here, so no response can name a page that does not exist.
"""

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class ProblemType:
    code: str
    status: int
    title: str
    explanation: str  # what happened and what to do about it, for the client's developer


TYPES: dict[str, ProblemType] = {
    problem.code: problem
    for problem in (
        ProblemType(
            "bad-request",
            400,
            "Bad request",
            "The request could not be read as sent. The `detail` member says what was wrong.",
        ),
        ProblemType(
            "bad-idempotency-key",
            400,
            "Malformed Idempotency-Key",
            "An `Idempotency-Key` is 1 to 255 visible ASCII characters, best a UUID, sent as "
            'a structured-field string (`Idempotency-Key: "…"`).',
        ),
        ProblemType(
            "idempotency-key-not-supported",
            400,
            "Idempotency-Key not taken here",
            "This operation does not take an `Idempotency-Key` (replaying its response would "
            "mean storing a secret). Send it without the header.",
        ),
        ProblemType(
            "unauthorized",
            401,
            "API key needed",
            "Send a valid API key as `Authorization: Bearer <key>`. The key may be unknown or "
            "revoked, or the deployment may not allow anonymous reads.",
        ),
        ProblemType(
            "forbidden",
            403,
            "Scope missing",
            "The API key is valid but lacks the scope this needs (`content:write` to edit "
            "drafts; `content:publish` to publish or to change published or scheduled "
            "content; `admin` for keys and webhooks). The `detail` member names the scope.",
        ),
        ProblemType(
            "not-found",
            404,
            "Not found",
            "Nothing is there, or nothing the caller may see: drafts and scheduled articles "
            "do not exist for callers without `content:write`. Ids are opaque: a malformed "
            "one is simply not found.",
        ),
        ProblemType(
            "method-not-allowed",
            405,
            "Method not allowed",
            "The resource exists but does not take this method; the `Allow` header lists "
            "those it takes.",
        ),
        ProblemType(
            "request-timeout",
            408,
            "Request too slow",
            "The request's headers did not arrive in time, or its body stalled. Send it "
            "again, whole.",
        ),
        ProblemType(
            "conflict",
            409,
            "Conflict",
            "The request conflicts with the current state: a slug already taken, or a "
            "workflow step the article's state does not allow. The `detail` member says which.",
        ),
        ProblemType(
            "idempotency-key-in-flight",
            409,
            "Request with this key still running",
            "A request with the same `Idempotency-Key` is still being processed. Retry after "
            "`Retry-After` seconds to get its response.",
        ),
        ProblemType(
            "gone",
            410,
            "Deleted",
            "The article was deleted. Partners should remove their copy; its slug stays reserved.",
        ),
        ProblemType(
            "precondition-failed",
            412,
            "Changed since you read it",
            "`If-Match` did not match the current ETag: someone changed the resource since "
            "you fetched it. GET it again, redo your change, and send the new ETag.",
        ),
        ProblemType(
            "payload-too-large",
            413,
            "Request body too large",
            "The body is over the size limit (1 MiB by default; each line of a bulk upload "
            "likewise; an image upload, 25 MiB). Split the content or send it in several "
            "requests; make an image smaller before uploading it.",
        ),
        ProblemType(
            "uri-too-long",
            414,
            "Query string too long",
            "The query string is over the limit (4 KiB by default). No real query needs more.",
        ),
        ProblemType(
            "unsupported-media-type",
            415,
            "Unsupported media type",
            "The body's `Content-Type` is not one this operation takes. The `detail` member "
            "names those it does (for PATCH, also the `Accept-Patch` header).",
        ),
        ProblemType(
            "validation-error",
            422,
            "Invalid request",
            "A field, parameter or header breaks a rule. Each entry of `errors` gives its "
            'place (`loc`, e.g. `["body", "claims", 0, "anchor"]` or `["query", '
            '"limit"]`) and the rule (`msg`, `type`). Nothing was changed.',
        ),
        ProblemType(
            "idempotency-key-reused",
            422,
            "Idempotency-Key reused",
            "This `Idempotency-Key` was used with another request (method, path, query or "
            "body differ). Use a new key for a new request.",
        ),
        ProblemType(
            "quota-exceeded",
            429,
            "Rate limit reached",
            "The caller's requests per minute are used up. Wait `Retry-After` seconds; the "
            "`RateLimit` header says where the budget stands on every response.",
        ),
        ProblemType(
            "header-fields-too-large",
            431,
            "Request headers too large",
            "The request line and headers are over the limit (32 KiB by default).",
        ),
        ProblemType(
            "server-error",
            500,
            "Server error",
            "The server failed to answer. Nothing the client did caused it; it has been "
            "logged. A retry with the same `Idempotency-Key` is safe.",
        ),
        ProblemType(
            "database-unavailable",
            503,
            "Database unavailable",
            "The database cannot be reached or did not answer in time; nothing was changed. "
            "Retry after `Retry-After` seconds.",
        ),
        ProblemType(
            "not-ready",
            503,
            "Not ready",
            "The service cannot serve yet: its database does not answer or is not migrated "
            "to the schema this version needs (`newsdesk migrate`).",
        ),
    )
}

# The type of a problem for which only the status is known (the framework's own errors).
BY_STATUS = {
    404: "not-found",
    405: "method-not-allowed",
    408: "request-timeout",
    413: "payload-too-large",
    414: "uri-too-long",
    431: "header-fields-too-large",
    500: "server-error",
}


def code_for_status(status: int) -> str:
    return BY_STATUS.get(status, "bad-request" if status < 500 else "server-error")


def page(problem: ProblemType) -> bytes:
    """The HTML page a problem's `type` URI resolves to."""
    title = html.escape(problem.title)
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{title} — Newsdesk</title></head>\n'
        f"<body><h1>{title}</h1>\n"
        f"<p>HTTP status {problem.status}. Problem type <code>{problem.code}</code>.</p>\n"
        f"<p>{html.escape(problem.explanation)}</p>\n"
        "<p>Every error is RFC 9457 problem details (<code>application/problem+json</code>): "
        "<code>type</code> (this page), <code>title</code>, <code>status</code>, "
        "<code>detail</code>, and for 422 <code>errors</code>. "
        '<a href="../problems">All problem types</a>.</p>\n'
        "</body></html>\n"
    ).encode()


def index() -> bytes:
    rows = "\n".join(
        f'<li><a href="problems/{p.code}">{p.code}</a> ({p.status}): {html.escape(p.title)}</li>'
        for p in TYPES.values()
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8"><title>Problem types — Newsdesk</title>'
        "</head>\n<body><h1>Problem types</h1>\n<ul>\n" + rows + "\n</ul></body></html>\n"
    ).encode()
