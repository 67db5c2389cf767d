"""Editing an open order over HTTP: item ids, removing an item, cancelling some units, changing the billing
address, and their refusals."""

from __future__ import annotations

from typing import Any

from tests.e2e.http import Client, as_owner, assert_problem, make_pet

CARD = {"object": "card", "number": "4242424242424242", "cvc": "123", "expMonth": 12, "expYear": 2099}
ADDRESS = {"line1": "2 High St", "city": "Oxford", "postalCode": "OX1 1AA", "country": "GB"}


async def two_items(client: Client, admin: dict[str, str], **extra: Any) -> dict[str, Any]:
    """3 cats at 10.00 (item 1) and a fish at 5.00 (item 2), placed anonymously."""
    cat = await make_pet(client, admin, name="Whiskers", adoptionFee="10.00", stock=5)
    fish = await make_pet(client, admin, name="Nemo", species="FISH", adoptionFee="5.00", stock=5)
    items = [{"petId": cat["id"], "quantity": 3}, {"petId": fish["id"], "quantity": 1}]
    response = await client.post("/v1/orders", json={"items": items, **extra})
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def test_an_orders_items_carry_their_ids(client: Client, admin: dict[str, str]) -> None:
    order = await two_items(client, admin)

    assert [(item["id"], item["name"]) for item in order["items"]] == [(1, "Whiskers"), (2, "Nemo")]


async def test_removing_an_item_answers_the_order_priced_again_with_its_etag(
    client: Client, admin: dict[str, str]
) -> None:
    order = await two_items(client, admin)

    response = await client.delete(f"/v1/orders/{order['id']}/items/1", headers=as_owner(order))

    assert response.status_code == 200, response.text
    edited = response.json()
    assert [(item["id"], item["quantity"]) for item in edited["items"]] == [(2, 1)]
    assert (edited["totalAmount"], edited["version"]) == ("5.00", 2)
    assert response.headers["etag"] == f'"{order["id"]}.2"'


async def test_cancelling_some_units_of_an_item_keeps_the_rest(client: Client, admin: dict[str, str]) -> None:
    order = await two_items(client, admin)
    body = {"quantity": 2, "reason": "OUT_OF_STOCK"}

    response = await client.post(f"/v1/orders/{order['id']}/items/1/cancel", json=body, headers=as_owner(order))

    assert response.status_code == 200, response.text
    assert [(item["id"], item["quantity"]) for item in response.json()["items"]] == [(1, 1), (2, 1)]
    assert response.json()["totalAmount"] == "15.00"


async def test_a_repeat_with_the_same_idempotency_key_replays_the_first_answer(
    client: Client, admin: dict[str, str]
) -> None:
    order = await two_items(client, admin)
    url, body = f"/v1/orders/{order['id']}/items/1/cancel", {"quantity": 1, "reason": "CUSTOMER_REQUEST"}
    headers = {**as_owner(order), "Idempotency-Key": "take-one-cat"}

    first = await client.post(url, json=body, headers=headers)
    again = await client.post(url, json=body, headers=headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert (await client.get(f"/v1/orders/{order['id']}", headers=as_owner(order))).json()["items"][0]["quantity"] == 2


async def test_removing_the_last_item_cancels_the_order(client: Client, admin: dict[str, str]) -> None:
    order = await two_items(client, admin)
    await client.delete(f"/v1/orders/{order['id']}/items/2", headers=as_owner(order))

    response = await client.delete(f"/v1/orders/{order['id']}/items/1", headers=as_owner(order))

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["cancelReason"]) == ("CANCELLED", "CUSTOMER_REQUEST")
    assert [item["id"] for item in response.json()["items"]] == [1]


async def test_a_paid_order_is_refunded_the_difference_and_shows_partially_refunded(
    client: Client, admin: dict[str, str]
) -> None:
    order = await two_items(client, admin)
    payment = {"amount": order["totalAmount"], "currency": "USD", "source": CARD}
    assert (await client.post(f"/v1/orders/{order['id']}/payment", json=payment, headers=as_owner(order))).is_success

    response = await client.delete(f"/v1/orders/{order['id']}/items/2", headers=as_owner(order))

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["paymentStatus"]) == ("APPROVED", "PARTIALLY_REFUNDED")
    shown = response.json()
    paid, removed = order["totalAmount"], order["items"][1]["amount"]
    assert (shown["paidAmount"], shown["refundedAmount"]) == (paid, removed)


