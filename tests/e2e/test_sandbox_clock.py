"""A sandbox tenant's clock over HTTP (ADR 0041): what it moves, for that tenant only, without anyone sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from orderline.config import Settings
from tests.e2e.http import make_pet, place, register
from tests.e2e.test_sandbox_tenants import a_tenant

DAY = 86400
CARD = {"object": "card", "name": "Ada Lovelace", "cvc": "123", "expMonth": 12, "expYear": 2099}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, sandbox=True)


async def advance(client: httpx.AsyncClient, tenant: str, key: dict[str, str], seconds: int) -> dict[str, Any]:
    answer = await client.post(f"/v1/sandbox/tenants/{tenant}/clock", json={"advanceSeconds": seconds}, headers=key)
    assert answer.status_code == 200, answer.text
    moved: dict[str, Any] = answer.json()
    return moved


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_advancing_answers_the_tenants_new_now_which_its_orders_carry(client: httpx.AsyncClient) -> None:
    tenant, key, _made = await a_tenant(client)
    pet = await make_pet(client, key, stock=2)
    before = await place(client, pet["id"], headers=key)

    moved = await advance(client, tenant, key, DAY)
    after = await place(client, pet["id"], headers=key)

    assert moved["offsetSeconds"] == DAY
    assert timedelta(days=1) <= moment(moved["now"]) - moment(before["createdAt"]) < timedelta(days=1, seconds=5)
    assert moment(moved["now"]) <= moment(after["createdAt"]) < moment(moved["now"]) + timedelta(seconds=5)


async def test_another_tenant_and_the_public_pool_keep_real_time(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    tenant, key, _made = await a_tenant(client)
    other, other_key, _ = await a_tenant(client)
    await advance(client, tenant, key, DAY)

    public = await place(client, (await make_pet(client, admin))["id"])
    theirs = await place(client, (await make_pet(client, other_key))["id"], headers=other_key)
    mine = await advance(client, tenant, key, 1)

    assert moment(public["createdAt"]) < moment(mine["now"]) - timedelta(hours=23)
    assert moment(theirs["createdAt"]) < moment(mine["now"]) - timedelta(hours=23)
    assert other != tenant


async def test_a_voucher_expires_when_the_tenants_clock_passes_its_expiry(client: httpx.AsyncClient) -> None:
    tenant, key, _made = await a_tenant(client)
    now = moment((await advance(client, tenant, key, 1))["now"])
    expires = (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    created = await client.post(
        "/v1/admin/vouchers", json={"code": "HOUR", "percentOff": 10, "expiresAt": expires}, headers=key
    )
    pet = await make_pet(client, key, stock=2)
    order = {"petId": pet["id"], "voucherCode": "HOUR"}
    in_time = await client.post("/v1/orders", json=order, headers=key)

    await advance(client, tenant, key, 2 * 3600)
    too_late = await client.post("/v1/orders", json=order, headers=key)

    assert (created.status_code, in_time.status_code) == (201, 201), created.text + in_time.text
    assert too_late.status_code == 422, too_late.text
    assert too_late.json()["code"] == "voucher-not-applicable"


async def test_a_token_expires_when_the_tenants_clock_passes_its_lifetime(client: httpx.AsyncClient) -> None:
    tenant, key, _made = await a_tenant(client)
    in_tenant = {"X-Tenant-ID": tenant}
    await advance(client, tenant, key, 3600)  # the token is issued ahead of the wall clock
    registered = await client.post(
        "/v1/users", json={"username": "alice", "email": "a@example.com", "password": "correct horse battery"},
        headers=in_tenant,
    )  # fmt: skip
    token = await client.post(
        "/v1/auth/tokens", json={"username": "alice", "password": "correct horse battery"}, headers=in_tenant
    )
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    fresh = await client.get("/v1/users/me", headers=bearer)

    await advance(client, tenant, key, DAY)
    expired = await client.get("/v1/users/me", headers=bearer)

    assert (registered.status_code, token.status_code, fresh.status_code) == (201, 200, 200), fresh.text
    assert expired.status_code == 401, expired.text
    assert "expired" in expired.json()["detail"]


async def test_a_public_pool_token_is_untouched_by_a_tenants_clock(client: httpx.AsyncClient) -> None:
    tenant, key, _made = await a_tenant(client)
    alice = await register(client, "alice")

    await advance(client, tenant, key, 2 * DAY)

    assert (await client.get("/v1/users/me", headers=alice)).status_code == 200


async def test_an_idempotency_key_expires_after_a_day_of_the_tenants_time(client: httpx.AsyncClient) -> None:
    tenant, key, _made = await a_tenant(client)
    pet = await make_pet(client, key, stock=5)
    once = {**key, "Idempotency-Key": "order-1"}
    first = await client.post("/v1/orders", json={"petId": pet["id"]}, headers=once)
    reused = await client.post("/v1/orders", json={"petId": pet["id"], "quantity": 2}, headers=once)

    await advance(client, tenant, key, DAY + 1)
    later = await client.post("/v1/orders", json={"petId": pet["id"], "quantity": 2}, headers=once)

    assert (first.status_code, reused.status_code, later.status_code) == (201, 422, 201), reused.text + later.text
    assert reused.json()["code"] == "idempotency-key-reused"
    assert later.json()["id"] != first.json()["id"]


async def test_an_asynchronous_refund_has_settled_when_the_clock_answers(client: httpx.AsyncClient) -> None:
    tenant, key, _made = await a_tenant(client)
    order = await place(client, (await make_pet(client, key))["id"], headers=key)
    payment = {"amount": order["totalAmount"], "currency": "USD", "source": {**CARD, "number": "4000000000003220"}}
    await client.post(f"/v1/orders/{order['id']}/payment", json=payment, headers=key)
    pending = await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "CUSTOMER_REQUEST"}, headers=key)

    await advance(client, tenant, key, 3)  # past the refund delay (2 s)
    after = (await client.get(f"/v1/orders/{order['id']}", headers=key)).json()

    assert (pending.status_code, pending.json()["status"]) == (202, "CANCEL_PENDING")
    assert (after["status"], after["paymentStatus"]) == ("CANCELLED", "REFUNDED")
