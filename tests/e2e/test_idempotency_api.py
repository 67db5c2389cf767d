"""Idempotency-Key over HTTP: a retried create or cancel acts once; a reused key or one in flight is refused."""

from __future__ import annotations

import asyncio
from typing import Any

from orderline.application.use_cases import UseCases
from tests.e2e.http import Client, as_owner, assert_problem, make_pet


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def test_a_retried_order_is_placed_once_and_the_answer_replayed(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=5)
    body = {"petId": pet["id"]}

    first = await client.post("/v1/orders", json=body, headers=_key("order-1"))
    retry = await client.post("/v1/orders", json=body, headers=_key("order-1"))

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 4


async def test_the_same_key_for_a_different_request_is_a_422(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=5)
    await client.post("/v1/orders", json={"petId": pet["id"]}, headers=_key("order-1"))

    reused = await client.post("/v1/orders", json={"petId": pet["id"], "quantity": 2}, headers=_key("order-1"))

    assert_problem(reused, 422, "idempotency-key-reused")
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 4


async def test_keys_belong_to_their_caller(client: Client, admin: dict[str, str], alice: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=5)

    hers = await client.post("/v1/orders", json={"petId": pet["id"]}, headers=alice | _key("k"))
    anonymous = await client.post("/v1/orders", json={"petId": pet["id"]}, headers=_key("k"))

    assert (hers.status_code, anonymous.status_code) == (201, 201)
    assert hers.json()["id"] != anonymous.json()["id"]


async def test_a_retried_cancel_cancels_once_and_replays_its_answer(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin)
    order = (await client.post("/v1/orders", json={"petId": pet["id"]})).json()
    owner = as_owner(order)
    path = f"/v1/orders/{order['id']}/cancel"

    first = await client.post(path, json={"reason": "DUPLICATE"}, headers=owner | _key("cancel-1"))
    retry = await client.post(path, json={"reason": "DUPLICATE"}, headers=owner | _key("cancel-1"))
    deleted = await client.delete(f"/v1/orders/{order['id']}", headers=owner | _key("delete-1"))

    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert_problem(deleted, 409, "order-not-cancellable")
    trail = (await client.get("/v1/admin/audit-logs", params={"entityId": order["id"]}, headers=admin)).json()
    assert [entry["action"] for entry in trail["data"]] == ["ORDER_CANCELLED", "ORDER_CREATED"]


async def test_a_retried_delete_replays_its_204(client: Client, admin: dict[str, str]) -> None:
    order = (await client.post("/v1/orders", json={"petId": (await make_pet(client, admin))["id"]})).json()
    path, headers = f"/v1/orders/{order['id']}", as_owner(order) | _key("delete-1")

    first = await client.delete(path, headers=headers)
    retry = await client.delete(path, headers=headers)

    assert (first.status_code, retry.status_code) == (204, 204)
    assert retry.content == b""
    assert retry.headers["idempotent-replayed"] == "true"


async def test_a_refused_request_frees_its_key(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=1)
    await client.post("/v1/orders", json={"petId": pet["id"]})

    refused = await client.post("/v1/orders", json={"petId": pet["id"]}, headers=_key("try"))
    again = await client.post("/v1/orders", json={"petId": pet["id"]}, headers=_key("try"))

    assert_problem(refused, 409, "out-of-stock")
    assert_problem(again, 409, "out-of-stock")
    assert "idempotent-replayed" not in again.headers


async def test_a_request_while_its_key_is_in_flight_is_a_409(
    client: Client, admin: dict[str, str], app_use_cases: UseCases, monkeypatch: Any
) -> None:
    pet = await make_pet(client, admin, stock=5)
    release = asyncio.Event()
    place = app_use_cases.orders.place

    async def slow_place(*args: Any, **kwargs: Any) -> Any:
        await release.wait()
        return await place(*args, **kwargs)

    monkeypatch.setattr(app_use_cases.orders, "place", slow_place)
    first = asyncio.create_task(client.post("/v1/orders", json={"petId": pet["id"]}, headers=_key("slow")))
    await asyncio.sleep(0.2)

    busy = await client.post("/v1/orders", json={"petId": pet["id"]}, headers=_key("slow"))
    release.set()
    done = await first

    assert_problem(busy, 409, "idempotency-key-in-use")
    assert done.status_code == 201
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 4


async def test_twenty_concurrent_retries_place_one_order(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=50)

    responses = await asyncio.gather(
        *(client.post("/v1/orders", json={"petId": pet["id"]}, headers=_key("burst")) for _ in range(20))
    )

    placed = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(placed) == 1
    assert {r.status_code for r in responses} <= {201, 409}
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 49


async def test_an_unprintable_or_overlong_key_is_a_422(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin)

    response = await client.post("/v1/orders", json={"petId": pet["id"]}, headers=_key("x" * 300))

    assert assert_problem(response, 422, "validation-error")["errors"][0]["field"] == "Idempotency-Key"
