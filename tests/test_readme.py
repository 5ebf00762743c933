"""The README's shell examples, run as written against a real `newsdesk serve`: the first
reads on the demo content return something, and the safe-edit recipe (ETag by HEAD, then
PATCH with If-Match) really protects against a lost update."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.helpers import ROOT, newsdesk, serving

pytestmark = [
    pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl"),
    pytest.mark.slow,
]  # the examples run against a server

README = (ROOT / "README.md").read_text("utf-8")
DEMO_BASE = "http://127.0.0.1:8000"


def block_after(marker: str) -> str:
    """The first ```sh block after `marker` in the README."""
    found = re.search(re.escape(marker) + r".*?```sh\n(.*?)```", README, re.S)
    assert found, marker
    return found[1]


def bash(script: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603
        ["bash", "-c", script],  # noqa: S607
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def key(url: str) -> str:
    created = newsdesk(
        url, "keys", "create", "--name", "cms", "--scope", "content:write",
        "--scope", "content:publish",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


def test_the_first_examples_find_the_demo_content(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    assert newsdesk(url, "migrate").returncode == 0
    assert newsdesk(url, "demo").returncode == 0
    examples = [line for line in block_after("Try it once `make run` is up").splitlines() if line]
    assert len(examples) >= 3
    with serving(url, "--workers", "1", log=tmp_path / "serve.log") as served:
        for example in examples:
            output = bash(example.replace(DEMO_BASE, served.base), tmp_path, {})
            assert json.loads(output)["data"], f"{example} found nothing in the demo content"


def test_the_safe_edit_recipe_runs_as_written_and_stops_a_lost_update(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'recipe.db'}"
    assert newsdesk(url, "migrate").returncode == 0
    recipe = block_after("## Writing stories from a script")
    # Our key and server instead of the placeholders; everything else as written.
    script = "\n".join(
        line for line in recipe.splitlines() if not line.startswith(("KEY=", "API="))
    )
    (tmp_path / "stories.ndjson").write_text(
        json.dumps({"slug": "ferry-timetable", "headline": "Ferry timetable changes"}) + "\n"
    )
    secret = key(url)
    with serving(url, "--workers", "1", log=tmp_path / "serve.log") as served:
        env = {"KEY": secret, "API": f"{served.base}/v1"}
        bash(script, tmp_path, env)
        headers = {"Authorization": f"Bearer {secret}"}
        article = httpx.get(f"{served.base}/v1/articles/bridge-reopens", headers=headers).json()
        assert article["deck"] == "Traffic returns after six weeks."
        assert article["section"] == "local"
        assert article["status"] == "published"
        bulk = httpx.get(f"{served.base}/v1/articles/ferry-timetable", headers=headers)
        assert bulk.status_code == 200

        # The protection itself: someone edits between our read of the ETag and our PATCH.
        read_etag, patch = (
            next(line for line in recipe.splitlines() if line.startswith("ETAG=")),
            recipe[recipe.index("curl -s -X PATCH") : recipe.index("# 412")],
        )
        their_edit = {"deck": "Another deck"}
        script = (
            f"{read_etag}\n"
            f"curl -s -X PATCH $API/articles/bridge-reopens -H 'Authorization: Bearer {secret}' "
            f"-H 'Content-Type: application/merge-patch+json' -d '{json.dumps(their_edit)}' "
            ">/dev/null\n"
            f"{patch}"
        )
        answer = json.loads(bash(script, tmp_path, env))
        assert answer["status"] == 412, answer
        final = httpx.get(f"{served.base}/v1/articles/bridge-reopens", headers=headers).json()
        assert final["deck"] == "Another deck"
