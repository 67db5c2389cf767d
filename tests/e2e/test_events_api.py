"""Events over HTTP: an event's order is exactly what GET /v1/orders/{id} answers at that moment, whichever API
made the change; a payment.succeeded event's receipt is served at its receiptUrl to the order's owner or an admin.
On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from orderline.domain.order import NUMBER_OFFSET
from tests.e2e.http import Client, assert_problem, make_pet, place
from tests.e2e.test_payments_api import payment
from tests.outbox import outbox
from tests.support import Db


async def _read(client: Client, order: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"/v1/orders/{order['id']}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _newest(db: Db, order: dict[str, Any]) -> dict[str, Any]:
    *_, event = await outbox(db, order["id"])
    return event.data


async def test_each_events_order_is_the_order_as_get_answers_it_then(
    client: Client, db: Db, admin: dict[str, str], alice: dict[str, str]
) -> None:
    pet = await make_pet(client, admin)

    order = await place(client, pet["id"], headers=alice)
    created = (await _newest(db, order))["order"]
    paid = await client.post(f"/v1/orders/{order['id']}/payment", json=payment(order), headers=alice)
    approved = (await _newest(db, order))["order"]
    now_approved = await _read(client, order, alice)
    cancelled = await client.request("DELETE", f"/v1/orders/{order['id']}", headers=alice)
    final = (await _newest(db, order))["order"]

    assert created == {key: value for key, value in order.items() if key != "orderToken"}
    assert paid.status_code == 200, paid.text
    assert approved == now_approved
    assert cancelled.status_code == 204, cancelled.text
    assert final == await _read(client, order, alice)
    assert final["status"] == "CANCELLED"


async def test_a_cancel_through_a_dialect_writes_the_same_events(
    client: Client, db: Db, admin: dict[str, str], clerk: dict[str, str]
) -> None:
    pet = await make_pet(client, admin)
    order = await place(client, pet["id"], headers=clerk)

    response = await client.delete(f"/sfox/v1/orders/{int(order['number']) - NUMBER_OFFSET}", headers=clerk)

    assert response.status_code == 200, response.text
    events = await outbox(db, order["id"])
    assert [event.event_type for event in events] == [
        "order.created",
        "order.statusChanged",
        "order.cancelled",
        "order.processed",
    ]
    assert events[-1].data["order"] == await _read(client, order, clerk)


async def _receipt_of(client: Client, db: Db, admin: dict[str, str], owner: dict[str, str]) -> dict[str, Any]:
    pet = await make_pet(client, admin)
    order = await place(client, pet["id"], headers=owner)
    paid = await client.post(f"/v1/orders/{order['id']}/payment", json=payment(order), headers=owner)
    assert paid.status_code == 200, paid.text
    [succeeded] = [event for event in await outbox(db, order["id"]) if event.event_type == "payment.succeeded"]
    receipt: dict[str, Any] = succeeded.data["receipt"]
    return receipt


async def test_the_receipt_a_payment_event_points_to_is_served_to_the_orders_owner_and_an_admin(
    client: Client, db: Db, admin: dict[str, str], alice: dict[str, str]
) -> None:
    receipt = await _receipt_of(client, db, admin, alice)
    path = receipt["receiptUrl"].removeprefix("http://127.0.0.1:8000")

    as_owner, as_admin = await client.get(path, headers=alice), await client.get(path, headers=admin)

    assert as_owner.status_code == as_admin.status_code == 200, as_owner.text
    assert as_owner.json() == as_admin.json()
    body = as_owner.json()
    assert (body["receiptId"], body["receiptUrl"], body["generatedAt"]) == (
        receipt["receiptId"],
        receipt["receiptUrl"],
        receipt["generatedAt"],
    )
    assert body["payment"]["status"] == "SUCCEEDED"


async def test_anyone_else_is_told_the_receipt_does_not_exist(
    client: Client, db: Db, admin: dict[str, str], alice: dict[str, str], bob: dict[str, str]
) -> None:
    receipt = await _receipt_of(client, db, admin, alice)

    response = await client.get(f"/v1/receipts/{receipt['receiptId']}", headers=bob)

    assert_problem(response, 404, "not-found")


async def test_an_unknown_or_malformed_receipt_is_not_found(client: Client, admin: dict[str, str]) -> None:
    for receipt_id in (f"rcp_{uuid4().hex}", "rcp_xyz", "nothing"):
        response = await client.get(f"/v1/receipts/{receipt_id}", headers=admin)

        assert_problem(response, 404, "not-found")
