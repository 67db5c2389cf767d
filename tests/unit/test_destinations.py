"""Where webhooks may go: only hosts whose every address is public, checked against a fake resolver (DNS is not
ours), and nothing resolved at all when the operator allows private addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest

from orderline.application.errors import UnsafeDestination
from orderline.events.destinations import PublicDestinations, Resolver


def resolving(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def no_such_name(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


async def never_asked(host: str, port: int) -> list[str]:
    raise AssertionError("the resolver must not be asked")


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.1",
     "240.0.0.1", "255.255.255.255", "192.0.2.10", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
     "2002:7f00:1::1", "::"],
)  # fmt: skip
async def test_a_host_resolving_to_an_address_that_is_not_public_is_refused(address: str) -> None:
    destinations = PublicDestinations(resolve=resolving("93.184.216.34", address))

    with pytest.raises(UnsafeDestination) as refused:
        await destinations.check("https://hooks.example.com/in")

    shown = str(ipaddress.ip_address(address))
    expected = {"field": "url", "url": "https://hooks.example.com/in", "reason": "not-public", "address": shown}
    assert refused.value.details == expected


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://10.0.0.7/", "http://[::1]/x"])
async def test_an_address_written_in_the_url_is_judged_without_asking_the_resolver(url: str) -> None:
    destinations = PublicDestinations(resolve=never_asked)

    with pytest.raises(UnsafeDestination):
        await destinations.check(url)


async def test_a_host_whose_every_address_is_public_is_accepted_and_its_addresses_returned() -> None:
    destinations = PublicDestinations(resolve=resolving("93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"))

    addresses = await destinations.safe_addresses("https://hooks.example.com:8443/in")

    assert addresses == [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("2606:2800:220:1::1")]


async def test_a_host_that_does_not_resolve_is_refused() -> None:
    destinations = PublicDestinations(resolve=no_such_name)

    with pytest.raises(UnsafeDestination) as refused:
        await destinations.check("https://nowhere.invalid/")

    assert refused.value.details["reason"] == "unresolvable"


async def test_a_resolver_that_does_not_answer_in_time_counts_as_no_answer() -> None:
    async def silent(host: str, port: int) -> list[str]:
        await asyncio.Event().wait()
        return []

    destinations = PublicDestinations(resolve=silent, timeout=0.01)

    with pytest.raises(UnsafeDestination) as refused:
        await destinations.check("https://slow.example.com/")

    assert refused.value.details["reason"] == "unresolvable"


@pytest.mark.parametrize("url", ["ftp://example.com/", "https:///path", "example.com", "http://example.com:99999/"])
async def test_a_url_that_is_not_http_with_a_host_is_refused(url: str) -> None:
    destinations = PublicDestinations(resolve=never_asked, allow_private=True)

    with pytest.raises(UnsafeDestination) as refused:
        await destinations.check(url)

    assert refused.value.details["reason"] == "not-http"


async def test_allowing_private_addresses_accepts_them_without_resolving_anything() -> None:
    destinations = PublicDestinations(resolve=never_asked, allow_private=True)

    await destinations.check("http://localhost:8080/hook")
    await destinations.check("http://10.0.0.7/")


async def test_allowing_private_addresses_still_resolves_at_delivery() -> None:
    destinations = PublicDestinations(resolve=resolving("127.0.0.1"), allow_private=True)

    assert await destinations.safe_addresses("http://localhost:8080/") == [ipaddress.ip_address("127.0.0.1")]
