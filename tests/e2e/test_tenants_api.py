"""X-Tenant-ID over HTTP (ADR 0040): the header scopes every native operation; the credential's own tenant wins."""

from __future__ import annotations

import uuid

import pytest

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from tests.e2e.http import Client, as_owner, assert_problem, bearer, make_pet, place

TENANT_V4 = "5b0e4c1e-9a1f-4d2b-8c3e-0000000000b4"
TENANT_V7 = "0190f5c2-7d3e-7a1b-8c2d-0000000000a7"


def in_tenant(tenant: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(headers or {}), "X-Tenant-ID": tenant}


@pytest.mark.parametrize("tenant", [TENANT_V4, TENANT_V7])
async def test_an_order_placed_with_the_header_carries_its_tenant_and_is_found_only_there(
    client: Client, admin: dict[str, str], tenant: str
) -> None:
    pet = await make_pet(client, in_tenant(tenant, admin))

    order = await place(client, pet["id"], headers=in_tenant(tenant))
    path = f"/v1/orders/{order['id']}"

    assert order["tenantId"] == tenant
    assert (await client.get(path, headers=in_tenant(tenant, admin))).json()["tenantId"] == tenant
    assert_problem(await client.get(path, headers=admin), 404, "not-found")
    assert_problem(await client.get(path, headers=in_tenant(str(uuid.uuid4()), admin)), 404, "not-found")


async def test_without_the_header_an_order_is_the_public_pools_with_a_null_tenant(
    client: Client, admin: dict[str, str]
) -> None:
    pet = await make_pet(client, admin)

    order = await place(client, pet["id"])

    assert order["tenantId"] is None
    assert (await client.get(f"/v1/orders/{order['id']}", headers=admin)).json()["tenantId"] is None
    assert_problem(await client.get(f"/v1/orders/{order['id']}", headers=in_tenant(TENANT_V4, admin)), 404, "not-found")


@pytest.mark.parametrize(
    "value",
    [
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",  # the nil UUID is the public pool's own id: omit the header
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",  # version 1
        "886313e1-3b8a-5372-9b90-0c9aee199e5d",  # version 5
    ],
)
async def test_an_x_tenant_id_that_is_not_a_v4_or_v7_uuid_is_a_400_problem_naming_the_header(
    client: Client, admin: dict[str, str], value: str
) -> None:
    responses = [
        await client.get("/v1/pets", headers=in_tenant(value)),
        await client.post("/v1/orders", json={"petId": str(uuid.uuid4())}, headers=in_tenant(value)),
        await client.get("/v1/orders", headers=in_tenant(value, admin)),
    ]

    for response in responses:
        body = assert_problem(response, 400, "invalid-tenant")
        assert "X-Tenant-ID" in body["detail"]


async def test_pets_and_inventory_are_the_tenants_own(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, in_tenant(TENANT_V4, admin), stock=3)

    elsewhere = await client.get(f"/v1/pets/{pet['id']}", headers=in_tenant(TENANT_V7))
    listed = (await client.get("/v1/pets", headers=in_tenant(TENANT_V4))).json()["data"]
    inventory = (await client.get("/v1/inventory", headers=in_tenant(TENANT_V4))).json()
    public = (await client.get("/v1/inventory")).json()

    assert_problem(elsewhere, 404, "not-found")
    assert [p["id"] for p in listed] == [pet["id"]]
    assert (inventory["total"], public["total"]) == (3, 0)


async def test_a_key_bound_to_a_tenant_acts_there_whatever_header_it_sends(
    client: Client, admin: dict[str, str], app_use_cases: UseCases
) -> None:
    _key, secret = await app_use_cases.api_keys.create("shop", frozenset({Scope.ADMIN}), tenant=uuid.UUID(TENANT_V4))
    bound = bearer(secret)

    pet = await make_pet(client, in_tenant(TENANT_V7, bound))
    order = await place(client, pet["id"], headers=in_tenant(TENANT_V4))

    assert (await client.get(f"/v1/pets/{pet['id']}", headers=in_tenant(TENANT_V4))).status_code == 200
    assert (await client.get(f"/v1/orders/{order['id']}", headers=bound)).json()["tenantId"] == TENANT_V4
    assert_problem(await client.get(f"/v1/pets/{pet['id']}", headers=in_tenant(TENANT_V7)), 404, "not-found")


async def test_a_users_token_acts_in_the_tenant_it_was_issued_in(client: Client, admin: dict[str, str]) -> None:
    registered = await client.post(
        "/v1/users",
        json={"username": "alice", "email": "alice@example.com", "password": "correct horse battery"},
        headers=in_tenant(TENANT_V4),
    )
    assert registered.status_code == 201, registered.text
    token = await client.post(
        "/v1/auth/tokens",
        json={"username": "alice", "password": "correct horse battery"},
        headers=in_tenant(TENANT_V4),
    )
    alice = bearer(token.json()["token"])
    pet = await make_pet(client, in_tenant(TENANT_V4, admin))

    order = await place(client, pet["id"], headers=in_tenant(TENANT_V7, alice))
    public_login = await client.post("/v1/auth/tokens", json={"username": "alice", "password": "correct horse battery"})

    assert order["tenantId"] == TENANT_V4
    assert order["userId"] == registered.json()["id"]
    assert_problem(public_login, 401, "unauthorized")


async def test_an_anonymous_orders_token_acts_in_its_orders_tenant(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, in_tenant(TENANT_V4, admin))
    order = await place(client, pet["id"], headers=in_tenant(TENANT_V4))

    read = await client.get(f"/v1/orders/{order['id']}", headers=as_owner(order))

    assert read.json()["tenantId"] == TENANT_V4


async def test_the_same_idempotency_key_in_two_tenants_places_two_orders(client: Client, admin: dict[str, str]) -> None:
    first_pet = await make_pet(client, in_tenant(TENANT_V4, admin))
    second_pet = await make_pet(client, in_tenant(TENANT_V7, admin))
    key = {**admin, "Idempotency-Key": "same-key"}  # one caller (the operator's unbound key) in two tenants

    first = await client.post("/v1/orders", json={"petId": first_pet["id"]}, headers=in_tenant(TENANT_V4, key))
    second = await client.post("/v1/orders", json={"petId": second_pet["id"]}, headers=in_tenant(TENANT_V7, key))

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
