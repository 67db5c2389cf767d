"""Where webhooks may be sent: http(s) URLs whose host is, and resolves only to, public addresses.

The check against server-side request forgery (SSRF), made when a subscription is created or changed and
again at every delivery: a name's addresses can change between the two (DNS rebinding), so the sender asks
``safe_addresses`` and connects only to what it returned.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from orderline.application.errors import UnsafeDestination

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses the name resolves to (text, as getaddrinfo gives them)
Resolver = Callable[[str, int], Awaitable[list[str]]]

# A resolver that does not answer within this is as good as one that says "no such name".
RESOLVE_TIMEOUT = 2.0
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_public(address: IPAddress) -> bool:
    """A unicast address on the public internet: not loopback, private, link-local, unspecified, multicast,
    reserved, shared (CGNAT, 100.64.0.0/10) nor documentation. IPv4 carried inside IPv6 (mapped, 6to4, Teredo)
    is judged as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` by the event loop's getaddrinfo (the system's resolver, in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class PublicDestinations:
    """The Destinations port. ``allow_private`` (ORDERLINE_WEBHOOKS_ALLOW_PRIVATE) lets webhooks reach any
    address, for development and tests: ``check`` then looks at the URL only, and resolves nothing."""

    def __init__(
        self, *, allow_private: bool = False, resolve: Resolver = system_resolver, timeout: float = RESOLVE_TIMEOUT
    ) -> None:
        self._allow_private = allow_private
        self._resolve = resolve
        self._timeout = timeout

    async def check(self, url: str) -> None:
        """Raise UnsafeDestination unless ``url`` is http(s) with a host whose every address is public."""
        if self._allow_private:
            _host_and_port(url)
            return
        await self.safe_addresses(url)

    async def safe_addresses(self, url: str) -> list[IPAddress]:
        """Every address ``url``'s host resolves to, once each, after checking that all are public (unless
        private ones are allowed). A host that does not resolve in time, or at all, is refused."""
        host, port = _host_and_port(url)
        addresses = await self._addresses(url, host, port)
        if not self._allow_private:
            for address in addresses:
                if not is_public(address):
                    raise UnsafeDestination(url, "not-public", str(address))
        return addresses

    async def _addresses(self, url: str, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        try:
            async with asyncio.timeout(self._timeout):
                found = await self._resolve(host, port)
            addresses = list(dict.fromkeys(ipaddress.ip_address(text.split("%", 1)[0]) for text in found))
        except (TimeoutError, OSError, UnicodeError, ValueError):
            raise UnsafeDestination(url, "unresolvable") from None
        if not addresses:
            raise UnsafeDestination(url, "unresolvable")
        return addresses


def _host_and_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme, parts.hostname, parts.port
    except ValueError:  # a port that is not a number, or beyond 65535; brackets that do not close
        scheme, host, port = "", None, None
    if scheme not in _DEFAULT_PORTS or not host:
        raise UnsafeDestination(url, "not-http")
    return host, port or _DEFAULT_PORTS[scheme]