async def test_a_paid_order_edited_then_cancelled_shows_all_it_was_paid_as_refunded(
    client: Client, admin: dict[str, str]
) -> None:
    order = await two_items(client, admin)
    payment = {"amount": order["totalAmount"], "currency": "USD", "source": CARD}
    assert (await client.post(f"/v1/orders/{order['id']}/payment", json=payment, headers=as_owner(order))).is_success
    assert (await client.delete(f"/v1/orders/{order['id']}/items/2", headers=as_owner(order))).is_success

    response = await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "DUPLICATE"},
                                 headers=as_owner(order))  # fmt: skip

    assert response.status_code == 200, response.text
    shown = response.json()
    assert (shown["status"], shown["paymentStatus"]) == ("CANCELLED", "REFUNDED")
    assert shown["totalAmount"] != order["totalAmount"]  # the edit shrank it; the refunds returned all that was paid
    assert (shown["paidAmount"], shown["refundedAmount"]) == (order["totalAmount"], order["totalAmount"])


async def test_an_item_of_a_cancelled_order_is_not_editable(client: Client, admin: dict[str, str]) -> None:
    order = await two_items(client, admin)
    await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))

    response = await client.delete(f"/v1/orders/{order['id']}/items/1", headers=as_owner(order))

    body = assert_problem(response, 409, "order-not-editable")
    assert (body["currentStatus"], body["reason"]) == ("CANCELLED", "status")


async def test_an_unknown_item_is_not_found(client: Client, admin: dict[str, str]) -> None:
    order = await two_items(client, admin)

    response = await client.delete(f"/v1/orders/{order['id']}/items/3", headers=as_owner(order))

    body = assert_problem(response, 404, "not-found")
    assert (body["entity"], body["id"]) == ("item", "3")


async def test_more_units_than_the_item_has_is_a_validation_error(client: Client, admin: dict[str, str]) -> None:
    order = await two_items(client, admin)
    body = {"quantity": 4, "reason": "CUSTOMER_REQUEST"}

    response = await client.post(f"/v1/orders/{order['id']}/items/1/cancel", json=body, headers=as_owner(order))

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "quantity"


async def test_a_stale_if_match_is_refused_and_changes_nothing(client: Client, admin: dict[str, str]) -> None:
    order = await two_items(client, admin)
    await client.delete(f"/v1/orders/{order['id']}/items/2", headers=as_owner(order))

    stale = {**as_owner(order), "If-Match": f'"{order["id"]}.1"'}
    response = await client.delete(f"/v1/orders/{order['id']}/items/1", headers=stale)

    assert_problem(response, 412, "precondition-failed")


async def test_someone_elses_order_is_not_found(client: Client, admin: dict[str, str], alice: dict[str, str]) -> None:
    order = await two_items(client, admin)

    response = await client.delete(f"/v1/orders/{order['id']}/items/1", headers=alice)

    assert_problem(response, 404, "not-found")


async def test_a_placed_orders_billing_address_changes(client: Client, admin: dict[str, str]) -> None:
    order = await two_items(client, admin)

    response = await client.put(f"/v1/orders/{order['id']}/billing-address", json=ADDRESS, headers=as_owner(order))

    assert response.status_code == 200, response.text
    assert response.json()["billingAddress"] == {**ADDRESS, "line2": None, "state": None}
    assert response.json()["version"] == 2


async def test_a_paid_orders_billing_address_is_not_editable(client: Client, admin: dict[str, str]) -> None:
    order = await two_items(client, admin)
    payment = {"amount": order["totalAmount"], "currency": "USD", "source": CARD}
    await client.post(f"/v1/orders/{order['id']}/payment", json=payment, headers=as_owner(order))

    response = await client.put(f"/v1/orders/{order['id']}/billing-address", json=ADDRESS, headers=as_owner(order))

    assert assert_problem(response, 409, "order-not-editable")["currentStatus"] == "APPROVED"


async def test_a_voucher_with_a_minimum_is_created_and_shown(client: Client, admin: dict[str, str]) -> None:
    body = {"code": "BIG10", "percentOff": 10, "minSubtotal": "30.00", "currency": "USD"}

    response = await client.post("/v1/admin/vouchers", json=body, headers=admin)

    assert response.status_code == 201, response.text
    assert (response.json()["minSubtotal"], response.json()["currency"]) == ("30.00", "USD")


async def test_a_voucher_whose_minimum_no_longer_holds_leaves_the_order(client: Client, admin: dict[str, str]) -> None:
    body = {"code": "BIG10", "percentOff": 10, "minSubtotal": "30.00", "currency": "USD"}
    await client.post("/v1/admin/vouchers", json=body, headers=admin)
    order = await two_items(client, admin, voucherCode="BIG10")

    response = await client.delete(f"/v1/orders/{order['id']}/items/2", headers=as_owner(order))

    assert (order["totalAmount"], response.json()["totalAmount"]) == ("31.50", "27.00")
    assert response.json()["voucherCode"] == "BIG10"
    response = await client.post(
        f"/v1/orders/{order['id']}/items/1/cancel", json={"quantity": 1, "reason": "OTHER"}, headers=as_owner(order)
    )
    assert (response.json()["totalAmount"], response.json()["voucherCode"]) == ("20.00", None)
