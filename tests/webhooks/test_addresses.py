"""Where deliveries may go: the checks against server-side request forgery."""

import pytest

from app.webhooks.addresses import RefusedUrl, check_url, resolve

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://partner.example/in", "must be an http or https URL"),
        ("https:///in", "must name a host"),
        ("https://user:pw@partner.example/in", "must not carry credentials"),
        ("https://partner.example:99999/in", "has an invalid port"),
        ("http://127.0.0.1/in", "points at 127.0.0.1"),
        ("http://10.0.0.8/in", "points at 10.0.0.8"),
        ("http://192.168.1.20/in", "points at 192.168.1.20"),
        ("http://169.254.169.254/latest/meta-data", "points at 169.254.169.254"),
        ("http://100.64.0.1/in", "points at 100.64.0.1"),
        ("http://0.0.0.0/in", "points at 0.0.0.0"),
        ("http://224.0.0.1/in", "points at 224.0.0.1"),
        ("http://[::1]/in", "points at ::1"),
        ("http://[fe80::1]/in", "points at fe80::1"),
        ("http://[fd00::5]/in", "points at fd00::5"),
        ("http://[::ffff:127.0.0.1]/in", "points at ::ffff:7f00:1"),
        ("http://2130706433/in", "points at 127.0.0.1"),
        ("http://0x7f000001/in", "points at 127.0.0.1"),
        ("http://127.1/in", "points at 127.0.0.1"),
        ("http://127.0.0.1./in", "points at 127.0.0.1"),
    ],
)
def test_unsafe_urls_are_refused(url, reason):
    with pytest.raises(RefusedUrl, match=reason.replace(".", r"\.")):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    ["https://partner.example/in", "http://93.184.215.14:8080/in", "https://[2606:4700::1]/in"],
)
def test_public_urls_pass(url):
    check_url(url, allow_private=False)


def test_private_addresses_pass_when_allowed():
    check_url("http://127.0.0.1:9000/in", allow_private=True)


async def test_a_name_that_resolves_to_loopback_is_refused():
    with pytest.raises(RefusedUrl, match="localhost resolves to"):
        await resolve("http://localhost:9000/in", allow_private=False)


async def test_the_request_is_pinned_to_the_checked_address():
    target = await resolve("http://localhost:9000/in?x=1", allow_private=True)
    assert target.url in ("http://127.0.0.1:9000/in?x=1", "http://[::1]:9000/in?x=1")
    assert target.headers == {"Host": "localhost:9000"}
    assert target.extensions == {}


async def test_https_keeps_the_name_for_tls():
    target = await resolve("https://127.0.0.1/in", allow_private=True)
    assert target.url == "https://127.0.0.1:443/in"
    assert target.extensions == {"sni_hostname": "127.0.0.1"}


async def test_an_unknown_name_is_a_connection_error():
    with pytest.raises(ConnectionError, match="cannot resolve"):
        await resolve("https://no-such-host.invalid/in", allow_private=False)
