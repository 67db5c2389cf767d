"""Tenants through the dialects (ADR 0040): a dialect's tenant is its credential's; no dialect reads X-Tenant-ID.

A key bound to tenant A, or a user of tenant A, acting through Shoplazza, sFOX or DRF on tenant B's order gets
that dialect's own not-found answer, and the order stays as it was.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.http.dialects.sfox.errors import NOT_IN_ACCOUNT
from orderline.http.dialects.shoplazza.errors import NOT_FOUND as SHOPLAZZA_NOT_FOUND
from tests.e2e.http import Client, bearer, make_pet, place
from tests.integration.test_tenants import TENANT_A, TENANT_B, admin_of

PASSWORD = "correct horse battery"


async def _bound_key(use_cases: UseCases, tenant: uuid.UUID) -> str:
    _key, secret = await use_cases.api_keys.create(f"shop {tenant}", frozenset({Scope.ADMIN}), tenant=tenant)
    return secret


class Orders:
    """Tenant B's order, placed through the native API, and a bound admin key of tenant A."""

    def __init__(self, use_cases: UseCases, order: dict[str, Any], a_key: str, b_key: str) -> None:
        self.use_cases, self.order, self.a_key, self.b_key = use_cases, order, a_key, b_key

    @property
    def id(self) -> str:
        return str(self.order["id"])

    async def seq(self) -> int:
        return (await self.use_cases.orders.get(admin_of(TENANT_B), uuid.UUID(self.id))).seq

    async def status_in_b(self) -> str:
        return (await self.use_cases.orders.get(admin_of(TENANT_B), uuid.UUID(self.id))).status.value


@pytest.fixture
async def b_order(client: Client, app_use_cases: UseCases) -> Orders:
    b_key = await _bound_key(app_use_cases, TENANT_B)
    pet = await make_pet(client, bearer(b_key), stock=3)
    order = await place(client, pet["id"], headers=bearer(b_key))
    return Orders(app_use_cases, order, await _bound_key(app_use_cases, TENANT_A), b_key)


def _naming_b(headers: dict[str, str]) -> dict[str, str]:
    """A's credential naming B's tenant in the native header: a dialect reads no such header."""
    return {**headers, "X-Tenant-ID": str(TENANT_B)}


async def test_through_every_dialect_the_key_of_the_orders_own_tenant_finds_it(client: Client, b_order: Orders) -> None:
    reads = [
        await client.get(f"/openapi/2022-01/orders/{b_order.id}", headers={"Access-Token": b_order.b_key}),
        await client.get(f"/sfox/v1/orders/{await b_order.seq()}", headers=bearer(b_order.b_key)),
        await client.get(f"/api/v1/i/orders/{b_order.id}/", headers=bearer(b_order.b_key)),
    ]

    assert [answer.status_code for answer in reads] == [200, 200, 200]


@pytest.mark.parametrize("name_b", [False, True])
async def test_through_shoplazza_a_key_of_another_tenant_finds_no_order_to_read_or_cancel(
    client: Client, b_order: Orders, name_b: bool
) -> None:
    headers = {"Access-Token": b_order.a_key}
    headers = _naming_b(headers) if name_b else headers
    path = f"/openapi/2022-01/orders/{b_order.id}"

    read = await client.get(path, headers=headers)
    cancelled = await client.post(f"{path}/cancel", headers=headers)
    listed = await client.get("/openapi/2022-01/orders", headers=headers)

    for answer in (read, cancelled):
        assert (answer.status_code, answer.json()) == (404, {"errors": [SHOPLAZZA_NOT_FOUND]})
    assert listed.json()["count"] == 0
    assert await b_order.status_in_b() == "PLACED"


@pytest.mark.parametrize("name_b", [False, True])
async def test_through_sfox_a_key_of_another_tenant_finds_no_order_to_read_or_cancel(
    client: Client, b_order: Orders, name_b: bool
) -> None:
    headers = bearer(b_order.a_key)
    headers = _naming_b(headers) if name_b else headers
    path = f"/sfox/v1/orders/{await b_order.seq()}"

    read = await client.get(path, headers=headers)
    cancelled = await client.delete(path, headers=headers)
    in_bulk = await client.delete("/sfox/v1/orders", params={"ids": str(await b_order.seq())}, headers=headers)

    for answer in (read, cancelled):
        assert (answer.status_code, answer.json()) == (400, {"error": NOT_IN_ACCOUNT})
    assert in_bulk.status_code == 400
    assert await b_order.status_in_b() == "PLACED"


async def _drf_user_of_a(client: Client) -> dict[str, str]:
    """A customer of tenant A, signed in there through the native API: its token carries tenant A."""
    in_a = {"X-Tenant-ID": str(TENANT_A)}
    user = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    assert (await client.post("/v1/users", json=user, headers=in_a)).status_code == 201
    token = await client.post("/v1/auth/tokens", json={"username": "alice", "password": PASSWORD}, headers=in_a)
    return bearer(token.json()["token"])


@pytest.mark.parametrize("credential", ["bound key", "user of A"])
async def test_through_drf_a_credential_of_another_tenant_finds_no_order_to_read_or_delete(
    client: Client, b_order: Orders, credential: str
) -> None:
    headers = bearer(b_order.a_key) if credential == "bound key" else await _drf_user_of_a(client)
    path = f"/api/v1/i/orders/{b_order.id}/"

    read = await client.get(path, headers=_naming_b(headers))
    deleted = await client.delete(path, headers=_naming_b(headers))

    for answer in (read, deleted):
        assert (answer.status_code, answer.json()) == (404, {"detail": "No Order matches the given query."})
    assert await b_order.status_in_b() == "PLACED"


async def test_an_unbound_key_on_a_dialect_acts_in_the_public_pool_whatever_header_it_sends(
    client: Client, b_order: Orders, admin: dict[str, str]
) -> None:
    answer = await client.get(f"/openapi/2022-01/orders/{b_order.id}", headers=_naming_b({
        "Access-Token": admin["Authorization"].removeprefix("Bearer ")}))  # fmt: skip

    assert answer.status_code == 404
