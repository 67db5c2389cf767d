"""Where a delivery may go: the receiver's name resolved at send time, and refused when it points inside.

A subscription's URL was checked when it was registered, but a name can resolve elsewhere later (DNS
rebinding): so every attempt resolves it again, refuses loopback, private, link-local and other non-public
addresses (unless ORDERLINE_WEBHOOKS_ALLOW_PRIVATE=true), and connects to the address it checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(Exception):
    """The receiver's name does not resolve, or resolves to an address deliveries may not reach."""


def public(address: IPAddress) -> bool:
    """A global unicast address: not loopback, private, link-local, shared, reserved, multicast or unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def resolve(host: str, port: int, *, allow_private: bool) -> IPAddress:
    """The address to connect to for ``host``: every address it resolves to must be allowed (a name that
    answers one public and one private address is refused), and the first is used."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise DestinationRefused(f"{host} does not resolve: {exc}") from None
        found = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not found:
        raise DestinationRefused(f"{host} resolves to no address")
    refused = [address for address in found if not public(address)]
    if refused and not allow_private:
        raise DestinationRefused(
            f"{host} resolves to {refused[0]}, which is not a public address (ORDERLINE_WEBHOOKS_ALLOW_PRIVATE)"
        )
    return found[0]
