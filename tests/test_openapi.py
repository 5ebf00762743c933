"""The committed openapi/openapi.json is the published contract: it must equal what the app
serves, and describe real payloads."""

import json
import re
from pathlib import Path

import pytest

from app.auth.scopes import Scope
from app.main import create_app
from app.settings import Settings
from tests.auth.test_matrix import PUBLIC, READ, TABLE, Seed
from tests.conftest import _key
from tests.factories import make_article
from tests.helpers import assert_problem

SNAPSHOT = Path(__file__).parents[1] / "openapi" / "openapi.json"
pytestmark = pytest.mark.anyio


def test_committed_spec_equals_the_app() -> None:
    served = create_app(Settings(_env_file=None)).openapi()
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert committed == served, "run `make openapi` and commit openapi/openapi.json"


def test_every_success_response_has_a_real_schema() -> None:
    spec = create_app(Settings(_env_file=None)).openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                content = response.get("content", {})
                assert content, f"{method.upper()} {path} {status} declares no media type"
                for media_type, described in content.items():
                    schema = described.get("schema", {})
                    if media_type == "application/json" or media_type.endswith("+json"):
                        assert (
                            schema != {} and schema.get("type") != "object"
                        ) or "properties" in schema, (
                            f"{method.upper()} {path} {status} has no described payload"
                        )
                    else:  # XML feeds and the like: a string, but declared
                        assert schema, f"{method.upper()} {path} {status} {media_type}: no schema"


