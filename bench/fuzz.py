"""Schemathesis against the published contract (`openapi/openapi.json`, not the schema the
app serves): every operation, writes included, with a key holding every scope. No answer may
be a 5xx, every answer must match the contract, and every error must be problem details.

`python -m bench.fuzz` (`make fuzz`) runs it long against `newsdesk serve` on a fresh SQLite
database with the demo stories; tests/test_fuzz.py runs it briefly against the app
in-process, on each test database. Both go through `fuzz()`."""

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import schemathesis
from schemathesis.engine import events
from schemathesis.python import asgi

from app.auth.scopes import Scope
from app.errors import PROBLEM_MEDIA_TYPE
from bench.common import REPO, BenchError, log
from bench.processes import background, free_port, run_command

SPEC = REPO / "openapi" / "openapi.json"
SCOPES = list(Scope)
SEED = 7
# Webhooks are sent to a closed loopback port: a fuzzed webhook must never reach a real host.
RECEIVER = "http://127.0.0.1:9/hook"
# A known id is used for this share of path parameters; the rest are made up (mostly 404s).
KNOWN_SHARE = 0.5


# Settings of the app under fuzzing: no rate limits (the fuzzer is one busy key), webhooks only
# to loopback (see RECEIVER), and none dispatched in the background.
SETTINGS: dict[str, Any] = {
    "rate_limit_anonymous": 0,
    "rate_limit_per_key": 0,
    "webhooks_allow_private": True,
    "webhooks_dispatcher": False,
}


@schemathesis.check
def problem_details(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> None:
    """Every error is RFC 9457 problem details (`type`, `title`, `status`), as API.md says."""
    if response.status_code < 400 or response.request.method == "HEAD":
        return
    media_type = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    if media_type != PROBLEM_MEDIA_TYPE:
        raise AssertionError(f"A {response.status_code} answered as {media_type or 'nothing'}")
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise AssertionError(f"A {response.status_code} problem that is not JSON") from None
    if not isinstance(body, dict):
        raise AssertionError(f"A {response.status_code} problem that is not an object")
    missing = [name for name in ("type", "title", "status") if name not in body]
    if missing:
        raise AssertionError(f"A {response.status_code} problem without {', '.join(missing)}")
    if body["status"] != response.status_code:
        raise AssertionError(f"A {response.status_code} problem saying status {body['status']}")


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """`POST /v1/articles/bulk` bodies: the contract says a string (one article a line)."""
    return value.encode() if isinstance(value, str) else orjson.dumps(value)


@dataclass
class Known:
    """Ids of things that exist, so that paths with ids reach real resources too."""

    articles: list[str] = field(default_factory=list)  # ids and slugs
    claims: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)


def config(key: str, examples: int, known: Known, *, thorough: bool) -> schemathesis.Config:
    """What to generate and check. The `thorough` run adds the coverage phase: boundary and
    invalid values of every parameter, some thousands of requests whatever `examples` is."""
    # Made-up text in `fields=` is nearly always an unknown field (422): sometimes ask for
    # real ones, so that sparse answers are checked against the contract too.
    dictionaries = {"receivers": [RECEIVER], "fields": ["id,slug,headline"], **vars(known)}
    bindings = {
        "query.fields": "fields",
        "path.article": "articles",
        "path.claim_id": "claims",
        "path.source_id": "sources",
        "path.webhook_id": "webhooks",
        "query.article": "articles",
        "query.source": "sources",
    }
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {key}"},
            "workers": 1,
            "dictionaries": {
                name: {"values": values} for name, values in dictionaries.items() if values
            },
            "parameters": {
                **{
                    parameter: {"dictionary": name, "probability": KNOWN_SHARE}
                    for parameter, name in bindings.items()
                    if dictionaries[name]
                },
                "body.url": {"dictionary": "receivers", "probability": 1.0},
            },
            "generation": {"max-examples": examples, "deterministic": True},
            # The stateful phase follows the contract's links, and it declares none.
            "phases": {"coverage": {"enabled": thorough}, "stateful": {"enabled": False}},
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "status_code_conformance": {"enabled": True},
                "content_type_conformance": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
                "problem_details": {"enabled": True},
            },
        }
    )


