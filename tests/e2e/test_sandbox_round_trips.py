"""What the sandbox costs in PostgreSQL round trips (ADR 0041), counted on the wire as tests/e2e/test_round_trips.py
counts them: nothing for a request of the public pool, one primary-key read for a request of a sandbox tenant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.conftest import _empty_postgres
from tests.e2e.http import Client, make_pet, place
from tests.e2e.test_round_trips import LIMITS, WARM_UP, Act, Prepare, counted_app
from tests.round_trips import CountingProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
async def sandbox(postgres_database: str) -> AsyncIterator[tuple[Client, dict[str, str], CountingProxy]]:
    """The app with the sandbox on, talking to PostgreSQL through a counting proxy, and an operator's key."""
    await asyncio.to_thread(asyncio.run, _empty_postgres(postgres_database))
    async with counted_app(postgres_database, sandbox=True) as running:
        yield running


async def get_order(http: Client, key: dict[str, str], pet_id: str) -> Act:
    order = await place(http, pet_id, headers=key)
    return lambda: http.get(f"/v1/orders/{order['id']}", headers=key)


async def list_orders(http: Client, key: dict[str, str], pet_id: str) -> Act:
    await place(http, pet_id, headers=key)
    return lambda: http.get("/v1/orders?limit=20", headers=key)


# The requests of tests/e2e/test_round_trips.py, every one made with the key (a sandbox tenant's, bound to it).
WITH_THE_KEY: dict[str, Prepare] = {
    "get": get_order,
    "list": list_orders,
    "create with a key": LIMITS["create with a key"][0],
}


async def round_trips(
    http: Client, headers: dict[str, str], proxy: CountingProxy, endpoint: str, prepare: Prepare | None = None
) -> int:
    listed, status, _limit = LIMITS[endpoint]
    prepare = prepare or listed
    pet = await make_pet(http, headers, stock=100)
    for _ in range(WARM_UP):
        assert (await (await prepare(http, headers, pet["id"]))()).status_code == status
    act = await prepare(http, headers, pet["id"])
    before = proxy.round_trips

    response = await act()

    assert response.status_code == status, response.text
    return proxy.round_trips - before


@pytest.mark.parametrize("endpoint", ["get", "list", "create with a key"])
async def test_the_sandbox_costs_the_public_pool_no_round_trip(
    sandbox: tuple[Client, dict[str, str], CountingProxy], endpoint: str
) -> None:
    http, operator, proxy = sandbox

    counted = await round_trips(http, operator, proxy, endpoint)

    assert counted <= LIMITS[endpoint][2]


@pytest.mark.parametrize("endpoint", ["get", "list", "create with a key"])
async def test_a_sandbox_tenants_request_costs_one_round_trip_more(
    sandbox: tuple[Client, dict[str, str], CountingProxy], endpoint: str
) -> None:
    http, _operator, proxy = sandbox
    made = (await http.post("/v1/sandbox/tenants")).json()

    key = {"Authorization": f"Bearer {made['apiKey']}"}

    counted = await round_trips(http, key, proxy, endpoint, WITH_THE_KEY[endpoint])

    assert counted <= LIMITS[endpoint][2] + 1
