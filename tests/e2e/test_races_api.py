"""Races over HTTP: the guarantees of the use cases hold through the whole app."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import Any
from uuid import UUID

import pytest
from httpx import Response

from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.config import Settings
from orderline.gateways.testmode import SUCCEEDS
from tests.e2e.http import Client, as_owner, assert_problem, bearer, make_pet, place, register
from tests.support import TEST_GATEWAY_SECRET, engine_settings

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The DRF dialect served beside the native API, so its DELETE can race the native cancel."""
    return engine_settings(database_url, refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET, dialects="drf")


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


# Two writers of one order at once through the whole app (ADR 0050's write-skew review): every answer is one the
# route documents (never a 500), and stock, voucher uses and the audit trail come out as one after the other would.
# The second request is started a few event-loop turns after the first, more every round, and the two swapped.

ROUNDS = 10


async def both(round_: int, one: Awaitable[Response], other: Awaitable[Response]) -> tuple[Response, Response]:
    async def later(request: Awaitable[Response]) -> Response:
        for _ in range(4 ** (round_ // 4) - 1):
            await asyncio.sleep(0)
        return await request

    held_back = (one, later(other)) if round_ % 2 == 0 else (later(one), other)
    a, b = await asyncio.gather(*held_back)
    return a, b


async def counters(use_cases: UseCases, pet: dict[str, Any]) -> tuple[int, int, int]:
    """The pet's (reserved, sold, free), read from the app's own use cases."""
    stock = (await use_cases.catalogue.get_pet(PUBLIC, UUID(pet["id"]))).stock
    return stock.reserved, stock.sold, stock.free


async def trail(client: Client, admin: dict[str, str], order: dict[str, Any]) -> list[str]:
    response = await client.get("/v1/admin/audit-logs", params={"entityId": order["id"]}, headers=admin)
    assert response.status_code == 200, response.text
    return [entry["action"] for entry in response.json()["data"]]


async def drf_bearer(client: Client, username: str) -> dict[str, str]:
    """The DRF dialect's access token of a customer registered through the native API."""
    response = await client.post("/api/v1/auth/token/", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return bearer(response.json()["access"])


@pytest.mark.parametrize("route", ["admin", "drf"])
async def test_an_erase_and_a_cancel_at_once_answer_what_their_routes_document_and_give_back_once(
    client: Client, admin: dict[str, str], app_use_cases: UseCases, route: str
) -> None:
    """The admin's erase, or the DRF dialect's DELETE (its customer's own), against the customer's cancel."""
    alice = await register(client, "alice", PASSWORD)
    erasing_as = admin if route == "admin" else await drf_bearer(client, "alice")
    pet = await make_pet(client, admin, stock=ROUNDS + 1)
    await client.post("/v1/admin/vouchers", json={"code": "RACE", "percentOff": 10}, headers=admin)
    await client.post("/v1/orders", json={"petId": pet["id"], "voucherCode": "RACE"})  # held throughout

    for i in range(ROUNDS):
        placed = await client.post("/v1/orders", json={"petId": pet["id"], "voucherCode": "RACE"}, headers=alice)
        order = placed.json()
        erase_url = f"/v1/admin/orders/{order['id']}" if route == "admin" else f"/api/v1/i/orders/{order['id']}/"

        erased, cancelled = await both(
            i, client.delete(erase_url, headers=erasing_as), client.delete(f"/v1/orders/{order['id']}", headers=alice)
        )

        assert erased.status_code == 204, erased.text
        assert cancelled.status_code in {204, 404}, cancelled.text
        assert (await client.get(f"/v1/orders/{order['id']}", headers=admin)).status_code == 404
        assert await counters(app_use_cases, pet) == (1, 0, ROUNDS)
        assert (await client.get("/v1/admin/vouchers/RACE", headers=admin)).json()["uses"] == 1
        actions = await trail(client, admin, order)
        assert actions.count("ORDER_ERASED") == 1, actions
        assert actions.count("ORDER_CANCELLED") == (cancelled.status_code == 204), actions


async def test_a_cancel_and_an_item_removal_at_once_release_every_unit_once(
    client: Client, admin: dict[str, str], app_use_cases: UseCases
) -> None:
    cat = await make_pet(client, admin, name="Whiskers", adoptionFee="10.00", stock=3 * ROUNDS + 1)
    fish = await make_pet(client, admin, name="Nemo", species="FISH", adoptionFee="5.00", stock=ROUNDS + 1)
    await client.post("/v1/orders", json={"items": [{"petId": cat["id"]}, {"petId": fish["id"]}]})  # held throughout
    items = [{"petId": cat["id"], "quantity": 3}, {"petId": fish["id"], "quantity": 1}]

    for i in range(ROUNDS):
        order = (await client.post("/v1/orders", json={"items": items})).json()
        url = f"/v1/orders/{order['id']}"

        removed, cancelled = await both(
            i, client.delete(f"{url}/items/1", headers=as_owner(order)), client.delete(url, headers=as_owner(order))
        )

        assert cancelled.status_code == 204, cancelled.text
        assert removed.status_code in {200, 409}, removed.text
        if removed.status_code == 409:
            assert_problem(removed, 409, "order-not-editable")
        after = (await client.get(url, headers=admin)).json()
        assert after["status"] == "CANCELLED"
        assert [item["id"] for item in after["items"]] == ([2] if removed.status_code == 200 else [1, 2])
        assert await counters(app_use_cases, cat) == (1, 0, 3 * ROUNDS)
        assert await counters(app_use_cases, fish) == (1, 0, ROUNDS)
        actions = await trail(client, admin, order)
        assert actions.count("ORDER_CANCELLED") == 1, actions
        assert actions.count("ORDER_LINE_REMOVED") == (removed.status_code == 200), actions


async def test_two_payments_of_one_order_at_once_capture_once_and_the_other_is_refused(
    client: Client, admin: dict[str, str], app_use_cases: UseCases
) -> None:
    pet = await make_pet(client, admin, stock=ROUNDS)
    card = {"object": "card", "number": SUCCEEDS, "cvc": "123", "expMonth": 12, "expYear": 2099}

    for i in range(ROUNDS):
        order = (await client.post("/v1/orders", json={"petId": pet["id"]})).json()
        url, body = (
            f"/v1/orders/{order['id']}/payment",
            {"amount": order["totalAmount"], "currency": "USD", "source": card},
        )

        responses = await both(
            i,
            client.post(url, json=body, headers=as_owner(order)),
            client.post(url, json=body, headers=as_owner(order)),
        )

        [won] = [r for r in responses if r.status_code == 200]
        [refused] = [r for r in responses if r.status_code != 200]
        assert refused.json()["code"] in {"payment-in-progress", "order-not-payable"}, refused.text
        assert_problem(refused, 409, refused.json()["code"])
        listed = (await client.get(f"{url}s", headers=as_owner(order))).json()["data"]
        assert [(p["id"], p["status"], p["refunds"]) for p in listed] == [(won.json()["id"], "SUCCEEDED", [])]
        after = (await client.get(f"/v1/orders/{order['id']}", headers=as_owner(order))).json()
        assert (after["status"], after["paymentStatus"]) == ("APPROVED", "PAID")
        assert (await trail(client, admin, order)).count("PAYMENT_SUCCEEDED") == 1
        assert await counters(app_use_cases, pet) == (i + 1, 0, ROUNDS - i - 1)
