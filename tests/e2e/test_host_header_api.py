"""A Host header no URL can be read from is a 400 in the body of the path's owner, on every path, and changes nothing.

Found by the dialects' fuzz (tests/e2e/test_dialect_fuzz.py): a Host whose port is not a number from 0 to 65535
("a:b", "localhost:99999", "a@b:c") passed Litestar's check of its characters, and then every reading of the
request's URL raised — rendering any refusal (an unknown path, a 401) and the DRF dialect's links — so the answer
was a 500 with an empty body, logged nowhere. A Host of characters Litestar refuses ("\\x00") was Litestar's 400
in problem+json, under a dialect's mount too.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.http import Client, assert_problem, bearer, make_pet, place, register

HOSTS = [b"a:b", b"localhost:99999", b"a@b:c", b"orderline.test:-1", b"\x00", b"bad host"]
HOST_IDS = ["port-not-a-number", "port-beyond-65535", "user-info", "negative-port", "nul", "space"]
PASSWORD = "correct horse battery"


def _with_host(host: bytes, headers: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
    return [(b"host", host), *((name.encode(), value.encode()) for name, value in (headers or {}).items())]


async def _drf_customer(client: Client) -> dict[str, str]:
    await register(client, "alice", PASSWORD)
    pair = await client.post("/api/v1/auth/token/", json={"username": "alice", "password": PASSWORD})
    return bearer(pair.json()["access"])


@pytest.mark.parametrize("host", HOSTS, ids=HOST_IDS)
@pytest.mark.parametrize("path", ["/v1/orders", "/v1/no-such-route"])
async def test_the_native_api_answers_an_unreadable_host_with_a_400_problem(
    client: Client, host: bytes, path: str
) -> None:
    response = await client.get(path, headers=_with_host(host))

    assert assert_problem(response, 400, "bad-request")["detail"] == "the Host header is not a host and a port"


DIALECT_ERRORS: dict[str, Any] = {
    "/openapi/2022-01/orders": {"errors": ["the Host header is not a host and a port"]},
    "/openapi/2022-01/no-such-route": {"errors": ["the Host header is not a host and a port"]},
    "/sfox/v1/orders": {"error": "the Host header is not a host and a port"},
    "/sfox/v1/no-such-route": {"error": "the Host header is not a host and a port"},
    "/api/v1/i/orders/": {"detail": "The Host header is not a host and a port."},
    "/api/v1/no-such-route/": {"detail": "The Host header is not a host and a port."},
}


@pytest.mark.parametrize("host", HOSTS, ids=HOST_IDS)
@pytest.mark.parametrize("path", list(DIALECT_ERRORS))
async def test_a_dialect_answers_an_unreadable_host_with_a_400_in_its_own_body(
    client: Client, admin: dict[str, str], host: bytes, path: str
) -> None:
    credential = await _drf_customer(client) if path.startswith("/api/") else admin  # the DRF list's fast route

    response = await client.get(path, headers=_with_host(host, credential))

    assert (response.status_code, response.headers["content-type"]) == (400, "application/json")
    assert response.json() == DIALECT_ERRORS[path]


@pytest.mark.parametrize("host", HOSTS, ids=HOST_IDS)
async def test_a_request_with_an_unreadable_host_changes_nothing(
    client: Client, admin: dict[str, str], host: bytes
) -> None:
    alice = await _drf_customer(client)
    order = await place(client, (await make_pet(client, admin))["id"], headers=alice)

    response = await client.delete(f"/api/v1/i/orders/{order['id']}/", headers=_with_host(host, alice))

    assert response.status_code == 400
    assert (await client.get(f"/v1/orders/{order['id']}", headers=alice)).json()["status"] == "PLACED"
