"""Where deliveries may go: the checks against server-side request forgery."""

import asyncio
import re
import socket

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
        # IPv6 forms that carry an IPv4 address are judged by it too.
        ("http://[64:ff9b::a9fe:a9fe]/in", "points at 64:ff9b::a9fe:a9fe (which carries 169.254"),
        ("http://[64:ff9b::10.0.0.8]/in", "points at 64:ff9b::a00:8 (which carries 10.0.0.8)"),
        ("http://[2002:a9fe:a9fe::]/in", "points at 2002:a9fe:a9fe:: (which carries 169.254"),
        ("http://[::127.0.0.1]/in", "points at ::7f00:1 (which carries 127.0.0.1)"),
        ("http://[::ffff:0:7f00:1]/in", "points at ::ffff:0:7f00:1 (which carries 127.0.0.1)"),
        ("http://[2001:0:808:808::80ff:fffe]/in", "(which carries 8.8.8.8, 127.0.0.1)"),  # Teredo
        # The local-use NAT64 prefix, whatever it carries.
        ("http://[64:ff9b:1::7f00:1]/in", "points at 64:ff9b:1::7f00:1"),
        ("http://[64:ff9b:1::808:808]/in", "points at 64:ff9b:1::808:808"),
    ],
)
def test_unsafe_urls_are_refused(url, reason):
    with pytest.raises(RefusedUrl, match=re.escape(reason)):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://partner.example/in",
        "http://93.184.215.14:8080/in",
        "https://[2606:4700::1]/in",
        "https://[64:ff9b::808:808]/in",  # NAT64 to a public address
    ],
)
def test_public_urls_pass(url):
    check_url(url, allow_private=False)


def test_private_addresses_pass_when_allowed():
    check_url("http://127.0.0.1:9000/in", allow_private=True)


async def test_a_name_that_resolves_to_loopback_is_refused():
    with pytest.raises(RefusedUrl, match="localhost resolves to"):
        await resolve("http://localhost:9000/in", allow_private=False)


@pytest.mark.parametrize(
    "resolved", ["64:ff9b::a9fe:a9fe", "64:ff9b:1::808:808", "2002:7f00:1::", "::ffff:0:a00:8"]
)
async def test_a_name_that_resolves_to_a_form_carrying_a_private_address_is_refused(
    monkeypatch, resolved
):
    async def getaddrinfo(host, port, **kwargs):  # type: ignore[no-untyped-def]
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (resolved, port, 0, 0))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    with pytest.raises(RefusedUrl, match=f"partner.example resolves to {resolved}"):
        await resolve("https://partner.example/in", allow_private=False)


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
