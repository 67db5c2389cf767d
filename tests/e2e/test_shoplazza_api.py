"""Shoplazza Open API 2022-01 at /openapi/2022-01, written from its Cancel Order page, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.config import Settings
from orderline.gateways.testmode import REFUNDS_LATER, SUCCEEDS
from tests.e2e.http import Client, as_owner, make_pet
from tests.e2e.process import run, serving
from tests.support import TEST_GATEWAY_SECRET, SteppingClock, engine_settings

API = "/openapi/2022-01"
LATER = timedelta(seconds=3)  # past the test gateway's default refund delay of 2 s
# Every field of the Order table on the Cancel Order page, in its order.
ORDER_FIELDS = [
    "id",
    "number",
    "note",
    "status",
    "financial_status",
    "fulfillment_status",
    "email_status",
    "cancel_reason",
    "recovery_status",
    "payment_method",
    "discount_code",
    "discount_applications",
    "customer_note",
    "landing_site",
    "buyer_accepts_marketing",
    "currency",
    "total_price",
    "sub_total",
    "total_discount",
    "total_tax",
    "total_shipping",
    "code_discount_total",
    "line_item_discount_total",
    "gift_card_total",
    "total_refund_price",
    "total_refund_discount",
    "additional_total",
    "addtional_prices",
    "total_refund_tax",
    "shipping_tax_total",
    "customer_deleted_at",
    "created_at",
    "updated_at",
    "deleted_at",
    "canceled_at",
    "placed_at",
    "total_tip_received",
    "tags",
    "browser_ip",
    "last_landing_url",
    "total_paid",
    "source",
    "source_name",
    "last_referrer_show",
    "shipping_line",
    "customer",
    "shipping_address",
    "billing_address",
    "payment_line",
    "line_items",
    "fulfillments",
    "logistics_code",
    "refer_info",
    "config",
    "sales_platform",
    "checkout_url",
    "location_line",
    "invoice_url",
]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return engine_settings(
        database_url, refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET, dialects="shoplazza"
    )


async def _token(use_cases: UseCases, *scopes: Scope) -> dict[str, str]:
    _key, secret = await use_cases.api_keys.create("shop", frozenset(scopes))
    return {"Access-Token": secret}


@pytest.fixture
async def merchant(app_use_cases: UseCases) -> dict[str, str]:
    return await _token(app_use_cases, Scope.READ_ORDER, Scope.WRITE_ORDER)


async def placed(client: Client, admin: dict[str, str], fee: str = "150.00", stock: int = 5) -> dict[str, Any]:
    pet = await make_pet(client, admin, adoptionFee=fee, stock=stock)
    address = {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US", "state": "IL"}
    response = await client.post("/v1/orders", json={"petId": pet["id"], "quantity": 2, "billingAddress": address,
                                                     "note": "leave at the door"})  # fmt: skip
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def paid(client: Client, admin: dict[str, str], card: str = SUCCEEDS) -> dict[str, Any]:
    order = await placed(client, admin)
    source = {"object": "card", "number": card, "cvc": "123", "expMonth": 12, "expYear": 2099}
    body = {"amount": order["totalAmount"], "currency": order["currency"], "source": source}
    response = await client.post(f"/v1/orders/{order['id']}/payment", json=body, headers=as_owner(order))
    assert response.status_code == 200, response.text
    return order


async def cancel(client: Client, order_id: str, headers: dict[str, str], body: Any = None) -> httpx.Response:
    return await client.post(f"{API}/orders/{order_id}/cancel", json=body, headers=headers)


async def shop_order(client: Client, order_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"{API}/orders/{order_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def errors_of(response: httpx.Response, status: int) -> list[str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["Request-Id"] == response.headers["X-Request-Id"]
    body = response.json()
    assert set(body) == {"errors"}, body
    assert all(isinstance(message, str) for message in body["errors"]), body
    errors: list[str] = body["errors"]
    return errors


async def test_cancelling_an_unpaid_order_answers_200_with_the_whole_order_cancelled_and_its_reason(
    client: Client, admin: dict[str, str], merchant: dict[str, str]
) -> None:
    order = await placed(client, admin)

    response = await cancel(client, order["id"], merchant, {"reason": "Customer changed their mind"})

    assert response.status_code == 200, response.text
    assert response.headers["Request-Id"] == response.headers["X-Request-Id"]
    body = response.json()
    assert list(body) == ORDER_FIELDS
    assert (body["id"], body["number"], body["note"]) == (order["id"], order["number"], "leave at the door")
    assert (body["status"], body["financial_status"], body["fulfillment_status"]) == ("cancelled",) * 3
    assert body["cancel_reason"] == "Customer changed their mind"
    assert body["canceled_at"] is not None
    assert body["canceled_at"].endswith("Z")
    assert (body["currency"], body["total_price"], body["sub_total"], body["total_discount"]) == (
        "USD", "300.00", "300.00", "0.00")  # fmt: skip
    assert (body["total_tax"], body["total_shipping"], body["total_paid"], body["total_refund_price"]) == ("0.00",) * 4
    assert body["placed_at"] is None
    assert body["payment_line"] is None
    assert body["line_items"] == [{"id": 1, "product_id": order["items"][0]["petId"], "title": "Whiskers",
                                   "price": "150.00", "quantity": 2, "total": "300.00"}]  # fmt: skip
    assert body["billing_address"]["address1"] == "1 Main St"
    assert (body["billing_address"]["country_code"], body["billing_address"]["zip"]) == ("US", "12345")
    assert body["customer"] is None  # placed anonymously
    assert body["email_status"] is None
    assert body["shipping_address"] is None


@pytest.mark.parametrize("body", [None, {}, {"reason": None}], ids=["no-body", "empty", "null-reason"])
async def test_the_reason_is_optional(
    client: Client, admin: dict[str, str], merchant: dict[str, str], body: Any
) -> None:
    order = await placed(client, admin)

    response = await cancel(client, order["id"], merchant, body)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "customer request"


async def test_a_paid_order_refunded_at_once_reads_cancelled_and_refunded(
    client: Client, admin: dict[str, str], merchant: dict[str, str]
) -> None:
    order = await paid(client, admin)
    before = await shop_order(client, order["id"], merchant)

    response = await cancel(client, order["id"], merchant, {"reason": "out of stock"})

    assert (before["status"], before["financial_status"], before["fulfillment_status"]) == ("placed", "paid", "waiting")
    assert (before["total_paid"], before["payment_method"]) == ("300.00", "credit_card")
    assert before["placed_at"] is not None
    body = response.json()
    assert (body["status"], body["financial_status"], body["fulfillment_status"]) == (
        "cancelled", "refunded", "cancelled")  # fmt: skip
    assert (body["total_paid"], body["total_refund_price"]) == ("300.00", "300.00")


async def test_a_paid_order_whose_refund_is_asynchronous_reads_refunding_then_refunded(
    client: Client, admin: dict[str, str], merchant: dict[str, str], clock: SteppingClock, app_use_cases: UseCases
) -> None:
    order = await paid(client, admin, REFUNDS_LATER)

    response = await cancel(client, order["id"], merchant, {"reason": "Customer changed their mind"})
    clock.advance(LATER)
    await app_use_cases.refunds.settle_pending()
    after = await shop_order(client, order["id"], merchant)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["financial_status"], body["total_refund_price"]) == ("cancelled", "refunding", "0.00")
    assert body["canceled_at"] is not None
    assert (after["status"], after["financial_status"], after["total_refund_price"]) == (
        "cancelled", "refunded", "300.00")  # fmt: skip
    assert after["canceled_at"] == body["canceled_at"]
    assert after["cancel_reason"] == "Customer changed their mind"


async def test_cancelling_an_order_whose_refund_is_on_its_way_answers_it_as_it_is_and_starts_nothing(
    client: Client, admin: dict[str, str], merchant: dict[str, str], app_use_cases: UseCases
) -> None:
    order = await paid(client, admin, REFUNDS_LATER)
    first = await cancel(client, order["id"], merchant)

    again = await cancel(client, order["id"], merchant, {"reason": "again"})

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    payments = await client.get(f"/v1/orders/{order['id']}/payments", headers=admin)
    assert len(payments.json()["data"][0]["refunds"]) == 1


async def _shipped(client: Client, admin: dict[str, str]) -> dict[str, Any]:
    order = await paid(client, admin)
    assert (await client.post(f"/v1/admin/orders/{order['id']}/ship", headers=admin)).status_code == 200
    return order


async def _delivered(client: Client, admin: dict[str, str]) -> dict[str, Any]:
    order = await _shipped(client, admin)
    assert (await client.post(f"/v1/admin/orders/{order['id']}/deliver", headers=admin)).status_code == 200
    return order


async def _cancelled(client: Client, admin: dict[str, str]) -> dict[str, Any]:
    order = await placed(client, admin)
    assert (await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))).status_code == 204
    return order


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_shipped, "the order cannot be cancelled: its status is placed and its fulfillment_status shipped"),
        (_delivered, "the order cannot be cancelled: its status is finished and its fulfillment_status finished"),
        (_cancelled, "the order is already cancelled (status cancelled)"),
    ],
    ids=["shipped", "delivered", "cancelled"],
)
async def test_an_order_that_cannot_be_cancelled_is_406_naming_its_status_and_is_left_as_it_was(
    client: Client, admin: dict[str, str], merchant: dict[str, str], make: Any, message: str
) -> None:
    order = await make(client, admin)
    before = await shop_order(client, order["id"], merchant)

    response = await cancel(client, order["id"], merchant, {"reason": "too late"})

    assert errors_of(response, 406) == [message]
    assert await shop_order(client, order["id"], merchant) == before


@pytest.mark.parametrize("order_id", [str(uuid4()), "633130-00000004"], ids=["unknown-uuid", "shoplazza-shape"])
async def test_an_unknown_id_is_404_unable_to_find_resource(
    merchant: dict[str, str], client: Client, order_id: str
) -> None:
    for response in [
        await cancel(client, order_id, merchant),
        await client.get(f"{API}/orders/{order_id}", headers=merchant),
        await client.delete(f"{API}/orders/{order_id}", headers=merchant),
    ]:
        assert errors_of(response, 404) == ["Unable to find resource"]


async def test_without_an_access_token_or_with_an_unknown_one_it_is_401_and_nothing_changes(
    client: Client, admin: dict[str, str], merchant: dict[str, str]
) -> None:
    order = await placed(client, admin)
    native_key = {"Authorization": admin["Authorization"]}  # a bearer credential is not Shoplazza's

    missing = await cancel(client, order["id"], {})
    bearer = await cancel(client, order["id"], native_key)
    unknown = await cancel(client, order["id"], {"Access-Token": "olk_" + "x" * 40})
    not_a_key = await client.get(f"{API}/orders", headers={"Access-Token": "eyJhbGciOiJIUzI1NiJ9.e30.x"})

    assert errors_of(missing, 401) == ["this operation needs credentials"]
    assert errors_of(bearer, 401) == ["this operation needs credentials"]
    assert errors_of(unknown, 401) == ["the API key is unknown or has been revoked"]
    assert errors_of(not_a_key, 401) == ["send an orderline API key (olk_...) as the Access-Token header"]
    assert missing.headers["WWW-Authenticate"].startswith("Access-Token")
    assert (await shop_order(client, order["id"], merchant))["status"] == "opened"


async def test_a_key_without_the_scope_is_403_and_nothing_changes(
    client: Client, admin: dict[str, str], merchant: dict[str, str], app_use_cases: UseCases
) -> None:
    order = await placed(client, admin)
    reader = await _token(app_use_cases, Scope.READ_ORDER)
    native = await _token(app_use_cases, Scope.READ_ORDERS, Scope.WRITE_ORDERS)

    cancelled = await cancel(client, order["id"], reader)
    deleted = await client.delete(f"{API}/orders/{order['id']}", headers=reader)
    read = await client.get(f"{API}/orders/{order['id']}", headers=native)

    assert errors_of(cancelled, 403) == ["this operation needs the scope 'write_order'"]
    assert errors_of(deleted, 403) == ["this operation needs the scope 'write_order'"]
    assert errors_of(read, 403) == ["this operation needs the scope 'read_order'"]
    assert (await shop_order(client, order["id"], reader))["status"] == "opened"


async def test_a_merchant_key_sees_and_cancels_every_order_of_the_shop(
    client: Client, admin: dict[str, str], merchant: dict[str, str], alice: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=3)
    mine = await client.post("/v1/orders", json={"petId": pet["id"]}, headers=alice)
    anonymous = await client.post("/v1/orders", json={"petId": pet["id"]})

    listed = await client.get(f"{API}/orders", headers=merchant)
    cancelled = await cancel(client, mine.json()["id"], merchant)

    assert [order["id"] for order in listed.json()["orders"]] == [anonymous.json()["id"], mine.json()["id"]]
    assert listed.json()["orders"][1]["customer"]["id"] == mine.json()["userId"]
    assert cancelled.json()["status"] == "cancelled"


async def _orders(client: Client, admin: dict[str, str], count: int) -> list[str]:
    pet = await make_pet(client, admin, stock=count)
    ids = []
    for _ in range(count):
        response = await client.post("/v1/orders", json={"petId": pet["id"]})
        ids.append(response.json()["id"])
    return ids


async def test_the_list_pages_newest_first_ten_at_a_time_and_counts_every_match(
    client: Client, admin: dict[str, str], merchant: dict[str, str]
) -> None:
    ids = await _orders(client, admin, 12)

    first = await client.get(f"{API}/orders", headers=merchant)
    second = await client.get(f"{API}/orders", params={"page": 2}, headers=merchant)
    small = await client.get(f"{API}/orders", params={"page": 3, "limit": 5}, headers=merchant)

    assert first.headers["Request-Id"] == first.headers["X-Request-Id"]
    assert first.json()["count"] == 12
    assert [order["id"] for order in first.json()["orders"]] == ids[::-1][:10]
    assert [order["id"] for order in second.json()["orders"]] == ids[::-1][10:]
    assert [order["id"] for order in small.json()["orders"]] == ids[::-1][10:]
    assert list(first.json()["orders"][0]) == ORDER_FIELDS


async def test_the_list_and_the_count_filter_by_the_shoplazza_statuses(
    client: Client, admin: dict[str, str], merchant: dict[str, str]
) -> None:
    opened = await placed(client, admin)
    placed_paid = await paid(client, admin)
    cancelled = await _cancelled(client, admin)
    shipped = await _shipped(client, admin)

    async def found(**filters: str) -> set[str]:
        listed = await client.get(f"{API}/orders", params=filters, headers=merchant)
        counted = await client.get(f"{API}/orders/count", params=filters, headers=merchant)
        assert listed.json()["count"] == counted.json()["count"] == len(listed.json()["orders"])
        return {order["id"] for order in listed.json()["orders"]}

    assert await found(status="opened") == {opened["id"]}
    assert await found(status="placed") == {placed_paid["id"], shipped["id"]}
    assert await found(status="cancelled") == {cancelled["id"]}
    assert await found(financial_status="paid") == {placed_paid["id"], shipped["id"]}
    assert await found(financial_status="waiting") == {opened["id"]}
    assert await found(financial_status="cancelled") == {cancelled["id"]}
    assert await found(fulfillment_status="shipped") == {shipped["id"]}
    assert await found(status="placed", fulfillment_status="waiting") == {placed_paid["id"]}
    assert await found(status="opened", financial_status="paid") == set()
    assert await found(financial_status="partially_paid") == set()


async def test_the_time_bounds_include_both_ends(
    client: Client, admin: dict[str, str], merchant: dict[str, str]
) -> None:
    ids = await _orders(client, admin, 3)
    middle = await shop_order(client, ids[1], merchant)
    at = middle["created_at"]

    def params(**bounds: str) -> dict[str, str]:
        return bounds

    created = await client.get(f"{API}/orders", params=params(created_at_min=at, created_at_max=at), headers=merchant)
    after = await client.get(f"{API}/orders/count", params=params(created_at_min=at), headers=merchant)
    changed = await client.get(f"{API}/orders/count", params=params(updated_at_max=middle["updated_at"]),
                               headers=merchant)  # fmt: skip

    assert [order["id"] for order in created.json()["orders"]] == [ids[1]]
    assert after.json() == {"count": 2}
    assert changed.json() == {"count": 2}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "251"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"page": "0"}, "page"),
        ({"page": "1002", "limit": "10"}, "page: (page - 1) x limit must be at most 10000"),
        ({"status": "canceled"}, "status"),
        ({"financial_status": "unpaid"}, "financial_status"),
        ({"created_at_min": "yesterday"}, "created_at_min"),
        ({"created_at_min": "2026-01-01T00:00:00"}, "created_at_min"),
    ],
    ids=["limit-too-big", "limit-zero", "page-zero", "page-too-deep", "status", "financial", "time", "no-offset"],
)
async def test_a_parameter_value_that_does_not_fit_is_422_naming_it(
    client: Client, merchant: dict[str, str], params: dict[str, str], message: str
) -> None:
    response = await client.get(f"{API}/orders", params=params, headers=merchant)

    (error,) = errors_of(response, 422)
    assert error.startswith(message), error


async def test_a_body_field_the_page_does_not_list_is_422_and_cancels_nothing(
    client: Client, admin: dict[str, str], merchant: dict[str, str]
) -> None:
    order = await placed(client, admin)

    response = await cancel(client, order["id"], merchant, {"reason": "x", "restock": True})

    (error,) = errors_of(response, 422)
    assert "restock" in error
    assert (await shop_order(client, order["id"], merchant))["status"] == "opened"


async def test_delete_erases_the_order_in_any_status_and_releases_its_stock(
    client: Client, admin: dict[str, str], merchant: dict[str, str]
) -> None:
    order = await paid(client, admin)
    pet_id = order["items"][0]["petId"]

    deleted = await client.delete(f"{API}/orders/{order['id']}", headers=merchant)
    again = await client.delete(f"{API}/orders/{order['id']}", headers=merchant)
    read = await client.get(f"{API}/orders/{order['id']}", headers=merchant)

    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"message": "The order was successfully deleted"}
    assert errors_of(again, 404) == errors_of(read, 404) == ["Unable to find resource"]
    assert (await client.get(f"/v1/pets/{pet_id}")).json()["stockAvailable"] == 5
    audit = await client.get("/v1/admin/audit-logs", params={"entityId": order["id"]}, headers=admin)
    assert "ORDER_ERASED" in audit.text


async def test_an_unknown_path_or_method_under_the_mount_answers_in_shoplazzas_body(
    client: Client, merchant: dict[str, str]
) -> None:
    missing = await client.get(f"{API}/customers", headers=merchant)
    wrong = await client.put(f"{API}/orders/count", headers=merchant)

    assert errors_of(missing, 404) == ["Unable to find resource"]
    assert wrong.status_code == 405
    assert set(wrong.json()) == {"errors"}


def test_a_merchant_key_created_on_the_command_line_reads_the_shop_through_shoplazza(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    created = run("keys", "create", "--scopes", "read_order,write_order", "--database-url", url, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    env = {**os.environ, "ORDERLINE_DIALECTS": "shoplazza"}

    with serving("--database-url", url, cwd=tmp_path, env=env) as server:
        counted = httpx.get(f"{server.base}{API}/orders/count", headers={"Access-Token": secret})

    assert "read_order,write_order" in created.stdout
    assert counted.status_code == 200, counted.text
    assert counted.json() == {"count": 0}


async def test_a_paid_order_with_units_taken_off_reads_partially_refunded_with_what_was_paid_and_given_back(
    client: Client, admin: dict[str, str], merchant: dict[str, str]
) -> None:
    order = await paid(client, admin)
    body = {"quantity": 1, "reason": "CUSTOMER_REQUEST"}
    taken = await client.post(f"/v1/orders/{order['id']}/items/1/cancel", json=body, headers=as_owner(order))
    assert taken.status_code == 200, taken.text

    shown = await shop_order(client, order["id"], merchant)

    assert (shown["status"], shown["financial_status"]) == ("placed", "partially_refunded")
    assert (shown["total_price"], shown["total_paid"], shown["total_refund_price"]) == ("150.00", "300.00", "150.00")
    assert [(item["id"], item["quantity"]) for item in shown["line_items"]] == [(1, 1)]


async def test_a_paid_order_edited_then_cancelled_reads_refunded_with_all_it_was_paid_given_back(
    client: Client, admin: dict[str, str], merchant: dict[str, str]
) -> None:
    order = await paid(client, admin)
    body = {"quantity": 1, "reason": "CUSTOMER_REQUEST"}
    taken = await client.post(f"/v1/orders/{order['id']}/items/1/cancel", json=body, headers=as_owner(order))
    assert taken.status_code == 200, taken.text

    response = await cancel(client, order["id"], merchant, {"reason": "out of stock"})

    assert response.status_code == 200, response.text
    shown = response.json()
    assert (shown["status"], shown["financial_status"]) == ("cancelled", "refunded")
    assert (shown["total_price"], shown["total_paid"], shown["total_refund_price"]) == ("150.00", "300.00", "300.00")
    assert await shop_order(client, order["id"], merchant) == shown


async def test_an_options_request_under_the_mount_carries_request_id_as_every_response_does(client: Client) -> None:
    response = await client.options(f"{API}/orders/{uuid4()}")

    assert response.status_code == 204, response.text
    assert "GET" in response.headers["Allow"]
    assert response.headers["Request-Id"] == response.headers["X-Request-Id"]
