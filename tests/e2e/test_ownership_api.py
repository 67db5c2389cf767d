"""Ownership over HTTP: customers, anonymous order tokens and keys see only their own orders; others get 404."""

from __future__ import annotations

from tests.e2e.http import Client, as_owner, assert_problem, make_pet, place


async def test_an_order_placed_with_a_customer_token_belongs_to_that_customer(
    client: Client, admin: dict[str, str], alice: dict[str, str]
) -> None:
    me = (await client.get("/v1/users/me", headers=alice)).json()

    order = await place(client, (await make_pet(client, admin))["id"], headers=alice)

    assert order["userId"] == me["id"]
    assert order["orderToken"] is None


async def test_another_customers_order_is_not_found_for_reading_or_cancelling(
    client: Client, admin: dict[str, str], alice: dict[str, str], bob: dict[str, str]
) -> None:
    order = await place(client, (await make_pet(client, admin))["id"], headers=alice)
    path = f"/v1/orders/{order['id']}"

    refused = [
        await client.get(path, headers=bob),
        await client.delete(path, headers=bob),
        await client.post(f"{path}/cancel", json={"reason": "OTHER"}, headers=bob),
    ]

    for response in refused:
        assert_problem(response, 404, "not-found")
    assert (await client.get(path, headers=alice)).json()["status"] == "PLACED"
    assert (await client.get(path, headers=admin)).status_code == 200


async def test_a_customer_lists_only_their_own_orders(
    client: Client, admin: dict[str, str], alice: dict[str, str], bob: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=5)
    mine = await place(client, pet["id"], headers=alice)
    await place(client, pet["id"], headers=bob)
    await place(client, pet["id"])

    listed = (await client.get("/v1/orders", headers=alice)).json()["data"]

    assert [order["id"] for order in listed] == [mine["id"]]


async def test_an_anonymous_orders_token_reads_and_cancels_that_order_and_nothing_else(
    client: Client, admin: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=2)
    first = await place(client, pet["id"])
    second = await place(client, pet["id"])
    token = as_owner(first)

    other = await client.get(f"/v1/orders/{second['id']}", headers=token)
    listed = (await client.get("/v1/orders", headers=token)).json()["data"]
    pets = await client.post("/v1/pets", json={"name": "X", "species": "CAT", "adoptionFee": "1.00"}, headers=token)
    cancelled = await client.delete(f"/v1/orders/{first['id']}", headers=token)

    assert_problem(other, 404, "not-found")
    assert [order["id"] for order in listed] == [first["id"]]
    assert assert_problem(pets, 403, "forbidden")["requiredScope"] == "write:pets"
    assert cancelled.status_code == 204


async def test_an_unknown_order_token_is_a_401(client: Client) -> None:
    response = await client.get("/v1/orders", headers={"Authorization": "Bearer olo_not-a-real-token"})

    assert_problem(response, 401, "unauthorized")


async def test_a_missing_scope_is_a_403_naming_it(client: Client, alice: dict[str, str]) -> None:
    pet = await client.post("/v1/pets", json={"name": "X", "species": "CAT", "adoptionFee": "1.00"}, headers=alice)
    admin_only = await client.get("/v1/admin/dashboard", headers=alice)

    assert assert_problem(pet, 403, "forbidden")["requiredScope"] == "write:pets"
    assert assert_problem(admin_only, 403, "forbidden")["requiredScope"] == "admin"


async def test_a_keys_orders_are_its_own(client: Client, admin: dict[str, str], clerk: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=2)
    by_key = await place(client, pet["id"], headers=clerk)
    anonymous = await place(client, pet["id"])

    listed = (await client.get("/v1/orders", headers=clerk)).json()["data"]
    foreign = await client.get(f"/v1/orders/{anonymous['id']}", headers=clerk)

    assert [order["id"] for order in listed] == [by_key["id"]]
    assert_problem(foreign, 404, "not-found")
