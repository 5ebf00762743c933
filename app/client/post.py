"""`newsdesk post`: create stories on a remote Newsdesk over HTTP, safe to run again.

Every story is sent as canonical JSON (sorted keys, no whitespace) with an Idempotency-Key
derived from those bytes, so running the same file again, or retrying a request whose
answer was lost, gets the first response back (`Idempotent-Replayed: true`) and writes
nothing. Transient failures are retried with exponential backoff and jitter, never sooner
than a `Retry-After` asks; other client errors are reported with the server's problem
details and not retried. When no attempt at a story could even connect, the server is
unreachable: the run stops there instead of waiting through the same retries for each story.
"""

import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import tenacity
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress

from app.retry_after import retry_after_seconds

FORMATS = {".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson"}
RETRIED_STATUSES = frozenset({408, 429, 502, 503, 504})
IN_FLIGHT = "/idempotency-key-in-flight"  # the problem type of a 409 that is worth retrying
MAX_BACKOFF = 30.0  # seconds; a longer Retry-After is still honoured


class InputError(Exception):
    """The stories cannot be read (a usage error): reported before anything is sent."""


class Transient(Exception):
    """A failure that may go away: worth another attempt, after `retry_after` at least."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class NoConnection(Transient):
    """The server could not be connected to (refused, unknown host, connect timeout)."""


class Failed(Exception):
    """A request that failed for good: trying it again would not help."""


class Unreachable(Failed):
    """No attempt could connect to the server: no other story would get through either."""


class Refused(Failed):
    """The server refused the API key (401): no other story can succeed either."""


@dataclass(frozen=True)
class Story:
    """One article to create, where it came from (`line 3`, `item 2`), and its canonical
    JSON: what is sent, and what its Idempotency-Key is derived from."""

    label: str
    slug: str | None
    body: bytes

    @classmethod
    def of(cls, label: str, article: object) -> "Story":
        if not isinstance(article, dict):
            raise InputError(f"{label} is not a JSON object (an article)")
        try:
            canonical = json.dumps(
                article, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            )
        except ValueError as error:
            raise InputError(f"{label}: {error}") from None
        slug = article.get("slug")
        return cls(label, slug if isinstance(slug, str) else None, canonical.encode())

    @property
    def key(self) -> str:
        return "post-" + hashlib.sha256(self.body).hexdigest()


def parse(text: str, format: str) -> list[Story]:
    """The stories in `text`: one JSON article or an array of them, or NDJSON (one article a
    line; blank lines are skipped)."""
    if format == "ndjson":
        stories = [
            _line(number, line)
            for number, line in enumerate(text.split("\n"), start=1)
            if line.strip()
        ]
    elif format == "json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(
                f"not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
            ) from None
        articles = document if isinstance(document, list) else [document]
        stories = [Story.of(f"item {n}", article) for n, article in enumerate(articles, start=1)]
    else:
        raise InputError(f"--format must be json or ndjson, not {format!r}")
    if not stories:
        raise InputError("there are no stories in it")
    return stories


def _line(number: int, line: str) -> Story:
    try:
        article = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(
            f"line {number} is not valid JSON: {error.msg} (column {error.colno})"
        ) from None
    return Story.of(f"line {number}", article)


def read(file: str, format: str | None) -> list[Story]:
    """The stories in `file` (`-` is standard input): NDJSON or JSON as `format` says, else
    as the file's name says (standard input: NDJSON)."""
    if format is None:
        format = "ndjson" if file == "-" else FORMATS.get(Path(file).suffix.lower())
        if format is None:
            raise InputError("name it .json or .ndjson, or give --format")
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as error:
        raise InputError(f"cannot read it: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise InputError(f"it is not UTF-8 ({error.reason} at byte {error.start})") from None
    return parse(text, format)


@dataclass
class Result:
    """What became of one story."""

    story: Story
    article: dict[str, Any] | None = None  # the server's representation, once it has it
    replayed: bool = False  # created by an earlier run: this one wrote nothing
    published: bool = False
    error: str | None = None
    refused: bool = False  # the API key was refused: sending the rest is pointless
    unreachable: bool = False  # no connection to the server: the run stops here

    @property
    def slug(self) -> str:
        slug = self.article.get("slug") if self.article else self.story.slug
        return slug or "-"

    def state(self) -> str:
        if self.article is None:
            return f"failed: {self.error}"
        parts = ["already there (replayed)" if self.replayed else "created"]
        if self.published:
            parts.append("published")
        if self.error:
            parts.append(f"failed to publish: {self.error}")
        return ", ".join(parts)


class Client:
    """The Newsdesk API at `api` (its base URL; `/v1` is added), with the key `key`."""

    def __init__(self, api: str, key: str, *, retries: int, backoff: float, timeout: float) -> None:
        self.base = api.rstrip("/").removesuffix("/v1") + "/v1"
        self.http = httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
        )
        self.attempts = retries + 1
        self.backoff = tenacity.wait_exponential_jitter(
            initial=backoff, max=MAX_BACKOFF, jitter=backoff
        )
        self.retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=self._wait,
            reraise=True,
        )

    def close(self) -> None:
        self.http.close()

    def post(self, story: Story, *, publish: bool) -> Result:
        """Create the story (or find it created by an earlier run), and publish it if asked."""
        result = Result(story)
        try:
            created = self._call("/articles", story.key, story.body)
            article = _json_object(created)
            if "id" not in article:
                raise Failed(f"{created.status_code}: not a Newsdesk article (is --api right?)")
            result.article = article
            result.replayed = created.headers.get("Idempotent-Replayed") == "true"
            if publish:
                self._call(f"/articles/{article['id']}/publish", f"{story.key}-publish")
                result.published = True
        except Failed as error:
            result.error = str(error)
            result.refused = isinstance(error, Refused)
            result.unreachable = isinstance(error, Unreachable)
        return result

    def _call(self, path: str, key: str, body: bytes = b"") -> httpx.Response:
        """POST with retries; the 2xx response, or Failed saying why there is none."""
        try:
            response = self.retrying(self._send, path, key, body)
        except NoConnection as error:
            raise Unreachable(f"gave up after {self._attempts}: {error}") from None
        except Transient as error:
            raise Failed(f"gave up after {self._attempts}: {error}") from None
        if response.status_code == 401:
            raise Refused(_reason(response))
        if not response.is_success:
            raise Failed(_reason(response))
        return response

    @property
    def _attempts(self) -> str:
        return f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"

    def _send(self, path: str, key: str, body: bytes) -> httpx.Response:
        headers = {"Idempotency-Key": f'"{key}"'}
        if body:
            headers["Content-Type"] = "application/json"
        try:
            response = self.http.post(path, content=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise NoConnection(f"{type(error).__name__}: {error}".removesuffix(": ")) from error
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
            raise Transient(f"{type(error).__name__}: {error}".removesuffix(": ")) from error
        if response.status_code in RETRIED_STATUSES or _in_flight(response):
            raise Transient(
                _reason(response), retry_after_seconds(response.headers.get("Retry-After"))
            )
        return response

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """Exponential backoff with jitter, or longer if the server said so."""
        error = state.outcome.exception() if state.outcome else None
        asked = error.retry_after if isinstance(error, Transient) else None
        return max(asked or 0.0, self.backoff(state))


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object; empty when it is not one."""
    try:
        found = response.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _in_flight(response: httpx.Response) -> bool:
    """A 409 for an Idempotency-Key whose first request is still running."""
    problem_type = _json_object(response).get("type")
    return response.status_code == 409 and str(problem_type).endswith(IN_FLIGHT)


def _reason(response: httpx.Response) -> str:
    """The status and the problem's field errors (`loc: msg`), or else its detail."""
    problem = _json_object(response)
    errors = [error for error in problem.get("errors") or [] if isinstance(error, dict)]
    detail: str | None
    if errors:
        detail = "; ".join(
            f"{'.'.join(map(str, error.get('loc', [])))}: {error.get('msg')}" for error in errors
        )
    else:
        detail = problem.get("detail") or problem.get("title")
    status = f"{response.status_code} {response.reason_phrase}".strip()
    return f"{status}: {detail}" if detail else status


def post_all(client: Client, stories: Sequence[Story], *, publish: bool) -> list[Result]:
    """Post the stories in order: with a progress bar when there are several and stderr is
    a terminal, else a line on stderr as each is done. Once the key is refused, the rest are
    not sent; once the server is unreachable, Unreachable says where the run stopped."""
    console = Console(stderr=True)
    bar = len(stories) > 1 and console.is_terminal
    results: list[Result] = []
    refused = False
    columns = (*Progress.get_default_columns(), MofNCompleteColumn())
    with Progress(*columns, console=console, disable=not bar, transient=True) as progress:
        task = progress.add_task("Posting", total=len(stories))
        for number, story in enumerate(stories, start=1):
            progress.update(task, description=story.label)
            if refused:
                result = Result(story, error="not sent: the API key was refused")
            else:
                result = client.post(story, publish=publish)
                refused = result.refused
                if result.unreachable:
                    raise Unreachable(_stopped(client, result, len(stories) - number))
            results.append(result)
            progress.advance(task)
            if not bar:
                line = f"[{number}/{len(stories)}] {story.label} {result.slug}: {result.state()}"
                print(line, file=sys.stderr, flush=True)
    return results


def _stopped(client: Client, result: Result, after: int) -> str:
    """Why the run stopped at `result`'s story, and what was not sent."""
    said = f"The server at {client.base} is unreachable ({result.error})"
    if not after:
        return f"{said}."
    rest = "the story after it was" if after == 1 else f"the {after} stories after it were"
    return f"{said}: stopped at {result.story.label}; {rest} not sent."


def summary(results: Sequence[Result]) -> list[str]:
    """A line per story, then the totals."""
    names = [f"{result.story.label}  {result.slug}" for result in results]
    width = max(len(name) for name in names)
    lines = [f"{name:<{width}}  {r.state()}" for name, r in zip(names, results, strict=True)]
    failed = sum(1 for r in results if r.error)
    created = sum(1 for r in results if r.article and not r.replayed)
    replayed = sum(1 for r in results if r.article and r.replayed)
    published = sum(1 for r in results if r.published)
    stories = f"{len(results)} stor{'y' if len(results) == 1 else 'ies'}"
    lines.append(
        f"{stories}: {created} created, {replayed} already there, {published} published, "
        f"{failed} failed"
    )
    return lines
