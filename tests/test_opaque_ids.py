"""Ids are opaque to clients: one that is not even well formed is simply not there (404, as
for any unknown id), never a validation error about its format."""

import pytest

from app.auth import service as keys
from app.auth.scopes import Scope
from tests.helpers import assert_problem

pytestmark = pytest.mark.anyio

MALFORMED = ["not-an-id", "123", "00000000-0000-0000-0000-00000000000g"]
ROUTES = [
    ("GET", "/v1/claims/{}"),
    ("PATCH", "/v1/claims/{}"),
    ("DELETE", "/v1/claims/{}"),
    ("GET", "/v1/sources/{}"),
    ("GET", "/v1/sources/{}/claims"),
    ("GET", "/v1/webhooks/{}"),
    ("PATCH", "/v1/webhooks/{}"),
    ("DELETE", "/v1/webhooks/{}"),
    ("GET", "/v1/webhooks/{}/deliveries"),
    ("POST", "/v1/webhooks/{}/test"),
    ("DELETE", "/v1/keys/{}"),
]


async def test_a_malformed_id_in_a_path_is_not_found(client, session):
    _, secret = await keys.create(session, "everything", list(Scope))
    await session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    for method, template in ROUTES:
        for malformed in MALFORMED:
            json = {} if method == "PATCH" else None
            response = await client.request(
                method, template.format(malformed), headers=headers, json=json
            )
            problem = assert_problem(response, 404)
            assert malformed in problem["detail"], (method, template)
