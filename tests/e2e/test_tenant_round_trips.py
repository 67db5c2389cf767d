"""A tenant's placement takes its number in the order's own INSERT (ADR 0040): no PostgreSQL round trip more than
a placement in the public pool (tests/e2e/test_round_trips.py's limits)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.conftest import _empty_postgres
from tests.e2e.http import Client, make_pet
from tests.e2e.test_round_trips import LIMITS, WARM_UP, _Counting, counted_app
from tests.round_trips import CountingProxy

IN_TENANT = {"X-Tenant-ID": "0190f5c2-7d3e-7a1b-8c2d-0000000000a7"}


@pytest.fixture
async def counted(postgres_database: str) -> AsyncIterator[tuple[Client, dict[str, str], CountingProxy]]:
    await asyncio.to_thread(asyncio.run, _empty_postgres(postgres_database))
    async with counted_app(postgres_database) as running:
        yield running


@pytest.mark.postgres
async def test_placing_an_order_in_a_tenant_takes_no_more_round_trips_than_in_the_public_pool(
    counted: tuple[Client, dict[str, str], CountingProxy],
) -> None:
    http, admin, proxy = counted
    _prepare, _status, limit = LIMITS["create"]
    pet = await make_pet(http, {**admin, **IN_TENANT}, stock=100)
    for _ in range(WARM_UP):
        assert (await http.post("/v1/orders", json={"petId": pet["id"]}, headers=IN_TENANT)).status_code == 201
    counting = _Counting(proxy)

    response = await http.post("/v1/orders", json={"petId": pet["id"]}, headers=IN_TENANT)

    assert (response.status_code, response.json()["number"]) == (201, "1004")
    assert counting.round_trips() <= limit, "\n".join(counting.statements())
