"""Erasure (hard delete) over HTTP: the order goes, stock and voucher come back, the address and a tombstone stay."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

import httpx
import msgspec
import pytest

from orderline.application.errors import Forbidden
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from tests.e2e.http import Client, as_owner, assert_problem, make_pet, register
from tests.e2e.lifespan import lifespan_of
from tests.support import FAST_HASHER, Db, SteppingClock

LONDON = {"line1": "1 High Street", "city": "London", "postalCode": "SW1A 1AA", "country": "GB"}


async def _placed(client: Client, admin: dict[str, str], **extra: object) -> tuple[dict[str, Any], dict[str, Any]]:
    pet = await make_pet(client, admin, stock=2)
    response = await client.post("/v1/orders", json={"petId": pet["id"], **extra})
    assert response.status_code == 201, response.text
    return pet, response.json()


async def test_erasing_removes_the_order_releases_stock_and_gives_the_voucher_back(
    client: Client, admin: dict[str, str], db: Db
) -> None:
    await client.post("/v1/admin/vouchers", json={"code": "ONCE", "percentOff": 10, "maxUses": 1}, headers=admin)
    pet, order = await _placed(client, admin, voucherCode="ONCE", billingAddress=LONDON)

    erased = await client.delete(f"/v1/admin/orders/{order['id']}", headers=admin)
    again = await client.delete(f"/v1/admin/orders/{order['id']}", headers=admin)

    assert erased.status_code == 204
    assert_problem(again, 404, "not-found")
    assert_problem(await client.get(f"/v1/orders/{order['id']}", headers=admin), 404, "not-found")
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 2
    assert (await client.get("/v1/admin/vouchers/ONCE", headers=admin)).json()["uses"] == 0
    async with db.snapshot() as uow:
        addresses = await uow.connection.fetch_all("SELECT city FROM billing_addresses")
        lines = await uow.connection.fetch_all("SELECT 1 FROM order_lines")
    assert [row["city"] for row in addresses] == ["London"]
    assert lines == []


async def test_erasure_leaves_a_tombstone_without_personal_data(client: Client, admin: dict[str, str]) -> None:
    _, order = await _placed(client, admin, billingAddress=LONDON, note="leave it with the neighbour")

    await client.delete(f"/v1/admin/orders/{order['id']}", headers=admin)

    trail = (await client.get("/v1/admin/audit-logs", params={"entityId": order["id"]}, headers=admin)).json()["data"]
    tombstone = trail[0]
    assert tombstone["action"] == "ORDER_ERASED"
    assert tombstone["changes"] == {"status": {"before": "PLACED", "after": None}}
    assert "London" not in str(trail)
    assert "neighbour" not in str(trail)


async def test_erasing_a_cancelled_order_does_not_give_stock_or_voucher_back_twice(
    client: Client, admin: dict[str, str]
) -> None:
    await client.post("/v1/admin/vouchers", json={"code": "ONCE", "percentOff": 10, "maxUses": 2}, headers=admin)
    pet, order = await _placed(client, admin, voucherCode="ONCE")
    await client.post("/v1/orders", json={"petId": pet["id"], "voucherCode": "ONCE"})
    await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))

    await client.delete(f"/v1/admin/orders/{order['id']}", headers=admin)

    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 1
    assert (await client.get("/v1/admin/vouchers/ONCE", headers=admin)).json()["uses"] == 1


async def test_only_an_admin_erases_through_the_admin_api(client: Client, admin: dict[str, str]) -> None:
    _, order = await _placed(client, admin)

    response = await client.delete(f"/v1/admin/orders/{order['id']}", headers=as_owner(order))

    assert assert_problem(response, 403, "forbidden")["requiredScope"] == "admin"


@pytest.mark.parametrize("allowed", [False, True])
async def test_a_customer_erases_their_own_order_only_when_the_shop_allows_it(
    client: Client, admin: dict[str, str], settings: Settings, clock: SteppingClock, allowed: bool
) -> None:
    from orderline.application.principal import Principal, PrincipalKind

    _, order = await _placed(client, admin)
    shop = await build(msgspec.structs.replace(settings, customer_erasure=allowed), clock=clock, hasher=FAST_HASHER)
    try:
        owner = await shop.authenticator.authenticate(as_owner(order)["Authorization"].split()[1])
        stranger = Principal(PrincipalKind.USER, UUID(int=9), owner.scopes)

        if allowed:
            await shop.orders.erase(owner, UUID(str(order["id"])))
            assert_problem(await client.get(f"/v1/orders/{order['id']}", headers=admin), 404, "not-found")
        else:
            with pytest.raises(Forbidden):
                await shop.orders.erase(owner, UUID(str(order["id"])))
        with pytest.raises(Exception, match="not found"):
            await shop.orders.erase(stranger, UUID(str(order["id"])))
    finally:
        await shop.close()


async def test_shipped_orders_keep_their_sold_stock_when_erased(
    client: Client, admin: dict[str, str], app_use_cases: UseCases
) -> None:
    from tests.e2e.test_admin_api import _approve

    pet, order = await _placed(client, admin)
    await _approve(app_use_cases, str(order["id"]))
    await client.post(f"/v1/admin/orders/{order['id']}/ship", headers=admin)

    await client.delete(f"/v1/admin/orders/{order['id']}", headers=admin)

    stored = (await client.get(f"/v1/pets/{pet['id']}")).json()
    assert (stored["stock"], stored["stockAvailable"]) == (2, 1)


@pytest.mark.parametrize("allowed", [False, True])
async def test_a_customer_erases_their_own_order_over_http_only_when_the_shop_allows_it(
    settings: Settings, allowed: bool
) -> None:
    shop = msgspec.structs.replace(settings, customer_erasure=allowed)
    app = create_app(shop, lambda: build(shop, hasher=FAST_HASHER))
    async with lifespan_of(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app)),
                                                   base_url="http://orderline.test") as client:  # fmt: skip
        alice = await register(client, "alice")
        use_cases: UseCases = app.state.use_cases
        _key, secret = await use_cases.api_keys.create("admin", frozenset({Scope.ADMIN}))
        pet = await make_pet(client, {"Authorization": f"Bearer {secret}"})
        order = (await client.post("/v1/orders", json={"petId": pet["id"]}, headers=alice)).json()

        response = await client.post(f"/v1/orders/{order['id']}/erase", headers=alice)

        if allowed:
            assert response.status_code == 204
            assert_problem(await client.get(f"/v1/orders/{order['id']}", headers=alice), 404, "not-found")
            assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 1
        else:
            assert assert_problem(response, 403, "forbidden")["requiredScope"] == "admin"
            assert (await client.get(f"/v1/orders/{order['id']}", headers=alice)).status_code == 200
