"""Clients generated from the committed contract work: a Python client (openapi-python-client)
whose every module imports, and TypeScript types (openapi-typescript) that type-check with
`tsc --strict`. The TypeScript tools come from npm: .ci/run installs them into .ci/node;
elsewhere the test is skipped without them (`npm ci --prefix .ci/node` installs them)."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test runs a generator or a compiler

REPO = Path(__file__).parents[1]
SNAPSHOT = REPO / "openapi" / "openapi.json"
NODE_BIN = REPO / ".ci" / "node" / "node_modules" / ".bin"
# Generous bounds for a loaded machine; each takes a few seconds.
TIMEOUT = 180

IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
names = [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(  # noqa: S603 (fixed commands)
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert completed.returncode == 0, (
        f"{command[0]} failed:\n{completed.stdout}\n{completed.stderr}"
    )
    return completed.stdout


def test_the_generated_python_client_imports(tmp_path: Path) -> None:
    pytest.importorskip("openapi_python_client", reason="a dev dependency: pip install -e .[dev]")
    tools = Path(sys.executable).parent  # openapi-python-client, and the ruff it runs
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"}
    run(
        [
            str(tools / "openapi-python-client"),
            "generate",
            "--path",
            str(SNAPSHOT),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "newsdesk_client"),
        ],
        tmp_path,
        env,
    )
    # The operations that matter most to a client are all there (one module each).
    api = tmp_path / "newsdesk_client" / "api"
    for module in ("articles/update_article.py", "claims/update_claim.py", "keys/create_key.py"):
        assert (api / module).is_file(), f"{module} was not generated"
    imported = run([sys.executable, "-c", IMPORT_EVERY_MODULE, "newsdesk_client"], tmp_path)
    assert int(imported) > 50


USES_THE_TYPES = """
import type { components, paths } from "./newsdesk";

type Article = components["schemas"]["ArticleRead"];
type Problem = components["schemas"]["Problem"];
type Patch =
  paths["/v1/articles/{article}"]["patch"]["requestBody"]["content"]["application/merge-patch+json"];
type Page =
  paths["/v1/articles"]["get"]["responses"][200]["content"]["application/json"];
type Conflict =
  paths["/v1/articles"]["post"]["responses"][409]["content"]["application/problem+json"];
type PatchHeaders = NonNullable<paths["/v1/articles/{article}"]["patch"]["parameters"]["header"]>;

export function headline(article: Article): string {
  return article.headline;
}
export function why(problem: Problem): string {
  return `${problem.status} ${problem.title}: ${problem.detail ?? ""}`;
}
export const retitle: Patch = { headline: "Storm closes the pier" };
export const guarded: PatchHeaders = { "If-Match": '"3f2a"' };
export function conflict(problem: Conflict): string {
  return problem.title;
}
export function first(page: Page): Article | undefined {
  return page.data[0] as Article | undefined;
}
"""


def node_tool(name: str) -> str:
    tool = NODE_BIN / name
    if tool.exists():
        return str(tool)
    reason = f"{name} is not installed: run `npm ci --prefix .ci/node` (.ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def test_the_generated_typescript_types_check(tmp_path: Path) -> None:
    generate, tsc = node_tool("openapi-typescript"), node_tool("tsc")
    assert shutil.which("node"), "node is needed to run the npm tools"
    run([generate, str(SNAPSHOT), "--output", str(tmp_path / "newsdesk.ts")], tmp_path)
    (tmp_path / "use.ts").write_text(textwrap.dedent(USES_THE_TYPES), encoding="utf-8")
    run(
        [
            tsc,
            "--noEmit",
            "--strict",
            "--skipLibCheck",
            "--target",
            "es2022",
            "--module",
            "es2022",
            "use.ts",
        ],
        tmp_path,
    )
