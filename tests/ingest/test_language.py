"""The language pipeline ingest reads with: loaded once, only by ingest, parsed off the
event loop, and its parts of speech keep nouns from being taken for cues."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.ingest import language, service
from app.settings import get_settings

pytestmark = pytest.mark.anyio

TEXT = {"Content-Type": "text/plain; charset=utf-8"}
PAGE = """Payday loan rules tightened

The assembly voted on Tuesday to cap payday loans at 400 dollars, a first in the region.

Other states limit such loans to two a year; lenders in the US state of Ohio face fines.

"This protects families," said Senator Mara Quist.
"""


def test_nouns_spelled_like_cues_are_no_cues() -> None:
    draft = service.draft(service.Raw(PAGE))
    cited = [(a.source.name, a.cue) for claim in draft.claims for a in claim.attributions]
    # "states" and "state" are nouns here: no source called "Other" or "the US".
    assert cited == [("Mara Quist", "said")]


@pytest.mark.slow
def test_the_server_and_the_command_line_start_without_it() -> None:
    script = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "import app.cli\n"
        "from app.main import create_app\n"
        "with TestClient(create_app()) as client:\n"
        "    client.get('/healthz')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'spacy', 'thinc'}))\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
        env={"NEWSDESK_DATABASE_URL": "sqlite+aiosqlite:///:memory:", "PATH": ""},
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_it_is_loaded_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import spacy

    loads: list[str] = []
    real_load = spacy.load

    def counting_load(name: str, **options: object) -> object:
        loads.append(name)
        return real_load(name, **options)

    monkeypatch.setattr(spacy, "load", counting_load)
    language.pipeline.cache_clear()
    try:
        for _ in range(3):
            service.draft(service.Raw(PAGE))
    finally:
        language.pipeline.cache_clear()
    assert loads == [get_settings().ingest_model]


def test_a_model_that_is_not_installed_says_which_setting_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSDESK_INGEST_MODEL", "no_such_pipeline")
    get_settings.cache_clear()
    language.pipeline.cache_clear()
    try:
        with pytest.raises(language.ModelMissing, match="NEWSDESK_INGEST_MODEL"):
            language.parse(["Officials said so."])
    finally:
        monkeypatch.delenv("NEWSDESK_INGEST_MODEL")
        get_settings.cache_clear()
        language.pipeline.cache_clear()


async def test_the_api_reads_pages_off_the_event_loop(client, writer, monkeypatch) -> None:
    threads: list[threading.Thread] = []
    real_draft = service.draft

    def recording_draft(raw: service.Raw):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        return real_draft(raw)

    monkeypatch.setattr(service, "draft", recording_draft)
    response = await client.post(
        "/v1/ingest?dry_run=true", content=PAGE.encode(), headers={**writer, **TEXT}
    )
    assert response.status_code == 200, response.text
    assert threads and threads[0] is not threading.main_thread()


SUBJECTS = """Quarry ruling upheld

The appeal court upheld the quarry's permit on Monday, ending a two-year dispute.

Birgit Halvorsen, who leads the district council, said the ruling was fair to both sides.

Engineers who inspected the site said the blasting had cracked two walls.

As the company expands, its new approach signals a break with the past.
"""


def test_the_speaker_is_the_cues_subject_in_the_parse() -> None:
    draft = service.draft(service.Raw(SUBJECTS))
    cited = [(a.source.name, a.cue) for claim in draft.claims for a in claim.attributions]
    assert cited == [
        # The aside between commas is no part of the name; a description without commas
        # is the source's description; "its approach" signals, but is no one.
        ("Birgit Halvorsen", "said"),
        ("Engineers who inspected the site", "said"),
    ]


LISTED = """Rail review finds years of neglect on the coast line

The review of the coast line was published on Monday after a year of work by engineers.

Transport minister Ana Kerr said its main findings were:

• Signals on the line are forty years old
• Two bridges need urgent repair

The ministry will publish a plan in May, officials said.
"""


def test_a_list_after_x_said_is_xs() -> None:
    draft = service.draft(service.Raw(LISTED))
    claims = {c.statement: [a.source.name for a in c.attributions] for c in draft.claims}
    assert claims["Signals on the line are forty years old"] == ["Ana Kerr"]
    assert claims["Two bridges need urgent repair"] == ["Ana Kerr"]
    assert all(claim.anchor is not None for claim in draft.claims)