@dataclass
class Outcome:
    requests: int = 0
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)  # those that answered at least once

    def summary(self) -> str:
        return (
            f"{self.requests} requests fuzzed, {self.server_errors} answered 5xx, "
            f"{len(self.failures)} failures"
        )


def fuzz(schema: Any) -> Outcome:
    """Run every phase on every operation of `schema`; each distinct failure once."""
    outcome = Outcome()
    seen = set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            recorder = event.recorder
            for interaction in recorder.interactions.values():
                outcome.requests += 1
                outcome.operations.add(recorder.label)
                if interaction.response is not None and interaction.response.status_code >= 500:
                    outcome.server_errors += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    identity = (recorder.label, failure.title, failure.message)
                    if identity in seen:
                        continue
                    seen.add(identity)
                    curl = recorder.cases[case_id].value.as_curl_command()
                    outcome.failures.append(
                        f"{recorder.label}: {failure.title}\n{failure.message}\n{curl}"
                    )
        elif isinstance(event, events.NonFatalError):
            outcome.failures.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return outcome


def on_app(app: Any, key: str, examples: int, known: Known) -> Outcome:
    """Fuzz an ASGI app in this process (its lifespan runs, and ends afterwards)."""
    schema = schemathesis.openapi.from_path(
        SPEC, config=config(key, examples, known, thorough=False)
    )
    schema.app = app
    try:
        return fuzz(schema)
    finally:
        asgi.shutdown_lifespans()


def on_server(base_url: str, key: str, examples: int, known: Known) -> Outcome:
    """Fuzz a running server."""
    schema = schemathesis.openapi.from_path(
        SPEC, config=config(key, examples, known, thorough=True)
    )
    schema.config.update(base_url=base_url)
    return fuzz(schema)


def known_on(base_url: str, key: str) -> Known:
    """What the demo stories put there: their articles, claims and sources."""
    with httpx.Client(base_url=f"{base_url}/v1", headers={"Authorization": f"Bearer {key}"}) as api:
        articles = api.get("/articles", params={"limit": 100, "status": "all"}).json()["data"]
        claims = api.get("/claims", params={"limit": 100}).json()["data"]
        sources = api.get("/sources", params={"limit": 100}).json()["data"]
    return Known(
        articles=[article[name] for article in articles for name in ("id", "slug")],
        claims=[claim["id"] for claim in claims],
        sources=[source["id"] for source in sources],
    )


@contextlib.contextmanager
def demo_server() -> Iterator[tuple[str, str]]:
    """`newsdesk serve` on a new SQLite database with the demo stories, on a free loopback
    port: its base URL and a key with every scope, for the with-block."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-fuzz-") as temporary:
        directory = Path(temporary)
        newsdesk = str(Path(sys.executable).parent / "newsdesk")
        env = {f"NEWSDESK_{name.upper()}": str(value).lower() for name, value in SETTINGS.items()}
        env["NEWSDESK_DATABASE_URL"] = f"sqlite+aiosqlite:///{directory}/fuzz.db"
        run_command([newsdesk, "migrate"], env)
        run_command([newsdesk, "demo"], env)
        scopes = [option for scope in SCOPES for option in ("--scope", scope.value)]
        created = run_command([newsdesk, "keys", "create", "--name", "fuzz", *scopes], env)
        key = created.strip().splitlines()[-1]
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        command = [newsdesk, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        with background(command, directory / "serve.log", f"{base_url}/healthz", env):
            yield base_url, key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--examples", type=int, default=100, help="Generated cases per operation and phase."
    )
    options = parser.parse_args(argv)
    began = time.monotonic()
    try:
        with demo_server() as (base_url, key):
            log(f"fuzzing {base_url} with {options.examples} examples per operation")
            outcome = on_server(base_url, key, options.examples, known_on(base_url, key))
    except BenchError as error:
        print(f"\nfuzz: {error}", file=sys.stderr)
        return 1
    for failure in outcome.failures:
        print(f"\n{failure}", file=sys.stderr)
    log(f"{outcome.summary()} in {time.monotonic() - began:.0f} s")
    return 1 if outcome.failures or outcome.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
