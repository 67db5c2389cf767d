"""An order read with the credential (ADR 0049): who may see it is decided after, by the rules of every other read.

``GET /v1/orders/{id}`` and the DRF dialect's detail read the order in the statement that reads the credential (an
API key's row, a user's standing), before anyone knows whose the order is. Each rule of seeing an order is checked
here through that read: the caller's tenant, a customer's own orders, a key's own orders, a suspended user and a
revoked key, and the answer is the order as a list shows it.
"""

from __future__ import annotations

import uuid
from typing import Any

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from tests.e2e.http import Client, assert_problem, bearer, make_pet, place, register

TENANT = "0190f5c2-7d3e-7a1b-8c2d-0000000000c3"


def in_tenant(tenant: str, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "X-Tenant-ID": tenant}


async def test_the_order_read_ahead_is_the_order_as_the_list_shows_it(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=10)
    order = await place(client, pet["id"], quantity=2, headers=admin)

    read = await client.get(f"/v1/orders/{order['id']}", headers=admin)
    listed = (await client.get("/v1/orders?limit=1", headers=admin)).json()["data"]

    assert read.status_code == 200, read.text
    assert read.json() == listed[0] == {key: value for key, value in order.items() if key in read.json()}
    assert read.headers["ETag"] == f'"{order["id"]}.{order["version"]}"'


async def test_an_unknown_order_is_a_404_for_a_key_and_for_a_customer(
    client: Client, admin: dict[str, str], alice: dict[str, str]
) -> None:
    path = f"/v1/orders/{uuid.uuid4()}"

    assert_problem(await client.get(path, headers=admin), 404, "not-found")
    assert_problem(await client.get(path, headers=alice), 404, "not-found")


async def test_a_customer_reads_their_own_order_and_not_anothers(
    client: Client, admin: dict[str, str], alice: dict[str, str], bob: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=10)
    alices = await place(client, pet["id"], headers=alice)

    assert (await client.get(f"/v1/orders/{alices['id']}", headers=alice)).status_code == 200
    assert_problem(await client.get(f"/v1/orders/{alices['id']}", headers=bob), 404, "not-found")
    # The shop's staff see every order: an admin key, read ahead like the customers.
    assert (await client.get(f"/v1/orders/{alices['id']}", headers=admin)).status_code == 200


async def test_a_key_that_is_not_the_shops_reads_the_orders_it_placed_and_no_others(
    client: Client, admin: dict[str, str], clerk: dict[str, str], app_use_cases: UseCases
) -> None:
    pet = await make_pet(client, admin, stock=10)
    _other, secret = await app_use_cases.api_keys.create(
        "other clerk", frozenset({Scope.READ_ORDERS, Scope.WRITE_ORDERS})
    )
    clerks = await place(client, pet["id"], headers=clerk)
    admins = await place(client, pet["id"], headers=admin)

    assert (await client.get(f"/v1/orders/{clerks['id']}", headers=clerk)).status_code == 200
    assert_problem(await client.get(f"/v1/orders/{admins['id']}", headers=clerk), 404, "not-found")
    assert_problem(await client.get(f"/v1/orders/{clerks['id']}", headers=bearer(secret)), 404, "not-found")


async def test_an_unbound_key_reads_in_the_tenant_it_names_and_a_bound_key_in_its_own(
    client: Client, admin: dict[str, str], app_use_cases: UseCases
) -> None:
    pet = await make_pet(client, in_tenant(TENANT, admin), stock=10)
    tenants = await place(client, pet["id"], headers=in_tenant(TENANT, admin))
    public = await place(client, (await make_pet(client, admin, stock=10))["id"], headers=admin)
    _key, secret = await app_use_cases.api_keys.create("tenant's", frozenset({Scope.ADMIN}), tenant=uuid.UUID(TENANT))
    bound = bearer(secret)

    assert (await client.get(f"/v1/orders/{tenants['id']}", headers=in_tenant(TENANT, admin))).status_code == 200
    assert_problem(await client.get(f"/v1/orders/{tenants['id']}", headers=admin), 404, "not-found")
    assert_problem(await client.get(f"/v1/orders/{public['id']}", headers=in_tenant(TENANT, admin)), 404, "not-found")
    assert (await client.get(f"/v1/orders/{tenants['id']}", headers=bound)).json()["tenantId"] == TENANT
    # A bound key acts in its own tenant, whatever the header names.
    other = str(uuid.uuid4())
    assert (await client.get(f"/v1/orders/{tenants['id']}", headers=in_tenant(other, bound))).status_code == 200
    assert_problem(await client.get(f"/v1/orders/{public['id']}", headers=bound), 404, "not-found")


