"""Schemathesis against the published contract, in-process on each test database: a short,
deterministic run of what `make fuzz` does at length (bench/fuzz.py). Set
NEWSDESK_FUZZ_EXAMPLES for more examples per operation."""

import json
import os
from collections.abc import AsyncIterator

import anyio
import pytest
import requests
from schemathesis import Response
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.auth import service as keys
from app.main import create_app
from app.models import Base
from app.settings import Settings
from app.webhooks import service as webhooks
from app.webhooks.schemas import WebhookCreate
from bench import fuzz
from tests.factories import make_article

pytestmark = pytest.mark.anyio
EXAMPLES = int(os.environ.get("NEWSDESK_FUZZ_EXAMPLES", "8"))


@pytest.fixture
def fuzz_settings(settings: Settings) -> Settings:
    return settings.model_copy(update=fuzz.SETTINGS)


@pytest.fixture
async def seeded(
    engine: AsyncEngine, fuzz_settings: Settings
) -> AsyncIterator[tuple[str, fuzz.Known]]:
    """A key with every scope, and a published article, a draft and a webhook to aim at;
    committed for real (the app under fuzzing has its own engine), and all of it, with
    whatever the fuzzer wrote, deleted afterwards."""
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessionmaker() as session:
            _, key = await keys.create(session, "fuzz", fuzz.SCOPES)
            published = await make_article(session, slug="north-pier")
            draft = await make_article(session, published=False, slug="south-pier")
            receiver = WebhookCreate(url=fuzz.RECEIVER)
            webhook = await webhooks.create(session, receiver, fuzz_settings)
            await session.commit()
            known = fuzz.Known(
                articles=[str(published.id), published.slug, str(draft.id), draft.slug],
                claims=[str(claim.id) for claim in published.claims + draft.claims],
                sources=[
                    str(attribution.source_id)
                    for claim in published.claims
                    for attribution in claim.attributions
                ],
                webhooks=[str(webhook.id)],
            )
        yield key, known
    finally:
        async with sessionmaker.begin() as session:
            for table in reversed(Base.metadata.sorted_tables):  # children first
                await session.execute(table.delete())


# Hypothesis warns when it describes a large generated case (a bulk upload, say); the test
# suite turns warnings into errors, and this one says nothing about the API.
@pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
async def test_the_contract_holds_under_fuzzing(
    seeded: tuple[str, fuzz.Known], fuzz_settings: Settings
) -> None:
    key, known = seeded
    app = create_app(fuzz_settings)
    outcome = await anyio.to_thread.run_sync(fuzz.on_app, app, key, EXAMPLES, known)
    print(outcome.summary())  # shown with -s
    assert outcome.failures == [], "\n\n".join(outcome.failures)
    assert outcome.server_errors == 0
    contract = json.loads(fuzz.SPEC.read_text(encoding="utf-8"))
    operations = {f"{m.upper()} {path}" for path, ops in contract["paths"].items() for m in ops}
    assert outcome.operations == operations


def answer(status: int, media_type: str, body: bytes, method: str = "GET") -> Response:
    request = requests.Request(method, "http://testserver/v1/articles").prepare()
    headers = {"content-type": [media_type]}
    return Response(status, headers, body, request=request, elapsed=0.0, verify=True)


PROBLEM = b'{"type": "about:blank", "title": "Not Found", "status": 404, "detail": "No."}'


@pytest.mark.parametrize(
    "response",
    [
        answer(404, "application/json", PROBLEM),
        answer(404, "text/html", b"<h1>Not Found</h1>"),
        answer(404, "application/problem+json", b"Not Found"),
        answer(404, "application/problem+json", b'{"title": "Not Found", "status": 404}'),
        answer(404, "application/problem+json", PROBLEM.replace(b"404", b"400")),
        answer(500, "text/plain", b"Internal Server Error"),
    ],
)
def test_the_problem_check_fails_an_error_that_is_not_problem_details(response) -> None:
    with pytest.raises(AssertionError):
        fuzz.problem_details(None, response, None)


@pytest.mark.parametrize(
    "response",
    [
        answer(404, "application/problem+json", PROBLEM),
        answer(200, "application/json", b"{}"),
        answer(304, "", b""),
        answer(404, "application/problem+json", b"", method="HEAD"),
    ],
)
def test_the_problem_check_passes_problem_details_and_successes(response) -> None:
    assert fuzz.problem_details(None, response, None) is None
