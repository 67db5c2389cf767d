"""Races over HTTP: the guarantees of the use cases hold through the whole app."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.e2e.http import Client, as_owner, assert_problem, make_pet, place


async def test_twenty_concurrent_cancels_answer_one_204_and_nineteen_409s(
    client: Client, admin: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=1)
    order = await place(client, pet["id"])

    responses = await asyncio.gather(
        *(client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order)) for _ in range(20))
    )

    assert Counter(r.status_code for r in responses) == {204: 1, 409: 19}
    for refused in (r for r in responses if r.status_code == 409):
        assert assert_problem(refused, 409, "order-not-cancellable")["currentStatus"] == "CANCELLED"
    stored = (await client.get(f"/v1/pets/{pet['id']}")).json()
    assert (stored["stockAvailable"], stored["status"]) == (1, "AVAILABLE")


async def test_concurrent_orders_for_three_units_place_exactly_three(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=3)

    responses = await asyncio.gather(*(client.post("/v1/orders", json={"petId": pet["id"]}) for _ in range(12)))

    assert Counter(r.status_code for r in responses) == {201: 3, 409: 9}
    for refused in (r for r in responses if r.status_code == 409):
        assert_problem(refused, 409, "out-of-stock")
    inventory = (await client.get("/v1/inventory")).json()
    assert (inventory["available"], inventory["pending"]) == (0, 3)
    listed = (await client.get("/v1/admin/orders", headers=admin)).json()["data"]
    assert len(listed) == 3
