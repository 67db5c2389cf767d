"""The admin API over HTTP: dashboard, users, every order, force-cancel, ship, deliver, export, audit log."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from orderline.application.use_cases import UseCases
from orderline.gateways.testmode import REFUNDS_LATER, SUCCEEDS
from tests.e2e.http import Client, as_owner, assert_problem, make_pet, place
from tests.support import ADMIN, approve

# Each admin read and the scope it needs: support staff (ADR 0038) read every order and the audit log.
ADMIN_GETS = [
    ("/v1/admin/dashboard", "admin"),
    ("/v1/admin/users", "admin"),
    ("/v1/admin/orders", "support"),
    ("/v1/admin/orders/export", "admin"),
    ("/v1/admin/audit-logs", "support"),
]


@pytest.mark.parametrize(("path", "scope"), ADMIN_GETS)
async def test_the_admin_api_needs_the_admin_or_support_scope(
    client: Client, clerk: dict[str, str], path: str, scope: str
) -> None:
    anonymous = await client.get(path)
    clerkly = await client.get(path, headers=clerk)

    assert_problem(anonymous, 401, "unauthorized")
    assert assert_problem(clerkly, 403, "forbidden")["requiredScope"] == scope


async def _approve(use_cases: UseCases, order_id: str) -> None:
    """Pay the order (the test gateway's card that succeeds), as its customer would."""
    from uuid import UUID

    await approve(use_cases, await use_cases.orders.get(ADMIN, UUID(order_id)))


async def test_an_admin_ships_delivers_and_force_cancels(
    client: Client, admin: dict[str, str], alice: dict[str, str], app_use_cases: UseCases
) -> None:
    pet = await make_pet(client, admin, stock=3)
    delivered, shipped = [await place(client, pet["id"], headers=alice) for _ in range(2)]
    for order in (delivered, shipped):
        await _approve(app_use_cases, order["id"])
        assert (await client.post(f"/v1/admin/orders/{order['id']}/ship", headers=admin)).json()["status"] == "SHIPPED"
    done = await client.post(f"/v1/admin/orders/{delivered['id']}/deliver", headers=admin)

    customer_try = await client.delete(f"/v1/orders/{shipped['id']}", headers=alice)
    no_reason = await client.post(f"/v1/admin/orders/{shipped['id']}/force-cancel", json={}, headers=admin)
    forced = await client.post(
        f"/v1/admin/orders/{shipped['id']}/force-cancel", json={"reason": "FRAUD", "note": "chargeback"}, headers=admin
    )
    terminal = await client.post(
        f"/v1/admin/orders/{delivered['id']}/force-cancel", json={"reason": "OTHER"}, headers=admin
    )

    assert done.json()["status"] == "DELIVERED"
    assert assert_problem(customer_try, 409, "order-not-cancellable")["currentStatus"] == "SHIPPED"
    assert_problem(no_reason, 422, "validation-error")
    assert (forced.json()["status"], forced.json()["cancelReason"]) == ("CANCELLED", "FRAUD")
    assert assert_problem(terminal, 409, "order-not-cancellable")["currentStatus"] == "DELIVERED"


async def test_shipping_an_unpaid_order_is_an_illegal_transition(client: Client, admin: dict[str, str]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])

    response = await client.post(f"/v1/admin/orders/{order['id']}/ship", headers=admin)

    assert assert_problem(response, 409, "illegal-transition")["currentStatus"] == "PLACED"


async def test_the_admin_lists_every_customers_orders_filtered_by_user(
    client: Client, admin: dict[str, str], alice: dict[str, str], bob: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=4)
    alices = await place(client, pet["id"], headers=alice)
    bobs = await place(client, pet["id"], headers=bob)
    anonymous = await place(client, pet["id"])

    everything = (await client.get("/v1/admin/orders", headers=admin)).json()
    only_alice = (await client.get("/v1/admin/orders", params={"userId": alices["userId"]}, headers=admin)).json()

    assert [o["id"] for o in everything["data"]] == [anonymous["id"], bobs["id"], alices["id"]]
    assert [o["id"] for o in only_alice["data"]] == [alices["id"]]


