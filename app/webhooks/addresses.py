"""Where the app may send requests or point readers: http(s) URLs on public addresses (webhook
receivers; registered external images). Private, loopback, link-local and other non-global
addresses are refused (server-side request forgery) unless the deployment allows them. Names
are resolved and checked at every attempt, and the request then goes to the address that was
checked, so a name cannot be re-pointed in between.

An IPv6 address that carries an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated,
NAT64, 6to4, Teredo) may be routed to that IPv4 address, so the IPv4 address must be public
too: 64:ff9b::a9fe:a9fe reaches 169.254.169.254 through a NAT64 gateway."""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from pydantic import HttpUrl

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


# The local-use NAT64 prefix (RFC 8215) is translated by a network's own gateway, under
# rules nobody outside that network knows: no address in it is taken as public.
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
# Prefixes whose last 32 bits are an IPv4 address: NAT64's well-known prefix (RFC 6052),
# IPv4-translated (RFC 2765) and the deprecated IPv4-compatible addresses (RFC 4291).
# (IPv4-mapped, 6to4 and Teredo have properties of their own in `ipaddress`.)
LOW_32_BITS_IPV4 = [
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
    ipaddress.IPv6Network("::/96"),
]


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, by the conventions that route it there."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)  # the Teredo server and the client behind it
    if any(address in prefix for prefix in LOW_32_BITS_IPV4):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return []


def _is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL_USE:
            return False
        if not all(_is_public(carried) for carried in embedded_ipv4(address)):
            return False
        if address.ipv4_mapped is not None:
            return True  # judged by the IPv4 address alone, as it is reached
    return address.is_global and not address.is_multicast


def _described(address: Address) -> str:
    carried = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []
    if not carried:
        return str(address)
    return f"{address} (which carries {', '.join(map(str, carried))})"


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str, *, allow_private: bool) -> None:
    """What can be judged without the network: scheme, host, credentials, literal address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedUrl("must be an http or https URL")
    if not parts.hostname:
        raise RefusedUrl("must name a host")
    if parts.username or parts.password:
        raise RefusedUrl("must not carry credentials (user name or password)")
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise RefusedUrl("has an invalid port") from None
    if allow_private:
        return
    # The URL standard reads 2130706433, 0x7f000001, 127.1 and 127.0.0.1. as 127.0.0.1:
    # judge the host as written and as a URL parser reads it, so no spelling slips past.
    try:
        parsed_host = HttpUrl(url).host or ""
    except ValueError:
        raise RefusedUrl("is not a valid URL") from None
    for host in (parts.hostname, parsed_host.strip("[]")):
        address = _literal(host)
        if address is not None and not _is_public(address):
            raise RefusedUrl(f"points at {_described(address)}, a private or reserved address")


@dataclass(frozen=True)
class Target:
    """A request pinned to a checked address: send to `url` with these headers/extensions."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, str]


async def resolve(url: str, *, allow_private: bool) -> Target:
    check_url(url, allow_private=allow_private)
    parts = urlsplit(url)
    host = parts.hostname
    assert host is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise ConnectionError(f"cannot resolve {host}: {error}") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in found]
    if not allow_private:
        for address in addresses:
            if not _is_public(address):
                raise RefusedUrl(
                    f"{host} resolves to {_described(address)}, a private or reserved address"
                )
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    pinned = urlunsplit(parts._replace(netloc=f"{literal}:{port}"))
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return Target(pinned, {"Host": parts.netloc}, extensions)
