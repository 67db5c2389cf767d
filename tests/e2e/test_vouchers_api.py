"""Vouchers and billing addresses over HTTP: discounts at placement, limits, and uses given back on cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.http import Client, as_owner, assert_problem, make_pet
from tests.support import START

LONDON = {"line1": "1 High Street", "city": "London", "postalCode": "SW1A 1AA", "country": "GB"}


async def _voucher(client: Client, admin: dict[str, str], **fields: object) -> dict[str, object]:
    response = await client.post("/v1/admin/vouchers", json={"code": "spring10", **fields}, headers=admin)
    assert response.status_code == 201, response.text
    voucher: dict[str, object] = response.json()
    return voucher


async def test_a_percentage_voucher_discounts_the_order_and_counts_a_use(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, adoptionFee="150.00", stock=2)
    created = await _voucher(client, admin, percentOff=10, maxUses=5)

    order = await client.post("/v1/orders", json={"petId": pet["id"], "voucherCode": "Spring10"})

    body = order.json()
    assert created["code"] == "SPRING10"
    assert (body["subtotalAmount"], body["discountAmount"], body["totalAmount"]) == ("150.00", "15.00", "135.00")
    assert body["voucherCode"] == "SPRING10"
    assert (await client.get("/v1/admin/vouchers/SPRING10", headers=admin)).json()["uses"] == 1


async def test_an_amount_voucher_never_takes_the_total_below_zero(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, adoptionFee="12.50")
    await _voucher(client, admin, amountOff="20.00", currency="USD")

    body = (await client.post("/v1/orders", json={"petId": pet["id"], "voucherCode": "SPRING10"})).json()

    assert (body["discountAmount"], body["totalAmount"]) == ("12.50", "0.00")


@pytest.mark.parametrize(
    ("voucher", "reason"),
    [
        (None, "unknown"),
        ({"percentOff": 10, "maxUses": 1}, "used-up"),
        ({"amountOff": "5.00", "currency": "EUR"}, "currency"),
        ({"percentOff": 10, "expiresAt": (START - timedelta(days=1)).isoformat()}, "expired"),
    ],
)
async def test_an_unusable_voucher_is_a_clear_422_and_nothing_is_placed(
    client: Client, admin: dict[str, str], voucher: dict[str, object] | None, reason: str
) -> None:
    pet = await make_pet(client, admin, stock=3)
    if voucher is not None:
        await _voucher(client, admin, **voucher)
        if reason == "used-up":
            await place_with(client, pet["id"])

    response = await client.post("/v1/orders", json={"petId": pet["id"], "voucherCode": "SPRING10"})

    assert assert_problem(response, 422, "voucher-not-applicable")["reason"] == reason
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == (2 if reason == "used-up" else 3)


async def place_with(client: Client, pet_id: str) -> dict[str, object]:
    response = await client.post("/v1/orders", json={"petId": pet_id, "voucherCode": "SPRING10"})
    assert response.status_code == 201, response.text
    order: dict[str, object] = response.json()
    return order


async def test_cancelling_gives_the_voucher_use_back_exactly_once(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=3)
    await _voucher(client, admin, percentOff=10, maxUses=1)
    order = await place_with(client, pet["id"])

    await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))
    again = await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))
    reused = await client.post("/v1/orders", json={"petId": pet["id"], "voucherCode": "SPRING10"})

    assert again.status_code == 409
    assert reused.status_code == 201
    assert (await client.get("/v1/admin/vouchers/SPRING10", headers=admin)).json()["uses"] == 1


@pytest.mark.parametrize(
    ("voucher", "field"),
    [
        ({"percentOff": 10, "amountOff": "1.00", "currency": "USD"}, "percentOff"),
        ({}, "percentOff"),
        ({"amountOff": "1.00"}, "currency"),
        ({"code": "x", "percentOff": 5}, "code"),
    ],
)
async def test_an_invalid_voucher_is_refused(
    client: Client, admin: dict[str, str], voucher: dict[str, object], field: str
) -> None:
    response = await client.post("/v1/admin/vouchers", json={"code": "spring10"} | voucher, headers=admin)

    if response.status_code == 422 and response.json()["type"].endswith("validation-error"):
        assert response.json()["errors"][0]["field"] == field
    else:
        assert assert_problem(response, 422, "invalid-voucher")["field"] == field


async def test_a_duplicate_code_and_a_removed_voucher(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin)
    await _voucher(client, admin, percentOff=10)

    duplicate = await client.post("/v1/admin/vouchers", json={"code": "SPRING10", "percentOff": 5}, headers=admin)
    removed = await client.delete("/v1/admin/vouchers/spring10", headers=admin)
    listed = (await client.get("/v1/admin/vouchers", headers=admin)).json()["data"]
    after = await client.post("/v1/orders", json={"petId": pet["id"], "voucherCode": "SPRING10"})

    assert assert_problem(duplicate, 409, "voucher-exists")["field"] == "code"
    assert removed.status_code == 204
    assert listed == []
    assert assert_problem(after, 422, "voucher-not-applicable")["reason"] == "unknown"


async def test_vouchers_are_for_admins(client: Client, alice: dict[str, str]) -> None:
    response = await client.post("/v1/admin/vouchers", json={"code": "FREE", "percentOff": 100}, headers=alice)

    assert assert_problem(response, 403, "forbidden")["requiredScope"] == "admin"


async def test_a_billing_address_is_stored_with_the_order(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin)

    order = await client.post("/v1/orders", json={"petId": pet["id"], "billingAddress": LONDON | {"line2": "Flat 2"}})

    stored = (await client.get(f"/v1/orders/{order.json()['id']}", headers=as_owner(order.json()))).json()
    assert stored["billingAddress"] == {
        "line1": "1 High Street", "line2": "Flat 2", "city": "London", "state": None,
        "postalCode": "SW1A 1AA", "country": "GB",
    }  # fmt: skip


@pytest.mark.parametrize(("change", "field"), [({"country": "gb"}, "country"), ({"city": "   "}, "city")])
async def test_an_invalid_billing_address_is_a_422(
    client: Client, admin: dict[str, str], change: dict[str, str], field: str
) -> None:
    pet = await make_pet(client, admin)

    response = await client.post("/v1/orders", json={"petId": pet["id"], "billingAddress": LONDON | change})

    assert assert_problem(response, 422, "invalid-address")["field"] == field