async def test_the_export_streams_every_matching_order_as_csv(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=7)
    placed = [await place(client, pet["id"]) for _ in range(7)]
    await client.delete(f"/v1/orders/{placed[0]['id']}", headers=as_owner(placed[0]))

    response = await client.get("/v1/admin/orders/export", params={"format": "csv", "status": "PLACED"}, headers=admin)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["id"] for row in rows] == [o["id"] for o in reversed(placed[1:])]
    assert {row["status"] for row in rows} == {"PLACED"}
    assert rows[0]["totalAmount"] == "150.00"


async def test_the_export_pages_through_more_orders_than_one_batch(
    client: Client, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orderline.http.api import admin_orders

    monkeypatch.setattr(admin_orders, "EXPORT_BATCH", 2)
    pet = await make_pet(client, admin, stock=5)
    placed = [await place(client, pet["id"]) for _ in range(5)]

    response = await client.get("/v1/admin/orders/export", headers=admin)

    assert len(list(csv.DictReader(io.StringIO(response.text)))) == len(placed)


async def _pay(client: Client, order: dict[str, Any], card: str = SUCCEEDS) -> None:
    source = {"object": "card", "number": card, "cvc": "123", "expMonth": 12, "expYear": 2099}
    body = {"amount": order["totalAmount"], "currency": order["currency"], "source": source}
    response = await client.post(f"/v1/orders/{order['id']}/payment", json=body, headers=as_owner(order))
    assert response.status_code == 200, response.text


async def _cancel(client: Client, order: dict[str, Any]) -> None:
    response = await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))
    assert response.status_code in (202, 204), response.text


async def test_the_dashboard_counts_orders_and_low_stock(client: Client, admin: dict[str, str]) -> None:
    cat = await make_pet(client, admin, name="Whiskers", stock=1)
    fish = await make_pet(client, admin, name="Nemo", species="FISH", adoptionFee="10.00", stock=10)
    await place(client, cat["id"])
    await place(client, fish["id"], quantity=2)
    await _cancel(client, await place(client, fish["id"]))

    stats = (await client.get("/v1/admin/dashboard", headers=admin)).json()

    assert stats["ordersByStatus"] == {"CANCELLED": 1, "PLACED": 2}
    assert (stats["today"]["orders"], stats["today"]["cancelled"]) == (3, 1)
    assert stats["last7Days"]["cancellationRate"] == pytest.approx(1 / 3, abs=1e-3)
    assert [pet["name"] for pet in stats["lowStockPets"]] == ["Whiskers"]


async def test_the_dashboards_revenue_is_money_captured_less_money_refunded_per_currency(
    client: Client, admin: dict[str, str]
) -> None:
    fish = await make_pet(client, admin, name="Nemo", species="FISH", adoptionFee="10.00", stock=10)
    dog = await make_pet(client, admin, name="Rex", species="DOG", adoptionFee="250.00", stock=2)
    yen = await make_pet(client, admin, name="Hachi", species="DOG", adoptionFee="3000", currency="JPY", stock=2)
    await place(client, dog["id"])  # placed, never paid: no money
    await _pay(client, await place(client, fish["id"], quantity=2))  # +20.00
    refunded = await place(client, dog["id"])
    await _pay(client, refunded)
    await _cancel(client, refunded)  # +250.00 -250.00: refunded at once
    refunding = await place(client, fish["id"])
    await _pay(client, refunding, REFUNDS_LATER)
    await _cancel(client, refunding)  # +10.00: the refund is still pending, the money still held
    await _pay(client, await place(client, yen["id"]))  # +3000 JPY

    stats = (await client.get("/v1/admin/dashboard", headers=admin)).json()

    assert stats["today"]["revenue"] == {"USD": "30.00", "JPY": "3000"}
    assert stats["last7Days"]["revenue"] == stats["today"]["revenue"]