async def test_a_suspended_customer_and_a_revoked_key_read_nothing(
    client: Client, admin: dict[str, str], alice: dict[str, str], app_use_cases: UseCases
) -> None:
    pet = await make_pet(client, admin, stock=10)
    alices = await place(client, pet["id"], headers=alice)
    key, secret = await app_use_cases.api_keys.create("soon revoked", frozenset({Scope.ADMIN}))
    me = (await client.get("/v1/users/me", headers=alice)).json()
    path = f"/v1/orders/{alices['id']}"
    assert (await client.get(path, headers=bearer(secret))).status_code == 200

    await client.patch(
        f"/v1/admin/users/{me['id']}/status", json={"status": "SUSPENDED", "reason": "fraud"}, headers=admin
    )
    await app_use_cases.api_keys.revoke(key.id)

    for refused in (await client.get(path, headers=alice), await client.get(path, headers=bearer(secret))):
        body = assert_problem(refused, 401, "unauthorized")
        assert "totalAmount" not in body
        assert "items" not in body


async def test_the_drf_detail_reads_the_order_and_its_customer_ahead_for_its_owner_only(
    client: Client, admin: dict[str, str]
) -> None:
    carol, dave = await register(client, "carol"), await register(client, "dave")
    pet = await make_pet(client, admin, stock=10)
    carols = await place(client, pet["id"], headers=carol)
    path = f"/api/v1/i/orders/{carols['id']}/"

    read = await client.get(path, headers=carol)
    refused = await client.get(path, headers=dave)

    assert read.status_code == 200, read.text
    shown: dict[str, Any] = read.json()
    assert shown["id"] == carols["id"]
    assert shown["customer"]["email"] == "carol@example.com"
    assert [item["quantity"] for item in shown["items"]] == [1]
    assert refused.status_code == 404, refused.text
    assert "total_amount" not in refused.json()


async def _listed(client: Client, headers: dict[str, str], query: str) -> dict[str, Any]:
    response = await client.get(f"/v1/orders?{query}", headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_a_customers_page_read_ahead_is_the_page_read_the_long_way(
    client: Client, admin: dict[str, str], alice: dict[str, str], bob: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=20)
    alices = [await place(client, pet["id"], headers=alice) for _ in range(5)]
    await place(client, pet["id"], headers=bob)
    cancelled = await client.delete(f"/v1/orders/{alices[1]['id']}", headers=alice)
    assert cancelled.status_code == 204, cancelled.text
    # A time bound is no plain query: that list is read after authentication, as before ADR 0049.
    long_way = "createdAfter=2000-01-01T00:00:00Z"

    first = await _listed(client, alice, "limit=2")
    second = await _listed(client, alice, f"limit=2&cursor={first['nextCursor']}")
    everything = await _listed(client, alice, "limit=20")
    placed = await _listed(client, alice, "status=PLACED")

    assert [order["id"] for order in everything["data"]] == [order["id"] for order in reversed(alices)]
    assert everything == await _listed(client, alice, f"limit=20&{long_way}")
    assert first["data"] + second["data"] == everything["data"][:4]
    assert second == await _listed(client, alice, f"limit=2&cursor={first['nextCursor']}&{long_way}")
    assert [order["id"] for order in placed["data"]] == [o["id"] for o in reversed(alices) if o is not alices[1]]
    assert placed == await _listed(client, alice, f"status=PLACED&{long_way}")


async def test_a_page_read_ahead_refuses_what_the_list_refuses(
    client: Client, admin: dict[str, str], alice: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=10)
    await place(client, pet["id"], headers=alice)
    me = (await client.get("/v1/users/me", headers=alice)).json()

    foreign_cursor = await client.get("/v1/orders?cursor=bm90LW91cnM", headers=alice)
    await client.patch(
        f"/v1/admin/users/{me['id']}/status", json={"status": "SUSPENDED", "reason": "fraud"}, headers=admin
    )
    suspended = await client.get("/v1/orders?limit=20", headers=alice)

    assert_problem(foreign_cursor, 422, "validation-error")
    body = assert_problem(suspended, 401, "unauthorized")
    assert "data" not in body