def test_errors_are_documented_as_problem_details() -> None:
    spec = create_app(Settings(_env_file=None)).openapi()
    create = spec["paths"]["/v1/articles"]["post"]["responses"]
    for status in ("409", "422", "4XX", "503"):
        content = create[status]["content"]
        assert list(content) == ["application/problem+json"]
        assert content["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    assert "Problem" in spec["components"]["schemas"]


async def test_served_spec_matches_snapshot(client) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_every_reference_resolves() -> None:
    # Found by schemathesis: the ingest body referred to a schema that was not published.
    committed = SNAPSHOT.read_text(encoding="utf-8")
    components = json.loads(committed)["components"]["schemas"]
    for reference in re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', committed):
        assert reference in components, f"{reference} is referred to but not published"
    # Found by openapi-typescript: an inline schema's own `$defs` mean nothing in the document.
    assert re.findall(r'"\$ref": "#/(?!components/)[^"]*"', committed) == []


# --- what generated clients and Swagger UI need from the document ------------------------


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def served_spec() -> dict:
    return create_app(Settings(_env_file=None)).openapi()


def header_names(operation: dict) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_every_parameter_is_described() -> None:
    undescribed = [
        f"{method} {path}: {parameter['in']} {parameter['name']}"
        for method, path, operation in operations(served_spec())
        for parameter in operation.get("parameters", [])
        if not parameter.get("description", "").strip()
    ]
    assert undescribed == []


def test_path_parameters_say_what_they_take() -> None:
    for method, path, operation in operations(served_spec()):
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "path":
                continue
            schema, name = parameter["schema"], parameter["name"]
            if name in ("article", "author"):
                assert "slug" in parameter["description"], f"{method} {path}"
                assert schema.get("minLength") == 1
            elif name == "slug":
                assert path.startswith("/v1/sections/") and schema["pattern"], path
            elif name.endswith("_id"):
                assert (schema["type"], schema["format"]) == ("string", "uuid"), name
            elif name == "name":
                assert re.fullmatch(schema["pattern"], "640.webp"), f"{method} {path}"
                assert not re.fullmatch(schema["pattern"], "../original"), f"{method} {path}"
            else:
                assert name == "version" and schema["type"] == "integer"


def test_problem_details_are_listed_only_as_problem_json() -> None:
    for method, path, operation in operations(served_spec()):
        for status, response in operation["responses"].items():
            for media_type, described in response.get("content", {}).items():
                is_problem = described.get("schema", {}).get("$ref", "").endswith("/Problem")
                assert is_problem == (media_type == "application/problem+json"), (
                    f"{method} {path} {status} {media_type}"
                )


def test_patch_bodies_are_merge_patches_under_one_media_type() -> None:
    patches = [(path, op) for method, path, op in operations(served_spec()) if method == "PATCH"]
    assert patches
    for path, operation in patches:
        body = operation["requestBody"]
        assert list(body["content"]) == ["application/merge-patch+json"], path
        assert "application/json" in body["description"], path


async def test_a_patch_still_takes_plain_json(client, writer, session) -> None:
    article = await make_article(session, published=False)
    response = await client.patch(
        f"/v1/articles/{article.id}", json={"deck": "Plain JSON."}, headers=writer
    )
    assert response.status_code == 200
    assert response.json()["deck"] == "Plain JSON."


def test_the_bearer_scheme_is_declared() -> None:
    scheme = served_spec()["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"].startswith("nd_")


@pytest.mark.parametrize("public_read", [True, False])
def test_each_operation_says_who_may_call_it(public_read: bool) -> None:
    # tests/auth/test_matrix.py checks every route's scope against every kind of caller.
    spec = create_app(Settings(public_read=public_read, _env_file=None)).openapi()
    for method, path, operation in operations(spec):
        scope = TABLE[(method, path)].scope
        security = operation.get("security")
        where = f"{method} {path}"
        if scope == PUBLIC:
            assert security is None, where
        elif scope == READ:
            assert security == [{"bearer": []}, *([{}] if public_read else [])], where
        else:
            assert security == [{"bearer": []}], where
            assert f"Needs an API key with the `{scope}` scope." in operation["description"]


@pytest.fixture
async def everything(session) -> dict[str, str]:
    return await _key(session, "everything", *Scope)


async def test_reads_declare_if_none_match_where_they_have_etags(client, session, everything):
    seed = Seed(session)
    for method, path, operation in operations(served_spec()):
        if method != "GET":
            continue
        route = TABLE[(method, path)]
        target, kwargs = await route.request(seed)
        asked = {**kwargs.get("headers", {}), **everything}
        response = await client.get(target, headers=asked)
        assert response.status_code == route.success, f"{path}: {response.text[:200]}"
        if route.success == 304:  # asked with its ETag already (a rendition: see the table)
            assert "If-None-Match" in header_names(operation), path
            continue
        if "If-None-Match" not in header_names(operation):
            assert "etag" not in response.headers, f"{path} has an ETag: declare If-None-Match"
            continue
        assert "304" in operation["responses"], path
        again = await client.get(
            target, headers={**asked, "If-None-Match": response.headers["etag"]}
        )
        assert again.status_code == 304, path


async def test_writes_that_check_if_match_declare_it(client, session, everything):
    seed = Seed(session)
    declared = []
    for method, path, operation in operations(served_spec()):
        if method == "GET":
            continue
        targets_article_or_claim = "{article}" in path or "{claim_id}" in path
        if "If-Match" not in header_names(operation):
            assert not targets_article_or_claim, f"{method} {path} does not declare If-Match"
            continue
        declared.append(path)
        target, kwargs = await TABLE[(method, path)].request(seed)
        kwargs = dict(kwargs)  # the table's own dict: leave it as it is
        headers = {**kwargs.pop("headers", {}), **everything, "If-Match": '"stale"'}
        response = await client.request(method, target, headers=headers, **kwargs)
        assert_problem(response, 412)
    assert len(declared) == 11


async def test_posts_that_take_an_idempotency_key_declare_it(client, session, everything):
    seed = Seed(session)
    bad_key = "k" * 256
    taking = []
    for method, path, operation in operations(served_spec()):
        if method != "POST":
            continue
        target, kwargs = await TABLE[(method, path)].request(seed)
        kwargs = dict(kwargs)  # the table's own dict: leave it as it is
        headers = {**kwargs.pop("headers", {}), **everything, "Idempotency-Key": bad_key}
        response = await client.post(target, headers=headers, **kwargs)
        refused_the_key = response.status_code == 400 and response.json()["type"].endswith(
            "/bad-idempotency-key"
        )
        declared = "Idempotency-Key" in header_names(operation)
        assert refused_the_key == declared, f"{path}: {response.status_code} {response.text}"
        taking += [path] if declared else []
    assert "/v1/articles/bulk" in taking
    assert "/v1/keys" not in taking