async def test_the_dashboards_revenue_is_empty_when_nothing_was_paid(client: Client, admin: dict[str, str]) -> None:
    cat = await make_pet(client, admin, stock=3)
    await place(client, cat["id"])

    stats = (await client.get("/v1/admin/dashboard", headers=admin)).json()

    assert (stats["today"]["orders"], stats["today"]["revenue"]) == (1, {})


async def test_the_admin_lists_users_with_filters_and_pages(
    client: Client, admin: dict[str, str], alice: dict[str, str], bob: dict[str, str]
) -> None:
    bob_id = (await client.get("/v1/users/me", headers=bob)).json()["id"]
    await client.patch(f"/v1/admin/users/{bob_id}/status", json={"status": "SUSPENDED"}, headers=admin)

    first = (await client.get("/v1/admin/users", params={"limit": 1}, headers=admin)).json()
    second = (
        await client.get("/v1/admin/users", params={"limit": 1, "cursor": first["nextCursor"]}, headers=admin)
    ).json()
    suspended = (await client.get("/v1/admin/users", params={"status": "SUSPENDED"}, headers=admin)).json()
    searched = (await client.get("/v1/admin/users", params={"search": "ali"}, headers=admin)).json()
    detail = await client.get(f"/v1/admin/users/{bob_id}", headers=admin)

    assert [u["username"] for u in first["data"] + second["data"]] == ["alice", "bob"]
    assert second["nextCursor"] is None
    assert [u["username"] for u in suspended["data"]] == ["bob"]
    assert [u["username"] for u in searched["data"]] == ["alice"]
    assert detail.json()["status"] == "SUSPENDED"


async def test_every_change_is_audited_with_actor_reason_changes_and_request_id(
    client: Client, admin: dict[str, str], alice: dict[str, str]
) -> None:
    alice_id = (await client.get("/v1/users/me", headers=alice)).json()["id"]
    order = await place(client, (await make_pet(client, admin))["id"], headers=alice)
    cancel = await client.post(
        f"/v1/orders/{order['id']}/cancel", json={"reason": "DUPLICATE"}, headers=alice | {"X-Request-Id": "req-77"}
    )

    trail = (await client.get("/v1/admin/audit-logs", params={"entityId": order["id"]}, headers=admin)).json()["data"]
    by_alice = (await client.get("/v1/admin/audit-logs", params={"actorId": alice_id}, headers=admin)).json()["data"]
    detail = (await client.get(f"/v1/admin/audit-logs/{trail[0]['id']}", headers=admin)).json()

    assert cancel.status_code == 200
    assert [entry["action"] for entry in trail] == ["ORDER_CANCELLED", "ORDER_CREATED"]
    assert detail == trail[0]
    assert (detail["actorKind"], detail["actorId"], detail["entityType"]) == ("user", alice_id, "ORDER")
    assert (detail["reason"], detail["requestId"]) == ("DUPLICATE", "req-77")
    assert {entry["api"] for entry in trail} == {"native"}
    assert detail["changes"] == {"status": {"before": "PLACED", "after": "CANCELLED"}}
    assert {entry["action"] for entry in by_alice} >= {"USER_REGISTERED", "ORDER_CREATED", "ORDER_CANCELLED"}


async def test_a_refused_command_writes_no_audit_entry(client: Client, admin: dict[str, str]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])
    await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))

    refused = await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))

    trail = (await client.get("/v1/admin/audit-logs", params={"entityId": order["id"]}, headers=admin)).json()["data"]
    assert refused.status_code == 409
    assert [entry["action"] for entry in trail] == ["ORDER_CANCELLED", "ORDER_CREATED"]


async def test_the_audit_log_cannot_be_changed_or_deleted(client: Client, admin: dict[str, str]) -> None:
    await make_pet(client, admin)
    entry = (await client.get("/v1/admin/audit-logs", headers=admin)).json()["data"][0]
    path = f"/v1/admin/audit-logs/{entry['id']}"

    for response in (await client.put(path, json={}, headers=admin), await client.delete(path, headers=admin)):
        assert_problem(response, 405, "method-not-allowed")
