"""Our signatures are the Standard Webhooks scheme: checked against the reference library."""

import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.webhooks import signing


def test_secrets_are_32_random_bytes_in_the_whsec_format():
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
    assert first != second


def test_the_signature_matches_the_reference_library():
    secret = signing.new_secret()
    body = b'{"type":"article.published","data":{"slug":"pier-closes"}}'
    timestamp = 1_795_000_000
    ours = signing.signature(secret, "msg_abc", timestamp, body)
    theirs = Webhook(secret).sign("msg_abc", datetime.fromtimestamp(timestamp, UTC), body.decode())
    assert ours == theirs


def test_the_reference_library_verifies_our_headers_and_refuses_a_changed_body():
    secret = signing.new_secret()
    body = b'{"type":"article.updated"}'
    headers = signing.headers(secret, "msg_1", int(datetime.now(UTC).timestamp()), body)
    assert Webhook(secret).verify(body, headers) == {"type": "article.updated"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"type":"article.deleted"}', headers)
